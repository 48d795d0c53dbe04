"""Agglomerative (Ward and other linkages) with a dendrogram; large inputs are fitted on a sample.

The linkage needs O(n^2) memory, so above ``max_samples`` rows it is built on a uniform random sample and
every other customer goes to the segment with the nearest centroid; ``sampled_`` says so.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import pairwise_distances_argmin

from segmentation.clustering.base import Segmenter


class HierarchicalSegmenter(Segmenter):
    """Hierarchical clustering cut into ``n_clusters``; ``linkage_matrix_`` draws the dendrogram."""

    def __init__(self, n_clusters: int = 5, linkage: str = "ward", max_samples: int = 8_000, random_state: int = 0):
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> HierarchicalSegmenter:
        X = self._fit_input(X)
        rng = np.random.default_rng(self.random_state)
        self.sampled_ = len(X) > self.max_samples
        sample = np.sort(rng.choice(len(X), self.max_samples, replace=False)) if self.sampled_ else np.arange(len(X))
        self.sample_index_ = sample
        self.linkage_matrix_ = linkage(X[sample], method=self.linkage)
        cut = fcluster(self.linkage_matrix_, t=self.n_clusters, criterion="maxclust") - 1
        self.cluster_centers_ = np.vstack([X[sample][cut == c].mean(axis=0) for c in np.unique(cut)])
        self.n_clusters_ = len(self.cluster_centers_)
        labels = pairwise_distances_argmin(X, self.cluster_centers_)
        labels[sample] = np.searchsorted(np.unique(cut), cut)  # sampled rows keep their tree cluster
        self.labels_ = labels
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        return pairwise_distances_argmin(X, self.cluster_centers_)
