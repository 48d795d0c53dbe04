"""Segment profiles (size, revenue share, medians vs overall) and readable names built from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.clustering.base import NOISE

PROFILE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "return_rate",
    "distinct_products",
)

# Nouns: (feature, word when the segment is high, word when low) relative to the typical customer.
_NOUNS: dict[str, tuple[str, str]] = {
    "frequency": ("frequent buyers", "one-timers"),
    "monetary": ("high spenders", "low spenders"),
    "avg_order_value": ("big-basket buyers", "small-basket buyers"),
    "return_rate": ("returners", "keepers"),
    "distinct_products": ("explorers", "narrow buyers"),
}
_NAMING_WEIGHT = {"return_rate": 0.3}
"""Returns are rare, so their z-scores are large for small differences: they name a segment only when extreme."""

# Adjectives are absolute, because "recent" means the same whatever the rest of the base looks like
# (in a base of mostly lapsed customers, a lapsed segment is typical, yet still lapsed).
NEW_TENURE_DAYS = 90
RECENT_DAYS = 45
LAPSED_DAYS = 180


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, rfm_segment: pd.Series | None = None) -> pd.DataFrame:
    """One row per segment: customers, share, revenue share, medians and robust z-scores of key features.

    The z-score is (segment median - overall median) / overall IQR, so it reads "how many typical spreads
    away from the typical customer". ``rfm_segment`` adds the most common named RFM segment.
    """
    columns = [c for c in PROFILE_FEATURES if c in features.columns]
    data = features[columns].astype(float)
    overall = data.median()
    spread = (data.quantile(0.75) - data.quantile(0.25)).replace(0, np.nan).fillna(data.std()).replace(0, 1.0)
    groups = data.groupby(labels)
    medians = groups.median()
    profile = pd.DataFrame({"customers": groups.size()})
    profile["share"] = profile["customers"] / len(data)
    revenue = features["monetary"].clip(lower=0).groupby(labels).sum()
    profile["revenue_share"] = revenue / revenue.sum()
    for column in columns:
        profile[f"median_{column}"] = medians[column]
        profile[f"z_{column}"] = (medians[column] - overall[column]) / spread[column]
    if rfm_segment is not None:
        profile["top_rfm_segment"] = rfm_segment.groupby(labels).agg(lambda s: s.value_counts().index[0])
    profile.index.name = "segment"
    return profile


def name_segments(profile: pd.DataFrame) -> dict[int, str]:
    """A readable, unique name per segment ("Recent high spenders", "Lapsed one-timers").

    The adjective comes from the segment's median tenure and recency (new: first purchase within
    90 days; recent: last within 45 days; lapsed: none for 180 days); the noun from its most distinctive
    feature relative to the typical customer (largest |z|).
    """
    names: dict[int, str] = {}
    for segment, row in profile.iterrows():
        if segment == NOISE:
            names[segment] = "Unassigned"
            continue
        adjective = _adjective(row)
        z = {
            f: row[f"z_{f}"] * _NAMING_WEIGHT.get(f, 1.0)
            for f in _NOUNS
            if f"z_{f}" in row and np.isfinite(row[f"z_{f}"])
        }
        noun = max(z, key=lambda f: abs(z[f]), default=None)
        word = _NOUNS[noun][0 if z[noun] > 0 else 1] if noun and abs(z[noun]) >= 0.25 else "customers"
        names[segment] = f"{adjective} {word}" if adjective else word[0].upper() + word[1:]
    return _unique(names)


def _adjective(row: pd.Series) -> str:
    tenure, recency = row.get("median_tenure_days", np.nan), row.get("median_recency_days", np.nan)
    if tenure <= NEW_TENURE_DAYS:
        return "New"
    if recency <= RECENT_DAYS:
        return "Recent"
    if recency >= LAPSED_DAYS:
        return "Lapsed"
    return ""


def _unique(names: dict[int, str]) -> dict[int, str]:
    seen: dict[str, int] = {}
    out = {}
    for segment, name in names.items():
        seen[name] = seen.get(name, 0) + 1
        out[segment] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return out


def top_values(transactions: pd.DataFrame, assignments: pd.Series, column: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` values of ``column`` (e.g. product, country) with most revenue in each segment."""
    tx = transactions[["customer_id", column, "amount"]].copy()
    tx["segment"] = tx["customer_id"].map(assignments)
    revenue = tx.dropna(subset=["segment"]).groupby(["segment", column])["amount"].sum().reset_index()
    revenue = revenue.sort_values(["segment", "amount"], ascending=[True, False])
    return revenue.groupby("segment").head(n).reset_index(drop=True)
