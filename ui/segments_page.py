"""Segments page: how many kinds of customers there are, what each kind looks like and how sure that is."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pyarrow.compute as pc
import streamlit as st

from segmentation.clustering import (
    DEFAULT_FEATURES,
    METHODS,
    NOISE,
    FeaturePreprocessor,
    KSelection,
    SegmentationModel,
    bootstrap_stability,
    choose_k,
    cluster_metrics,
    compare_methods,
    make_segmenter,
    project_2d,
)
from segmentation.clustering.names import METHOD_LABELS, METHOD_NOTES
from segmentation.clustering.present import display_names, ordered_segments, segment_colors
from segmentation.clustering.profiles import top_values
from segmentation.config import Config, FeatureConfig
from segmentation.errors import SegmentationError
from segmentation.features import FEATURES, NUMERIC, feature_label
from ui import components, state
from ui.components import Dataset

Params = tuple[tuple[str, Any], ...]  # a method's parameters as sorted (name, value) pairs: hashable

MAX_K = 10
MIN_CUSTOMERS = 20
SCATTER_POINTS = 20_000
STABILITY_ROUNDS = 5
TOP = 3
LINKAGES = {"ward": "Ward", "average": "Average", "complete": "Complete", "single": "Single"}
DEFAULT_PARAMS = {"linkage": "ward", "n_trials": 20, "min_coverage": 0.6, "latent_dim": 3, "epochs": 40}
CRITERIA = (
    ("inertia", "Inertia: look for the bend", "Inertia"),
    ("silhouette", "Silhouette: higher is better", "Silhouette"),
    ("calinski_harabasz", "Calinski-Harabasz: higher is better", "Calinski-Harabasz"),
    ("davies_bouldin", "Davies-Bouldin: lower is better", "Davies-Bouldin"),
    ("bic", "BIC: lower is better", "BIC"),
)
CRITERION_WORDS = {
    "elbow": "elbow of inertia",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "bic": "BIC",
}
RECOMMENDED_COLOR = "#16a34a"
CHOSEN_COLOR = "#dc2626"


def render() -> None:
    st.title("Segments")
    loaded = state.loaded()
    if loaded is None:
        st.info("No data is loaded yet. Choose the sample or upload a file on the Data page first.")
        st.page_link("ui/data_page.py", label="Go to the Data page", icon=":material/arrow_back:")
        return
    dataset, config = loaded
    st.caption(
        f"Let the data find groups of similar customers in **{dataset.name}**: how many kinds there are, "
        "what each kind looks like, and how sure the grouping is."
    )
    try:
        features = feature_settings(dataset, config)
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
    state.remember_segmentation(state.Segmentation(dataset, config, features, chosen, method, params, fit_id))
    state.apply_names(model, fit_id)
    show_segments(dataset, config, features, chosen, method, params, model, table, fit_id)
    k = dict(params).get("n_clusters") or min(
        state.kept("seg_k", selection.recommended), int(selection.table["k"].max())
    )
    show_comparison(dataset, config, features, chosen, k)
    show_downloads(dataset, model, table, method)


# --- settings -------------------------------------------------------------------------------------------------


def feature_settings(dataset: Dataset, config: Config) -> FeatureConfig:
    """The feature settings of the Customers page (its kept widget values), so both pages share one feature table."""
    default = components.snapshot_default(dataset, config)
    as_of = state.kept(f"as_of_{dataset.digest[:16]}", default)
    return FeatureConfig(
        as_of=as_of if as_of != default else None,
        half_life_days=float(state.kept("half_life", 90)),
        rfm_bins=int(state.kept("rfm_bins", 5)),
    )


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
    """The method's parameters, each with a one-line explanation; k defaults to the recommended number."""
    cells = iter(st.columns(3))
    params: dict[str, Any] = {}
    if method != "hdbscan":
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
    if method == "gmm":
        params["covariance_type"] = None if params["n_clusters"] is None else "full"
    if method == "hierarchical":
        with next(cells):
            params["linkage"] = st.selectbox(
                "Linkage",
                list(LINKAGES),
                index=list(LINKAGES).index(state.kept("seg_linkage", "ward")),
                format_func=LINKAGES.get,
                **state.keeping("seg_linkage"),
            )
            st.caption("How distance between groups is measured: Ward keeps groups compact and even in size.")
    if method == "hdbscan":
        with next(cells):
            params["n_trials"] = st.slider(
                "Settings to try",
                5,
                50,
                state.kept("seg_trials", DEFAULT_PARAMS["n_trials"]),
                **state.keeping("seg_trials"),
            )
            st.caption("More tries search the group-size settings more thoroughly, and take longer.")
        with next(cells):
            params["min_coverage"] = round(
                st.slider(
                    "Customers to place in a segment (at least)",
                    0.3,
                    0.95,
                    state.kept("seg_coverage", DEFAULT_PARAMS["min_coverage"]),
                    step=0.05,
                    format="percent",
                    **state.keeping("seg_coverage"),
                ),
                2,
            )
            st.caption("Settings that leave more customers unassigned than this allows are rejected.")
        with next(cells):
            params["assign_noise"] = st.checkbox(
                "Place unassigned customers in the nearest segment",
                state.kept("seg_assign_noise", False),
                **state.keeping("seg_assign_noise"),
            )
            st.caption("Each customer HDBSCAN leaves out joins the segment of the most similar customer it placed.")
    if method == "autoencoder":
        with next(cells):
            params["latent_dim"] = st.slider(
                "Compressed size",
                2,
                8,
                state.kept("seg_latent", DEFAULT_PARAMS["latent_dim"]),
                **state.keeping("seg_latent"),
            )
            st.caption("How many numbers the network keeps per customer before grouping them.")
        with next(cells):
            params["epochs"] = st.slider(
                "Training passes",
                10,
                200,
                state.kept("seg_epochs", DEFAULT_PARAMS["epochs"]),
                step=10,
                **state.keeping("seg_epochs"),
            )
            st.caption("More passes compress better, and take longer.")
    return tuple(sorted(params.items()))


def default_params(method: str, k: int) -> Params:
    """The parameters the comparison uses: the given k (HDBSCAN finds its own) and every other default."""
    params: dict[str, Any] = {
        "kmeans": {"n_clusters": k},
        "hierarchical": {"n_clusters": k, "linkage": DEFAULT_PARAMS["linkage"]},
        "hdbscan": {"n_trials": DEFAULT_PARAMS["n_trials"], "min_coverage": DEFAULT_PARAMS["min_coverage"]},
        "gmm": {"n_clusters": k, "covariance_type": "full"},
        "autoencoder": {
            "n_clusters": k,
            "latent_dim": DEFAULT_PARAMS["latent_dim"],
            "epochs": DEFAULT_PARAMS["epochs"],
        },
    }[method]
    return tuple(sorted(params.items()))


def key_of(*parts: object) -> str:
    """A short stable id of settings, for widget keys and the session's small records."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def use_recommended(k: int) -> None:
    st.session_state["seg_k"] = k
    state.keep("seg_k")


# --- cached computations (keyed by the data set's digest and every setting that changes the result) ------------


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
    """PCA coordinates of every customer and the share of the total variance each axis shows.

    With a single scaled feature there is nothing to project: the feature itself is the x axis and y is a small
    random spread so the dots do not hide each other.
    """
    X = matrix(dataset, config, features, chosen)
    if X.shape[1] < 2:
        jitter = np.random.default_rng(0).uniform(-1.0, 1.0, len(X))
        return np.column_stack([X[:, 0], jitter]), (1.0, 0.0)
    points = project_2d(X)
    total = float(X.var(axis=0).sum()) or 1.0
    return points, (float(points[:, 0].var() / total), float(points[:, 1].var() / total))


@st.cache_data(show_spinner="Finding each segment's top products and countries…", max_entries=32)
def top_lists(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> dict[str, dict[int, list[str]]]:
    """Per segment, the products and the countries with most revenue (transactions before the as-of date)."""
    transactions = components.load(dataset, config).transactions
    if features.as_of is not None:
        transactions = transactions.filter(
            pc.less(transactions["ts"], pc.scalar(datetime.combine(features.as_of, datetime.min.time())))
        )
    present = set(transactions.column_names)
    tx = transactions.select(
        [c for c in ("customer_id", "product_id", "description", "country", "amount") if c in present]
    )
    tx = tx.to_pandas()
    tx["product"] = tx["description"].fillna(tx["product_id"]) if "description" in tx else tx["product_id"]
    table = components.customer_table(dataset, config, features)
    labels = pd.Series(fit(dataset, config, features, chosen, method, params).labels_, index=table.index)
    lists: dict[str, dict[int, list[str]]] = {}
    for column in ("product", "country"):
        if column in tx and tx[column].notna().any():
            top = top_values(tx, labels, column, TOP)
            lists[column] = {int(s): group[column].astype(str).tolist() for s, group in top.groupby("segment")}
    return lists


@st.cache_data(show_spinner=f"Refitting on {STABILITY_ROUNDS} pairs of resamples…", max_entries=32)
def stability(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], method: str, params: Params
) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between refits on 80 % resamples.

    Searched settings are fixed to what the fit found (HDBSCAN's sizes, the mixture's k and shape), so the
    check measures the segmentation, not the search.
    """
    segmenter = fit(dataset, config, features, chosen, method, params).segmenter_
    fixed = dict(params)
    if method == "hdbscan":
        fixed = {
            "min_cluster_size": segmenter.min_cluster_size_,
            "min_samples": segmenter.min_samples_,
            "assign_noise": segmenter.assign_noise,
        }
    elif method == "gmm":
        fixed = {"n_clusters": segmenter.n_clusters_, "covariance_type": segmenter.covariance_type_}
    X = matrix(dataset, config, features, chosen)
    return bootstrap_stability(lambda: make_segmenter(method, **fixed), X, STABILITY_ROUNDS)


@st.cache_data(show_spinner="Comparing the five methods…", max_entries=16)
def comparison(
    dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quality metrics per method and the adjusted Rand index between methods."""
    labels = {m: fit(dataset, config, features, chosen, m, default_params(m, k)).labels_ for m in METHODS}
    metrics, ari, _ = compare_methods(matrix(dataset, config, features, chosen), labels)
    return metrics, ari


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
    for cell, (column, title, axis) in zip(cells, CRITERIA, strict=False):
        with cell:
            fig = go.Figure(go.Scatter(x=table["k"], y=table[column], mode="lines+markers", name=axis))
            fig.add_vline(x=selection.recommended, line_dash="dash", line_color=RECOMMENDED_COLOR)
            if chosen in set(table["k"]):
                value = table.loc[table["k"] == chosen, column].iloc[0]
                fig.add_trace(
                    go.Scatter(
                        x=[chosen],
                        y=[value],
                        mode="markers",
                        marker={"size": 13, "color": CHOSEN_COLOR, "symbol": "circle-open", "line": {"width": 3}},
                        name="Your k",
                    )
                )
            fig.update_xaxes(dtick=1)
            fig.update_layout(showlegend=False)
            components.plot(fig, title, "Number of segments (k)", axis, height=260)
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


def show_segments(
    dataset: Dataset,
    config: Config,
    features: FeatureConfig,
    chosen: tuple[str, ...],
    method: str,
    params: Params,
    model: SegmentationModel,
    table: pd.DataFrame,
    fit_id: str,
) -> None:
    order = ordered_segments(model)
    names = display_names(model, order)
    colors = segment_colors(order)
    segmenter = model.segmenter_
    n = segmenter.n_clusters_
    st.subheader(f"{n} kinds of customers")
    scores = quality(dataset, config, features, chosen, method, params)
    summary = f"{METHOD_LABELS[method]} on {len(chosen)} feature{'s' * (len(chosen) != 1)}"
    if method == "gmm" and dict(params)["n_clusters"] is None:
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
    show_confidence(dataset, config, features, chosen, method, params, model, scores, fit_id)

    scatter, shares = st.columns([3, 2])
    with scatter:
        show_scatter(dataset, config, features, chosen, model, table, names, colors)
    with shares:
        show_shares(model.profiles_, order, names, colors)
    show_method_details(method, model, table, names, colors)

    st.subheader("Segment profiles")
    st.caption(
        "What sets each segment apart from the typical customer (medians), its most common RFM segment and "
        "its top products and countries by revenue. Rename a segment to use your own words everywhere."
    )
    tops = top_lists(dataset, config, features, chosen, method, params)
    overall = table.median(numeric_only=True)
    per_row = 3
    for start in range(0, len(order), per_row):
        for cell, segment in zip(st.columns(per_row), order[start : start + per_row], strict=False):
            with cell:
                profile_card(model, segment, names[segment], colors[segment], overall, tops, fit_id)


def show_confidence(
    dataset: Dataset,
    config: Config,
    features: FeatureConfig,
    chosen: tuple[str, ...],
    method: str,
    params: Params,
    model: SegmentationModel,
    scores: dict[str, float],
    fit_id: str,
) -> None:
    """How sure the segmentation is: separation, stability and, by method, noise or membership probability."""
    cells = st.columns(4)
    silhouette = scores["silhouette"]
    words = "clear" if silhouette >= 0.5 else "fair" if silhouette >= 0.25 else "weak"
    cells[0].metric(
        "Separation (silhouette)",
        f"{silhouette:.2f} · {words}" if np.isfinite(silhouette) else "n/a",
        help="From -1 to 1: how much closer customers are to their own segment than to the next one. "
        "Above 0.5 the segments are clearly apart, 0.25 to 0.5 fairly, below 0.25 they blur into each other.",
        border=True,
    )
    stability_id = f"stability_{fit_id}"
    with cells[1]:
        if state.requested(stability_id):
            mean, spread = stability(dataset, config, features, chosen, method, params)
            words = (
                "very stable" if mean >= 0.9 else "stable" if mean >= 0.75 else "shaky" if mean >= 0.5 else "unstable"
            )
            st.metric(
                "Stability (adjusted Rand)",
                f"{mean:.2f} ± {spread:.2f} · {words}",
                help=f"Agreement between segmentations fitted on two random 80 % samples, {STABILITY_ROUNDS} times: "
                "1 = the same segments every time, 0 = no better than chance.",
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
    if method == "hdbscan":
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
    if method == "gmm":
        probability = model.fitted_assignments(components.customer_table(dataset, config, features))["probability"]
        cells[2].metric(
            "Sure assignments (≥ 90 %)",
            f"{(probability >= 0.9).mean():.1%}",
            help="Share of customers whose most likely segment has a probability of at least 90 %; the others sit "
            "between segments.",
            border=True,
        )
        cells[3].metric("Median membership probability", f"{probability.median():.1%}", border=True)


def show_scatter(
    dataset: Dataset,
    config: Config,
    features: FeatureConfig,
    chosen: tuple[str, ...],
    model: SegmentationModel,
    table: pd.DataFrame,
    names: dict[int, str],
    colors: dict[int, str],
) -> None:
    points, explained = projection(dataset, config, features, chosen)
    used = prepared(dataset, config, features, chosen)[1]
    if len(used) > 1:
        axes = (
            f"First principal component ({explained[0]:.0%} of the spread)",
            f"Second principal component ({explained[1]:.0%})",
        )
    else:
        axes = f"{feature_label(used[0])} (scaled)", "Random spread"
    frame = pd.DataFrame(
        {
            "x": points[:, 0],
            "y": points[:, 1],
            "segment": pd.Series(model.labels_).map(names).to_numpy(),
            "customer": table.index.astype(str),
            "recency": table["recency_days"].to_numpy(),
            "frequency": table["frequency"].to_numpy(),
            "monetary": table["monetary"].to_numpy(),
        }
    )
    note = ""
    if len(frame) > SCATTER_POINTS:
        frame = frame.sample(SCATTER_POINTS, random_state=0)
        note = f" A random {SCATTER_POINTS:,} customers are drawn."
    fig = px.scatter(
        frame,
        x="x",
        y="y",
        color="segment",
        color_discrete_map={names[s]: colors[s] for s in names},
        category_orders={"segment": list(names.values())},
        custom_data=["customer", "recency", "frequency", "monetary"],
        render_mode="svg",
    )
    fig.update_traces(
        marker={"size": 5, "opacity": 0.7},
        hovertemplate="<b>Customer %{customdata[0]}</b><br>%{fullData.name}<br>"
        "Last purchase %{customdata[1]:,.0f} days ago<br>%{customdata[2]:,.0f} orders<br>"
        "Net revenue %{customdata[3]:,.2f}<extra></extra>",
    )
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    components.plot(
        fig,
        "Customers on a map of the chosen features",
        *axes,
        height=520,
    )
    how = (
        "The axes are the two directions in which customers differ most (principal components of the scaled features)."
        if len(used) > 1
        else "With one feature, the map is that feature; the vertical spread is random, to keep dots apart."
    )
    st.caption(f"Each dot is a customer; nearby dots have similar feature values. {how}{note}")


def show_shares(profiles: pd.DataFrame, order: list[int], names: dict[int, str], colors: dict[int, str]) -> None:
    data = profiles.loc[order]
    long = pd.DataFrame(
        {
            "segment": [names[s] for s in order] * 2,
            "share": data["share"].tolist() + data["revenue_share"].tolist(),
            "of": ["Customers"] * len(order) + ["Revenue"] * len(order),
        }
    )
    fig = px.bar(
        long,
        x="share",
        y="segment",
        color="of",
        barmode="group",
        orientation="h",
        color_discrete_map={"Customers": "#94a3b8", "Revenue": "#2563eb"},
        category_orders={"segment": [names[s] for s in order]},
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_traces(hovertemplate="%{y}: %{x:.1%}<extra>%{fullData.name}</extra>")
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    components.plot(fig, "Share of customers and of revenue", "Share", "", height=520)


def show_method_details(
    method: str, model: SegmentationModel, table: pd.DataFrame, names: dict[int, str], colors: dict[int, str]
) -> None:
    segmenter = model.segmenter_
    if method == "gmm":
        show_probabilities(model, table, names, colors)
    elif method == "autoencoder":
        curve = pd.DataFrame({"epoch": range(1, len(segmenter.loss_curve_) + 1), "loss": segmenter.loss_curve_})
        left, _ = st.columns(2)
        with left:
            fig = px.line(curve, x="epoch", y="loss", markers=True)
            components.plot(fig, "Autoencoder training", "Training pass", "Reconstruction error", height=280)
            st.caption(
                f"Trained on the {segmenter.device_.upper()}. A curve that has flattened out means more passes "
                "would change little."
            )
    elif method == "hierarchical" and segmenter.sampled_:
        st.caption(
            f"The tree was built on a random {len(segmenter.sample_index_):,} customers; the others joined the "
            "segment with the nearest centre."
        )


def show_probabilities(
    model: SegmentationModel, table: pd.DataFrame, names: dict[int, str], colors: dict[int, str]
) -> None:
    """Histogram of each customer's probability of the segment they were put in, stacked by segment."""
    assignments = model.fitted_assignments(table)
    frame = pd.DataFrame({"probability": assignments["probability"], "segment": assignments["segment"].map(names)})
    fig = px.histogram(
        frame,
        x="probability",
        color="segment",
        nbins=20,
        range_x=[0, 1],
        log_y=True,
        color_discrete_map={names[s]: colors[s] for s in names},
        category_orders={"segment": list(names.values())},
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(dtick=1)  # log axis: ticks at 1, 10, 100... only
    fig.update_layout(bargap=0.05)
    chart, _ = st.columns([3, 2])
    with chart:
        components.plot(
            fig,
            "How sure each assignment is (Gaussian mixture)",
            "Probability of the assigned segment",
            "Customers (log scale)",
            height=340,
        )
        st.caption(
            "Customers near 100 % clearly belong to their segment; those at 50 % or below sit between segments "
            "and could as well be in another one."
        )


def profile_card(
    model: SegmentationModel,
    segment: int,
    name: str,
    color: str,
    overall: pd.Series,
    tops: dict[str, dict[int, list[str]]],
    fit_id: str,
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
            st.markdown("\n".join(f"- {line}" for line in components.trait_lines(row, overall)))
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


# --- comparison and downloads ------------------------------------------------------------------------------------------


def show_comparison(dataset: Dataset, config: Config, features: FeatureConfig, chosen: tuple[str, ...], k: int) -> None:
    st.subheader("Do the methods agree?")
    st.caption(
        f"Fits all five methods with {k} segments (HDBSCAN finds its own number) and default settings, and "
        "compares them. Methods that agree found structure that is really there."
    )
    compare_id = "compare_" + key_of(dataset.digest, config, features, chosen, k)
    if not state.asked(
        compare_id,
        "Compare all five methods",
        icon=":material/compare_arrows:",
        help="Takes a few seconds; the autoencoder is the slowest.",
        key="seg_compare",
    ):
        return
    if not state.requested(compare_id + "_done"):
        with (
            state.cancellable(compare_id, "seg_compare_cancel"),
            st.status("Comparing the five methods…", expanded=True) as status,
        ):
            for i, method in enumerate(METHODS, 1):
                status.write(f"Fitting {METHOD_LABELS[method]} ({i} of {len(METHODS)})…")
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
        labels = [METHOD_LABELS[m] for m in ari.index]
        fig = px.imshow(
            ari.to_numpy(),
            x=labels,
            y=labels,
            zmin=0,
            zmax=1,
            text_auto=".2f",
            color_continuous_scale="Blues",
        )
        fig.update_layout(coloraxis_colorbar={"title": {"text": "ARI"}})
        fig.update_traces(hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>")
        components.plot(fig, "Agreement between methods (adjusted Rand index)", "", "", height=380)
        st.caption("1 = the same segments, 0 = no more alike than chance.")


def show_downloads(dataset: Dataset, model: SegmentationModel, table: pd.DataFrame, method: str) -> None:
    st.subheader("Downloads")
    stem = f"{dataset.name.split('.')[0]}_{method}_{model.segmenter_.n_clusters_}_segments"
    assignments = model.fitted_assignments(table)
    profiles = model.profiles_
    left, right, _ = st.columns([1, 1, 2])
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
        lambda: profiles.to_csv(),
        f"{stem}_profiles.csv",
        "One row per segment: name, size, revenue share, medians and z-scores of the profile features.",
    )


if __name__ == "__main__":
    render()
