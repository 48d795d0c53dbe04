"""One row per customer for the CLI, the app and the CRM exports: lifetime value, P(alive) and churn risk at a date,
and the views built on it (the "valuable and at risk" audience, churn risk per segment)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from segmentation.errors import InputError
from segmentation.progress import Progress, no_progress
from segmentation.value.churn import ChurnClassifier, ChurnData, churn_risk
from segmentation.value.clv import customer_value
from segmentation.value.reasons import churn_reasons
from segmentation.value.summary import to_timestamp

VALUE_COLUMNS = ("clv", "churn_probability", "p_alive")
"""What the CRM exports take from a value table (see :func:`segmentation.export.export_table`)."""


def with_churn(value: pd.DataFrame, model: ChurnClassifier, data: ChurnData) -> pd.DataFrame:
    """``value`` (from :func:`customer_value`) with each customer's ``churn_probability`` and ``churn_reasons``
    (a sentence); customers the churn model did not score get none."""
    reasons = churn_reasons(model, data.features)
    churn = reasons[["churn_probability", "sentence"]].rename(columns={"sentence": "churn_reasons"})
    return value.join(churn)


def value_table(
    transactions: pa.Table | pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizon_days: float = 365.0,
    discount_rate: float = 0.10,
    churn_days: float | None = 90.0,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Every customer with an order before ``as_of``, highest CLV first: the :func:`customer_value` columns and,
    unless ``churn_days`` is None, P(no order in the next ``churn_days`` days) from :func:`churn_risk` with its
    reasons. ``attrs`` records the as-of date and the settings."""
    as_of = to_timestamp(as_of)
    churn = None
    if churn_days:  # first: it refuses data too short for its training window in seconds
        progress(0.0, f"training the churn model (no order in {churn_days:g} days)")
        churn = churn_risk(transactions, as_of, churn_days)
    progress(0.3, "fitting BG/NBD and Gamma-Gamma (the first fit compiles the models: minutes)")
    table = customer_value(transactions, as_of, horizon_days, discount_rate)
    if churn is not None:
        table = with_churn(table, *churn)
    table.attrs = {
        "as_of": as_of.date().isoformat(),
        "horizon_days": horizon_days,
        "discount_rate": discount_rate,
        "churn_days": churn_days,
    }
    progress(1.0, f"{len(table):,} customers valued")
    return table


def valuable_at_risk(table: pd.DataFrame, clv_quantile: float = 0.8, min_churn: float = 0.5) -> pd.DataFrame:
    """The customers worth keeping: CLV at or above its ``clv_quantile`` and churn probability at or above
    ``min_churn``, with ``value_at_risk`` = clv x churn probability, largest first."""
    if not 0 <= clv_quantile <= 1 or not 0 <= min_churn <= 1:
        raise InputError(
            "the CLV quantile and the churn threshold must lie between 0 and 1",
            where=f"clv_quantile={clv_quantile}, min_churn={min_churn}",
            fix="e.g. clv_quantile=0.8 (the top 20%) and min_churn=0.5",
        )
    if "churn_probability" not in table:
        raise InputError("no churn_probability column", fix="make the table with churn (churn_days set)")
    chosen = table.loc[
        (table["clv"] >= table["clv"].quantile(clv_quantile)) & (table["churn_probability"] >= min_churn)
    ]
    chosen = chosen.assign(value_at_risk=chosen["clv"] * chosen["churn_probability"])
    return chosen.sort_values("value_at_risk", ascending=False)


def segment_risk(table: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Per segment (``segments``: customer_id -> segment name): customers, mean churn probability, expected
    churners (the sum of the probabilities), total CLV and CLV at risk (the sum of clv x churn probability)."""
    joined = table[["clv", "churn_probability"]].join(segments.rename("segment"), how="inner")
    joined["at_risk"] = joined["clv"] * joined["churn_probability"]
    grouped = joined.groupby("segment", sort=False)
    return pd.DataFrame(
        {
            "customers": grouped.size(),
            "churn_probability": grouped["churn_probability"].mean(),
            "expected_churners": grouped["churn_probability"].sum(),
            "clv": grouped["clv"].sum(),
            "clv_at_risk": grouped["at_risk"].sum(),
        }
    ).sort_values("clv_at_risk", ascending=False)
