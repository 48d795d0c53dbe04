"""K-Means++ (scikit-learn); MiniBatch K-Means above a size where full Lloyd passes get slow."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from segmentation.clustering.base import Segmenter


class KMeansSegmenter(Segmenter):
    """K-Means with k-means++ seeding; ``minibatch_above`` rows switches to :class:`MiniBatchKMeans`."""

    def __init__(self, n_clusters: int = 5, random_state: int = 0, n_init: int = 4, minibatch_above: int = 2_000_000):
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.n_init = n_init
        self.minibatch_above = minibatch_above

    def fit(self, X: np.ndarray, y: object = None) -> KMeansSegmenter:
        X = self._fit_input(X)
        if len(X) > self.minibatch_above:
            self.model_ = MiniBatchKMeans(
                self.n_clusters, init="k-means++", n_init=self.n_init, batch_size=8192, random_state=self.random_state
            )
        else:
            self.model_ = KMeans(self.n_clusters, init="k-means++", n_init=self.n_init, random_state=self.random_state)
        self.labels_ = self.model_.fit_predict(X)
        self.cluster_centers_ = self.model_.cluster_centers_
        self.inertia_ = float(self.model_.inertia_)
        self.n_clusters_ = self.n_clusters
        self.minibatch_ = isinstance(self.model_, MiniBatchKMeans)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        return self.model_.predict(X)
