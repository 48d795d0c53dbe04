"""Files with only customer id, date and amount (or quantity x unit price): orders are purchase days, the
product steps are off in one clear line, and everything else works."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.config import Config, FeatureConfig
from segmentation.features import compute_features
from segmentation.features.definitions import PRODUCT_BASED
from segmentation.ingest import ValidationFailed
from segmentation.pipeline import load_transactions
from tests.app_helpers import assert_clean_run, new_app, upload

NO_PRODUCTS = "this file has no product column: recommendations need products (map one with --map product_id=COLUMN)"

# A music retailer's log: no order id, no product. u1 buys twice on 3 January (one order) and again in February;
# u2's March line is a refund of an earlier purchase; C3's id starts like a cancelled invoice but is a customer.
MUSIC = [
    ["customer_id", "date", "quantity", "amount"],
    ["u1", "2024-01-03 10:00", "1", "9.99"],
    ["u1", "2024-01-03 12:00", "2", "19.98"],
    ["u1", "2024-02-10 09:00", "1", "9.99"],
    ["u2", "2024-01-05 20:00", "1", "4.99"],
    ["u2", "2024-03-01 21:00", "-1", "-4.99"],
    ["C3", "2024-03-02 08:00", "3", "29.97"],
]


@pytest.fixture
def music(write_csv):
    return write_csv(MUSIC, "music.csv")


def test_orders_are_customer_purchase_days_and_the_report_says_so(music) -> None:
    result = load_transactions(music)
    assert result.validation.detected["order_definition"] == "customer + purchase day"
    codes = {w.code for w in result.validation.warnings}
    assert {"no_order_column", "no_product_column"} <= codes
    assert "no_quantity_column" not in codes
    tx = result.to_pandas().set_index("source_row")
    assert tx.loc[[2, 3], "order_id"].tolist() == ["2024-01-03 u1", "2024-01-03 u1"]
    assert tx["order_id"].nunique() == 5
    assert tx["product_id"].isna().all()
    assert tx["is_return"].to_dict() == {2: False, 3: False, 4: False, 5: False, 6: True, 7: False}
    assert result.cleaning.counts == {"return_netted": 1}  # matched against u2's earlier purchase
    assert not result.has_products


def test_features_from_purchase_days_with_product_features_left_out(music) -> None:
    features = compute_features(load_transactions(music).transactions)
    assert features.attrs["as_of"] == "2024-03-03"
    assert features["frequency"].to_dict() == {"C3": 1, "u1": 2, "u2": 1}
    assert features.loc["u1", "avg_order_value"] == pytest.approx((9.99 + 19.98 + 9.99) / 2)
    assert features.loc["u1", "items_per_order"] == pytest.approx(2.0)
    assert features.loc["u2", "monetary"] == pytest.approx(0.0)
    assert features.loc["u2", "returned_value"] == pytest.approx(4.99)
    assert features[list(PRODUCT_BASED)].isna().all().all()
    assert any("basket_size" in note and "no product column" in note for note in features.attrs["notes"])


def test_amount_alone_counts_each_line_as_one_unit(write_csv) -> None:
    rows = [["client", "fecha", "importe"], ["u1", "2024-01-03", "9.99"], ["u1", "2024-01-03", "5.00"]]
    rows += [["u1", "2024-02-10", "9.99"], ["u2", "2024-01-05", "4.99"], ["u2", "2024-01-20", "-4.99"]]
    result = load_transactions(write_csv(rows))
    assert result.mapping.columns == {"customer_id": "client", "ts": "fecha", "amount": "importe"}
    assert "no_quantity_column" in {w.code for w in result.validation.warnings}
    tx = result.to_pandas().set_index("source_row")
    assert tx["quantity"].to_dict() == {2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0, 6: -1.0}
    assert tx.loc[6, "unit_price"] == pytest.approx(4.99) and tx.loc[6, "is_return"]
    features = compute_features(result.transactions, FeatureConfig())
    assert features.loc["u1", "items_per_order"] == pytest.approx(1.5)  # 3 lines over 2 purchase days
    assert features.loc["u2", "monetary"] == pytest.approx(0.0)


def test_quantity_times_unit_price_without_order_or_product(write_csv) -> None:
    rows = [["Customer", "Date", "Qty", "Price"], ["a", "2024-05-01", "2", "3.5"], ["a", "2024-05-01", "1", "1"]]
    tx = load_transactions(write_csv(rows)).to_pandas()
    assert tx["amount"].tolist() == [7.0, 1.0] and tx["order_id"].nunique() == 1


def test_an_order_column_without_products_keeps_the_orders(write_csv) -> None:
    rows = [["customer", "invoice", "date", "amount"], ["a", "i1", "2024-05-01 09:00", "3"]]
    rows += [["a", "i2", "2024-05-01 17:00", "4"], ["b", "i3", "2024-05-02 10:00", "5"]]
    result = load_transactions(write_csv(rows))
    assert result.validation.detected["order_definition"] == "column 'invoice'"
    assert "no_order_column" not in {w.code for w in result.validation.warnings}
    features = compute_features(result.transactions)
    assert features["frequency"].to_dict() == {"a": 2, "b": 1}
    assert features["distinct_products"].isna().all()


def test_without_an_amount_quantity_and_unit_price_stay_required(write_csv) -> None:
    with pytest.raises(ValidationFailed, match=r"not found: unit price \(or a line amount\)"):
        load_transactions(write_csv([["customer", "date", "qty"], ["a", "2024-05-01", "2"]]))


@pytest.mark.parametrize("command", [["recommend", "--out", "recs.csv"], ["recommend-eval", "--cutoff", "2024-02-01"]])
def test_recommendations_are_refused_in_one_line(music, tmp_path, capsys, command) -> None:
    args = ["-q", command[0], str(music), *[str(tmp_path / a) if a.endswith(".csv") else a for a in command[1:]]]
    assert main(args) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {NO_PRODUCTS}"]
    assert not (tmp_path / "recs.csv").exists()


def test_cli_reports_the_order_definition(music, capsys) -> None:
    assert main(["-q", "validate", str(music), "--json"]) == 0
    out = capsys.readouterr().out
    # five purchase days, one of them a return: four orders (orders count purchases)
    assert '"order_definition": "customer + purchase day"' in out and '"orders": 4' in out


@pytest.mark.slow
def test_online_retail_without_order_and_product_columns(online_retail_path) -> None:
    """The real file with InvoiceNo and StockCode left unmapped: frequency counts purchase days."""
    config = Config(mapping={"order_id": None, "product_id": None})
    result = load_transactions(online_retail_path, config)
    tx = result.to_pandas()
    assert tx["product_id"].isna().all()
    assert (tx["order_id"].str[:10] == tx["ts"].dt.strftime("%Y-%m-%d")).all()
    features = compute_features(result.transactions)
    purchases = tx[~tx["is_return"]]
    days = purchases.groupby("customer_id")["ts"].agg(lambda ts: ts.dt.normalize().nunique())
    pd.testing.assert_series_equal(
        features["frequency"], days.loc[features.index], check_names=False, check_dtype=False
    )
    revenue = purchases.groupby("customer_id")["amount"].sum().loc[features.index]
    np.testing.assert_allclose(features["avg_order_value"], revenue / days.loc[features.index])
    assert features[list(PRODUCT_BASED)].isna().all().all()
    assert set(features.index) == set(days.index)  # every customer with a purchase, each once


def minimal_file(customers: int = 60, seed: int = 0) -> bytes:
    """customer_id, date, amount only: a few purchase days per customer."""
    rng = np.random.default_rng(seed)
    lines = ["customer_id,date,amount"]
    for c in range(customers):
        for day in rng.choice(200, size=rng.integers(1, 8), replace=False):
            when = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(day), hours=int(rng.integers(8, 20)))
            lines.append(f"m{c:03d},{when:%Y-%m-%d %H:%M},{rng.gamma(2.0, 20.0):.2f}")
    return ("\n".join(lines) + "\n").encode()


def test_app_loads_a_minimal_file_and_the_recommend_page_says_why_it_is_off() -> None:
    at = new_app()
    upload(at, "minimal.csv", minimal_file())
    assert_clean_run(at)
    assert any("**Orders** customer + purchase day" in c.value for c in at.caption)
    assert [i.value for i in at.info] == ["This file has no product column, so there are no products to rank."]
    at.switch_page("ui/segments_page.py").run()
    assert_clean_run(at)
    at.switch_page("ui/recommend_page.py").run()
    assert_clean_run(at)
    assert [i.value for i in at.info] == [
        "This file has no product column: recommendations need products (map one on the Data page)."
    ]
