"""The Segments page's widgets: the features and method to segment with, and the method's parameters."""

from __future__ import annotations

from typing import Any

import streamlit as st

from segmentation.clustering import DEFAULT_FEATURES, METHODS, KSelection
from segmentation.clustering.names import METHOD_LABELS, METHOD_NOTES
from segmentation.features import FEATURES, NUMERIC, feature_label
from ui import state
from ui.segment_cache import Params, settings

LINKAGES = {"ward": "Ward", "average": "Average", "complete": "Complete", "single": "Single"}


def feature_and_method_controls() -> tuple[tuple[str, ...], str]:
    descriptions = {f.name: f.description for f in FEATURES}
    help_text = "What each feature measures:\n\n" + "\n".join(
        f"- **{feature_label(name)}**: {descriptions[name]}" for name in NUMERIC
    )
    chosen = st.multiselect(
        "Features to segment on",
        list(NUMERIC),
        [f for f in state.kept("seg_features", list(DEFAULT_FEATURES)) if f in NUMERIC],
        format_func=feature_label,
        placeholder="Choose features",
        help=help_text,
        **state.keeping("seg_features"),
    )
    st.caption(
        "Recency, orders, net revenue, average order value and tenure work well together; "
        "every extra feature dilutes them."
    )
    method = st.segmented_control(
        "Method",
        list(METHODS),
        default=state.kept("seg_method", "kmeans"),
        format_func=METHOD_LABELS.get,
        required=True,
        **state.keeping("seg_method"),
    )
    st.caption(METHOD_NOTES[method])
    return tuple(chosen), method


def parameter_controls(method: str, selection: KSelection) -> Params:
    """The method's parameters, each with a one-line explanation; k defaults to the recommended number and every
    other setting to the segmenter's own default."""
    default = METHODS[method]().get_params()
    cells = iter(st.columns(3))
    params: dict[str, Any] = {}
    if "n_clusters" in default:
        ks = selection.table["k"]
        with next(cells):
            auto = method == "gmm" and st.checkbox(
                "Let BIC choose the number of segments",
                state.kept("seg_gmm_auto", False),
                **state.keeping("seg_gmm_auto"),
            )
            k = st.slider(
                "Number of segments (k)",
                int(ks.min()),
                int(ks.max()),
                min(int(ks.max()), state.kept("seg_k", selection.recommended)),
                disabled=auto,
                **state.keeping("seg_k"),
            )
            if auto:
                st.caption("The mixture tries 2 to 8 segments and two shapes, and keeps the best BIC.")
            else:
                st.caption(
                    f"How many groups to split customers into; the charts below recommend {selection.recommended}."
                )
        params["n_clusters"] = None if auto else k
        if auto:
            params["covariance_type"] = None  # BIC chooses the shape too
    if method == "hierarchical":
        with next(cells):
            params["linkage"] = st.selectbox(
                "Linkage",
                list(LINKAGES),
                index=list(LINKAGES).index(state.kept("seg_linkage", default["linkage"])),
                format_func=LINKAGES.get,
                **state.keeping("seg_linkage"),
            )
            st.caption("How distance between groups is measured: Ward keeps groups compact and even in size.")
    if method == "hdbscan":
        with next(cells):
            params["n_trials"] = st.slider(
                "Settings to try", 5, 50, state.kept("seg_trials", default["n_trials"]), **state.keeping("seg_trials")
            )
            st.caption("More tries search the group-size settings more thoroughly, and take longer.")
        with next(cells):
            coverage = st.slider(
                "Customers to place in a segment (at least)",
                0.3,
                0.95,
                state.kept("seg_coverage", default["min_coverage"]),
                step=0.05,
                format="percent",
                **state.keeping("seg_coverage"),
            )
            params["min_coverage"] = round(coverage, 2)
            st.caption("Settings that leave more customers unassigned than this allows are rejected.")
        with next(cells):
            params["assign_noise"] = st.checkbox(
                "Place unassigned customers in the nearest segment",
                state.kept("seg_assign_noise", default["assign_noise"]),
                **state.keeping("seg_assign_noise"),
            )
            st.caption("Each customer HDBSCAN leaves out joins the segment of the most similar customer it placed.")
    if method == "autoencoder":
        with next(cells):
            params["latent_dim"] = st.slider(
                "Compressed size", 2, 8, state.kept("seg_latent", default["latent_dim"]), **state.keeping("seg_latent")
            )
            st.caption("How many numbers the network keeps per customer before grouping them.")
        with next(cells):
            params["epochs"] = st.slider(
                "Training passes",
                10,
                200,
                state.kept("seg_epochs", default["epochs"]),
                step=10,
                **state.keeping("seg_epochs"),
            )
            st.caption("More passes compress better, and take longer.")
    return settings(method, params)


def use_recommended(k: int) -> None:
    st.session_state["seg_k"] = k
    state.keep("seg_k")
