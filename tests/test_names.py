"""Segment names say only what is true of the segment's median customer, and twins say what sets them apart.

Property: over several generated customer bases and many clusterings (random, cuts of one feature, K-Means),
``name_contradictions`` finds nothing wrong with the generated names. Known answers: the checker catches each
kind of misleading name seen on real data, and the namer avoids them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import SegmentationModel
from segmentation.clustering.profiles import (
    ADJECTIVES,
    NOUNS,
    PLAIN_NOUN,
    name_contradictions,
    name_segments,
    segment_profiles,
)
from segmentation.features import compute_features, rfm_table
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample

WORDS = re.compile(
    rf"(?:(?:{'|'.join(w.text for w in ADJECTIVES)}) )?"
    rf"(?:{'|'.join(re.escape(w.text) for w in (*NOUNS,))}|{PLAIN_NOUN})(?: \(.+\))?",
    re.IGNORECASE,
)


def customer_base(seed: int, n: int = 1_500) -> pd.DataFrame:
    """A feature table with the shapes of real bases: many one-order customers, skewed spend, rare returns.

    The seed also varies the base: the share of one-timers, how long ago customers last bought, the spend scale.
    """
    rng = np.random.default_rng(seed)
    one_timer_share = rng.uniform(0.2, 0.7)
    frequency = np.where(rng.random(n) < one_timer_share, 1, 2 + rng.geometric(rng.uniform(0.1, 0.4), n))
    recency = rng.exponential(rng.uniform(30, 200), n).round()
    tenure = recency + np.where(frequency > 1, rng.uniform(10, 500, n), 0).round()
    order_value = rng.lognormal(rng.uniform(2.5, 5), 0.8, n)
    monetary = frequency * order_value
    return pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": frequency.astype(float),
            "monetary": monetary,
            "avg_order_value": order_value,
            "tenure_days": tenure,
            "return_rate": np.where(rng.random(n) < 0.15, rng.uniform(0, 0.5, n), 0.0),
            "distinct_products": np.maximum(1, rng.poisson(3 * frequency)).astype(float),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def clusterings(features: pd.DataFrame, seed: int) -> list[np.ndarray]:
    """Random labels, quartiles of one feature, quantile cuts of two features, and K-Means for k = 2..7."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, k, len(features)) for k in (2, 3, 5, 8)]
    for column in ("recency_days", "monetary", "frequency"):
        ranks = features[column].rank(method="first", pct=True).to_numpy()
        out.append(np.minimum((ranks * 4).astype(int), 3))
    spend, recent = (features[c].rank(pct=True).to_numpy() > 0.5 for c in ("monetary", "recency_days"))
    out.append(2 * spend + recent)
    for k in range(2, 8):
        model = SegmentationModel("kmeans", {"n_clusters": k}, random_state=seed).fit(features)
        out.append(model.labels_)
    return out


def assert_names_true(features: pd.DataFrame, labels: np.ndarray, rfm: pd.Series | None) -> None:
    names = name_segments(segment_profiles(features, labels, rfm))
    assert len(set(names.values())) == len(names), names
    for name in names.values():
        assert WORDS.fullmatch(name), name
    assert name_contradictions(features, labels, names, rfm) == [], names


@pytest.mark.parametrize("seed", range(5))
def test_generated_names_are_true_on_generated_bases(seed: int) -> None:
    features = customer_base(seed)
    rfm = rfm_table(features)["rfm_segment"]
    for labels in clusterings(features, seed):
        assert_names_true(features, labels, rfm)


def test_generated_names_are_true_on_the_synthetic_shop(tmp_path) -> None:
    """The same property on features computed by the real pipeline from the synthetic generator's transactions."""
    write_sample(tmp_path / "tx.csv.gz", SyntheticSpec(n_customers=1_200, seed=3))
    features = compute_features(load_transactions(tmp_path / "tx.csv.gz").transactions)
    rfm = rfm_table(features)["rfm_segment"]
    for labels in clusterings(features, 3):
        assert_names_true(features, labels, rfm)


# --- known answers: what the namer says, what the checker catches --------------------------------------------------


def two_kinds(frequency_low: float, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    """Half the customers order ``frequency_low`` times, the other half 8-12 times; spend equal on average."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], n // 2)
    frequency = np.where(labels == 0, frequency_low, rng.integers(8, 13, n)).astype(float)
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(60, 150, n),
            "frequency": frequency,
            "monetary": rng.uniform(100, 200, n),
            "avg_order_value": rng.uniform(40, 60, n),
            "tenure_days": rng.uniform(300, 400, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    return features, labels


def test_one_timers_only_when_the_median_customer_ordered_once() -> None:
    once, _ = two_kinds(1)
    twice, labels = two_kinds(2)
    assert name_segments(segment_profiles(once, labels))[0] == "One-timers"
    assert name_segments(segment_profiles(twice, labels))[0] == "Occasional buyers"
    problems = name_contradictions(twice, labels, {0: "One-timers", 1: "Frequent buyers"})
    assert len(problems) == 1 and "'one-timers' is not true: median frequency 2" in problems[0]


def test_recent_only_when_clearly_more_recent_than_the_base() -> None:
    """Everybody bought within 40 days: a segment at 20 days is not 'Recent' against a base median of 20."""
    features, labels = two_kinds(1)
    features["recency_days"] = np.random.default_rng(1).uniform(1, 40, len(features))
    names = name_segments(segment_profiles(features, labels))
    assert not any(name.startswith("Recent") for name in names.values())
    assert (
        "'Recent' is not true"
        in name_contradictions(features, labels, {0: "Recent one-timers", 1: "Frequent buyers"})[0]
    )


def test_recent_never_names_a_segment_that_rfm_calls_at_risk() -> None:
    features, labels = two_kinds(1)
    features.loc[labels == 0, "recency_days"] = 10.0
    at_risk = pd.Series(np.where(labels == 0, "At Risk", "Champions"), index=features.index)
    names = name_segments(segment_profiles(features, labels, at_risk))
    assert names[0] == "One-timers"  # recency alone would say "Recent one-timers"
    assert name_segments(segment_profiles(features, labels))[0] == "Recent one-timers"
    problems = name_contradictions(features, labels, {0: "Recent one-timers", 1: "Frequent buyers"}, at_risk)
    assert problems == ["segment 0 'Recent one-timers': 'Recent' contradicts its most common RFM segment 'At Risk'"]


def test_twins_are_told_apart_by_where_they_differ_most() -> None:
    """Two small-basket segments that differ a little in frequency, two big-basket ones that differ in tenure."""
    rng = np.random.default_rng(2)
    n = 800
    labels = np.repeat([0, 1, 2, 3], n // 4)
    small = labels < 2
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(60, 120, n),
            "frequency": np.where(labels == 1, 4.0, 3.7) + rng.uniform(0, 2, n),
            "monetary": rng.uniform(100, 300, n),
            "avg_order_value": np.where(small, rng.uniform(10, 20, n), rng.uniform(200, 300, n)),
            "tenure_days": np.where(labels == 2, 100, 300) + rng.uniform(0, 100, n),
        }
    )
    names = name_segments(segment_profiles(features, labels))
    assert names == {
        0: "Small-basket buyers (lower frequency)",
        1: "Small-basket buyers (higher frequency)",
        2: "Big-basket buyers (shorter tenure)",
        3: "Big-basket buyers (longer tenure)",
    }
    assert name_contradictions(features, labels, names) == []
    swapped = {**names, 0: names[1], 1: names[0]}
    assert len(name_contradictions(features, labels, swapped)) == 2
    numbered = {**names, 0: "Small-basket buyers", 1: "Small-basket buyers (2)"}
    problems = name_contradictions(features, labels, numbered)
    assert any("does not say how it differs" in p for p in problems)
    assert any("(2) compares it with no twin" in p for p in problems)
    assert name_contradictions(features, labels, {**names, 1: names[0]})[0].startswith("segments [0, 1] are all named")


def test_many_twins_are_ranked() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, 800)
    features = pd.DataFrame({"recency_days": rng.uniform(0, 100, 800) + 3 * labels, "monetary": rng.uniform(1, 9, 800)})
    names = name_segments(segment_profiles(features, labels))
    assert set(names.values()) == {
        "Customers (most recent)",
        "Customers (2nd most recent)",
        "Customers (3rd most recent)",
        "Customers (least recent)",
    }
    assert name_contradictions(features, labels, names) == []
