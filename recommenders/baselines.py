"""Baselines that any learned model has to beat: popularity (global, per segment, recent), buy-again and
item-kNN. They are deterministic and fit in a second on Online Retail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommenders.base import Recommender
from recommenders.data import Interactions
from segmentation.progress import Progress


def _share(counts: np.ndarray) -> np.ndarray:
    return (counts / max(counts.max(), 1)).astype(np.float32)


class PopularityRecommender(Recommender):
    """Everyone gets the products the most customers bought."""

    reason = "popular overall"

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        self.scores_ = _share(interactions.popularity)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(rows), len(self.scores_)))


class SegmentPopularityRecommender(Recommender):
    """The products most bought within the customer's segment (global popularity for an unassigned customer).

    ``segments``: customer_id -> segment, as a Series or as the assignments frame (its ``segment`` column).
    """

    reason = "popular in your segment"

    def __init__(self, segments: pd.Series | pd.DataFrame):
        self.segments = segments

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        labels = segment_labels(self.segments).reindex(interactions.customers)
        codes, self.segment_labels_ = pd.factorize(labels)
        n_segments = len(self.segment_labels_)
        assigned = codes >= 0
        member = sp.csr_matrix(
            (np.ones(assigned.sum()), (codes[assigned], np.flatnonzero(assigned))),
            shape=(n_segments, interactions.n_customers),
        )
        counts = np.asarray((member @ interactions.bought).todense())
        self.scores_ = np.vstack([*map(_share, counts), _share(interactions.popularity)])
        self.row_segment_ = np.where(assigned, codes, n_segments)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.scores_[self.row_segment_[rows]]


class RecentPopularityRecommender(Recommender):
    """The products in the most orders of the last ``window_days`` before the data ends (trends, seasons)."""

    reason = "popular recently"

    def __init__(self, window_days: float = 30.0):
        self.window_days = window_days

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        recent = interactions.step_time >= interactions.end - pd.Timedelta(days=self.window_days)
        self.scores_ = _share(np.asarray(interactions.steps[recent].sum(axis=0)).ravel())

    def score(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(rows), len(self.scores_)))


class BuyAgainRecommender(Recommender):
    """The customer's own products, by orders that contained them, each order weighted by recency
    (``0.5 ** (age / half_life_days)``); the remaining slots get the popular products.

    A bought product scores 1 + its weighted count, any other product its popularity share (at most 1), so
    the customer's own products always come first.
    """

    reason = "popular overall"

    def __init__(self, half_life_days: float = 90.0):
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        decay = np.power(0.5, interactions.step_age_days / self.half_life_days)
        owner = interactions.step_owner
        weighted = sp.csr_matrix((decay, (owner, np.arange(len(owner)))), shape=(interactions.n_customers, len(owner)))
        self.repeat_ = (weighted @ interactions.steps).tocsr()
        self.fill_ = _share(interactions.popularity)

    def score(self, rows: np.ndarray) -> np.ndarray:
        repeat = self.repeat_[rows].toarray()
        return np.where(repeat > 0, 1.0 + repeat, self.fill_).astype(np.float32)


class ItemKNNRecommender(Recommender):
    """Item-based nearest neighbours: cosine similarity of products over customers' weights, each product
    keeping its ``neighbours`` most similar; a customer's score is their weights times the similarities.

    A product is its own nearest neighbour (similarity 1), so the customer's own products count too, as in
    ``implicit``'s item-item models.
    """

    reason = "similar to products you bought"

    def __init__(self, neighbours: int = 100, weighting: str = "count"):
        self.neighbours = neighbours
        self.weighting = weighting

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        self.weights_ = interactions.weights(self.weighting)
        norms = np.sqrt(np.asarray(self.weights_.multiply(self.weights_).sum(axis=0)).ravel())
        unit = self.weights_ @ sp.diags(1.0 / np.maximum(norms, 1e-12))
        self.similarity_ = _keep_top(sp.csr_matrix(unit.T @ unit), self.neighbours)

    def score(self, rows: np.ndarray) -> np.ndarray:
        return (self.weights_[rows] @ self.similarity_).toarray().astype(np.float32)

    def _item_similarity(self, col: int) -> np.ndarray:
        return self.similarity_[col].toarray().ravel()


def _keep_top(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row."""
    matrix = matrix.tocsr()
    keep = np.ones(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end - start > k:
            drop = np.argpartition(matrix.data[start:end], end - start - k)[: end - start - k]
            keep[start + drop] = False
    matrix.data = np.where(keep, matrix.data, 0.0)
    matrix.eliminate_zeros()
    return matrix


def segment_labels(segments: pd.Series | pd.DataFrame) -> pd.Series:
    """customer_id -> segment from a Series or an assignments frame."""
    labels = segments["segment"] if isinstance(segments, pd.DataFrame) else segments
    return labels.set_axis(labels.index.astype(str))
