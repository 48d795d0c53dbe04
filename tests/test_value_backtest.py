"""Backtest of the lifetime value models: on data drawn from BG/NBD the model beats repeating the last period,
its calibration chart tracks every group, and the holdout reads only the holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import InputError
from segmentation.value import backtest, calibration_chart, simulate_transactions, verdict


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    """3,000 BG/NBD + Gamma-Gamma customers over two years, first purchases in the first year."""
    return simulate_transactions(3000, "2022-01-01", 730, seed=5)


@pytest.fixture(scope="module")
def result(transactions: pd.DataFrame):
    return backtest(transactions, "2023-01-01", holdout_days=180)


def test_the_model_beats_the_naive_baseline_on_its_own_data(result) -> None:
    metrics = result.metrics.set_index(["target", "model"])
    for target in ("orders", "revenue"):
        model = metrics.loc[(target, "BG/NBD + Gamma-Gamma")]
        naive = metrics.loc[(target, "naive: last period repeated")]
        assert model["mae"] < naive["mae"], target
        assert model["spearman"] > naive["spearman"], target
        assert abs(model["aggregate_error"]) < 0.1, target


def test_the_verdict_says_who_won_on_error_and_ranking(result) -> None:
    assert [line.split(":")[0] for line in verdict(result.metrics)] == ["Orders", "Revenue"]
    assert all("beats the naive baseline on error and on ranking" in line for line in verdict(result.metrics))
    swapped = result.metrics.copy()
    swapped.loc[swapped.index[0], "spearman"] = swapped.loc[swapped.index[1], "spearman"] - 0.1  # orders: worse rank
    assert "beats the naive baseline on error only" in verdict(swapped)[0]
    swapped.loc[swapped.index[0], "mae"] = swapped.loc[swapped.index[1], "mae"] + 1
    assert "loses to the naive baseline on both" in verdict(swapped)[0]


def test_the_calibration_chart_tracks_every_group(result) -> None:
    table = result.calibration
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == len(result.customers)
    # each group's mean predicted orders within 4 standard errors of its mean actual orders
    bucket = result.customers["frequency"].clip(upper=7)
    spread = result.customers.groupby(bucket)["actual_orders"].std().to_numpy()
    standard_error = spread / np.sqrt(table["customers"].to_numpy())
    gap = np.abs(table["predicted_orders"] - table["actual_orders"]).to_numpy()
    assert np.all(gap <= 4 * standard_error), (gap / standard_error).round(1)
    figure = calibration_chart(table, result.holdout_days)
    assert [trace.name for trace in figure.data] == ["actual", "BG/NBD predicted"]
    assert list(figure.data[0].y) == pytest.approx(list(table["actual_orders"]))


def test_actuals_are_the_holdout_orders_and_nothing_else(transactions: pd.DataFrame, result) -> None:
    cutoff, end = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-01-01") + pd.Timedelta(days=180)
    inside = transactions[(transactions["ts"] >= cutoff) & (transactions["ts"] < end)]
    counts = inside.groupby("customer_id").size().reindex(result.customers.index, fill_value=0)
    np.testing.assert_array_equal(result.customers["actual_orders"], counts)
    # customers who first bought in the holdout are not scored: the model never saw them
    assert set(result.customers.index) == set(transactions.loc[transactions["ts"] < cutoff, "customer_id"])


def test_a_holdout_past_the_data_is_refused(transactions: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="must run to 2024-06-29"):
        backtest(transactions, "2024-01-01", holdout_days=180)
