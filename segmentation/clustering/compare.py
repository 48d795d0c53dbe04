"""Comparing methods: quality metrics per method and pairwise agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from segmentation.clustering.base import NOISE
from segmentation.clustering.selection import cluster_metrics


def compare_methods(X: np.ndarray, labels: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(metrics per method, adjusted Rand between methods, normalised mutual information between methods)."""
    metrics = pd.DataFrame(
        {
            name: {
                "segments": len(np.unique(lab[lab != NOISE])),
                "noise_share": float(np.mean(lab == NOISE)),
                **cluster_metrics(X, lab),
            }
            for name, lab in labels.items()
        }
    ).T
    names = list(labels)
    ari = pd.DataFrame(
        [[adjusted_rand_score(labels[a], labels[b]) for b in names] for a in names], index=names, columns=names
    )
    nmi = pd.DataFrame(
        [[normalized_mutual_info_score(labels[a], labels[b]) for b in names] for a in names], index=names, columns=names
    )
    return metrics, ari, nmi
