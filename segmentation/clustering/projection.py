"""2-D projection of the preprocessed matrix for the scatter plot."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


def project_2d(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """First two principal components (UMAP is not installed; PCA keeps distances interpretable)."""
    return PCA(n_components=2, random_state=random_state).fit_transform(X)
