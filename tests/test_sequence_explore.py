"""The sequence model's explore head: trained on the products new to the customer, with their past products
left out of its softmax, and used when a list must hold new products only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recommenders.data import Interactions
from recommenders.evaluate import EvaluationSplit, ranked_lists
from recommenders.sequence.batches import training_batch
from recommenders.sequence.model import SequenceRecommender
from recommenders.sequence.network import NextBasketNet
from tests.frames import basket_lines, random_baskets

CPU = torch.device("cpu")
BASKETS = {"a": [["p1"], ["p1", "p2"], ["p3"]], "b": [["p2"], ["p4"]], "c": [["p1"], ["p1"]]}


def _net(n_items: int) -> NextBasketNet:
    torch.manual_seed(0)
    net = NextBasketNet(n_items, 8, "gru", 1, 2, 0.0, 5, True, explore_head=True)
    with torch.no_grad():
        net.item.weight.mul_(4.0)  # scores spread over a few units, so the softmax is not flat
        net.explore_bias.normal_()
    return net


def test_the_explore_loss_by_hand() -> None:
    data = Interactions.from_transactions(basket_lines(BASKETS))
    batch = training_batch(data, np.arange(data.n_customers), max_len=5, device=CPU)
    net = _net(data.n_items)
    col = {p: data.items.get_loc(p) for p in ("p1", "p2", "p3", "p4")}
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        loss = float(net.explore_loss(h, batch.query, batch.own))
        logits = net.explore_logits(h.flatten(0, 1)[batch.query])
    # queries in position order: a after {p1} (next {p1, p2}), a after {p1, p2} (next {p3}), b after {p2}
    # (next {p4}), c after {p1} (next {p1}: nothing new, so it does not count)
    cases = [({"p1"}, {"p2"}), ({"p1", "p2"}, {"p3"}), ({"p2"}, {"p4"})]
    by_hand = []
    for q, (bought, new) in enumerate(cases):
        allowed = [i for i in range(data.n_items) if i not in {col[p] for p in bought}]
        normaliser = torch.logsumexp(logits[q, allowed], dim=0)
        by_hand.append(float(normaliser - logits[q, [col[p] for p in new]].mean()))
    assert len(batch.query) == 4
    assert loss == pytest.approx(np.mean(by_hand), rel=1e-5)


def test_the_explore_loss_with_every_product_drawn_is_the_exact_one() -> None:
    data = Interactions.from_transactions(basket_lines(random_baskets(customers=8, products=40, orders=4, seed=0)))
    batch = training_batch(data, np.arange(data.n_customers), 5, CPU)
    net = _net(data.n_items)
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        exact = float(net.explore_loss(h, batch.query, batch.own))
        everything = float(net.explore_loss(h, batch.query, batch.own, torch.arange(data.n_items)))
    assert exact > 0 and exact == pytest.approx(everything, abs=1e-5)


def test_only_repeats_give_no_explore_loss() -> None:
    data = Interactions.from_transactions(basket_lines({"c": [["p1"], ["p1", "p2"]], "d": [["p2"], ["p2"], ["p2"]]}))
    batch = training_batch(data, data.rows(["d"]), max_len=5, device=CPU)
    net = _net(data.n_items)
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        assert len(batch.query) == 2 and float(net.explore_loss(h, batch.query, batch.own)) == 0.0


@pytest.fixture(scope="module")
def fitted() -> tuple[SequenceRecommender, SequenceRecommender, EvaluationSplit]:
    lines = basket_lines(random_baskets(customers=40, products=30, orders=5, seed=1))
    cutoff = lines["ts"].sort_values().iloc[int(len(lines) * 0.8)]
    split = EvaluationSplit.from_transactions(lines, cutoff)
    shared = SequenceRecommender(epochs=2, random_state=0).fit(split.interactions)
    explore = SequenceRecommender(epochs=2, explore_head_weight=1.0, random_state=0).fit(split.interactions)
    return shared, explore, split


def test_lists_of_new_products_come_from_the_explore_head(fitted) -> None:
    shared, explore, split = fitted
    rows = split.rows
    np.testing.assert_array_equal(shared.score_new(rows), shared.score(rows))  # no head: the one ranking
    assert not np.allclose(explore.score_new(rows), explore.score(rows))
    masked = explore.score_new(rows)
    masked[split.history.toarray() > 0] = -np.inf
    expected = np.argsort(-masked, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(ranked_lists(explore, rows, 5, new_only=True), expected)
    customers = split.interactions.customers[rows]
    listed = explore.recommend(customers, n=5, exclude_bought=True)
    first = listed.loc[listed["rank"] == 1].set_index("customer_id")["product_id"]
    assert first.reindex(customers).tolist() == list(split.interactions.items[expected[:, 0]])


def test_the_explore_head_starts_from_popularity_and_survives_save_and_load(fitted, tmp_path) -> None:
    _, explore, split = fitted
    path = tmp_path / "explore.pt"
    explore.save(path)
    loaded = SequenceRecommender.load(path, split.interactions)
    np.testing.assert_allclose(loaded.score_new(split.rows), explore.score_new(split.rows), rtol=1e-5, atol=1e-5)
    untrained = SequenceRecommender(epochs=0, explore_head_weight=1.0).fit(split.interactions)
    in_steps = pd.Series(split.interactions.in_steps)
    bias = pd.Series(untrained.network_.explore_bias.detach().numpy())
    assert bias.corr(in_steps, method="spearman") == pytest.approx(1.0)
