"""The cleaning policy on hand-made rows: each reason counted once, affected rows listed, options honoured."""

from __future__ import annotations

import pytest

from segmentation.config import CleaningPolicy, Config
from segmentation.pipeline import load_transactions

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
ROWS = [
    ["1", "A", "apple", "2", "2011-01-01 10:00", "1.50", "100"],  # row 2: kept
    ["1", "A", "apple", "2", "2011-01-01 10:00", "1.50", "100"],  # row 3: exact duplicate of row 2
    ["2", "PEAR", "pear", "1", "2011-01-02 10:00", "0", "100"],  # row 4: zero price
    ["3", "POST", "postage", "1", "2011-01-02 10:00", "5", "100"],  # row 5: non-product
    ["4", "A", "apple", "1", "2011-01-03 10:00", "1.50", ""],  # row 6: guest
    ["C5", "A", "apple", "-1", "2011-01-04 10:00", "1.50", "100"],  # row 7: return of an earlier purchase
    ["C6", "Z", "zebra", "-1", "2011-01-04 10:00", "3.00", "100"],  # row 8: return never bought
    ["7", "gift_0001_10", "voucher", "1", "2011-01-05 10:00", "10", "200"],  # row 9: non-product prefix
    ["8", "PEAR", "pear", "0", "2011-01-05 10:00", "1", "200"],  # row 10: zero quantity
    ["9", "PEAR", "pear", "3", "2011-01-06 10:00", "1", "200"],  # row 11: kept
]


@pytest.fixture
def path(write_csv):
    return write_csv([HEADER, *ROWS])


def test_each_row_gets_one_reason(path) -> None:
    report = load_transactions(path).cleaning
    assert report.counts == {
        "zero_quantity": 1,
        "missing_customer_id": 1,
        "non_product_code": 2,
        "exact_duplicate": 1,
        "nonpositive_price": 1,
        "return_unmatched": 1,
        "return_netted": 1,
    }
    assert report.rows_in == 10 and report.rows_kept == 3
    assert report.rows_removed == sum(n for r, n in report.counts.items() if r != "return_netted")
    rows = dict(zip(report.affected["source_row"], report.affected["reason"], strict=True))
    assert rows == {
        3: "exact_duplicate",
        4: "nonpositive_price",
        5: "non_product_code",
        6: "missing_customer_id",
        7: "return_netted",
        8: "return_unmatched",
        9: "non_product_code",
        10: "zero_quantity",
    }
    assert set(report.affected.loc[report.affected["reason"] == "return_netted", "action"]) == {"changed"}


def test_summary_lists_reasons_in_policy_order_with_meaning(path) -> None:
    summary = load_transactions(path).cleaning.summary()
    assert list(summary.columns) == ["reason", "action", "rows", "meaning"]
    assert summary["rows"].sum() == 8
    assert summary["meaning"].str.len().min() > 10


def test_netted_return_reduces_revenue(path) -> None:
    tx = load_transactions(path).to_pandas()
    assert tx.groupby("customer_id")["amount"].sum().to_dict() == {"100": 1.5, "200": 3.0}


def test_drop_policy_removes_all_returns(path) -> None:
    result = load_transactions(path, Config(cleaning=CleaningPolicy(returns="drop")))
    assert result.cleaning.counts["return_dropped"] == 2
    assert "return_netted" not in result.cleaning.counts
    assert not result.to_pandas()["is_return"].any()


def test_switches_keep_rows(path) -> None:
    policy = CleaningPolicy(
        drop_missing_customer=False,
        drop_duplicates=False,
        drop_nonpositive_price=False,
        non_product_codes=(),
        non_product_prefixes=(),
    )
    counts = load_transactions(path, Config(cleaning=policy)).cleaning.counts
    assert set(counts) == {"zero_quantity", "return_unmatched", "return_netted"}


def test_extreme_quantities_are_outliers(write_csv) -> None:
    rows = [[str(i), "A", "a", "2", "2011-01-01 10:00", "1", str(i % 7)] for i in range(2000)]
    rows.append(["big", "A", "a", "80995", "2011-01-02 10:00", "1", "1"])
    report = load_transactions(write_csv([HEADER, *rows])).cleaning
    assert report.counts == {"extreme_outlier": 1}
    assert report.outlier_threshold == pytest.approx(20.0)
    assert (
        load_transactions(
            write_csv([HEADER, *rows]), Config(cleaning=CleaningPolicy(outlier_factor=None))
        ).cleaning.counts
        == {}
    )
