"""The Instacart sample's dates are rebuilt backwards from the common end, from the gaps Instacart records."""

from __future__ import annotations

import pandas as pd

from bench.instacart import END, to_transactions


def test_dates_come_back_from_each_customers_gaps_with_the_latest_order_on_the_end() -> None:
    lines = pd.DataFrame(
        {
            "order_id": [10, 10, 11, 12, 20, 21],
            "user_id": [1, 1, 1, 1, 2, 2],
            "order_number": [1, 1, 2, 3, 1, 2],
            "order_hour_of_day": [8, 8, 9, 10, 23, 0],
            "days_since_prior_order": [None, None, 5.0, 30.0, None, 0.0],
            "product_id": [7, 8, 7, 9, 7, 8],
        }
    )
    tx = to_transactions(lines).set_index(["order_id", "product_id"])
    day = lambda days, minute: (END - pd.Timedelta(days=days) + pd.Timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    assert tx.loc[("12", "9"), "date"] == day(0, 3)
    assert tx.loc[("11", "7"), "date"] == day(30, 2)
    assert tx.loc[("10", "8"), "date"] == tx.loc[("10", "7"), "date"] == day(35, 1)
    # the same day: still in their order, though order 20 was placed at 23:00 and order 21 at 00:00
    assert tx.loc[("20", "7"), "date"] == day(0, 1) < tx.loc[("21", "8"), "date"] == day(0, 2)
    assert set(tx["quantity"]) == {1} and set(tx["customer_id"]) == {"1", "2"}
