"""Drivers of features that are undefined for many customers (one order: no interval between orders).

A threshold is never NaN: a segment made of one-order customers reads "no repeat purchase", and a bound built
on the customers that have a value adds "or no repeat purchase" when a fair share of the segment has none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.explain import SegmentSurrogate, explain, segment_drivers, surrogate_inputs


def half_undefined(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three segments told apart by the interval between orders, which half of the customers do not have.

    0: one-order customers (interval NaN); 1: every 5-20 days; 2: every 60-120 days, with 40 % of them
    one-order customers too who are big spenders (so those are told apart from segment 0; the others spend like
    segments 0 and 1, so the interval is what tells them apart). Recency is noise.
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], n // 3)
    interval = np.where(labels == 1, rng.uniform(5, 20, n), rng.uniform(60, 120, n))
    one_order = (labels == 0) | ((labels == 2) & (rng.random(n) < 0.4))
    interval[one_order] = np.nan
    features = pd.DataFrame(
        {
            "interpurchase_mean_days": interval,
            "recency_days": rng.uniform(1, 300, n),
            "monetary": np.where((labels == 2) & one_order, rng.uniform(5_000, 9_000, n), rng.uniform(10, 2_000, n)),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    return features, labels


@pytest.fixture(scope="module", params=["catboost", "lightgbm"])
def drivers(request) -> pd.DataFrame:
    features, labels = half_undefined()
    X = surrogate_inputs(features)
    surrogate = SegmentSurrogate(request.param, n_estimators=80).fit(X, labels)
    assert surrogate.fidelity_["macro_f1"] > 0.9
    return segment_drivers(explain(surrogate, X, labels, sample_size=None), {0: "A", 1: "B", 2: "C"})


def test_no_threshold_or_sentence_is_nan(drivers: pd.DataFrame) -> None:
    assert not drivers["sentence"].str.contains("nan", case=False).any()
    bounds = drivers[drivers["direction"].isin(["high", "low"])]
    assert np.isfinite(bounds["threshold"]).all()
    assert drivers.loc[drivers["direction"] == "undefined", "threshold"].isna().all()


def test_a_feature_the_model_does_not_use_is_no_driver(drivers: pd.DataFrame) -> None:
    strongest = drivers.groupby("segment")["importance"].transform("max")
    assert (drivers["importance"] >= 0.01 * strongest).all()
    assert "recency_days" not in set(drivers["feature"])  # pure noise: no segment is driven by it


def test_segment_of_one_order_customers_reads_no_repeat_purchase(drivers: pd.DataFrame) -> None:
    top = drivers[(drivers["segment"] == 0) & (drivers["rank"] == 1)].iloc[0]
    assert top["feature"] == "interpurchase_mean_days"
    assert top["direction"] == "undefined" and top["undefined_share"] == 1.0
    assert top["phrase"] == "no repeat purchase (interpurchase_mean_days undefined)"
    assert top["sentence"].endswith("push customers into A")


def test_bound_on_defined_values_in_the_right_direction(drivers: pd.DataFrame) -> None:
    fast = drivers[(drivers["segment"] == 1) & (drivers["feature"] == "interpurchase_mean_days")].iloc[0]
    assert fast["direction"] == "low" and 5 <= fast["threshold"] <= 20
    assert fast["undefined_share"] == 0.0 and "or no repeat purchase" not in fast["phrase"]


def test_partly_undefined_segment_says_or_undefined(drivers: pd.DataFrame) -> None:
    slow = drivers[(drivers["segment"] == 2) & (drivers["feature"] == "interpurchase_mean_days")].iloc[0]
    assert slow["direction"] == "high" and 60 <= slow["threshold"] <= 120
    assert slow["undefined_share"] == pytest.approx(0.4, abs=0.08)
    assert slow["phrase"].endswith(" days or no repeat purchase")


def test_a_driver_against_the_name_is_flagged() -> None:
    from segmentation.explain import driver_contradictions

    drivers = pd.DataFrame(
        {
            "segment": [0, 0, 1],
            "feature": ["monetary", "recency_days", "monetary"],
            "direction": ["low", "low", "high"],
            "phrase": ["monetary <= 739", "recency_days <= 20 days", "monetary >= 5,000"],
        }
    )
    names = {0: "Recent high spenders", 1: "My own name"}
    assert driver_contradictions(drivers, names) == [
        "segment 0 'Recent high spenders': 'high spenders' says monetary is high, its driver reads 'monetary <= 739'"
    ]
