"""`segment value` and `segment churn-eval` on a file of simulated customers: the per-customer table against the
file itself, the discounting, and one-line errors for dates the data cannot support."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.value import simulate_transactions

AS_OF = "2023-06-01"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A CSV of 1,500 simulated customers over 2022-2023 (zero-padded ids, one line per order) and its orders."""
    tx = simulate_transactions(1500, "2022-01-01", 730, seed=11)
    frame = tx[["order_id", "ts", "customer_id", "product_id", "quantity", "unit_price"]].rename(
        columns={"ts": "order_date"}
    )
    path = tmp_path_factory.mktemp("value") / "shop.csv"
    frame.to_csv(path, index=False)
    return path, tx


@pytest.fixture(scope="module")
def valued(shop: tuple[Path, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """`segment value` with no discount over 180 days, churn over 90 days, as Parquet."""
    out = tmp_path_factory.mktemp("out") / "value.parquet"
    args = ["-q", "value", str(shop[0]), "--as-of", AS_OF, "--horizon", "180", "--discount", "0", "--out", str(out)]
    assert main(args) == 0
    return pd.read_parquet(out)


def test_one_row_per_customer_with_the_files_own_history(valued: pd.DataFrame, shop: tuple[Path, pd.DataFrame]):
    tx = shop[1]
    before = tx.loc[tx["ts"] < pd.Timestamp(AS_OF)]
    orders = before.groupby("customer_id")["order_id"].nunique()
    assert sorted(valued.index) == sorted(orders.index)  # zero-padded ids kept as text
    assert valued.index[0].startswith("0") or any(i.startswith("0") for i in valued.index)
    assert (valued["frequency"] == orders.reindex(valued.index) - 1).all()
    last = before.groupby("customer_id")["ts"].max().reindex(valued.index)
    since = (pd.Timestamp(AS_OF) - last) / pd.Timedelta(days=1)
    assert np.allclose(valued["T"] - valued["recency"], since)
    assert valued.attrs["as_of"] == AS_OF and valued.attrs["horizon_days"] == 180
    assert valued["clv"].is_monotonic_decreasing


def test_without_discount_the_clv_is_the_expected_revenue(valued: pd.DataFrame) -> None:
    assert np.allclose(valued["clv"], valued["expected_revenue"], rtol=1e-9)
    assert valued["p_alive"].between(0, 1).all() and (valued["expected_orders"] > 0).all()


def test_churn_probability_and_its_reasons(valued: pd.DataFrame) -> None:
    assert valued["churn_probability"].between(0, 1).all()
    risky = valued.loc[valued["churn_probability"] >= 0.5, "churn_reasons"]
    assert len(risky) and risky.str.endswith("the churn risk").all()
    # churn is learnable here: customers with a long silence are riskier than recent buyers
    silence = valued["T"] - valued["recency"]
    assert valued.loc[silence > 180, "churn_probability"].mean() > valued.loc[silence < 30, "churn_probability"].mean()


def test_a_discount_rate_lowers_the_value_and_churn_can_be_left_out(
    shop: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "value.csv"
    args = [
        *("-q", "value", str(shop[0]), "--as-of", AS_OF, "--horizon", "180"),
        *("--discount", "0.5", "--churn-days", "0", "--out", str(out)),
    ]
    assert main(args) == 0
    assert "predicted CLV over 180 days" in capsys.readouterr().out
    table = pd.read_csv(out, index_col=0, dtype={0: str})
    assert "churn_probability" not in table and set(table["as_of"]) == {AS_OF}
    ratio = table["clv"] / table["expected_revenue"]
    # each 30-day step is discounted from its end: between the 180-day factor and the 30-day one
    assert ratio.between(1.5 ** (-180 / 365), 1.5 ** (-30 / 365)).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["value", "--as-of", "someday"], "is not an ISO date; write it as YYYY-MM-DD"),
        (["value", "--as-of", "2021-06-01"], "no order before the as-of date 2021-06-01"),
        (["value", "--as-of", AS_OF, "--churn-days", "600"], "shorter churn horizon"),
        (["value", "--horizon", "-5"], "horizon and step must be positive days"),
        (["churn-eval", "--cutoff", "2023-12-01"], "the data must run to 2024-02-29"),
    ],
)
def test_dates_the_data_cannot_support_are_one_line_errors(
    shop: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    command, *options = args
    out = ["--out", str(tmp_path / "v.parquet")] if command == "value" else []
    assert main([command, str(shop[0]), *options, *out]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and message in error, error
    assert not (tmp_path / "v.parquet").exists()


def test_churn_eval_prints_and_writes_the_comparison(
    shop: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "churn.csv"
    assert main(["-q", "churn-eval", str(shop[0]), "--cutoff", AS_OF, "--horizon", "90", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    written = pd.read_csv(out).set_index("model")
    tx = shop[1]
    customers = tx.loc[tx["ts"] < pd.Timestamp(AS_OF), "customer_id"].unique()
    window = tx["ts"].between(pd.Timestamp(AS_OF), pd.Timestamp(AS_OF) + pd.Timedelta(days=90), inclusive="left")
    churned = ~pd.Index(customers).isin(tx.loc[window, "customer_id"])
    assert (written["customers"] == len(customers)).all()
    assert np.allclose(written["churn_rate"], churned.mean())
    assert {"recency alone", "RFM logistic", "LightGBM (calibrated)"} <= set(written.index)
    assert written.loc["LightGBM (calibrated)", "auroc"] > 0.6 and np.isnan(written.loc["recency alone", "brier"])
    assert f"{len(customers):,} customers at {AS_OF}, churn (no order in 90 days) {churned.mean():.1%}" in printed
    assert "LightGBM (calibrated)" in printed


def test_export_carries_the_value_columns(valued: pd.DataFrame, tmp_path: Path) -> None:
    value_path = tmp_path / "value.parquet"
    valued.to_parquet(value_path)
    segments = pd.DataFrame(
        {"segment": 0, "segment_name": "Everyone", "as_of": AS_OF}, index=valued.index.rename("customer_id")
    )
    segments_path = tmp_path / "segments.csv"
    segments.iloc[::-1].to_csv(segments_path)  # another order than the value table
    args = ["export", str(segments_path), "--value", str(value_path), "--crm", "hubspot", "--out-dir", str(tmp_path)]
    assert main(args) == 0
    written = pd.read_csv(tmp_path / "hubspot_segments.csv", dtype={"Customer ID": str}).set_index("Customer ID")
    assert np.allclose(written["Predicted CLV"], valued["clv"].reindex(written.index), atol=0.005)
    assert np.allclose(written["Churn Probability"], valued["churn_probability"].reindex(written.index), atol=5e-5)
    assert written["Probability Alive"].between(0, 1).all()


@pytest.mark.slow
def test_value_on_online_retail(online_retail_path: Path, tmp_path: Path) -> None:
    """The real file: 4,292 customers with a sale before 2011-12-01 (ids such as 14646 stay text), every figure
    finite, churn probabilities spread over the range, the CLV ranking led by the heaviest buyers."""
    out = tmp_path / "value.parquet"
    assert main(["-q", "value", str(online_retail_path), "--as-of", "2011-12-01", "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 4292 and table.index.is_unique and pd.api.types.is_string_dtype(table.index)
    assert "14646" in table.index  # a numeric-looking id kept as text
    numbers = table.drop(columns="churn_reasons")
    assert np.isfinite(numbers.to_numpy(dtype=float)).all()
    assert table["churn_probability"].quantile(0.1) < 0.2 and table["churn_probability"].quantile(0.9) > 0.6
    top = table.head(10)
    assert (top["frequency"] >= table["frequency"].quantile(0.9)).mean() >= 0.8  # top CLV: frequent buyers
    assert 7e6 < table["clv"].sum() < 1e7  # 8.39 M measured (docs/value.md)


@pytest.mark.slow
def test_churn_eval_with_the_gru_churn_head(shop: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    out = tmp_path / "churn.csv"
    args = ["-q", "churn-eval", str(shop[0]), "--cutoff", AS_OF, "--gru", "--out", str(out)]
    assert main(args) == 0
    written = pd.read_csv(out).set_index("model")
    assert written.index[-1] == "GRU churn head" and written["customers"].nunique() == 1
    assert 0.5 < written.loc["GRU churn head", "auroc"] <= 1 and written.loc["GRU churn head", "brier"] < 0.25


def test_a_file_without_order_ids_counts_purchase_days(shop: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    """One row per customer and day, no order column: frequency is the distinct purchase days less one."""
    tx = shop[1].loc[shop[1]["ts"] < pd.Timestamp(AS_OF)]
    daily = tx.assign(order_date=tx["ts"].dt.strftime("%Y-%m-%d"))
    daily = daily.groupby(["customer_id", "order_date"], as_index=False).agg(
        product_id=("product_id", "first"), quantity=("quantity", "sum"), unit_price=("unit_price", "sum")
    )
    path, out = tmp_path / "daily.csv", tmp_path / "value.parquet"
    daily.to_csv(path, index=False)
    assert main(["-q", "value", str(path), "--as-of", AS_OF, "--churn-days", "0", "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    days = daily.groupby("customer_id")["order_date"].nunique()
    assert (table["frequency"] == days.reindex(table.index) - 1).all() and len(table) == len(days)
