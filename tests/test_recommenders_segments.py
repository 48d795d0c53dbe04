"""Segment lists (share, lift, bought-by), the cold-start fallback and the reasons, on hand-built purchase histories."""

from __future__ import annotations

import pandas as pd
import pytest

from recommenders.baselines import BuyAgainRecommender, PopularityRecommender
from recommenders.data import Interactions
from recommenders.reasons import BOUGHT_AGAIN, NO_HISTORY, explain
from recommenders.segments import COLD_START, customer_top_products, segment_top_products


def _history() -> tuple[pd.DataFrame, pd.Series]:
    """20 customers of segment A buy a1 and a2 in two orders; 10 of B buy b1 twice and a1 once; c1 (A) has one
    order of a1 only."""
    lines = []

    def order(customer: str, day: int, products: list[str]) -> None:
        for product in products:
            lines.append((customer, f"{customer}-{day}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=day), product))

    for i in range(20):
        order(f"A{i}", 1, ["a1", "a2"])
        order(f"A{i}", 30, ["a1", "a2"])
    for i in range(10):
        order(f"B{i}", 1, ["b1", "a1"])
        order(f"B{i}", 30, ["b1"])
    order("c1", 5, ["a1"])
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "ts", "product_id"])
    tx = tx.assign(quantity=1, amount=2.5, description=tx["product_id"].str.upper(), is_return=False)
    segments = pd.Series({**{f"A{i}": "A" for i in range(20)}, **{f"B{i}": "B" for i in range(10)}, "c1": "A"})
    return tx, segments


@pytest.fixture(scope="module")
def buy_again() -> tuple[BuyAgainRecommender, pd.Series]:
    tx, segments = _history()
    return BuyAgainRecommender().fit(Interactions.from_transactions(tx)), segments


def test_segment_lists_give_share_lift_and_bought_by(buy_again) -> None:
    model, segments = buy_again
    lists = segment_top_products(model, segments, n=2, depth=2).set_index(["segment", "product_id"])
    # Personal top-2: every A customer [a1, a2] (c1: a1 + the most popular other, a2); every B customer [b1, a1].
    assert lists.loc[("A", "a2"), "recommended_to"] == 1.0
    assert lists.loc[("A", "a2"), "lift"] == pytest.approx(31 / 21)
    assert lists.loc[("A", "a2"), "bought_by"] == pytest.approx(20 / 21)
    assert lists.loc[("A", "a2"), "rank"] == 1  # equal share: the higher lift first
    assert lists.loc[("A", "a1"), "lift"] == pytest.approx(1.0)
    assert lists.loc[("B", "b1"), "lift"] == pytest.approx(31 / 10)
    assert lists.loc[("B", "a1"), "bought_by"] == 1.0
    assert lists.loc[("B", "b1"), "description"] == "B1"
    assert lists.loc[("B", "b1"), "reason"] == "bought again"


def test_cross_sell_lists_show_novelty_next_to_lift(buy_again) -> None:
    model, segments = buy_again
    lists = segment_top_products(model, segments, n=2, depth=2, exclude_bought=True)
    assert list(lists.columns[lists.columns.get_loc("lift") + 1 :][:2]) == ["novelty", "bought_by"]
    lists = lists.set_index(["segment", "product_id"])
    # A's customers bought a1 and a2, so their lists hold b1 (nobody in A bought it); c1's list holds a2 and b1.
    assert lists.loc[("A", "b1"), "recommended_to"] == 1.0 and lists.loc[("A", "b1"), "novelty"] == 1.0
    assert lists.loc[("A", "a2"), "novelty"] == pytest.approx(1 / 21)  # only c1 never bought a2
    assert lists.loc[("B", "a2"), "novelty"] == 1.0
    assert (lists["novelty"] + lists["bought_by"]).to_numpy() == pytest.approx(1.0)


def test_the_same_list_for_everyone_has_no_lift() -> None:
    tx, segments = _history()
    model = PopularityRecommender().fit(Interactions.from_transactions(tx))
    lists = segment_top_products(model, segments, n=3, depth=3, exclude_bought=False)
    assert lists["lift"].to_numpy() == pytest.approx(1.0)
    assert set(lists["product_id"]) == {"a1", "a2", "b1"}


def test_cold_start_customers_get_their_segment_list(buy_again) -> None:
    model, segments = buy_again
    lists = segment_top_products(model, segments, n=2, depth=2)
    segments = pd.concat([segments, pd.Series({"newbie": "B"})])  # assigned to B after the lists were made
    asked = ["c1", "A0", "stranger", "newbie"]
    recs = customer_top_products(model, asked, segments, n=2, min_orders=2, segment_lists=lists)
    by = {c: frame for c, frame in recs.groupby("customer_id", sort=False)}
    assert list(by) == asked
    assert list(by["c1"]["product_id"]) == ["a2", "a1"]  # A's list, though c1's own history says a1 first
    assert set(by["c1"]["reason"]) == {COLD_START} and set(by["c1"]["source"]) == {"segment"}
    assert list(by["newbie"]["product_id"]) == ["b1", "a1"] and set(by["newbie"]["segment"]) == {"B"}
    assert set(by["A0"]["source"]) == {"personal"} and set(by["A0"]["reason"]) == {"bought again"}
    assert set(by["stranger"]["source"]) == {"overall"} and set(by["stranger"]["reason"]) == {NO_HISTORY}
    assert list(by["A0"]["rank"]) == [1, 2]


def test_cold_start_leaves_out_what_the_customer_bought(buy_again) -> None:
    model, segments = buy_again
    lists = segment_top_products(model, segments, n=2, depth=2)  # A: a2, a1
    recs = customer_top_products(model, ["c1"], segments, n=2, min_orders=2, exclude_bought=True, segment_lists=lists)
    assert list(recs["product_id"]) == ["a2"]
    assert list(recs["rank"]) == [1]


def test_bought_together_needs_more_than_chance() -> None:
    """ "pop" is in every order, so it shares orders with x by chance; y goes with x far more often than chance."""
    lines = [(f"u{i}", f"u{i}", p) for i in range(40) for p in ("pop", f"p{i}")]
    lines += [(f"v{i}", f"v{i}", p) for i in range(5) for p in ("pop", "x", "y")]
    lines += [("c", "c", "x")]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "product_id"])
    tx = tx.assign(ts=pd.Timestamp("2024-03-01"), quantity=1, amount=1.0, description=tx["product_id"].str.upper())
    data = Interactions.from_transactions(tx.assign(is_return=False))
    rows = data.rows(["c", "c", "c"])
    items = data.items.get_indexer(["y", "pop", "x"])
    assert list(explain(data, rows, items, "default")) == ["bought together with X", "default", BOUGHT_AGAIN]
