"""Gaussian mixture with soft membership; k and covariance type chosen by BIC when not given."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.mixture import GaussianMixture

from segmentation.clustering.base import Segmenter


class GmmSegmenter(Segmenter):
    """Gaussian mixture model; ``n_clusters=None`` searches ``k_range`` x ``covariance_types`` by BIC.

    ``bic_`` holds the searched table; ``predict_proba`` gives each customer's membership probabilities.
    """

    def __init__(
        self,
        n_clusters: int | None = 5,
        covariance_type: str | None = "diag",
        k_range: tuple[int, int] = (2, 8),
        covariance_types: tuple[str, ...] = ("full", "diag"),
        random_state: int = 0,
        n_init: int = 3,
    ):
        self.n_clusters = n_clusters
        self.covariance_type = covariance_type
        self.k_range = k_range
        self.covariance_types = covariance_types
        self.random_state = random_state
        self.n_init = n_init

    def fit(self, X: np.ndarray, y: object = None) -> GmmSegmenter:
        X = self._fit_input(X)
        ks = [self.n_clusters] if self.n_clusters else range(self.k_range[0], min(self.k_range[1], len(X)) + 1)
        kinds = [self.covariance_type] if self.covariance_type else self.covariance_types
        rows, best = [], None
        for kind in kinds:
            for k in ks:
                # the search uses one initialisation per candidate; the winner is refitted with n_init
                model = self._mixture(k, kind, 1 if len(ks) * len(kinds) > 1 else self.n_init).fit(X)
                bic = model.bic(X)
                rows.append({"k": k, "covariance_type": kind, "bic": bic})
                if best is None or bic < best[0]:
                    best = (bic, model)
        if len(rows) > 1 and self.n_init > 1:
            best = (best[0], self._mixture(best[1].n_components, best[1].covariance_type, self.n_init).fit(X))
        self.bic_ = pd.DataFrame(rows)
        self.model_ = best[1]
        self.n_clusters_ = self.model_.n_components
        self.covariance_type_ = self.model_.covariance_type
        self.labels_ = self.model_.predict(X)
        return self

    def _mixture(self, k: int, kind: str, n_init: int) -> GaussianMixture:
        return GaussianMixture(k, covariance_type=kind, n_init=n_init, random_state=self.random_state, reg_covar=1e-4)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        return self.model_.predict(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        return self.model_.predict_proba(X)
