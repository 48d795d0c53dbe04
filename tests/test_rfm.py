"""RFM score invariants (property-based) and the named-segment grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.features import RFM_SEGMENT_RULES, RfmSegmentRule, rfm_scores, rfm_segments, rfm_table
from segmentation.features.rfm import quantile_score

values = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=300)


@given(values, st.integers(min_value=2, max_value=10))
@settings(max_examples=200, deadline=None)
def test_scores_are_in_range_monotone_and_tie_equal(data: list[int], bins: int) -> None:
    series = pd.Series(data, dtype=float)
    scores = quantile_score(series, bins)
    assert scores.between(1, bins).all()
    order = np.argsort(series.to_numpy(), kind="stable")
    assert (np.diff(scores.to_numpy()[order]) >= 0).all()  # more is never scored lower
    assert (scores.groupby(series).nunique() == 1).all()  # equal values, equal scores


@given(values)
@settings(max_examples=100, deadline=None)
def test_recency_scores_reverse_the_order(data: list[int]) -> None:
    series = pd.Series(data, dtype=float)
    assert (quantile_score(series, 5, higher_is_better=False) == quantile_score(-series, 5)).all()


@given(st.integers(min_value=5, max_value=400), st.integers(min_value=2, max_value=8))
@settings(max_examples=50, deadline=None)
def test_distinct_values_fill_the_bins_evenly(n: int, bins: int) -> None:
    scores = quantile_score(pd.Series(np.arange(n, dtype=float)), bins)
    counts = scores.value_counts()
    assert set(counts.index) == set(range(1, bins + 1)) if n >= bins else True
    assert counts.max() - counts.min() <= 1 + (n % bins > 0)


def test_every_score_pair_has_exactly_one_named_segment() -> None:
    grid = pd.DataFrame(
        [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
        columns=["r_score", "f_score", "m_score"],
    )
    names = rfm_segments(grid)
    assert (names != "Unclassified").all()
    expected = {rule.name for rule in RFM_SEGMENT_RULES}
    assert set(names) == expected
    assert len(expected) == 11


@pytest.mark.parametrize(
    ("r", "f", "m", "name"),
    [
        (5, 5, 5, "Champions"),
        (5, 1, 1, "New"),
        (1, 1, 1, "Lost"),
        (2, 1, 2, "Hibernating"),
        (1, 5, 5, "Can't Lose Them"),
        (2, 3, 4, "At Risk"),
        (3, 3, 3, "Need Attention"),
        (4, 4, 5, "Loyal"),
    ],
)
def test_known_score_combinations(r: int, f: int, m: int, name: str) -> None:
    scores = pd.DataFrame({"r_score": [r], "f_score": [f], "m_score": [m]})
    assert rfm_segments(scores).item() == name


def test_rules_can_be_overridden() -> None:
    scores = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1]})
    rules = (RfmSegmentRule("Best", (4, 5), (1, 5)), RfmSegmentRule("Rest", (1, 3), (1, 5)))
    assert list(rfm_segments(scores, rules)) == ["Best", "Rest"]


def test_rfm_table_on_features() -> None:
    features = pd.DataFrame(
        {
            "recency_days": [1.0, 300.0, 30.0, 200.0],
            "frequency": [20, 1, 5, 1],
            "monetary": [5000.0, 10.0, 900.0, 20.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    table = rfm_table(features, bins=4)
    assert table.loc["a", "rfm_code"] == "444"
    assert table.loc["b", "r_score"] == 1
    assert table.loc["b", "f_score"] == table.loc["d", "f_score"]  # tied frequency, tied score
    assert table.loc["a", "rfm_segment"] == "Champions"
    assert rfm_scores(features).dtypes["r_score"] == np.int8
