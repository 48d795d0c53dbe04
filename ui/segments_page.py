"""Segments page: how many kinds of customers there are, what each kind looks like and how sure that is."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from segmentation.clustering import NOISE, KSelection, SegmentationModel
from segmentation.clustering.confidence import SEPARATION_WORDS, STABILITY_WORDS, in_words
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.plotting import (
    CRITERIA,
    MAP_POINTS,
    criterion_chart,
    membership_histogram,
    segment_map,
    segment_shares,
    training_curve,
)
from segmentation.clustering.present import display_names, ordered_segments, segment_colors
from segmentation.config import Config, FeatureConfig
from segmentation.errors import SegmentationError
from segmentation.features import feature_label
from segmentation.privacy.small_groups import shareable_profiles, small_group_warning
from ui import components, feature_settings, method_comparison, state
from ui.charts import show
from ui.components import Dataset
from ui.segment_cache import (
    STABILITY_ROUNDS,
    Params,
    fit,
    k_selection,
    key_of,
    prepared,
    projection,
    quality,
    stability,
    top_lists,
)
from ui.segment_settings import feature_and_method_controls, parameter_controls, use_recommended

MIN_CUSTOMERS = 20
CRITERION_WORDS = {
    "elbow": "elbow of inertia",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "bic": "BIC",
}


def render() -> None:
    loaded = state.loaded_or_prompt()
    if loaded is None:
        return
    dataset, config = loaded
    st.caption(
        f"Let the data find groups of similar customers in **{dataset.name}**: how many kinds there are, "
        "what each kind looks like, and how sure the grouping is."
    )
    try:
        features = feature_settings.current(dataset, config)
        table = components.customer_table(dataset, config, features)
    except SegmentationError as exc:
        components.show_error(exc)
        st.page_link("ui/customers_page.py", label="Check the feature settings", icon=":material/tune:")
        return
    if len(table) < MIN_CUSTOMERS:
        st.info(f"Segmenting needs at least {MIN_CUSTOMERS} customers; {dataset.name} has {len(table)}.")
        return
    as_of = features.as_of or components.snapshot_default(dataset, config)
    st.caption(f"Customer features as of **{as_of}**; the as-of date and RFM settings are set on the Customers page.")

    chosen, method = feature_and_method_controls()
    if not chosen:
        st.warning("Choose at least one feature to segment customers on.", icon=":material/warning:")
        return
    try:
        used = prepared(dataset, config, features, chosen)[1]
        selection = k_selection(dataset, config, features, chosen)
        params = parameter_controls(method, selection)
        model = fit(dataset, config, features, chosen, method, params)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    if len(used) < len(chosen):
        left_out = ", ".join(feature_label(f) for f in chosen if f not in used)
        st.caption(f"Left out as constant or near-duplicates of another chosen feature: {left_out}.")

    show_k_selection(selection, method, model)
    fit_id = key_of(dataset.digest, config, features, chosen, method, params)
    current = state.Segmentation(dataset, config, features, chosen, method, params, fit_id)
    state.remember_segmentation(current)
    state.apply_names(model, fit_id)
    show_segments(current, model, table)
    k = dict(params).get("n_clusters") or min(
        state.kept("seg_k", selection.recommended), int(selection.table["k"].max())
    )
    method_comparison.show_comparison(dataset, config, features, chosen, k)
    show_downloads(dataset, model, table, method, components.currency(dataset, config), config.privacy.min_group_size)


# --- how many segments --------------------------------------------------------------------------------------------


def show_k_selection(selection: KSelection, method: str, model: SegmentationModel) -> None:
    st.subheader("How many segments?")
    table = selection.table
    chosen = model.segmenter_.n_clusters_ if method != "hdbscan" else None
    st.caption(
        f"K-Means scored for k = {table['k'].min()} to {table['k'].max()} on the chosen features; "
        "five criteria vote for a number of segments."
        + (" HDBSCAN finds its own number; these charts are for reference." if method == "hdbscan" else "")
    )
    cells = [c for _ in range(2) for c in st.columns(3)]
    for cell, criterion in zip(cells, CRITERIA, strict=False):
        with cell:
            show(criterion_chart(selection, criterion, chosen), height=260)
    with cells[-1]:
        reason = re.sub(r"^k=\d+: chosen", "Chosen", selection.reason)
        reason = re.sub(r"\b(" + "|".join(CRITERION_WORDS) + r")\b", lambda m: CRITERION_WORDS[m[1]], reason)
        st.markdown(f"**Recommended: {selection.recommended} segments** (dashed green line)")
        st.caption(f"{reason}. The red circle marks the k in use.")
        if method != "hdbscan" and chosen != selection.recommended:
            st.button(
                f"Use {selection.recommended} segments",
                on_click=use_recommended,
                args=(selection.recommended,),
                icon=":material/check:",
                disabled=method == "gmm" and dict(model.params).get("n_clusters") is None,
            )


# --- the segments ----------------------------------------------------------------------------------------------------


def inputs(s: state.Segmentation) -> tuple[Dataset, Config, FeatureConfig, tuple[str, ...], str, Params]:
    """The arguments of the cached computations of a segmentation: data, settings, features, method, parameters."""
    return s.dataset, s.config, s.features, s.chosen, s.method, s.params


def show_segments(s: state.Segmentation, model: SegmentationModel, table: pd.DataFrame) -> None:
    method, chosen = s.method, s.chosen
    order = ordered_segments(model)
    names = display_names(model, order)
    colors = segment_colors(order)
    segmenter = model.segmenter_
    n = segmenter.n_clusters_
    st.subheader(f"{n} kinds of customers")
    scores = quality(*inputs(s))
    summary = f"{METHOD_LABELS[method]} on {len(chosen)} feature{'s' * (len(chosen) != 1)}"
    if method == "gmm" and dict(s.params)["n_clusters"] is None:
        summary += f"; BIC chose {n} segments with {segmenter.covariance_type_} covariance"
    if method == "hdbscan" and segmenter.assign_noise:
        summary += (
            f"; {segmenter.hdbscan_noise_share_:.1%} of customers fit no dense group and were placed in the nearest "
            "segment"
        )
    elif method == "hdbscan":
        summary += f"; {segmenter.noise_share_:.1%} of customers fit no segment (*Unassigned*)"
    st.caption(summary + ".")
    if method == "hdbscan" and segmenter.noise_warning():
        unassigned = model.profiles_["revenue_share"].get(NOISE, 0.0)
        st.warning(
            f"{segmenter.noise_share_:.0%} of customers ({unassigned:.0%} of revenue) fit no segment and are "
            "*Unassigned*. Tick **Place unassigned customers in the nearest segment** above to give each of them "
            "the segment of the most similar customer.",
            icon=":material/warning:",
        )
    small = small_group_warning(
        model.profiles_["customers"],
        s.config.privacy.min_group_size,
        names,
        consequence="the profiles download leaves them blank; keep them out of reports you share",
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    show_confidence(s, model, table, scores)

    scatter, shares = st.columns([3, 2])
    with scatter:
        show_scatter(s, model, table, names, colors)
    with shares:
        show(segment_shares(model.profiles_, names), height=520)
    show_method_details(method, model, table, names, colors)

    st.subheader("Segment profiles")
    st.caption(
        "What sets each segment apart from the typical customer (medians), its most common RFM segment and "
        "its top products and countries by revenue. Rename a segment to use your own words everywhere."
    )
    tops = top_lists(*inputs(s))
    overall = table.median(numeric_only=True)
    currency = components.currency(s.dataset, s.config)
    per_row = 3
    for start in range(0, len(order), per_row):
        for cell, segment in zip(st.columns(per_row), order[start : start + per_row], strict=False):
            with cell:
                profile_card(model, segment, names[segment], colors[segment], overall, tops, s.fit_id, currency)


def show_confidence(
    s: state.Segmentation, model: SegmentationModel, table: pd.DataFrame, scores: dict[str, float]
) -> None:
    """How sure the segmentation is: separation, stability and, by method, noise or membership probability."""
    cells = st.columns(4)
    silhouette = scores["silhouette"]
    words = in_words(silhouette, SEPARATION_WORDS)
    cells[0].metric(
        "Separation (silhouette)",
        f"{silhouette:.2f} · {words}" if words != "n/a" else words,
        help="From -1 to 1: how much closer customers are to their own segment than to the next one. "
        "Above 0.5 the segments are clearly apart, 0.25 to 0.5 fairly, below 0.25 they blur into each other.",
        border=True,
    )
    stability_id = f"stability_{s.fit_id}"
    with cells[1]:
        if state.requested(stability_id):
            mean, spread = stability(*inputs(s))
            words = in_words(mean, STABILITY_WORDS)
            st.metric(
                "Stability when refitted",
                f"{mean:.2f} · {words}",
                help=f"How alike the segments are when fitted on two random 80 % samples, {STABILITY_ROUNDS} times "
                f"(adjusted Rand index, ± {spread:.2f}): 1 = the same segments every time, 0 = no better than chance.",
                border=True,
            )
        else:
            st.button(
                "Check stability",
                on_click=state.request,
                args=(stability_id,),
                icon=":material/replay:",
                help=f"Refit {2 * STABILITY_ROUNDS} times on random 80 % samples and measure how much the segments "
                "agree. Seconds for most methods, about a minute for the autoencoder.",
            )
    segmenter = model.segmenter_
    if s.method == "hdbscan":
        cells[2].metric(
            "Unassigned (noise share)",
            f"{segmenter.hdbscan_noise_share_:.1%}",
            help="Customers HDBSCAN places in no dense group. They are kept as the *Unassigned* segment, or placed "
            "in the nearest segment when that option is ticked.",
            border=True,
        )
        cells[3].metric(
            "Smallest segment size allowed",
            f"{segmenter.min_cluster_size_:,}",
            help=f"HDBSCAN's min_cluster_size (min_samples {segmenter.min_samples_}), chosen by the search.",
            border=True,
        )
    if s.method == "gmm":
        probability = model.fitted_assignments(table)["probability"]
        cells[2].metric(
            "Sure assignments (≥ 90 %)",
            f"{(probability >= 0.9).mean():.1%}",
            help="Share of customers whose most likely segment has a probability of at least 90 %; the others sit "
            "between segments.",
            border=True,
        )
        cells[3].metric("Median membership probability", f"{probability.median():.1%}", border=True)


def show_scatter(
    s: state.Segmentation, model: SegmentationModel, table: pd.DataFrame, names: dict[int, str], colors: dict[int, str]
) -> None:
    points, explained = projection(*inputs(s)[:4])
    used = prepared(*inputs(s)[:4])[1]
    show(segment_map(points, explained, used, model.labels_, table, names, colors), height=520)
    how = (
        "The axes are the two directions in which customers differ most (principal components of the scaled features)."
        if len(used) > 1
        else "With one feature, the map is that feature; the vertical spread is random, to keep dots apart."
    )
    note = f" A random {MAP_POINTS:,} customers are drawn." if len(table) > MAP_POINTS else ""
    st.caption(f"Each dot is a customer; nearby dots have similar feature values. {how}{note}")


def show_method_details(
    method: str, model: SegmentationModel, table: pd.DataFrame, names: dict[int, str], colors: dict[int, str]
) -> None:
    segmenter = model.segmenter_
    if method == "gmm":
        chart, _ = st.columns([3, 2])
        with chart:
            show(membership_histogram(model.fitted_assignments(table), names, colors), height=340)
            st.caption(
                "Customers near 100 % clearly belong to their segment; those at 50 % or below sit between segments "
                "and could as well be in another one."
            )
    elif method == "autoencoder":
        left, _ = st.columns(2)
        with left:
            show(training_curve(segmenter.loss_curve_), height=280)
            st.caption(
                f"Trained on the {segmenter.device_.upper()}. A curve that has flattened out means more passes "
                "would change little."
            )
    elif method == "hierarchical" and segmenter.sampled_:
        st.caption(
            f"The tree was built on a random {len(segmenter.sample_index_):,} customers; the others joined the "
            "segment with the nearest centre."
        )


def profile_card(
    model: SegmentationModel,
    segment: int,
    name: str,
    color: str,
    overall: pd.Series,
    tops: dict[str, dict[int, list[str]]],
    fit_id: str,
    currency: str | None,
) -> None:
    row = model.profiles_.loc[segment]
    with st.container(border=True):
        st.markdown(f'<span style="color:{color}">⬤</span> **{components.escape(name)}**', unsafe_allow_html=True)
        st.markdown(
            f"**{int(row['customers']):,}** customers · **{row['share']:.1%}** of all customers · "
            f"**{row['revenue_share']:.1%}** of revenue"
        )
        if segment == NOISE:
            st.markdown("Customers who fit no dense group well enough: outliers and in-betweens.")
        else:
            st.markdown("\n".join(f"- {line}" for line in components.trait_lines(row, overall, currency=currency)))
        facts = []
        if isinstance(row.get("top_rfm_segment"), str):
            facts.append(f"Most common RFM segment: **{row['top_rfm_segment']}**")
        for column, title in (("product", "Top products"), ("country", "Top countries")):
            values = tops.get(column, {}).get(int(segment))
            if values:
                facts.append(f"{title}: " + " · ".join(components.escape(v) for v in values))
        st.caption("  \n".join(facts))
        key = f"segname_{fit_id}_{segment}"
        st.text_input(
            "Rename",
            name if segment in state.segment_names(fit_id) else model.names_[segment],
            key=key,
            on_change=state.rename_segment,
            args=(fit_id, int(segment), key),
            placeholder="Leave empty for the automatic name",
            help="Your name for this segment, used in the charts, profiles and downloads.",
        )


def show_downloads(
    dataset: Dataset, model: SegmentationModel, table: pd.DataFrame, method: str, currency: str | None, k: int
) -> None:
    st.subheader("Downloads")
    stem = f"{dataset.name.split('.')[0]}_{method}_{model.segmenter_.n_clusters_}_segments"
    assignments = model.fitted_assignments(table)
    profiles = shareable_profiles(model.profiles_, k)
    left, right, _ = st.columns([1, 1, 1])  # at 1280 px a quarter of the row cut "Customer assignments (CSV)"
    components.download(
        left,
        "Customer assignments (CSV)",
        lambda: assignments.to_csv(),
        f"{stem}_customers.csv",
        "One row per customer: segment number, segment name and, where the method gives one, the probability.",
    )
    components.download(
        right,
        "Segment profiles (CSV)",
        lambda: components.csv_text(profiles, currency),
        f"{stem}_profiles.csv",
        "One row per segment: name, size, revenue share, medians and z-scores of the profile features. A segment "
        f"of fewer than {k} customers keeps only its name (suppressed = True), so the file cannot single anyone out.",
    )


if __name__ == "__main__":
    render()
