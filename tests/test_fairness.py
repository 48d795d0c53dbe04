"""Fairness report: a planted bias is found and named in plain words; where none is planted the report is quiet.
Rates are checked against counts done by hand (the report takes them from fairlearn's MetricFrame)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError
from segmentation.privacy import fairness_chart, fairness_report, without_sensitive

N = 3000


def customers(seed: int = 0) -> tuple[np.random.Generator, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.Index([f"c{i:05d}" for i in range(N)], name="customer_id")
    return rng, pd.Series(rng.choice(["UK", "FR", "DE"], N), index=index, name="country")


def test_segments_independent_of_country_stay_quiet() -> None:
    rng, groups = customers()
    segments = pd.Series(rng.integers(0, 4, N), index=groups.index)
    report = fairness_report(groups, segments=segments)
    assert report.warnings == [] == report.notes and not report.gaps["flag"].any() and len(report.gaps) == 4
    fr = groups == "FR"
    assert report.composition.loc["FR", 2] == pytest.approx((segments[fr] == 2).mean())


def test_a_segment_planted_on_one_country_is_flagged() -> None:
    rng, groups = customers()
    segments = pd.Series(rng.integers(1, 4, N), index=groups.index)
    segments[(groups == "FR") & (rng.random(N) < 0.6)] = 0
    segments[(groups != "FR") & (rng.random(N) < 0.1)] = 0
    report = fairness_report(groups, segments=segments)
    flagged = report.gaps[report.gaps["flag"]].set_index("item")
    # FR is over-represented in segment 0 and so under-represented in the others (40% / 3 against 90% / 3)
    assert flagged.loc["0", "high_group"] == "FR" and set(flagged.loc[["1", "2", "3"], "low_group"]) == {"FR"}
    assert report.warnings[0].startswith("Segment 0 holds ") and "country = FR" in report.warnings[0]
    assert report.to_dict()["warnings"] == report.warnings


def test_recommendation_exposure_finds_an_item_kept_from_a_group() -> None:
    rng, groups = customers(1)
    items = [f"P{i}" for i in range(8)]
    rows = [(c, item) for c in groups.index for item in rng.choice(items, 3, replace=False)]
    fair = pd.DataFrame(rows, columns=["customer_id", "product_id"])
    assert fairness_report(groups, recommendations=fair).warnings == []
    uk = groups.index[groups == "UK"]
    extra = pd.DataFrame({"customer_id": uk[: len(uk) // 2], "product_id": "GOLD"})
    report = fairness_report(groups, recommendations=pd.concat([fair, extra]))
    (warning,) = report.warnings
    assert warning.startswith("GOLD is recommended to 0% of customers with country = ")
    assert report.exposure.loc["UK", "GOLD"] == pytest.approx(len(extra) / len(uk))


def classifier_data(seed: int, planted: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """True churn (30%), predictions wrong for 10% of customers; planted: DE's churners are missed 50% of the time."""
    rng, groups = customers(seed)
    truth = pd.Series(rng.random(N) < 0.3, index=groups.index)
    predicted = truth ^ (rng.random(N) < 0.1)
    if planted:
        predicted[(groups == "DE") & truth & (rng.random(N) < 0.5)] = False
    return groups, truth, predicted


def test_classifier_without_bias_is_quiet() -> None:
    groups, truth, predicted = classifier_data(2, planted=False)
    report = fairness_report(groups, classifiers={"churn model": (truth, predicted)})
    assert report.warnings == []
    table = report.classifiers["churn model"]
    de = groups == "DE"
    assert table.loc["DE", "customers"] == de.sum()
    assert table.loc["DE", "false_negative_rate"] == pytest.approx((~predicted[de & truth]).mean())
    assert table.loc["DE", "selection_rate"] == pytest.approx(predicted[de].mean())


def test_classifier_missing_one_groups_churners_is_flagged() -> None:
    groups, truth, predicted = classifier_data(2, planted=True)
    report = fairness_report(groups, classifiers={"churn model": (truth, predicted)})
    flagged = report.gaps[report.gaps["flag"]].set_index("metric")
    assert flagged.loc["false_negative_rate", "high_group"] == "DE"
    assert any("false negative rate" in w and "country = DE" in w for w in report.warnings)
    # the four-fifths threshold is the user's: at 0.5 the selection rates pass
    assert "selection_rate" in flagged.index
    lenient = fairness_report(groups, classifiers={"churn model": (truth, predicted)}, threshold=0.5)
    assert "selection_rate" not in set(lenient.gaps.loc[lenient.gaps["flag"], "metric"])


def test_surrogate_of_segments_is_compared_segment_by_segment() -> None:
    rng, groups = customers(3)
    segments = pd.Series(rng.integers(0, 3, N), index=groups.index)
    predicted = segments.where(rng.random(N) < 0.9, (segments + 1) % 3)
    predicted[(groups == "UK") & (segments == 2) & (rng.random(N) < 0.5)] = 0
    report = fairness_report(groups, segment_classifiers={"surrogate": (segments, predicted)})
    flagged = report.gaps[report.gaps["flag"]]
    assert "surrogate, segment 2" in set(flagged["item"])
    missed = flagged[(flagged["item"] == "surrogate, segment 2") & (flagged["metric"] == "false_negative_rate")]
    assert missed["high_group"].tolist() == ["UK"]


def test_small_groups_are_listed_not_compared_and_suppressed_below_k() -> None:
    rng, groups = customers(4)
    groups.iloc[:12] = "LU"
    groups.iloc[12:17] = "MT"
    segments = pd.Series(np.where(groups == "LU", 0, rng.integers(0, 3, N)), index=groups.index)
    report = fairness_report(groups, segments=segments)
    assert report.warnings == [] and set(report.composition.index) == {"UK", "FR", "DE"}
    sizes = report.groups
    assert sizes.loc["LU", "customers"] == 12 and not sizes.loc["LU", "compared"]
    assert np.isnan(sizes.loc["MT", "customers"]) and sizes.loc["MT", "suppressed"]
    only_small = fairness_report(groups[groups.isin(["LU", "MT", "UK"])], segments=segments)
    assert "nothing to compare" in only_small.warnings[0]


def test_threshold_outside_zero_one_is_refused() -> None:
    _, groups = customers()
    with pytest.raises(ConfigError, match="four-fifths"):
        fairness_report(groups, threshold=80)


def test_chart_has_a_bar_per_group_and_outlines_the_flagged_segment() -> None:
    rng, groups = customers()
    segments = pd.Series(
        np.where((groups == "FR") & (rng.random(N) < 0.6), 0, rng.integers(1, 3, N)), index=groups.index
    )
    report = fairness_report(groups, segments=segments)
    figure = fairness_chart(report)
    assert sorted(bar.name for bar in figure.data) == ["DE", "FR", "UK"]
    widths = dict(zip(figure.data[0].x, figure.data[0].marker.line.width, strict=True))
    assert widths["0"] == 2 and {x for x, w in widths.items() if w} == set(report.gaps.loc[report.gaps["flag"], "item"])
    quiet = fairness_report(groups, segments=pd.Series(rng.integers(0, 3, N), index=groups.index))
    assert not any(any(bar.marker.line.width) for bar in fairness_chart(quiet).data)


def test_sensitive_attributes_are_left_out_unless_allowed() -> None:
    frame = pd.DataFrame({"recency_days": [1.0], "country": ["UK"], "gender": ["f"], "frequency": [2]})
    assert list(without_sensitive(frame).columns) == ["recency_days", "frequency"]
    assert list(without_sensitive(frame, allow=["country"]).columns) == ["recency_days", "country", "frequency"]


def test_a_gap_small_groups_cannot_tell_from_chance_is_a_note() -> None:
    """DE (100 customers) is a little more often in segment 0: past the four-fifths rule, within chance."""
    rng = np.random.default_rng(0)
    groups = pd.Series(["UK"] * 500 + ["DE"] * 100, index=[f"c{i}" for i in range(600)], name="country")
    segments = pd.Series(rng.integers(0, 3, 600), index=groups.index)
    segments[(groups == "DE") & (rng.random(600) < 0.15)] = 0
    report = fairness_report(groups, segments=segments)
    (note,) = report.notes
    assert report.warnings == [] and note.startswith("Segment 0 holds ") and "it may be chance (p = " in note
    assert "note: Segment 0" in report.to_text()


def test_a_classifier_right_about_everyone_is_quiet() -> None:
    """Everyone churned and was predicted to: no negatives, so fairlearn's false positive rate is 0 for every group."""
    _, groups = customers(5)
    truth = pd.Series(True, index=groups.index)
    report = fairness_report(groups, classifiers={"churn model": (truth, truth)})
    table = report.classifiers["churn model"]
    assert report.warnings == [] == report.notes and (table[["false_positive_rate", "error_rate"]] == 0).all().all()
