"""The data overview: KPIs with one definition of an order, revenue by month with partial months, top lists, charts."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from segmentation.overview import (
    monthly_revenue,
    monthly_revenue_chart,
    overview,
    partial_note,
    summary_kpis,
    top_countries_chart,
    top_products_chart,
)

from .frames import random_transactions

COLUMNS = ["customer_id", "order_id", "ts", "product_id", "description", "quantity", "unit_price", "country"]


def table(rows: list[tuple]) -> pa.Table:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"])
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    frame["is_return"] = frame["quantity"] < 0
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture
def small() -> pa.Table:
    return table(
        [
            ("c1", "o1", "2024-01-15 10:00", "p1", "Mug", 2, 5.0, "UK"),
            ("c1", "o1", "2024-01-15 10:00", "p2", "Cup", 1, 3.0, "UK"),
            ("c2", "o2", "2024-02-10 09:00", "p1", "Mug", 4, 5.0, "UK"),
            ("c2", "Co2", "2024-02-12 09:00", "p1", "Mug", -1, 5.0, "UK"),  # a return: not an order
            ("c3", "o3", "2024-03-05 18:00", "p3", None, 1, 100.0, None),
        ]
    )


def test_kpis_count_purchases_as_orders_and_revenue_net_of_returns(small) -> None:
    kpis = summary_kpis(small)
    assert {k: kpis[k] for k in ("rows", "customers", "orders", "products", "revenue")} == {
        "rows": 5,
        "customers": 3,
        "orders": 3,
        "products": 3,
        "revenue": 128.0,
    }
    assert (kpis["first_ts"], kpis["last_ts"]) == (pd.Timestamp("2024-01-15 10:00"), pd.Timestamp("2024-03-05 18:00"))


def test_kpis_agree_with_pandas_on_random_transactions() -> None:
    frame = random_transactions(seed=3)
    kpis = summary_kpis(pa.Table.from_pandas(frame, preserve_index=False))
    assert kpis["orders"] == frame.loc[~frame["is_return"], "order_id"].nunique()
    assert kpis["customers"] == frame["customer_id"].nunique()
    assert kpis["revenue"] == pytest.approx(frame["amount"].sum())


def test_first_and_last_months_are_partial_when_the_data_covers_only_some_days(small) -> None:
    monthly = monthly_revenue(small)
    assert monthly["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03"]
    assert monthly["revenue"].tolist() == [13.0, 15.0, 100.0]
    assert monthly["days_covered"].tolist() == [17, 29, 5]  # 15-31 January, leap February, 1-5 March
    assert monthly["days_in_month"].tolist() == [31, 29, 31]
    assert monthly["partial"].tolist() == [True, False, True]
    assert partial_note(monthly) == "January 2024 has data for 17 of 31 days; March 2024 has data for 5 of 31 days"


def test_months_covered_from_first_to_last_day_are_full() -> None:
    whole = table(
        [
            ("c1", "o1", "2024-02-01 00:00", "p1", "Mug", 1, 2.0, "UK"),
            ("c1", "o2", "2024-03-31 23:59", "p1", "Mug", 1, 2.0, "UK"),
        ]
    )
    monthly = monthly_revenue(whole)
    assert not monthly["partial"].any()
    assert partial_note(monthly) == ""


def test_top_lists_keep_product_names_and_ids_apart(small) -> None:
    data = overview(small, top=2)
    assert data.products["product_id"].tolist() == ["p3", "p1"]
    assert data.products["description"].fillna("").tolist() == ["", "Mug"]
    assert data.products["revenue"].tolist() == [100.0, 25.0]
    assert data.countries.to_dict("list") == {
        "country": ["unknown", "UK"],
        "revenue": [100.0, 28.0],
        "customers": [1, 2],
    }


def test_charts_mark_partial_months_and_show_money_in_the_currency(small) -> None:
    fig = monthly_revenue_chart(monthly_revenue(small), "GBP")
    traces = {trace.name: trace for trace in fig.data if trace.name}
    assert list(pd.to_datetime(traces["Partial month"].x).strftime("%Y-%m")) == ["2024-01", "2024-03"]
    assert list(pd.to_datetime(traces["Full month"].x).strftime("%Y-%m")) == ["2024-02"]
    assert traces["Partial month"].hovertext[1] == "March 2024<br>£100.00<br>partial: 5 of 31 days"
    assert fig.layout.yaxis.tickprefix == "£"
    data = overview(small)
    products = top_products_chart(data.products, "JPY")
    assert list(products.data[0].y) == ["p3", "Mug", "Cup"]  # the id where the product has no name
    assert products.data[0].hovertext[0] == "¥100<br>product p3"
    countries = top_countries_chart(data.countries, None)
    assert countries.data[0].hovertext[1] == "28.00<br>2 customers"
    assert countries.data[0].hovertext[0] == "100.00<br>1 customer"


@pytest.mark.slow
def test_online_retail_ends_with_a_partial_december_2011(online_retail_path) -> None:
    from segmentation.pipeline import load_transactions, transactions_summary

    transactions = load_transactions(online_retail_path).transactions
    monthly = monthly_revenue(transactions)
    assert len(monthly) == 13
    last, first = monthly.iloc[-1], monthly.iloc[0]
    assert (f"{last.month:%Y-%m}", last.days_covered, last.days_in_month, last.partial) == ("2011-12", 9, 31, True)
    assert (f"{first.month:%Y-%m}", first.partial) == ("2010-12", False)  # starts on 1 December 2010
    assert monthly["partial"].sum() == 1
    kpis = summary_kpis(transactions)
    frame = transactions.to_pandas()
    assert kpis["orders"] == frame.loc[~frame["is_return"], "order_id"].nunique()
    assert kpis["customers"] == transactions_summary(transactions)["customers"]
    assert monthly["revenue"].sum() == pytest.approx(kpis["revenue"])
