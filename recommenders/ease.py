"""EASE (Steck 2019, "Embarrassingly shallow autoencoders for sparse data"): a linear item-to-item model with a
closed-form solution, a strong baseline for ranking products new to a customer.

The weights ``B`` minimise ``||X - X B||^2 + l2 ||B||^2`` with a zero diagonal (a product may not predict
itself), over the binary customers x products matrix ``X``. With ``P = (X^T X + l2 I)^-1`` the solution is
``B = I - P diag(1 / diag(P))`` with the diagonal set to zero; a customer's scores are their (weighted) purchases
times ``B``. No library on the registries used here ships it (``implicit`` has ALS, BPR and item-kNN only), and
it is a few lines of numpy.

The inverse is dense in the catalogue size, so it is taken over the ``max_items`` products bought by the most
customers (5,000: a 200 MB matrix, seconds on 2 cores); the rest of the catalogue scores 0.

With ``recent_days`` set, lists of products *new* to a customer (:meth:`EASERecommender.score_new`) come from
second weights fitted to the latest transitions, as the transition part of SLIST (Choi et al. 2021,
"Session-aware linear item-item models") does: what the customers active in the last ``recent_days`` had bought
before them (binary ``X``) regressed on the products new to them they bought in them (``Y``), shrunk toward
EASE's weights ``B`` instead of toward zero (a few hundred customers cannot fit a catalogue's weights alone):
``T = argmin ||Y - X T||^2 + l2 ||T - B||^2 = (X^T X + l2 I)^-1 (X^T Y + l2 B)``. EASE learns which products go
together; ``T`` learns which of them customers have been moving on to lately (new lines, the season).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from recommenders.base import Recommender
from recommenders.data import Interactions
from segmentation.errors import ConfigError
from segmentation.progress import Progress

log = logging.getLogger(__name__)


class EASERecommender(Recommender):
    """Closed-form item-to-item weights (EASE) over who bought what; ``l2`` regularises them (larger: closer to
    popularity), ``weighting`` weighs a customer's own purchases when scoring (see ``Interactions.weights``);
    ``recent_days`` (None: off) refits the weights for lists of new products on the transitions of the last
    ``recent_days`` (see the module)."""

    reason = "goes with what you bought"

    def __init__(
        self, l2: float = 300.0, weighting: str = "count", max_items: int = 5_000, recent_days: float | None = None
    ):
        self.l2 = l2
        self.weighting = weighting
        self.max_items = max_items
        self.recent_days = recent_days

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        if self.l2 <= 0 or self.max_items < 1 or (self.recent_days is not None and self.recent_days <= 0):
            raise ConfigError(
                f"EASE needs l2 > 0, max_items >= 1 and recent_days > 0 or None, not l2={self.l2}, "
                f"max_items={self.max_items}, recent_days={self.recent_days}"
            )
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
        self.new_weights_ = None if self.recent_days is None else self._transition_weights(interactions, progress)

    def _transition_weights(self, interactions: Interactions, progress: Progress) -> np.ndarray | None:
        """``T`` of the module docstring over the kept products; None when nobody bought anything new to them in
        the last ``recent_days`` (lists of new products then come from EASE's own weights)."""
        start = interactions.end - pd.Timedelta(days=self.recent_days)
        before = interactions.bought_in(end=start)[:, self.kept_]
        new = interactions.bought_in(start=start)[:, self.kept_]
        new = (new - new.multiply(before)).tocsr()
        new.eliminate_zeros()
        active = np.flatnonzero((np.diff(before.indptr) > 0) & (np.diff(new.indptr) > 0))
        if not len(active):
            log.info(
                "EASE: nobody bought a product new to them in the last %s days; no transition weights", self.recent_days
            )
            return None
        progress(0.7, f"fitting the transitions of {len(active):,} customers of the last {self.recent_days:g} days")
        before, new = before[active], new[active]
        gram = (before.T @ before).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        target = (before.T @ new).toarray() + self.l2 * self.weights_
        return np.linalg.solve(gram, target).astype(np.float32)

    def score(self, rows: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(rows), self.interactions.n_items), np.float32)
        scores[:, self.kept_] = self.history_[rows] @ self.weights_
        return scores

    def score_new(self, rows: np.ndarray) -> np.ndarray:
        if self.new_weights_ is None:
            return self.score(rows)
        scores = np.zeros((len(rows), self.interactions.n_items), np.float32)
        scores[:, self.kept_] = self.interactions.bought[rows][:, self.kept_] @ self.new_weights_
        return scores

    def _item_similarity(self, col: int) -> np.ndarray:
        similarity = np.zeros(self.interactions.n_items, np.float32)
        where = np.searchsorted(self.kept_, col)
        if where < len(self.kept_) and self.kept_[where] == col:
            similarity[self.kept_] = self.weights_[where]
        return similarity
