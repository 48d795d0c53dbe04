"""The evaluation's NDCG equals scikit-learn's ``ndcg_score`` on random rankings (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from recommenders.evaluate import ranking_metrics


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [1, 5, 10])
def test_ndcg_matches_scikit_learn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    customers, products = 60, 40
    truth = (rng.random((customers, products)) < rng.uniform(0.02, 0.3)).astype(float)
    truth[np.arange(customers), rng.integers(0, products, customers)] = 1.0  # everyone has something relevant
    scores = rng.random((customers, products))
    top = np.argsort(-scores, axis=1)  # the full ranking, best first
    ours = ranking_metrics(top, sp.csr_matrix(truth), n=n, recall_at=n)[f"ndcg@{n}"]
    assert ours == pytest.approx(ndcg_score(truth, scores, k=n), rel=1e-12)


def test_customers_without_relevant_products_are_left_out() -> None:
    truth = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 0, 0]]))
    top = np.array([[1, 0, 2], [0, 1, 2]])
    assert ranking_metrics(top, truth, n=2, recall_at=2)["ndcg@2"] == pytest.approx(1 / np.log2(3))


def test_a_catalogue_smaller_than_the_list_counts_the_missing_places_as_misses() -> None:
    truth = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]))
    top = np.array([[1, 0, 2], [2, 1, 0]])  # every product ranked: three places of the ten asked
    metrics = ranking_metrics(top, truth, n=10, recall_at=20)
    assert metrics["hr@10"] == 1.0 and metrics["recall@20"] == 1.0
    assert metrics["ndcg@10"] == pytest.approx(1.0)  # the best any list could do with these products
    assert metrics["map@10"] == pytest.approx(1.0)
