"""Calibration/holdout backtest of the lifetime value models against a naive baseline.

The models see the orders before the cutoff only; their predictions for the next ``holdout_days`` are compared
per customer with what the customer then did. The naive baseline repeats each customer's last period of the
same length: its orders and revenue in [cutoff - holdout, cutoff).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
from scipy.stats import spearmanr

from segmentation.value.clv import CustomerValue
from segmentation.value.summary import orders, period_totals, require_history, rfm_summary, to_timestamp

CALIBRATION_BUCKETS = 8
"""Customers grouped by calibration repeat orders 0, 1, ..., 6 and 7+ (the chart of Fader, Hardie and Lee)."""


@dataclass
class BacktestResult:
    """Per-customer figures, the error table, the calibration chart's data and the fitted parameters."""

    customers: pd.DataFrame
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    params: dict[str, float]
    cutoff: pd.Timestamp
    holdout_days: float


def _metrics(name: str, predicted: pd.Series, actual: pd.Series) -> dict[str, float | str]:
    total = float(actual.sum())
    return {
        "model": name,
        "mae": float((predicted - actual).abs().mean()),
        "spearman": float(spearmanr(predicted, actual).statistic),
        "predicted_total": float(predicted.sum()),
        "actual_total": total,
        "aggregate_error": float(predicted.sum() - total) / total if total else float("nan"),
    }


def verdict(metrics: pd.DataFrame) -> list[str]:
    """One plain sentence per target of :attr:`BacktestResult.metrics`: does the model beat the naive baseline on
    error (MAE) and on ranking (Spearman)?"""
    lines = []
    for target, rows in metrics.groupby("target", sort=False):
        model, naive = rows.iloc[0], rows.iloc[1]
        better = [
            what
            for what, ours, theirs in (
                ("error", -model["mae"], -naive["mae"]),
                ("ranking", model["spearman"], naive["spearman"]),
            )
            if ours > theirs
        ]
        if len(better) == 2:
            outcome = "beats the naive baseline on error and on ranking"
        elif better:
            outcome = f"beats the naive baseline on {better[0]} only"
        else:
            outcome = "loses to the naive baseline on both"
        lines.append(
            f"{target.capitalize()}: the model {outcome} (mean absolute error {model['mae']:,.2f} against "
            f"{naive['mae']:,.2f}; Spearman {model['spearman']:.3f} against {naive['spearman']:.3f})."
        )
    return lines


def calibration_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Mean actual and predicted holdout orders by calibration repeat orders (0..6, 7+)."""
    bucket = customers["frequency"].clip(upper=CALIBRATION_BUCKETS - 1)
    grouped = customers.groupby(bucket)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "actual_orders": grouped["actual_orders"].mean(),
            "predicted_orders": grouped["predicted_orders"].mean(),
        }
    ).reindex(range(CALIBRATION_BUCKETS), fill_value=0)
    table.index = [*map(str, range(CALIBRATION_BUCKETS - 1)), f"{CALIBRATION_BUCKETS - 1}+"]
    return table.rename_axis("calibration_repeat_orders")


def backtest(
    transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp, holdout_days: float = 180.0
) -> BacktestResult:
    """Fit BG/NBD + Gamma-Gamma on the orders before ``cutoff`` and score them on [cutoff, cutoff + holdout).

    ``metrics`` has one row per (target, model): MAE and Spearman per customer, and the aggregate error of the
    total, for holdout orders and revenue, the models against the naive baseline.
    """
    cutoff = to_timestamp(cutoff)
    end = cutoff + pd.Timedelta(days=holdout_days)
    table = orders(transactions)
    require_history(
        table, end, f"(cutoff + {holdout_days:g} days) for the holdout", "choose an earlier cutoff or a shorter holdout"
    )
    summary = rfm_summary(table, cutoff)
    model = CustomerValue(horizon_days=holdout_days, discount_rate=0.0, step_days=holdout_days).fit(summary)
    predicted = model.predict(summary)
    actual = period_totals(table, cutoff, end).reindex(summary.index, fill_value=0)
    naive = period_totals(table, cutoff - pd.Timedelta(days=holdout_days), cutoff).reindex(summary.index, fill_value=0)
    customers = summary.assign(
        predicted_orders=predicted["expected_orders"],
        predicted_revenue=predicted["expected_revenue"],
        p_alive=predicted["p_alive"],
        actual_orders=actual["orders"].astype(float),
        actual_revenue=actual["revenue"].astype(float),
        naive_orders=naive["orders"].astype(float),
        naive_revenue=naive["revenue"].astype(float),
    )
    rows = [
        {"target": target, **_metrics(name, customers[f"{prefix}_{target}"], customers[f"actual_{target}"])}
        for target in ("orders", "revenue")
        for name, prefix in (("BG/NBD + Gamma-Gamma", "predicted"), ("naive: last period repeated", "naive"))
    ]
    return BacktestResult(
        customers, pd.DataFrame(rows), calibration_table(customers), model.params_, cutoff, holdout_days
    )
