"""Segment migration between snapshots, against an independent count."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from segmentation.clustering import SegmentationModel
from segmentation.config import FeatureConfig
from segmentation.features import compute_features
from segmentation.migration import (
    GONE,
    NEW,
    largest_move,
    migration_matrix,
    movers,
    order_matrix,
    sankey_links,
    segment_sizes,
    snapshot_segments,
)
from segmentation.pipeline import load_transactions

ROOT = Path(__file__).resolve().parent.parent


def test_matrix_counts_moves_new_and_gone() -> None:
    before = pd.Series({"a": "Champions", "b": "Champions", "c": "At Risk", "d": "Lost"})
    after = pd.Series({"a": "Champions", "b": "At Risk", "c": "At Risk", "e": "New"})
    matrix = migration_matrix(before, after)
    assert matrix.loc["Champions", "Champions"] == 1 and matrix.loc["Champions", "At Risk"] == 1
    assert matrix.loc["Lost", GONE] == 1 and matrix.loc[NEW, "New"] == 1
    assert matrix.to_numpy().sum() == 5
    assert list(movers(before, after, "Champions", "At Risk")) == ["b"]
    links = sankey_links(matrix)
    assert links["value"].sum() == 5 and (links["value"] > 0).all()


@pytest.mark.slow
def test_monthly_snapshots_of_the_sample() -> None:
    tx = load_transactions(ROOT / "data" / "sample_transactions.csv.gz").transactions
    reference = compute_features(tx, FeatureConfig(as_of=date(2023, 10, 1)))
    model = SegmentationModel("kmeans", {"n_clusters": 5}).fit(reference)
    dates = [date(2023, 10, 1), date(2023, 11, 1), date(2023, 12, 1)]
    snaps = snapshot_segments(tx, model, dates)
    # the reference snapshot reproduces the fitted segments
    assert (snaps[dates[0]] == model.fitted_assignments(reference)["segment_name"]).all()
    sizes = segment_sizes(snaps)
    assert list(sizes.index) == dates
    assert (sizes.sum(axis=1).diff().dropna() >= 0).all()  # customers only accumulate
    matrix = migration_matrix(snaps[dates[0]], snaps[dates[2]])
    # independent count: join the two snapshots by hand
    joined = snaps[dates[0]].to_frame("a").join(snaps[dates[2]].to_frame("b"), how="inner")
    for (a, b), n in joined.value_counts().items():
        assert matrix.loc[a, b] == n
    new = snaps[dates[2]].index.difference(snaps[dates[0]].index)
    assert matrix.loc[NEW].sum() == len(new)


def test_matrix_order_and_the_largest_move() -> None:
    before = pd.Series({"a": "Top", "b": "Top", "c": "Top", "d": "Low", "e": "Mid"})
    after = pd.Series({"a": "Low", "b": "Low", "c": "Mid", "d": "Low", "f": "Top"})
    matrix = order_matrix(migration_matrix(before, after), ["Top", "Mid", "Low"])
    assert list(matrix.index) == ["Top", "Mid", "Low", NEW]  # the segments in order, then those new or gone
    assert list(matrix.columns) == ["Top", "Mid", "Low", GONE]
    assert matrix.loc["Top", "Low"] == 2 and matrix.loc["Mid", GONE] == 1 and matrix.loc[NEW, "Top"] == 1
    # Top -> Low (2) beats Top -> Mid (1); Low stayed (the diagonal) and e left (not a move between segments)
    assert largest_move(matrix, ["Top", "Mid", "Low"]) == ("Top", "Low")
    stayed = migration_matrix(pd.Series({"a": "Top", "b": "Low"}), pd.Series({"a": "Top", "c": "Low"}))
    assert largest_move(stayed, ["Top", "Low"]) is None
