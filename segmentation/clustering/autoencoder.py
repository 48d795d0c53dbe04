"""Autoencoder embeddings (torch) clustered by K-Means or a Gaussian mixture.

A small MLP autoencoder learns a low-dimensional code of the scaled features; segments are found in that
code space. It trains on CUDA when present, CPU otherwise, and is deterministic for a seed on the CPU.
The fitted encoder embeds new customers (:meth:`transform`). torch is imported when a model is fitted or used,
so the other methods (and every page that only imports the registry) never pay its ~3 s import.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin

from segmentation.clustering.base import Segmenter
from segmentation.clustering.gmm import GmmSegmenter
from segmentation.clustering.kmeans import KMeansSegmenter


class AutoencoderSegmenter(TransformerMixin, Segmenter):
    """Segments found in a learned low-dimensional code; ``transform`` gives the code (a scikit-learn transformer)."""

    def __init__(
        self,
        n_clusters: int = 5,
        latent_dim: int = 3,
        hidden: int = 32,
        epochs: int = 40,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        clusterer: str = "kmeans",
        random_state: int = 0,
        device: str | None = None,
    ):
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clusterer = clusterer
        self.random_state = random_state
        self.device = device

    def fit(self, X: np.ndarray, y: object = None) -> AutoencoderSegmenter:
        import torch
        from torch import nn

        X = self._fit_input(X)
        torch.manual_seed(self.random_state)
        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        n_features = X.shape[1]
        self.encoder_ = nn.Sequential(
            nn.Linear(n_features, self.hidden), nn.GELU(), nn.Linear(self.hidden, self.latent_dim)
        ).to(device)
        decoder = nn.Sequential(
            nn.Linear(self.latent_dim, self.hidden), nn.GELU(), nn.Linear(self.hidden, n_features)
        ).to(device)
        params = [*self.encoder_.parameters(), *decoder.parameters()]
        optimiser = torch.optim.Adam(params, lr=self.learning_rate)
        data = torch.tensor(X, dtype=torch.float32, device=device)
        generator = torch.Generator().manual_seed(self.random_state)
        self.loss_curve_ = []
        for _ in range(self.epochs):
            order = torch.randperm(len(data), generator=generator).to(device)
            total = 0.0
            for start in range(0, len(data), self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                loss = nn.functional.mse_loss(decoder(self.encoder_(batch)), batch)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(batch)
            self.loss_curve_.append(total / len(data))
        self.encoder_ = self.encoder_.cpu().eval()
        self.device_ = str(device)
        self.embedding_ = self._embed(X)
        inner = (GmmSegmenter if self.clusterer == "gmm" else KMeansSegmenter)(
            n_clusters=self.n_clusters, random_state=self.random_state
        )
        self.cluster_model_ = inner.fit(self.embedding_)
        self.labels_ = self.cluster_model_.labels_
        self.n_clusters_ = self.cluster_model_.n_clusters_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The latent code of each row."""
        return self._embed(self._predict_input(X))

    def _embed(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.encoder_(torch.from_numpy(X.astype(np.float32))).numpy().astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        embedding = self.transform(X)
        return self.cluster_model_.predict(embedding)
