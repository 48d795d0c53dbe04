"""The interface every segmenter implements (scikit-learn style)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

NOISE = -1
"""Segment id of customers a method leaves unassigned (HDBSCAN noise): kept, never dropped."""


class Segmenter(ClusterMixin, BaseEstimator):
    """Base class: ``fit(X)`` learns ``labels_`` and ``n_clusters_``; ``predict(X)`` assigns new rows.

    Subclasses that give soft membership also implement ``predict_proba``. ``X`` is the preprocessed matrix
    (see :class:`~segmentation.clustering.preprocess.FeaturePreprocessor`).
    """

    def fit_predict(self, X: np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(X).labels_

    @property
    def soft(self) -> bool:
        return hasattr(self, "predict_proba")
