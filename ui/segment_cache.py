"""The Segments page's computations: each one step of the file's workflow (:class:`segmentation.workflow.Analysis`),
which computes it once and keeps it, with a spinner while it runs. Settings equal to a segmenter's defaults are left
out, so the same segmentation is fitted once whichever part of the page asks for it."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.clustering import (
    METHODS,
    KSelection,
)
from segmentation.config import ClusteringConfig, Config, FeatureConfig
from ui import components
from ui.components import Dataset

Params = tuple[tuple[str, Any], ...]  # a method's parameters as sorted (name, value) pairs: hashable

MAX_K = 10
STABILITY_ROUNDS = 5
TOP = 3
"""Top products and countries listed per segment."""


def settings(method: str, params: dict[str, Any]) -> Params:
    """``params`` without the values equal to the segmenter's defaults (k always kept), sorted: the same
    segmentation then has one key, so the comparison reuses the fit shown above."""
    default = METHODS[method]().get_params()
    return tuple(sorted((name, v) for name, v in params.items() if name == "n_clusters" or v != default[name]))


def default_params(method: str, k: int) -> Params:
    """The parameters the comparison uses: the given k (HDBSCAN finds its own) and every other default."""
    return settings(method, {"n_clusters": k} if "n_clusters" in METHODS[method]().get_params() else {})


def key_of(*parts: object) -> str:
    """A short stable id of settings, for widget keys and the session's small records."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def clustering(method: str, params: Params, chosen: tuple[str, ...]) -> ClusteringConfig:
    return ClusteringConfig(method, dict(params), chosen)


def prepared(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]
) -> tuple[np.ndarray, list[str]]:
    """The scaled customer x feature matrix every method and chart shares, and the chosen features it kept."""
    with st.spinner("Scaling the features…"):
        return components.analysis(dataset, config).matrix(chosen, features)


def k_selection(dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]) -> KSelection:
    with st.spinner("Scoring 2 to 10 segments (inertia, silhouette, Calinski-Harabasz, Davies-Bouldin, BIC)…"):
        return components.analysis(dataset, config).k_selection(chosen, features, MAX_K)


fit = components.fit_segmentation  # the workflow's fit: the Explain, Export and History pages reuse it


def quality(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> dict[str, float]:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin of a fitted segmentation (noise left out)."""
    return components.analysis(dataset, config).quality(clustering(method, params, chosen), features)


def projection(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]
) -> tuple[np.ndarray, tuple[float, float]]:
    """Map coordinates of every customer and the share of the total variance each axis shows."""
    with st.spinner("Projecting customers onto two dimensions…"):
        return components.analysis(dataset, config).projection(chosen, features)


def top_lists(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> dict[str, dict[int, list[str]]]:
    """Per segment, the products and the countries with most revenue (transactions before the as-of date)."""
    with st.spinner("Finding each segment's top products and countries…"):
        return components.analysis(dataset, config).top_lists(clustering(method, params, chosen), features, TOP)


def stability(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between refits on 80 % resamples, search results fixed."""
    eta = components.expected(dataset, config, f"stability:{method}")
    with st.spinner(f"Refitting on {STABILITY_ROUNDS} pairs of resamples{f' ({eta})' if eta else ''}…"):
        workflow = components.analysis(dataset, config)
        return workflow.stability(clustering(method, params, chosen), features, STABILITY_ROUNDS)


def comparison(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quality metrics per method and the adjusted Rand index between methods."""
    methods = {m: clustering(m, default_params(m, k), chosen) for m in METHODS}
    with st.spinner("Comparing the five methods…"):
        return components.analysis(dataset, config).comparison(methods, features)
