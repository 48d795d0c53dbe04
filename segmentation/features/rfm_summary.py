"""Customers and revenue per named RFM segment, with each segment's rule and suggested action."""

from __future__ import annotations

import pandas as pd

from segmentation.features.rfm import RFM_SEGMENT_RULES

UNCLASSIFIED = "Unclassified"
RFM_SEGMENT_ORDER: tuple[str, ...] = (*(rule.name for rule in RFM_SEGMENT_RULES), UNCLASSIFIED)
"""The named RFM segments from best to worst, as tables and charts list them."""


def score_range(bounds: tuple[int, int]) -> str:
    """A rule's score range in words: ``(4, 5)`` -> ``"4–5"``, ``(3, 3)`` -> ``"3"``."""
    low, high = bounds
    return str(low) if low == high else f"{low}–{high}"


def rfm_segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per named RFM segment present in ``table`` (a feature table with ``rfm_segment``), in
    :data:`RFM_SEGMENT_ORDER`: customers, revenue (net, ``monetary``), their shares, R and FM score ranges, action."""
    grouped = table.groupby("rfm_segment")["monetary"].agg(customers="size", revenue="sum")
    summary = grouped.reindex([s for s in RFM_SEGMENT_ORDER if s in grouped.index])
    summary["customer_share"] = summary["customers"] / summary["customers"].sum()
    summary["revenue_share"] = summary["revenue"] / summary["revenue"].sum()
    rules = {rule.name: rule for rule in RFM_SEGMENT_RULES}
    summary["r_range"] = [score_range(rules[s].r) if s in rules else "" for s in summary.index]
    summary["fm_range"] = [score_range(rules[s].fm) if s in rules else "" for s in summary.index]
    summary["action"] = [rules[s].action if s in rules else "" for s in summary.index]
    return summary.rename_axis("segment").reset_index()
