"""Surrogates, SHAP explanations and drivers: known answers on planted data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError
from segmentation.explain import (
    MODELS,
    SegmentSurrogate,
    explain,
    importance_agreement,
    rank_features,
    segment_drivers,
    stratified_sample,
    surrogate_inputs,
)


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """Segment 1 = recency under 30 days; segment 2 = frequency of 10+ (and not recent); segment 0 the rest."""
    rng = np.random.default_rng(0)
    n = 900
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "frequency": rng.integers(1, 20, n).astype(float),
            "monetary": rng.lognormal(5, 1, n),
            "return_rate": rng.uniform(0, 0.2, n),
            "country": rng.choice(["UK", "FR", "DE"], n),
        },
        index=pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id"),
    )
    labels = np.where(features["recency_days"] < 30, 1, np.where(features["frequency"] >= 10, 2, 0))
    return surrogate_inputs(features), labels


@pytest.fixture(scope="module", params=MODELS)
def fitted(request, planted):
    X, labels = planted
    surrogate = SegmentSurrogate(request.param, n_estimators=80).fit(X, labels)
    return surrogate, explain(surrogate, X, labels, sample_size=400)


def test_surrogate_reproduces_the_segments_and_says_how_well(fitted, planted) -> None:
    surrogate, _ = fitted
    X, labels = planted
    assert surrogate.fidelity_["macro_f1"] > 0.95 and not surrogate.fidelity_["warning"]
    assert set(surrogate.fidelity_["recall"]) == {0, 1, 2}
    assert (surrogate.predict(X) == labels).mean() > 0.97
    np.testing.assert_allclose(surrogate.predict_proba(X[:5]).sum(axis=1), 1.0, rtol=1e-6)


def test_the_defining_feature_is_the_top_driver(fitted) -> None:
    _, explanation = fitted
    importance = explanation.global_importance()
    assert importance[1].idxmax() == "recency_days"
    assert importance[2].idxmax() == "frequency"


def test_drivers_read_as_thresholds_in_the_right_direction(fitted) -> None:
    _, explanation = fitted
    drivers = segment_drivers(explanation, {1: "Recent", 2: "Frequent", 0: "Others"})
    top = drivers[drivers["rank"] == 1].set_index("segment")
    assert top.loc[1, "direction"] == "low" and top.loc[1, "threshold"] < 30
    assert top.loc[2, "direction"] == "high" and top.loc[2, "threshold"] >= 10
    assert top.loc[1, "sentence"].startswith("recency_days <= ") and top.loc[1, "sentence"].endswith("into Recent")


def test_customer_explanation_adds_up_to_the_model_output(fitted, planted) -> None:
    surrogate, _ = fitted
    X, labels = planted
    one = explain(surrogate, X.iloc[[5]], labels[[5]], sample_size=None)
    table = one.customer(X.index[5])
    assert table["shap"].abs().is_monotonic_decreasing
    total = table.attrs["base_value"] + table["shap"].sum()
    raw = surrogate.decision_function(X.iloc[[5]])[0, list(surrogate.classes_).index(labels[5])]
    assert total == pytest.approx(raw, abs=1e-6)
    assert table.iloc[0]["feature"] in {"recency_days", "frequency"}


def test_dependence_of_recent_segment_on_recency_falls(fitted) -> None:
    _, explanation = fitted
    dep = explanation.dependence(1, "recency_days")
    assert dep[dep["value"] < 30]["shap"].mean() > dep[dep["value"] > 60]["shap"].mean()


def test_two_models_agree_on_what_matters(planted) -> None:
    X, labels = planted
    a, b = (explain(SegmentSurrogate(m, n_estimators=80).fit(X, labels), X, labels, 400) for m in MODELS)
    agreement = importance_agreement(a, b)
    assert agreement["overall"] > 0.5
    assert set(agreement.index) == {0, 1, 2, "overall"}


def test_low_fidelity_is_flagged() -> None:
    rng = np.random.default_rng(1)
    X = surrogate_inputs(pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)}))
    surrogate = SegmentSurrogate(n_estimators=30).fit(X, rng.integers(0, 3, 300))  # labels unrelated to X
    assert surrogate.fidelity_["warning"].startswith("low fidelity")


def test_stratified_sample_keeps_small_segments_and_the_size() -> None:
    labels = pd.Series(np.r_[np.zeros(9_950, int), np.ones(50, int)])
    index = stratified_sample(labels, 1_000, min_per_segment=20)
    assert labels.loc[index].value_counts().to_dict() == {0: 995, 1: 20}  # 5 in proportion, lifted to 20
    thirds = pd.Series(np.arange(10_000) % 3)
    assert len(stratified_sample(thirds, 2_000)) == 2_000  # 666.67 each: the remainders are shared out
    assert stratified_sample(thirds, 2_000).is_unique


def test_fidelity_is_cross_validated_on_a_sample_of_large_data(planted) -> None:
    X, labels = planted
    surrogate = SegmentSurrogate(n_estimators=30, cv_rows=300).fit(X, labels)
    assert surrogate.fidelity_["customers"] == 300
    assert surrogate.predict(X).shape == (len(X),)  # the final model saw every customer
    assert SegmentSurrogate(n_estimators=30, cv_rows=None).fit(X, labels).fidelity_["customers"] == len(X)


def test_rank_features_puts_the_defining_features_first(planted) -> None:
    X, labels = planted
    ranking = rank_features(X.select_dtypes("number"), labels)
    assert set(ranking.index[:2]) == {"recency_days", "frequency"}
    assert ranking["gain"].sum() == pytest.approx(1.0)


def test_unknown_model_is_a_clear_error(planted) -> None:
    X, labels = planted
    with pytest.raises(ConfigError, match="unknown surrogate model"):
        SegmentSurrogate("xgboost").fit(X, labels)
