"""EASE (Steck 2019, "Embarrassingly shallow autoencoders for sparse data"): a linear item-to-item model with a
closed-form solution, a strong baseline for ranking products new to a customer.

The weights ``B`` minimise ``||X - X B||^2 + l2 ||B||^2`` with a zero diagonal (a product may not predict
itself), over the binary customers x products matrix ``X``. With ``P = (X^T X + l2 I)^-1`` the solution is
``B = I - P diag(1 / diag(P))`` with the diagonal set to zero; a customer's scores are their (weighted) purchases
times ``B``. No library on the registries used here ships it (``implicit`` has ALS, BPR and item-kNN only), and
it is a few lines of numpy.

The inverse is dense in the catalogue size, so it is taken over the ``max_items`` products bought by the most
customers (5,000: a 200 MB matrix, seconds on 2 cores); the rest of the catalogue scores 0.
"""

from __future__ import annotations

import numpy as np

from recommenders.base import Recommender
from recommenders.data import Interactions
from segmentation.errors import ConfigError
from segmentation.progress import Progress


class EASERecommender(Recommender):
    """Closed-form item-to-item weights (EASE) over who bought what; ``l2`` regularises them (larger: closer to
    popularity), ``weighting`` weighs a customer's own purchases when scoring (see ``Interactions.weights``)."""

    reason = "goes with what you bought"

    def __init__(self, l2: float = 300.0, weighting: str = "count", max_items: int = 5_000):
        self.l2 = l2
        self.weighting = weighting
        self.max_items = max_items

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        if self.l2 <= 0 or self.max_items < 1:
            raise ConfigError(f"EASE needs l2 > 0 and max_items >= 1, not l2={self.l2}, max_items={self.max_items}")
        customers = np.asarray((interactions.bought > 0).sum(axis=0)).ravel()
        kept = np.sort(np.argsort(-customers, kind="stable")[: self.max_items])
        bought = (interactions.bought[:, kept] > 0).astype(np.float64)
        gram = (bought.T @ bought).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        progress(0.3, f"inverting the {len(kept):,} x {len(kept):,} product matrix")
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.kept_ = kept
        self.weights_ = weights.astype(np.float32)
        self.history_ = interactions.weights(self.weighting)[:, kept].tocsr().astype(np.float32)

    def score(self, rows: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(rows), self.interactions.n_items), np.float32)
        scores[:, self.kept_] = self.history_[rows] @ self.weights_
        return scores

    def _item_similarity(self, col: int) -> np.ndarray:
        similarity = np.zeros(self.interactions.n_items, np.float32)
        where = np.searchsorted(self.kept_, col)
        if where < len(self.kept_) and self.kept_[where] == col:
            similarity[self.kept_] = self.weights_[where]
        return similarity
