"""The feature settings (as-of date, RFM score levels, half-life): set on the Customers page, used by every page.

One definition of their widget keys and defaults: :func:`controls` draws the widgets, :func:`current` reads what
they were last set to, so the Segments page computes the same feature table as the Customers page shows.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from segmentation.config import Config, FeatureConfig
from ui import components, state
from ui.components import Dataset

RFM_BINS = ("rfm_bins", 5)
HALF_LIFE = ("half_life", 90)
"""(widget key, default) of the number of RFM score levels and of the half-life of recent-weighted spend in days."""


def _as_of_key(dataset: Dataset) -> str:
    return f"as_of_{dataset.digest[:16]}"  # per data set: another file has other dates


def _settings(as_of: date, default: date, rfm_bins: int, half_life: float) -> FeatureConfig:
    """The as-of date stays ``None`` at its default, so the settings do not change when the data's last day does."""
    return FeatureConfig(as_of=as_of if as_of != default else None, half_life_days=float(half_life), rfm_bins=rfm_bins)


def current(dataset: Dataset, config: Config) -> FeatureConfig:
    """The settings last chosen on the Customers page (the defaults until then), without drawing widgets."""
    default = components.snapshot_default(dataset, config)
    return _settings(
        state.kept(_as_of_key(dataset), default), default, int(state.kept(*RFM_BINS)), state.kept(*HALF_LIFE)
    )


def controls(dataset: Dataset, config: Config) -> FeatureConfig:
    """As-of date, RFM score levels and half-life widgets in three columns, with the data's own defaults."""
    default = components.snapshot_default(dataset, config)
    as_of, bins, half_life = st.columns(3)
    key = _as_of_key(dataset)
    chosen: date = as_of.date_input(
        "As-of date",
        state.kept(key, default),
        format="YYYY-MM-DD",
        **state.keeping(key),
        help=f"Only purchases before this day count. Default: the day after the last one ({default}).",
    )
    rfm_bins = bins.number_input(
        "RFM score levels",
        min_value=2,
        max_value=10,
        value=state.kept(*RFM_BINS),
        **state.keeping(RFM_BINS[0]),
        help="Recency, frequency and monetary are each scored 1 (worst) to this number (best), by quantile.",
    )
    days = half_life.number_input(
        "Half-life of recent-weighted spend (days)",
        min_value=1,
        max_value=3650,
        value=state.kept(*HALF_LIFE),
        help="A purchase this many days before the as-of date counts half as much in recent-weighted spend.",
        **state.keeping(HALF_LIFE[0]),
    )
    return _settings(chosen, default, int(rfm_bins), days)
