"""The sequence model's recency weighting: each training query counts by how recent the order it predicts is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from recommenders.data import Interactions
from recommenders.sequence.batches import training_batch
from recommenders.sequence.model import SequenceRecommender
from recommenders.sequence.network import NextBasketNet
from segmentation.errors import ConfigError
from tests.frames import basket_lines, random_baskets

CPU = torch.device("cpu")
BASKETS = {"a": [["p1"], ["p1", "p2"], ["p3"]], "b": [["p2"], ["p4"]], "c": [["p1"], ["p1"]]}


def test_each_query_knows_how_long_before_the_end_its_next_order_came() -> None:
    data = Interactions.from_transactions(basket_lines(BASKETS))  # one basket a day from day 0; the end is day 2
    batch = training_batch(data, np.arange(data.n_customers), max_len=5, device=CPU)
    # queries in position order: a after day 0 (next: day 1), a after day 1 (next: day 2), b and c after day 0
    assert batch.query_age.tolist() == [1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("head", ["training_loss", "explore_loss"])
def test_each_query_counts_its_weight_times(head: str) -> None:
    data = Interactions.from_transactions(basket_lines(random_baskets(customers=6, products=12, orders=4, seed=2)))
    batch = training_batch(data, np.arange(data.n_customers), max_len=5, device=CPU)
    torch.manual_seed(0)
    net = NextBasketNet(data.n_items, 8, "gru", 1, 2, 0.0, 5, True, explore_head=True)
    n = len(batch.query)
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        loss = getattr(net, head)
        # a query's share of the loss: weight 1 on it, 0 on the rest (an explore query whose next order holds
        # nothing new counts for nothing whatever its weight)
        alone = [float(loss(h, batch.query, batch.own, None, torch.eye(n)[q])) for q in range(n)]
        weights = torch.rand(n)
        weighted = float(loss(h, batch.query, batch.own, None, weights))
        plain = float(loss(h, batch.query, batch.own))
    assert weighted == pytest.approx(float(np.dot(weights.numpy(), alone)), rel=1e-5)
    assert plain == pytest.approx(sum(alone), rel=1e-5)  # weight 1 everywhere is the plain mean
    assert min(alone) >= 0


def test_a_half_life_changes_the_training_and_is_kept_in_the_artifact(tmp_path: Path) -> None:
    data = Interactions.from_transactions(basket_lines(random_baskets(customers=30, products=20, orders=5, seed=3)))
    plain = SequenceRecommender(epochs=2, random_state=0).fit(data)
    recent = SequenceRecommender(epochs=2, recent_half_life=1.0, random_state=0).fit(data)
    assert recent.loss_curve_ != plain.loss_curve_  # older orders count less, so the loss is another mean
    batches = [training_batch(data, np.arange(15), 5, CPU), training_batch(data, np.arange(15, 30), 5, CPU)]
    weights = torch.cat(recent._recency(batches))
    ages = torch.cat([b.query_age for b in batches])
    assert float(weights.mean()) == pytest.approx(1.0)
    assert (weights[ages == 0] > weights[ages == ages.max()]).all()  # the latest orders weigh most
    recent.save(tmp_path / "model.pt")
    again = SequenceRecommender.load(tmp_path / "model.pt", data)
    assert again.recent_half_life == 1.0
    rows = np.arange(data.n_customers)
    np.testing.assert_allclose(again.score(rows), recent.score(rows), rtol=1e-5)


def test_a_half_life_of_zero_days_is_refused_in_one_line() -> None:
    data = Interactions.from_transactions(basket_lines(BASKETS))
    with pytest.raises(ConfigError, match="recent_half_life must be > 0"):
        SequenceRecommender(epochs=1, recent_half_life=0.0).fit(data)
