"""How sure a segmentation is: stability measured by refits on resamples, and scores put in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from segmentation.clustering.model import SegmentationModel

SEPARATION_WORDS: tuple[tuple[float, str], ...] = ((0.5, "clear"), (0.25, "fair"), (-np.inf, "weak"))
"""Silhouette from which segments are clearly apart, fairly apart, or blur into each other."""
STABILITY_WORDS: tuple[tuple[float, str], ...] = (
    (0.9, "very stable"),
    (0.75, "stable"),
    (0.5, "shaky"),
    (-np.inf, "unstable"),
)
"""Adjusted Rand index between refits from which a segmentation reads as very stable, stable, shaky, unstable."""


def in_words(score: float, scale: tuple[tuple[float, str], ...]) -> str:
    """The word of the first threshold of ``scale`` that ``score`` reaches (``"n/a"`` for NaN)."""
    if not np.isfinite(score):
        return "n/a"
    return next(word for threshold, word in scale if score >= threshold)


def fixed_settings(model: SegmentationModel) -> dict[str, Any]:
    """The fitted model's parameters with what its search chose fixed (HDBSCAN's sizes, the mixture's k and
    shape), so refitting them measures the segmentation, not the search."""
    segmenter = model.segmenter_
    if model.method == "hdbscan":
        return {
            "min_cluster_size": segmenter.min_cluster_size_,
            "min_samples": segmenter.min_samples_,
            "assign_noise": segmenter.assign_noise,
        }
    if model.method == "gmm":
        return {"n_clusters": segmenter.n_clusters_, "covariance_type": segmenter.covariance_type_}
    return dict(model.params)


def refit_stability(model: SegmentationModel, X: np.ndarray, n_rounds: int = 5) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between refits of ``model``'s segmenter (settings fixed by
    :func:`fixed_settings`) on ``n_rounds`` pairs of 80 % resamples of its matrix ``X``."""
    from segmentation.clustering.model import make_segmenter
    from segmentation.clustering.selection import bootstrap_stability

    settings = fixed_settings(model)
    return bootstrap_stability(
        lambda: make_segmenter(model.method, random_state=model.random_state, **settings), X, n_rounds
    )
