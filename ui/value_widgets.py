"""The Value page's settings widgets and cached library calls (every fit is cached per data set and settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from segmentation.config import Config
from ui import components, state
from ui.components import Dataset

if TYPE_CHECKING:
    from segmentation.value import BacktestResult, ChurnClassifier, ChurnData

FIRST_FIT = (
    "The first estimate after the app starts compiles the models: about 1 to 3 minutes (3 minutes measured on a busy "
    "2-core machine). Later estimates on data of the same size take 5 to 30 seconds; results stay cached."
)


@dataclass(frozen=True)
class ValueSettings:
    """The as-of date, the CLV horizon and discount rate, and the churn horizon of one estimate."""

    as_of: date
    horizon_days: int
    discount_rate: float
    churn_days: int


CHURN_DAYS = 90
"""The churn horizon until the analyst sets another: no order in the 90 days after the as-of date."""


def as_of_key(dataset: Dataset) -> str:
    """The session key of the as-of date chosen for ``dataset``."""
    return f"value_as_of_{dataset.digest[:16]}"


def churn_settings(dataset: Dataset, config: Config) -> tuple[date, int]:
    """The as-of date and churn horizon last set on this page, else their defaults: the Recommend page's churn tab
    reads them too, so both pages show the same model's same numbers."""
    as_of = state.kept(as_of_key(dataset), components.snapshot_default(dataset, config))
    return as_of, int(state.kept("value_churn_days", CHURN_DAYS))


def clv_settings() -> tuple[int, float]:
    """The CLV horizon (days) and annual discount rate last set on this page, else their defaults: the History
    page's value migration uses them too, so its figures are this page's."""
    return int(state.kept("value_horizon", 365)), float(state.kept("value_discount", 10.0)) / 100


def controls(dataset: Dataset, config: Config) -> ValueSettings:
    """As-of date, CLV horizon, annual discount rate and churn horizon, kept across pages."""
    default = components.snapshot_default(dataset, config)
    as_of, horizon, discount, churn = st.columns(4)
    key = as_of_key(dataset)
    chosen = as_of.date_input(
        "As-of date",
        state.kept(key, default),
        format="YYYY-MM-DD",
        **state.keeping(key),
        help=f"Only orders before this day count; value and churn are predicted from it on. Default: {default}.",
    )
    days = horizon.number_input(
        "CLV horizon (days)", 30, 3650, state.kept("value_horizon", 365), step=30, **state.keeping("value_horizon")
    )
    rate = discount.number_input(
        "Discount rate (% a year)",
        0.0,
        100.0,
        state.kept("value_discount", 10.0),
        step=1.0,
        **state.keeping("value_discount"),
        help="Revenue expected later counts less: each 30-day step is discounted from its end at this annual rate.",
    )
    churn_days = churn.number_input(
        "Churn horizon (days)",
        7,
        365,
        state.kept("value_churn_days", CHURN_DAYS),
        **state.keeping("value_churn_days"),
        help="Churn = no order in this many days after the as-of date.",
    )
    return ValueSettings(chosen, int(days), float(rate) / 100, int(churn_days))


def churn(dataset: Dataset, config: Config, as_of: date, churn_days: int) -> tuple[ChurnClassifier, ChurnData]:
    """The calibrated LightGBM churn model for ``as_of`` and the customers it scores, trained once by the workflow."""
    return components.analysis(dataset, config).churn(as_of, churn_days)


@st.cache_data(show_spinner="Backtesting BG/NBD + Gamma-Gamma against the naive baseline…", max_entries=8)
def backtest_at(dataset: Dataset, config: Config, cutoff: date, holdout_days: int) -> BacktestResult:
    from segmentation.value import backtest

    return backtest(components.load(dataset, config).transactions, pd.Timestamp(cutoff), holdout_days)


@st.cache_data(show_spinner="Training and scoring every churn model on one split…", max_entries=8)
def comparison(dataset: Dataset, config: Config, cutoff: date, churn_days: int) -> pd.DataFrame:
    from segmentation.value import churn_evaluation_table

    return churn_evaluation_table(components.load(dataset, config).transactions, pd.Timestamp(cutoff), churn_days)


def segment_names(current: state.Segmentation) -> pd.Series:
    """customer_id -> the name of their segment on the Segments page (with the analyst's own names)."""
    model = components.fit_segmentation(
        current.dataset, current.config, current.features, current.chosen, current.method, current.params
    )
    assignments = model.fitted_assignments(components.customer_table(current.dataset, current.config, current.features))
    names = assignments.groupby("segment")["segment_name"].first().to_dict() | state.segment_names(current.fit_id)
    labels = assignments["segment"].map(names)
    labels.index = labels.index.astype(str)
    return labels


def cutoff_input(label: str, key: str, last: date, days: int) -> date:
    """A date ``days`` before the end of the data by default: the models see what came before it."""
    default = last - timedelta(days=days)
    return st.date_input(label, state.kept(key, default), format="YYYY-MM-DD", max_value=last, **state.keeping(key))
