"""The Segments page's computations, cached by Streamlit and keyed by the data set's digest and every setting
that changes the result; each is one library call. Settings equal to a segmenter's defaults are left out of the
keys, so the same segmentation is fitted once whichever part of the page asks for it."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.clustering import (
    METHODS,
    FeaturePreprocessor,
    KSelection,
    choose_k,
    cluster_metrics,
    compare_methods,
)
from segmentation.clustering.confidence import refit_stability
from segmentation.clustering.plotting import map_coordinates
from segmentation.clustering.profiles import segment_top_lists
from segmentation.config import Config, FeatureConfig
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


@st.cache_data(show_spinner="Scaling the features…", max_entries=16)
def prepared(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]
) -> tuple[np.ndarray, list[str]]:
    """The scaled customer x feature matrix every method and chart shares, and the chosen features it kept."""
    pre = FeaturePreprocessor(chosen)
    X = pre.fit_transform(components.customer_table(dataset, config, features))
    return X, list(pre.feature_names_out_)


def matrix(dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]) -> np.ndarray:
    return prepared(dataset, config, features, chosen)[0]


@st.cache_data(
    show_spinner="Scoring 2 to 10 segments (inertia, silhouette, Calinski-Harabasz, Davies-Bouldin, BIC)…",
    max_entries=16,
)
def k_selection(dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]) -> KSelection:
    X = matrix(dataset, config, features, chosen)
    return choose_k(X, range(2, min(MAX_K, len(X) - 1) + 1))


fit = components.fit_segmentation  # cached in a module: the Explain, Export and History pages reuse the fit


@st.cache_data(show_spinner=False, max_entries=32)
def quality(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> dict[str, float]:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin of a fitted segmentation (noise left out)."""
    X = matrix(dataset, config, features, chosen)
    return cluster_metrics(X, fit(dataset, config, features, chosen, method, params).labels_)


@st.cache_data(show_spinner="Projecting customers onto two dimensions…", max_entries=16)
def projection(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...]
) -> tuple[np.ndarray, tuple[float, float]]:
    """Map coordinates of every customer and the share of the total variance each axis shows."""
    return map_coordinates(matrix(dataset, config, features, chosen))


@st.cache_data(show_spinner="Finding each segment's top products and countries…", max_entries=32)
def top_lists(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> dict[str, dict[int, list[str]]]:
    """Per segment, the products and the countries with most revenue (transactions before the as-of date)."""
    labels = fit(dataset, config, features, chosen, method, params).labels_
    customers = components.customer_table(dataset, config, features).index
    transactions = components.load(dataset, config).transactions
    return segment_top_lists(transactions, pd.Series(labels, index=customers), features.as_of, TOP)


@st.cache_data(show_spinner=f"Refitting on {STABILITY_ROUNDS} pairs of resamples…", max_entries=32)
def stability(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between refits on 80 % resamples, search results fixed."""
    model = fit(dataset, config, features, chosen, method, params)
    return refit_stability(model, matrix(dataset, config, features, chosen), STABILITY_ROUNDS)


@st.cache_data(show_spinner="Comparing the five methods…", max_entries=16)
def comparison(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quality metrics per method and the adjusted Rand index between methods."""
    labels = {m: fit(dataset, config, features, chosen, m, default_params(m, k)).labels_ for m in METHODS}
    metrics, ari, _ = compare_methods(matrix(dataset, config, features, chosen), labels)
    return metrics, ari
