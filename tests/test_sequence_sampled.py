"""The sequence model's training batches (sparse, over each customer's own products) and its sampled softmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recommenders.baselines import PopularityRecommender
from recommenders.data import Interactions
from recommenders.evaluate import EvaluationSplit, evaluate
from recommenders.sequence.batches import training_batch
from recommenders.sequence.model import SequenceRecommender
from recommenders.sequence.network import NextBasketNet
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample
from tests.frames import basket_lines, random_baskets

CPU = torch.device("cpu")


def _interactions(baskets: dict[str, list[list[str]]]) -> Interactions:
    """Each customer's baskets, one day apart, oldest first."""
    return Interactions.from_transactions(basket_lines(baskets))


def test_own_products_hold_the_repeat_features_and_targets_by_hand() -> None:
    data = _interactions({"a": [["p1"], ["p1", "p2"], ["p3"]], "b": [["p2"], ["p4"]]})
    rows = data.rows(["a"])
    batch = training_batch(data, rows, max_len=5, device=CPU)
    own = batch.own
    assert [data.items[i] for i in own.item[0].tolist()] == ["p1", "p2", "p3"]  # a's products; p4 is b's
    assert batch.query.tolist() == [0, 1] and own.customer.tolist() == [0, 0]
    # query 0: after {p1}, next {p1, p2}; query 1: after {p1, p2}, next {p3}
    np.testing.assert_allclose(own.value.numpy(), np.log1p([[1, 0, 0], [2, 1, 0]]))
    np.testing.assert_array_equal(own.flag.numpy(), [[1, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(own.weight.numpy(), [[0.5, 0.5, 0], [0, 0, 1]])
    # a window of 2 steps: the first order is counted in the repeat features all the same
    short = training_batch(data, rows, max_len=1, device=CPU).own
    np.testing.assert_allclose(short.value.numpy(), np.log1p([[2, 1, 0]]))
    np.testing.assert_array_equal(short.weight.numpy(), [[0, 0, 1]])


@pytest.fixture(scope="module")
def batch_and_net() -> tuple:
    data = _interactions(random_baskets(customers=8, products=40, orders=4, seed=0))
    torch.manual_seed(0)
    net = NextBasketNet(data.n_items, 8, "gru", 1, 2, 0.0, 5, True)
    with torch.no_grad():
        net.item.weight.mul_(4.0)  # scores spread over a few units, so the softmax is not flat
    return data, training_batch(data, np.arange(data.n_customers), 5, CPU), net


def test_sampled_softmax_with_every_product_drawn_is_the_exact_one(batch_and_net) -> None:
    data, batch, net = batch_and_net
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        exact = net.training_loss(h, batch.query, batch.own)
        everything = net.training_loss(h, batch.query, batch.own, torch.arange(data.n_items))
    assert float(exact) == pytest.approx(float(everything), abs=1e-5)


def test_sampled_softmax_estimates_the_exact_loss(batch_and_net) -> None:
    data, batch, net = batch_and_net
    rng = np.random.default_rng(1)
    with torch.no_grad():
        h = net.hidden(batch.baskets, batch.shape)[:, :-1]
        exact = float(net.training_loss(h, batch.query, batch.own))
        draws = [
            float(net.training_loss(h, batch.query, batch.own, torch.from_numpy(rng.choice(data.n_items, 10, False))))
            for _ in range(300)
        ]
    print(f"exact {exact:.4f}, sampled mean {np.mean(draws):.4f} (std {np.std(draws):.4f})")
    assert np.std(draws) > 0 and abs(np.mean(draws) - exact) < 0.05 * exact


def test_a_model_trained_with_the_sampled_softmax_ranks_like_the_exact_one(tmp_path) -> None:
    path = tmp_path / "tx.csv.gz"
    write_sample(path, SyntheticSpec(n_customers=600, n_products=300, seed=3, co_purchase=0.3))
    split = EvaluationSplit.from_transactions(load_transactions(path).to_pandas(), "2023-10-01")
    assert split.interactions.n_items > 2 * 64  # so negatives=64 samples
    ndcg = {
        name: evaluate(model, split)["ndcg@10"]
        for name, model in {
            "sampled": SequenceRecommender("gru", epochs=4, negatives=64),
            "exact": SequenceRecommender("gru", epochs=4, negatives=None),
            "popularity": PopularityRecommender(),
        }.items()
    }
    print(ndcg)
    assert ndcg["sampled"] > ndcg["popularity"] + 0.1 and ndcg["sampled"] > ndcg["exact"] - 0.03
