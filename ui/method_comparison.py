"""The Segments page's method comparison: all five methods fitted with one k, their quality and agreement."""

from __future__ import annotations

import streamlit as st

from segmentation.clustering import METHODS
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.plotting import agreement_heatmap
from segmentation.config import Config, FeatureConfig
from ui import components, state
from ui.charts import show
from ui.components import Dataset
from ui.segment_cache import comparison, default_params, fit, key_of


def show_comparison(dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], k: int) -> None:
    st.subheader("Do the methods agree?")
    st.caption(
        f"Fits all five methods with {k} segments (HDBSCAN finds its own number) and default settings, and "
        "compares them. Methods that agree found structure that is really there."
    )
    compare_id = "compare_" + key_of(dataset.digest, config, features, chosen, k)
    eta = components.expected(dataset, config, *(f"segmentation:{method}" for method in METHODS))
    if not state.asked(
        compare_id,
        "Compare all five methods",
        icon=":material/compare_arrows:",
        help=f"Fits five segmentations: {eta or 'a while'} on this file; the autoencoder is the slowest.",
        key="seg_compare",
    ):
        return
    if not state.requested(compare_id + "_done"):
        with (
            state.cancellable(compare_id, "seg_compare_cancel"),
            st.status("Comparing the five methods…", expanded=True) as status,
        ):
            for i, method in enumerate(METHODS, 1):
                each = components.expected(dataset, config, f"segmentation:{method}")
                status.write(f"Fitting {METHOD_LABELS[method]} ({i} of {len(METHODS)}{f', {each}' if each else ''})…")
                fit(dataset, config, features, chosen, method, default_params(method, k))
            status.update(label="Compared the five methods", state="complete", expanded=False)
        state.request(compare_id + "_done")
    metrics, ari = comparison(dataset, config, features, chosen, k)
    shown = metrics.rename(index=METHOD_LABELS).rename_axis("method").reset_index()
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(
            shown,
            hide_index=True,
            height="content",
            column_config={
                "method": "Method",
                "segments": st.column_config.NumberColumn("Segments", format="%d"),
                "noise_share": st.column_config.NumberColumn(
                    "Unassigned", format="percent", help="Share of customers left in no segment (HDBSCAN only)."
                ),
                "silhouette": st.column_config.NumberColumn(
                    "Silhouette", format="%.2f", help="Separation from -1 to 1: higher is better."
                ),
                "calinski_harabasz": st.column_config.NumberColumn(
                    "Calinski-Harabasz", format="%,.0f", help="Between- vs within-segment spread: higher is better."
                ),
                "davies_bouldin": st.column_config.NumberColumn(
                    "Davies-Bouldin", format="%.2f", help="Average similarity to the closest segment: lower is better."
                ),
            },
        )
    with right:
        show(agreement_heatmap(ari, METHOD_LABELS), height=380)
        st.caption("1 = the same segments, 0 = no more alike than chance.")
