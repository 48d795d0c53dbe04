"""Stratified samples of customers: SHAP values and fidelity folds on large data use them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def stratified_sample(labels: pd.Series, size: int, min_per_segment: int = 20, random_state: int = 0) -> pd.Index:
    """Index of ``size`` rows (all when there are fewer), each segment in proportion (largest remainders), but
    at least ``min_per_segment`` of each segment, which can add a few rows for small segments."""
    if len(labels) <= size:
        return labels.index
    rng = np.random.default_rng(random_state)
    counts = labels.value_counts(sort=False)
    quota = size * counts.to_numpy() / len(labels)
    take = np.floor(quota).astype(int)
    take[np.argsort(take - quota, kind="stable")[: size - take.sum()]] += 1
    take = np.minimum(counts.to_numpy(), np.maximum(take, min_per_segment))
    chosen = [
        rng.choice(labels.index[labels.to_numpy() == segment].to_numpy(), n, replace=False)
        for segment, n in zip(counts.index, take, strict=True)
    ]
    return pd.Index(np.concatenate(chosen)).sort_values()
