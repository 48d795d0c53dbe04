"""Matrix factorisation with ``implicit`` on the CPU: ALS (weighted least squares on confidences) and BPR
(pairwise ranking). A customer's score for a product is the dot product of their factors.

``implicit`` parallelises itself, and an OpenBLAS thread pool inside each of its threads makes ALS many times
slower: the fits run with BLAS limited to one thread (``threadpoolctl``), whatever ``OPENBLAS_NUM_THREADS`` says. Hyperparameters are searched with
:func:`recommenders.tuning.tune`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from threadpoolctl import threadpool_limits

from recommenders.base import Recommender
from recommenders.data import Interactions
from segmentation.progress import Progress


class _FactorModel(Recommender):
    """Scores and item similarity shared by the factor models: ``user_factors_``, ``item_factors_``."""

    reason = "customers like you bought it"

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def _item_similarity(self, col: int) -> np.ndarray:
        unit = self.item_factors_ / np.maximum(np.linalg.norm(self.item_factors_, axis=1, keepdims=True), 1e-12)
        return unit @ unit[col]


class ALSRecommender(_FactorModel):
    """Implicit ALS (Hu, Koren, Volinsky 2008) on ``interactions.weights(weighting, alpha)``.

    ``alpha`` scales the confidence of a purchase; ``num_threads=1`` keeps the fit cheap on a small machine
    (ALS is deterministic for a seed at any thread count).
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        iterations: int = 15,
        alpha: float = 10.0,
        weighting: str = "count",
        random_state: int = 0,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.weighting = weighting
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            model.fit(
                interactions.weights(self.weighting, self.alpha),
                show_progress=False,
                callback=_reporting(progress, self.iterations),
            )
        self.user_factors_, self.item_factors_ = model.user_factors, model.item_factors


class BPRRecommender(_FactorModel):
    """Bayesian Personalised Ranking (Rendle et al. 2009): SGD on (bought, not bought) product pairs.

    Only whether a customer bought a product matters. With ``num_threads=1`` (the default) a seed gives the
    same factors every time; more threads update the factors in parallel without locks, so not exactly.
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        random_state: int = 0,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        with threadpool_limits(1, "blas"):
            model = BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.num_threads,
            )
            model.fit(interactions.bought, show_progress=False, callback=_reporting(progress, self.iterations))
        self.user_factors_, self.item_factors_ = model.user_factors, model.item_factors


def _reporting(progress: Progress, iterations: int) -> Callable[..., None]:
    """An ``implicit`` fit callback (called with the 0-based iteration first) that reports to ``progress``."""

    def callback(iteration: int, *_: object) -> None:
        progress((iteration + 1) / iterations, f"iteration {iteration + 1} of {iterations}")

    return callback
