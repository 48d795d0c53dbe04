"""TIFU-KNN (Hu et al. 2020, "Modeling personalized item frequency information for next-basket
recommendation"): a next-basket baseline that repeatedly matches or beats neural next-basket models.

Each customer is a *personal item-frequency vector*: their order steps, newest last, are cut into groups of
``group_size`` steps counted back from the latest (the oldest group may be shorter); inside a group, a step
``i`` places before the group's newest weighs ``within_decay ** i``, and a group ``j`` places before the
newest group weighs ``group_decay ** j``:

    u = 1/G * sum_j group_decay**j * (1/group_size * sum_i within_decay**i * basket_ij)

over the customer's G groups. A customer's scores mix their own vector with the mean vector of their
``neighbours`` nearest customers (Euclidean distance between the vectors, the customer left out):
``alpha * u + (1 - alpha) * mean(u_neighbours)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommenders.base import Recommender
from recommenders.data import Interactions
from segmentation.errors import ConfigError
from segmentation.progress import Progress


class TIFUKNNRecommender(Recommender):
    """Time-decayed personal item frequencies mixed with those of the nearest customers (TIFU-KNN).

    ``alpha`` = 1 ranks by the customer's own decayed frequencies only (a buy-again list); lower values let
    similar customers' products in, which is where products new to the customer come from.
    """

    reason = "customers like you buy it"

    def __init__(
        self,
        group_size: int = 7,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        neighbours: int = 300,
        alpha: float = 0.7,
    ):
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.neighbours = neighbours
        self.alpha = alpha

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        from sklearn.neighbors import NearestNeighbors

        if self.group_size < 1 or self.neighbours < 1 or not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(
                f"TIFU-KNN needs group_size >= 1, neighbours >= 1 and 0 <= alpha <= 1, not {self.get_params()}"
            )
        self.vectors_ = frequency_vectors(interactions, self.group_size, self.within_decay, self.group_decay)
        progress(0.5, "personal item frequencies")
        k = min(self.neighbours, interactions.n_customers - 1)
        if k < 1:
            self.neighbours_ = np.empty((interactions.n_customers, 0), dtype=np.int64)
            return
        index = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric="euclidean").fit(self.vectors_)
        found = index.kneighbors(self.vectors_, return_distance=False)
        self.neighbours_ = _without_self(found, k)

    def score(self, rows: np.ndarray) -> np.ndarray:
        own = self.vectors_[rows].toarray()
        if not self.neighbours_.shape[1]:
            return own.astype(np.float32)
        k = self.neighbours_.shape[1]
        averaging = sp.csr_matrix(
            (np.full(len(rows) * k, 1.0 / k), self.neighbours_[rows].ravel(), np.arange(0, len(rows) * k + 1, k)),
            shape=(len(rows), self.vectors_.shape[0]),
        )
        near = (averaging @ self.vectors_).toarray()
        return (self.alpha * own + (1.0 - self.alpha) * near).astype(np.float32)


def frequency_vectors(
    interactions: Interactions, group_size: int, within_decay: float, group_decay: float
) -> sp.csr_matrix:
    """(customers, products): each customer's time-decayed, grouped item frequencies (the module's formula)."""
    n_steps = interactions.n_orders
    owner = interactions.step_owner
    back = interactions.step_ptr[owner + 1] - 1 - np.arange(len(owner))  # 0 = the customer's latest step
    groups = (n_steps + group_size - 1) // group_size
    weight = (
        np.power(float(group_decay), back // group_size)
        * np.power(float(within_decay), back % group_size)
        / (group_size * groups[owner])
    )
    per_step = sp.csr_matrix((weight, (owner, np.arange(len(owner)))), shape=(interactions.n_customers, len(owner)))
    return (per_step @ interactions.steps).tocsr()


def _without_self(found: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest of each row of ``found`` (k + 1 nearest, the row itself usually first) other than the row
    itself (ties between identical customers can put it anywhere, or leave it out)."""
    rows = np.arange(len(found))[:, None]
    is_self = found == rows
    # drop the row itself where it was found, else the farthest of the k + 1
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(found, dtype=bool)
    keep[np.arange(len(found)), drop] = False
    return found[keep].reshape(len(found), k)
