"""`segment fairness` end to end on the embedded sample: a bias planted in a customer attribute is reported, a random
attribute is not; the surrogate never sees the sensitive attribute unless the user opts in."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.pipeline import load_transactions
from segmentation.privacy.audit import surrogate_predictions


@pytest.fixture(scope="module")
def sample_customers(sample_path) -> pd.Index:
    return pd.Index(
        sorted(pd.read_csv(sample_path, usecols=["customer_id"], dtype=str)["customer_id"].dropna().unique())
    )


def write_inputs(tmp_path, customers: pd.Index, planted: bool) -> tuple[str, str]:
    """Segments 0-3 at random; a gender column that is random, or (planted) mostly "f" in segment 0."""
    rng = np.random.default_rng(5)
    segments = pd.Series(rng.integers(0, 4, len(customers)), index=customers, name="segment")
    female = rng.random(len(customers)) < np.where(planted & (segments == 0), 0.85, 0.5)
    pd.DataFrame({"customer_id": customers, "gender": np.where(female, "f", "m")}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    segments.rename_axis("customer_id").to_frame().to_csv(tmp_path / "segments.csv")
    return str(tmp_path / "customers.csv"), str(tmp_path / "segments.csv")


@pytest.mark.parametrize("planted", [False, True])
def test_fairness_command_reports_a_planted_gender_gap_only(tmp_path, capsys, sample_path, sample_customers, planted):
    groups, segments = write_inputs(tmp_path, sample_customers, planted)
    argv = ["-q", "fairness", str(sample_path), "--attribute", "gender", "--groups", groups, "--segments", segments]
    assert main([*argv, "--surrogate", "none"]) == 0
    text = capsys.readouterr().out
    assert "share of each group in each segment" in text
    if planted:
        assert "warning: Segment 0 holds" in text and "gender = f" in text
    else:
        assert "no gap between groups passes the thresholds" in text and "warning" not in text


def test_unknown_attribute_is_a_one_line_error(capsys, sample_path) -> None:
    assert main(["-q", "fairness", str(sample_path), "--attribute", "age_band"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no attribute 'age_band'") and err.count("\n") == 1


@pytest.mark.slow
def test_surrogate_and_churn_model_by_country(capsys, sample_path, tmp_path) -> None:
    _, segments = write_inputs(tmp_path, pd.Index([]), planted=False)
    result = load_transactions(sample_path)
    from segmentation.features import compute_features

    features = compute_features(result.transactions)
    features.index = features.index.astype(str)
    # a segmentation that is the country itself: only a surrogate allowed to see country can reproduce it
    by_country = (features["country"] == "United Kingdom").astype(int)
    truth, hidden = surrogate_predictions(features, by_country)
    _, shown = surrogate_predictions(features, by_country, allow_sensitive=["country"])
    assert (shown == truth).mean() == 1.0 and (hidden == truth).mean() < 0.9

    pd.DataFrame({"segment": by_country}).rename_axis("customer_id").to_csv(segments)
    argv = ["-q", "fairness", str(sample_path), "--attribute", "country", "--segments", segments]
    assert main([*argv, "--churn-cutoff", "2023-09-01", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["classifiers"]) == {"lightgbm surrogate", "churn model"}
    churn = pd.DataFrame(report["classifiers"]["churn model"]).set_index("country")
    assert churn["customers"].sum() > 0 and churn["selection_rate"].between(0, 1).all()
    assert any(w.startswith("Segment 1 holds 0% of customers with country = ") for w in report["warnings"])


def test_segment_explain_leaves_country_out_unless_allowed(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 300
    country = rng.choice(["UK", "FR"], n)
    features = pd.DataFrame(
        {"recency_days": rng.uniform(1, 300, n), "frequency": rng.integers(1, 9, n), "country": country},
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    features.to_csv(tmp_path / "features.csv")
    segments = pd.DataFrame({"segment": (country == "UK").astype(int)}, index=features.index)
    segments.to_csv(tmp_path / "segments.csv")
    argv = ["-q", "explain", str(tmp_path / "features.csv"), str(tmp_path / "segments.csv"), "--sample", "100"]
    for extra, seen in (([], False), (["--allow-sensitive"], True)):
        assert main([*argv, *extra, "--out", str(tmp_path / "drivers.csv")]) == 0
        assert ("country" in set(pd.read_csv(tmp_path / "drivers.csv")["feature"])) == seen


def test_exposure_of_an_offer_tier_kept_from_one_gender(tmp_path, capsys, sample_path, sample_customers) -> None:
    groups, _ = write_inputs(tmp_path, sample_customers, planted=False)
    gender = pd.read_csv(groups, index_col="customer_id")["gender"]
    rng = np.random.default_rng(2)
    tier = np.where((gender == "m") & (rng.random(len(gender)) < 0.6), "gold", "standard")
    pd.DataFrame({"customer_id": gender.index, "product_id": "P1", "tier": tier}).to_csv(tmp_path / "lists.csv")
    argv = ["-q", "fairness", str(sample_path), "--attribute", "gender", "--groups", groups, "--surrogate", "none"]
    assert main([*argv, "--recommendations", str(tmp_path / "lists.csv"), "--item-column", "tier", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    exposure = pd.DataFrame(report["exposure"]).set_index("gender")
    assert exposure.loc["f", "gold"] == 0 and exposure.loc["m", "gold"] == pytest.approx(0.6, abs=0.05)
    assert sorted(w.split(" is recommended")[0] for w in report["warnings"]) == ["gold", "standard"]


def test_features_are_computed_as_of_the_segments_date(tmp_path, capsys, sample_path, monkeypatch) -> None:
    """The surrogate must learn the segments from the features they were made from: same as-of date."""
    import segmentation.features

    seen = []
    original = segmentation.features.compute_features

    def spy(transactions, config=None):
        seen.append(config.as_of if config else None)
        return original(transactions, config)

    monkeypatch.setattr(segmentation.features, "compute_features", spy)
    segments = pd.DataFrame({"segment": [0, 1]}, index=pd.Index(["C000001", "C000002"], name="customer_id"))
    argv = ["-q", "fairness", str(sample_path), "--attribute", "country", "--surrogate", "none"]
    for as_of in ("2023-01-01", None):
        segments.assign(**({"as_of": as_of} if as_of else {})).to_csv(tmp_path / "segments.csv")
        assert main([*argv, "--segments", str(tmp_path / "segments.csv")]) == 0
    assert [str(d) if d else None for d in seen] == ["2023-01-01", None]


def test_min_group_size_sets_which_groups_are_suppressed(tmp_path, capsys, sample_path, sample_customers) -> None:
    """A group of 12 customers: shown at the default k = 10, suppressed at --min-group-size 20."""
    rng = np.random.default_rng(2)
    gender = np.where(rng.random(len(sample_customers)) < 0.5, "f", "m").astype(object)
    gender[:12] = "x"
    pd.DataFrame({"customer_id": sample_customers, "gender": gender}).to_csv(tmp_path / "groups.csv", index=False)
    argv = ["-q", "fairness", str(sample_path), "--attribute", "gender", "--groups", str(tmp_path / "groups.csv")]
    suppressed = {}
    for k in (10, 20):
        assert main([*argv, "--json", "--min-group-size", str(k)]) == 0
        groups = pd.DataFrame(json.loads(capsys.readouterr().out)["groups"])
        suppressed[k] = set(groups.loc[groups["suppressed"].astype(bool), groups.columns[0]])
    assert suppressed == {10: set(), 20: {"x"}}
