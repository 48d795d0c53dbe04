"""Segment migration over time: the same customers segmented at several snapshot dates.

Segments stay comparable across snapshots because every snapshot is assigned with one saved model (fitted
once, at a reference date); customers without a purchase before a snapshot are simply absent from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
import pyarrow as pa

from segmentation.clustering import SegmentationModel
from segmentation.config import FeatureConfig
from segmentation.features import compute_features

NEW = "(new)"
GONE = "(not in snapshot)"


def snapshot_segments(
    transactions: pa.Table | pd.DataFrame,
    model: SegmentationModel,
    dates: Iterable[date],
    features: FeatureConfig | None = None,
) -> dict[date, pd.Series]:
    """Segment name of every customer at each as-of date, assigned by ``model``."""
    features = features or FeatureConfig()
    out = {}
    for as_of in dates:
        table = compute_features(
            transactions,
            FeatureConfig(
                as_of=as_of, half_life_days=features.half_life_days, trend_window_days=features.trend_window_days
            ),
        )
        out[as_of] = model.assignments(table)["segment_name"]
    return out


def migration_matrix(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """Customers by segment before (rows) and after (columns); customers in one snapshot only are counted as
    ``(new)`` (first seen after) or ``(not in snapshot)``."""
    both = pd.concat({"before": before, "after": after}, axis=1)
    both["before"] = both["before"].fillna(NEW)
    both["after"] = both["after"].fillna(GONE)
    return pd.crosstab(both["before"], both["after"])


def segment_sizes(snapshots: dict[date, pd.Series]) -> pd.DataFrame:
    """Customers per segment (columns) at each snapshot date (rows)."""
    return pd.DataFrame({d: s.value_counts() for d, s in snapshots.items()}).T.fillna(0).astype(int).sort_index()


def movers(before: pd.Series, after: pd.Series, source: str, target: str) -> pd.Index:
    """Customers who were in ``source`` and are now in ``target``: an audience of their own."""
    both = pd.concat({"before": before, "after": after}, axis=1, join="inner")
    return both.index[(both["before"] == source) & (both["after"] == target)]


def sankey_links(matrix: pd.DataFrame) -> pd.DataFrame:
    """``source``, ``target``, ``value`` rows of a migration matrix, for a Sankey diagram."""
    links = matrix.stack().rename("value").reset_index()
    links.columns = ["source", "target", "value"]
    return links[links["value"] > 0].reset_index(drop=True)


def order_matrix(matrix: pd.DataFrame, segment_order: list[str]) -> pd.DataFrame:
    """The matrix with its rows and columns in ``segment_order``, then the others (``(new)``, ``(not in snapshot)``)
    as they come."""
    rows = [s for s in segment_order if s in matrix.index] + [r for r in matrix.index if r not in segment_order]
    columns = [s for s in segment_order if s in matrix.columns] + [c for c in matrix.columns if c not in segment_order]
    return matrix.loc[rows, columns]


def value_moves(before: pd.Series, after: pd.Series, value_before: pd.Series, value_after: pd.Series) -> pd.DataFrame:
    """How a per-customer value (e.g. predicted lifetime value) moved with the customers between two snapshots.

    One row per move (segment ``source`` before -> ``target`` after, ``(new)`` and ``(not in snapshot)`` included):
    its customers, their total value at each snapshot (a customer absent from a snapshot counts 0 there) and the
    change, largest loss first. The totals over all rows are the two snapshots' totals, so nothing is lost.
    """
    both = pd.concat({"source": before, "target": after}, axis=1)
    both["source"] = both["source"].fillna(NEW)
    both["target"] = both["target"].fillna(GONE)
    both["value_before"] = value_before.reindex(both.index).fillna(0.0).astype(float)
    both["value_after"] = value_after.reindex(both.index).fillna(0.0).astype(float)
    moves = both.groupby(["source", "target"], sort=False).agg(
        customers=("value_before", "size"), value_before=("value_before", "sum"), value_after=("value_after", "sum")
    )
    moves["change"] = moves["value_after"] - moves["value_before"]
    return moves.reset_index().sort_values(["change", "customers"], ascending=[True, False], ignore_index=True)


def largest_move(matrix: pd.DataFrame, segments: list[str]) -> tuple[str, str] | None:
    """The ``(source, target)`` pair of different ``segments`` that the most customers moved along, or ``None``
    when nobody moved between them (customers new or gone do not count)."""
    moves = matrix.loc[[s for s in segments if s in matrix.index], [s for s in segments if s in matrix.columns]]
    stacked = moves.stack()
    stacked = stacked[[a != b for a, b in stacked.index]]
    if not len(stacked) or stacked.max() <= 0:
        return None
    return stacked.idxmax()
