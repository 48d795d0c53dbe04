"""How segments are presented: their order, unique display names, colours and distinguishing traits in words.

Pure functions of a fitted :class:`~segmentation.clustering.SegmentationModel`'s profiles, shared by the app's pages,
the charts and notebook users, so every view orders, names and colours the segments the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from plotly.colors import qualitative

from segmentation.features import FEATURES

if TYPE_CHECKING:
    from segmentation.clustering.model import SegmentationModel

NOISE = -1
"""The label of customers a density method leaves unassigned (the same as :data:`segmentation.clustering.NOISE`)."""
PALETTE = (*qualitative.Safe[:10], *qualitative.Dark2)
"""Colour-blind-safe colours first, then more for over ten segments."""
NOISE_COLOR = "#a8a29e"
UNITS = {f.name: f.unit for f in FEATURES}
# profile feature -> (words when the segment is above the typical customer, below it, the value in a sentence)
TRAITS: dict[str, tuple[str, str, str]] = {
    "recency_days": ("Last bought long ago", "Bought recently", "last purchase {} days ago"),
    "frequency": ("Order often", "Order rarely", "{} orders"),
    "monetary": ("Spend a lot", "Spend little", "net revenue of {}"),
    "avg_order_value": ("Big orders", "Small orders", "average order of {}"),
    "tenure_days": ("Long-standing customers", "Joined more recently", "first purchase {} days ago"),
    "return_rate": ("Return a lot", "Rarely return", "{} of spend returned"),
    "distinct_products": ("Buy many different products", "Buy few different products", "{} different products"),
}


SINGULAR = {"orders": "order", "days": "day", "products": "product"}
"""The units of :data:`TRAITS`' sentences in the singular, for a value of exactly 1 ("1 order", "1 day ago")."""


def _with_value(sentence: str, shown: str) -> str:
    """``sentence`` with the formatted value, its unit agreeing with it."""
    if shown == "1":
        sentence = " ".join(SINGULAR.get(word, word) for word in sentence.split(" "))
    return sentence.format(shown)


@dataclass(frozen=True)
class Trait:
    """One way a segment differs from the typical customer: a headline and the sentence with both medians."""

    headline: str
    detail: str


def ordered_segments(model: SegmentationModel) -> list[int]:
    """Largest segment first, unassigned customers last."""
    sizes = model.profiles_["customers"]
    return sorted(sizes.index, key=lambda s: (s == NOISE, -sizes[s], s))


def display_names(model: SegmentationModel, order: list[int]) -> dict[int, str]:
    """Segment -> name shown in the charts; two segments named alike get their numbers added."""
    seen: set[str] = set()
    names = {}
    for segment in order:
        name = model.names_[segment]
        names[segment] = f"{name} (segment {segment})" if name in seen else name
        seen.add(name)
    return names


def segment_colors(order: list[int]) -> dict[int, str]:
    """Segment -> chart colour, by position in ``order``; unassigned customers grey."""
    return {s: NOISE_COLOR if s == NOISE else PALETTE[i % len(PALETTE)] for i, s in enumerate(order)}


def money_columns(columns: list[str]) -> list[str]:
    """The columns of a customer or profile table that hold money: the currency features and their medians."""
    return [c for c in columns if UNITS.get(c.removeprefix("median_")) == "currency"]


def feature_value(feature: str, value: float, currency: str | None = None) -> str:
    """A value in the feature's unit: money in ``currency`` ("£4,310.00"), shares in percent, whole days, other
    measures with one decimal below 100 (:mod:`segmentation.formatting`)."""
    from segmentation.formatting import money, number, percent

    unit = UNITS.get(feature, "")
    if not np.isfinite(value):
        return "n/a"
    if unit == "currency":
        return money(value, currency)
    if unit == "share":
        return percent(value)
    whole = unit == "days" or abs(value) >= 100 or abs(value - round(value)) < 0.05
    return number(value, 0 if whole else 1)


def segment_traits(
    profile: pd.Series, overall: pd.Series, n: int = 3, threshold: float = 0.25, currency: str | None = None
) -> list[Trait]:
    """The ``n`` profile features that set a segment apart most (largest |z| of at least ``threshold``).

    ``profile`` is one row of ``model.profiles_`` (``z_*`` and ``median_*`` columns); ``overall`` the typical
    customer's medians by feature; money is written in ``currency``. An empty list: the segment is close to the typical customer everywhere.
    """
    z = {f: profile[f"z_{f}"] for f in TRAITS if f"z_{f}" in profile and np.isfinite(profile[f"z_{f}"])}
    ranked = [f for f in sorted(z, key=lambda f: -abs(z[f]))[:n] if abs(z[f]) >= threshold]
    traits = []
    for feature in ranked:
        high, low, sentence = TRAITS[feature]
        value, typical = profile[f"median_{feature}"], overall.get(feature, np.nan)
        shown, usual = feature_value(feature, value, currency), feature_value(feature, typical, currency)
        detail = f"{_with_value(sentence, shown)} (typical customer: {usual})"
        traits.append(Trait(high if z[feature] > 0 else low, detail))
    return traits
