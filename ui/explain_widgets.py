"""The Explain page's cached library calls (keyed by the segmentation's settings, which include the data set's
digest) and the training of both surrogates with a status and a Cancel button."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.explain import MODELS, Explanation, rank_features, segment_drivers
from segmentation.explain.customer import explain_customer
from segmentation.explain.names import MODEL_LABELS
from ui import components, state

if TYPE_CHECKING:
    from segmentation.explain import SegmentSurrogate

SAMPLE_SIZE = 2_000
"""The surrogates' SHAP values are computed on a stratified sample of this many customers."""


def inputs(current: state.Segmentation) -> pd.DataFrame:
    """The customer features as the surrogates see them (never a sensitive attribute: docs/privacy.md)."""
    return components.analysis(current.dataset, current.config).surrogate_inputs(current.features)


def labels_of(current: state.Segmentation) -> np.ndarray:
    """The segment of every customer, in the order of the customer table."""
    s = current
    return components.fit_segmentation(s.dataset, s.config, s.features, s.chosen, s.method, s.params).labels_


def surrogate(current: state.Segmentation, kind: str) -> SegmentSurrogate:
    """The surrogate classifier of the segmentation's labels, with its cross-validated fidelity."""
    return components.analysis(current.dataset, current.config).surrogate(kind, current.clustering, current.features)


def explanation(current: state.Segmentation, kind: str) -> Explanation:
    """SHAP values of the surrogate on a stratified sample of the customers."""
    workflow = components.analysis(current.dataset, current.config)
    return workflow.explanation(kind, current.clustering, current.features, sample_size=SAMPLE_SIZE)


@st.cache_data(show_spinner=False, max_entries=16)
def drivers(current: state.Segmentation, kind: str) -> pd.DataFrame:
    """The top drivers of every segment, as the surrogate ``kind`` sees them."""
    return segment_drivers(explanation(current, kind))


def surrogate_results(current: state.Segmentation) -> dict[str, tuple[dict[str, Any], Explanation, pd.DataFrame]]:
    """Per surrogate: its fidelity, its explanation and the drivers of every segment (all cached)."""
    return {
        kind: (surrogate(current, kind).fidelity_, explanation(current, kind), drivers(current, kind))
        for kind in MODELS
    }


@st.cache_data(show_spinner="Explaining this customer…", max_entries=64)
def customer_explanation(
    current: state.Segmentation, kind: str, customer_id: str
) -> tuple[pd.DataFrame, float, dict[int, float]]:
    """Feature pushes of one customer towards their own segment, the base value, and the surrogate's probabilities."""
    return explain_customer(
        surrogate(current, kind), explanation(current, kind), inputs(current), labels_of(current), customer_id
    )


@st.cache_data(show_spinner="Ranking the features (LightGBM gain and recursive elimination)…", max_entries=16)
def ranking(current: state.Segmentation) -> pd.DataFrame:
    """LightGBM gain and recursive-elimination rank of every numeric feature the surrogates see."""
    return rank_features(inputs(current).select_dtypes("number"), labels_of(current))


def train_both(current: state.Segmentation) -> bool:
    """Train both surrogates once per segmentation, with a step-by-step status and a Cancel button; later runs hit
    the cache. False when the analyst cancelled the training (the page then offers to start it again)."""
    trained_id = f"explain_{current.fit_id}"
    run_id = f"{trained_id}_run"
    if state.requested(trained_id):
        return True
    if state.cancelled(run_id) and not state.asked(
        run_id,
        "Explain the segments",
        icon=":material/play_arrow:",
        help="Trains the LightGBM and CatBoost surrogates and computes their SHAP values.",
        key="explain_again",
    ):
        return False
    eta = components.expected(current.dataset, current.config, *(f"explanation:{kind}" for kind in MODELS))
    with (
        state.cancellable(run_id, "explain_cancel"),
        st.status(f"Training the surrogate models{f' ({eta})' if eta else ''}…", expanded=True) as status,
    ):
        for i, kind in enumerate(MODELS, 1):
            status.write(
                f"{MODEL_LABELS[kind]} ({i} of {len(MODELS)}): 3-fold cross-validation, final fit, SHAP values on "
                f"up to {SAMPLE_SIZE:,} customers…"
            )
            drivers(current, kind)
        status.update(label="Trained both surrogate models", state="complete", expanded=False)
    state.request(trained_id)
    return True
