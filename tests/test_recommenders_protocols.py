"""The three evaluation protocols (all items, cross-sell, next basket) on a hand-built split with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.baselines import BuyAgainRecommender
from recommenders.evaluate import EvaluationSplit, evaluate, protocol_metrics, ranked_lists

CUTOFF = "2024-02-01"
DISCOUNT_2 = 1 / np.log2(3)


def _split() -> EvaluationSplit:
    """x bought a, b before the cutoff, then {a, c} (two orders at the same moment) and later {d}; y bought c, then
    c again; z bought c, d, e and nothing after the cutoff; w buys only after it (cold)."""
    lines = [
        ("x", "x1", "2024-01-05", "a"),
        ("x", "x2", "2024-01-20", "b"),
        ("x", "x3", "2024-02-02 10:00", "a"),
        ("x", "x4", "2024-02-02 10:00", "c"),
        ("x", "x5", "2024-02-10", "d"),
        ("y", "y1", "2024-01-07", "c"),
        ("y", "y2", "2024-02-03", "c"),
        ("z", "z1", "2024-01-08", "c"),
        ("z", "z1", "2024-01-08", "d"),
        ("z", "z1", "2024-01-08", "e"),
        ("w", "w1", "2024-02-05", "a"),
    ]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "ts", "product_id"])
    tx = tx.assign(
        ts=pd.to_datetime(tx["ts"], format="ISO8601"), quantity=1, amount=1.0, description="", is_return=False
    )
    return EvaluationSplit.from_transactions(tx, CUTOFF)


def _products(split: EvaluationSplit, matrix) -> list[set[str]]:
    return [set(split.interactions.items[row.indices]) for row in matrix]


def test_each_protocol_has_its_own_truth() -> None:
    split = _split()
    assert list(split.interactions.customers[split.rows]) == ["x", "y"] and split.cold_customers == 1
    assert _products(split, split.truth) == [{"a", "c", "d"}, {"c"}]
    assert _products(split, split.new_truth) == [{"c", "d"}, set()]  # cross-sell: new to the customer
    assert _products(split, split.next_truth) == [{"a", "c"}, {"c"}]  # the first order step only


def test_protocol_metrics_by_hand() -> None:
    split = _split()
    col = {p: i for i, p in enumerate(split.interactions.items)}
    top = np.array([[col["a"], col["b"]], [col["c"], col["d"]]])
    top_new = np.array([[col["c"], col["e"]], [col["a"], col["b"]]])
    m = protocol_metrics(split, top, top_new, n=2, recall_at=2)
    one_of_two = 1 / (1 + DISCOUNT_2)  # one hit at rank 1, two relevant
    assert m["ndcg@2"] == pytest.approx((one_of_two + 1) / 2)
    assert m["cross-sell ndcg@2"] == pytest.approx(one_of_two)  # y bought nothing new: not scored
    assert m["cross-sell recall@2"] == pytest.approx(0.5)
    assert m["next-basket ndcg@2"] == pytest.approx((one_of_two + 1) / 2)
    assert m["next-basket ndcg@2 repeat"] == 1.0  # x: a, y: c, both first
    assert m["next-basket ndcg@2 explore"] == 0.0  # x's new c is not in [a, b]
    assert m["repeat share@2"] == pytest.approx(3 / 4)  # x: a, b bought before; y: c yes, d no
    assert m["coverage@2"] == pytest.approx(4 / 5) and m["cross-sell coverage@2"] == pytest.approx(4 / 5)


def test_cross_sell_lists_never_hold_past_products() -> None:
    split = _split()
    model = BuyAgainRecommender().fit(split.interactions)
    top = ranked_lists(model, split.rows, 3)
    top_new = ranked_lists(model, split.rows, 3, new_only=True)
    history = _products(split, split.history)
    assert [set(split.interactions.items[t[: len(h)]]) for t, h in zip(top, history, strict=True)] == history
    assert all(not set(split.interactions.items[t[: 5 - len(h)]]) & h for t, h in zip(top_new, history, strict=True))
    result = evaluate(BuyAgainRecommender(), split, n=2, recall_at=2)
    assert result["repeat share@2"] == pytest.approx(3 / 4)  # y bought one product: the second place is popular
    assert result["next-basket ndcg@2 explore"] == 0.0
