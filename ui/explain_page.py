"""Explain page: why a customer is in their segment, and what defines each segment (surrogate models + SHAP)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.clustering import NOISE, SegmentationModel
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, ordered_segments, segment_colors
from segmentation.errors import SegmentationError
from segmentation.explain import MODELS, Explanation, importance_agreement
from segmentation.explain.drivers import SOME_UNDEFINED, undefined_meaning
from segmentation.explain.names import MODEL_LABELS
from segmentation.explain.plotting import customer_waterfall, importance_bars, shap_strip, value_text
from segmentation.features import feature_label
from segmentation.formatting import number, percent
from segmentation.privacy.small_groups import small_group_warning
from ui import components, fairness_panel, state
from ui.explain_widgets import customer_explanation, ranking, surrogate_results, train_both

TOP_FEATURES = 10
IMPORTANCE_FEATURES = 12
STRIP_CUSTOMERS = 300  # dots per feature row: 3,000 SVG points in all keep a revisit of the page quick
PICKER_OPTIONS = 20_000


def render() -> None:
    current = state.segmentation()
    if current is None:
        components.no_segmentation_yet("shows what defines each segment and why a customer is in theirs")
        return
    try:
        model = state.current_model(current)
        table = components.customer_table(current.dataset, current.config, current.features)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    order = ordered_segments(model)
    names = display_names(model, order)
    colors = segment_colors(order)
    st.caption(
        f"Why customers are in their segments: a classifier (the *surrogate*) learns the segments of "
        f"**{components.escape(current.dataset.name)}** from the customer features, and SHAP values show how much each feature "
        f"pushes a customer towards each segment. Segmentation: {METHOD_LABELS[current.method]}, "
        f"{len(names)} segments, set on the Segments page."
    )
    try:
        if not train_both(current):
            return
        explained = surrogate_results(current)
    except SegmentationError as exc:
        components.show_error(exc)
        return

    show_fidelity(explained, order, names, len(table))
    kind = st.segmented_control(
        "Explaining model",
        list(MODELS),
        default=state.kept("explain_model", MODELS[0]),
        format_func=MODEL_LABELS.get,
        required=True,
        help="Both surrogates are trained; choose whose SHAP values the charts below show.",
        **state.keeping("explain_model"),
    )
    _, expl, drivers = explained[kind]
    currency = components.currency(current.dataset, current.config)
    show_drivers(model, table, drivers, order, names, colors, kind, currency, current.config.privacy.min_group_size)
    show_importance(expl, order, names, colors, kind)
    show_customer(current, kind, model, table, expl, names)
    show_agreement(explained, order, names)
    show_ranking(current, model, table)
    fairness_panel.render(current)


# --- fidelity -----------------------------------------------------------------------------------------------------


def show_fidelity(
    results: dict[str, tuple[dict[str, Any], Explanation, pd.DataFrame]], order, names, customers: int
) -> None:
    for kind, (fidelity, _, _) in results.items():
        if fidelity["warning"]:
            st.warning(
                f"**Treat the {MODEL_LABELS[kind]} explanations with care:** {fidelity['warning']}.",
                icon=":material/warning:",
            )
    st.subheader("How faithful are the surrogates?")
    scored = min(fidelity["customers"] for fidelity, _, _ in results.values())
    sample = f" on a stratified sample of {scored:,} of the {customers:,} customers" if scored < customers else ""
    st.caption(
        "An explanation is only as good as the model it explains. Each surrogate is scored by 3-fold "
        f"cross-validation{sample}: how often it puts a customer it has not seen in the right segment."
    )
    measures = ["Right segment", "Every segment alike", *[f"Found in {names[s]}" for s in order]]
    table = pd.DataFrame(
        {
            MODEL_LABELS[kind]: [
                percent(fidelity["accuracy"]),
                number(fidelity["macro_f1"], 2),
                *[percent(fidelity["recall"].get(int(s), np.nan)) for s in order],
            ]
            for kind, (fidelity, _, _) in results.items()
        },
        index=pd.Index(measures, name="measure"),
    )
    left, right = st.columns([3, 2])  # the table needs its room: at 1280 px [2, 3] hid the CatBoost column
    left.dataframe(table, column_config={"measure": "Measure"})
    right.markdown(
        "- **Right segment** (accuracy): share of customers put in their own segment.\n"
        "- **Every segment alike** (macro-F1, 0 to 1): how well the segments are told apart when a small segment "
        "counts as much as a large one; below 0.80 the explanations carry a warning.\n"
        "- **Found in a segment** (recall): share of its customers the surrogate finds. A low one means the "
        "explanations of that segment are the least reliable."
    )


# --- drivers per segment -------------------------------------------------------------------------------------------


def driver_text(row: pd.Series) -> str:
    """One driver in words: '**Orders**: at least 19', '**Country**: United Kingdom'."""
    name = f"**{components.escape(feature_label(row['feature']))}**"
    if row["direction"] == "category":
        value = str(row["phrase"]).split(" = ", 1)[-1]
        return f"{name}: {components.escape(value)}"
    if row["direction"] == "undefined":  # e.g. one order: no interval between orders
        return f"{name}: {components.escape(undefined_meaning(row['feature']))}"
    if not np.isfinite(row["threshold"]):
        return f"{name}: {'high' if row['direction'] == 'high' else 'low'}"
    bound = "at least" if row["direction"] == "high" else "at most"
    either = (
        f" or {components.escape(undefined_meaning(row['feature']))}"
        if row["undefined_share"] >= SOME_UNDEFINED
        else ""
    )
    return f"{name}: {bound} {value_text(row['feature'], row['threshold'])}{either}"


def show_drivers(
    model: SegmentationModel,
    table: pd.DataFrame,
    drivers: pd.DataFrame,
    order: list[int],
    names: dict[int, str],
    colors: dict[int, str],
    kind: str,
    currency: str | None,
    k: int,
) -> None:
    st.subheader("What defines each segment")
    st.caption(
        f"**Profile**: what sets the segment apart from the typical customer (medians). **Drivers**: the three "
        f"features that push customers into the segment most, according to {MODEL_LABELS[kind]}; each bound holds "
        "for three in four customers of the segment."
    )
    small = small_group_warning(
        model.profiles_["customers"], k, names, consequence="keep their profiles and drivers out of reports you share"
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    overall = table.median(numeric_only=True)
    per_row = 3
    for start in range(0, len(order), per_row):
        for cell, segment in zip(st.columns(per_row), order[start : start + per_row], strict=False):
            row = model.profiles_.loc[segment]
            with cell, st.container(border=True):
                st.markdown(
                    f'<span style="color:{colors[segment]}">⬤</span> **{components.escape(names[segment])}**',
                    unsafe_allow_html=True,
                )
                st.caption(
                    f"{int(row['customers']):,} customers · {row['share']:.1%} of customers · "
                    f"{row['revenue_share']:.1%} of revenue"
                )
                profile = (
                    ["Customers who fit no dense group well enough"]
                    if segment == NOISE
                    else components.trait_lines(row, overall, n=2, currency=currency)
                )
                st.markdown("**Profile**\n" + "\n".join(f"- {line}" for line in profile))
                mine = drivers[drivers["segment"] == segment].sort_values("rank")
                st.markdown("**Drivers**\n" + "\n".join(f"- {driver_text(r)}" for _, r in mine.iterrows()))


# --- importance ----------------------------------------------------------------------------------------------------


def show_importance(expl: Explanation, order: list[int], names: dict[int, str], colors: dict[int, str], kind) -> None:
    st.subheader("Which features matter")
    importance = expl.global_importance()
    left, right = st.columns(2)
    with left:
        chart = importance_bars(importance, order, names, colors, IMPORTANCE_FEATURES)
        st.plotly_chart(chart, config={"displaylogo": False})
        st.caption(
            f"How strongly each feature moves the {MODEL_LABELS[kind]} surrogate's score for a segment, averaged over "
            f"the segment's own customers; the {IMPORTANCE_FEATURES} most important features overall."
        )
    with right:
        choices = [s for s in order if s in importance.columns]
        kept = state.kept("explain_segment", choices[0])
        segment = st.selectbox(
            "Segment",
            choices,
            index=choices.index(kept) if kept in choices else 0,
            format_func=names.get,
            **state.keeping("explain_segment"),
        )
        show_strip(expl, int(segment), names[segment])


def show_strip(expl: Explanation, segment: int, name: str) -> None:
    """Beeswarm-style strip: each dot a customer's SHAP push towards ``segment``, coloured by the feature's value."""
    chart = shap_strip(expl, segment, TOP_FEATURES, STRIP_CUSTOMERS)
    st.plotly_chart(chart, config={"displaylogo": False})
    st.caption(
        f"Each dot is one of {min(len(expl.data), STRIP_CUSTOMERS):,} sampled customers: right of the line the feature "
        f"pushes them towards {components.escape(name)}, left away from it. Red = a high value of the feature, blue = a low one (grey: a category)."
    )


# --- one customer --------------------------------------------------------------------------------------------------


def show_customer(
    current: state.Segmentation,
    kind: str,
    model: SegmentationModel,
    table: pd.DataFrame,
    expl: Explanation,
    names: dict[int, str],
) -> None:
    st.subheader("Why is this customer in their segment?")
    ids = table.index.astype(str)
    capped = len(ids) > PICKER_OPTIONS  # a very long list would slow the page: offer the sampled customers
    chosen = st.selectbox(
        "Customer",
        expl.data.index.astype(str).tolist() if capped else ids.tolist(),
        index=None,
        placeholder="Type or choose a customer ID",
        accept_new_options=capped,
        help="Type to search. "
        + (
            f"The list holds {len(expl.data):,} sampled customers; any other customer ID can be typed."
            if capped
            else ""
        ),
        key="explain_customer",
    )
    if chosen is None:
        st.caption("Pick a customer to see, feature by feature, what put them in their segment.")
        return
    chosen = str(chosen).strip()
    if chosen not in set(ids):
        st.warning(
            f"There is no customer {components.escape(chosen)} in {components.escape(current.dataset.name)}.",
            icon=":material/search:",
        )
        return
    customer_id = table.index[ids.get_loc(chosen)]
    segment = int(model.labels_[table.index.get_loc(customer_id)])
    frame, base, proba = customer_explanation(current, kind, customer_id)
    left, right = st.columns([3, 2])
    with left:
        waterfall(frame, base, names[segment], kind)
    with right:
        predicted = max(proba, key=proba.get)
        st.markdown(f"Customer **{components.escape(chosen)}** is in **{components.escape(names[segment])}**.")
        agree = (
            f"{MODEL_LABELS[kind]} agrees: it gives this customer a **{proba.get(segment, 0.0):.0%}** probability of "
            "that segment."
            if predicted == segment
            else f"{MODEL_LABELS[kind]} would rather put this customer in **{components.escape(names.get(predicted, predicted))}** "
            f"({proba[predicted]:.0%}; {proba.get(segment, 0.0):.0%} for their own segment): a borderline customer."
        )
        st.markdown(agree)
        top = frame.head(TOP_FEATURES)
        shown = pd.DataFrame(
            {
                "feature": top["feature"].map(feature_label),
                "value": [value_text(f, v) for f, v in zip(top["feature"], top["value"], strict=True)],
                "shap": top["shap"],
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            column_config={
                "feature": "Feature",
                "value": "This customer",
                "shap": st.column_config.NumberColumn(
                    "Push towards the segment",
                    format="%+.2f",
                    help="The feature's SHAP value: how far it moves this customer's score (in log-odds) towards "
                    "(+) or away from (-) the segment.",
                ),
            },
        )


def waterfall(frame: pd.DataFrame, base: float, segment_name: str, kind: str) -> None:
    chart = customer_waterfall(frame, base, segment_name, MODEL_LABELS[kind], TOP_FEATURES)
    st.plotly_chart(chart, config={"displaylogo": False})
    st.caption("Green bars push the customer towards the segment, red bars away from it; the largest pushes first.")


# --- agreement and feature ranking ---------------------------------------------------------------------------------


def show_agreement(results: dict[str, tuple[dict[str, Any], Explanation, pd.DataFrame]], order, names) -> None:
    st.subheader("Do the two models agree?")
    explanations = [results[kind][1] for kind in MODELS]
    agreement = importance_agreement(*explanations)
    overall = agreement["overall"]
    words = "strong" if overall >= 0.8 else "fair" if overall >= 0.5 else "weak"
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.metric(
        "Overall agreement (Spearman)",
        f"{overall:.2f} · {words}",
        help="Rank correlation of the two surrogates' feature importances over every feature: 1 = the same order, "
        "0 = unrelated orders.",
        border=True,
    )
    right.caption(
        "When LightGBM and CatBoost rank the features alike, the explanations describe the segments rather than one "
        "model's quirks. The correlation runs over every feature, so the order of the many unimportant ones lowers "
        "it: check that the top features match."
    )
    importances = [e.global_importance() for e in explanations]
    present = [s for s in order if s in agreement.index]
    table = pd.DataFrame(
        {
            "segment": [names[s] for s in present],
            "rho": [agreement[s] for s in present],
            **{
                kind: [", ".join(feature_label(f) for f in imp[s].nlargest(3).index) for s in present]
                for kind, imp in zip(MODELS, importances, strict=True)
            },
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "segment": st.column_config.TextColumn("Segment", width="medium"),
            "rho": st.column_config.NumberColumn("Spearman", format="%.2f", width="small"),
            **{kind: st.column_config.TextColumn(f"Top 3 ({MODEL_LABELS[kind]})", width="large") for kind in MODELS},
        },
    )


def show_ranking(current: state.Segmentation, model: SegmentationModel, table: pd.DataFrame) -> None:
    st.subheader("Which features tell the segments apart?")
    st.caption(
        "An aid to refine the features you segment on: LightGBM's gain (share of the splits' improvement) and "
        "recursive feature elimination (rank 1 = the last feature left standing) over every numeric feature. Chosen "
        "features ranked low add little to telling the segments apart; unchosen ones ranked high mostly restate "
        "chosen ones."
    )
    ranking_id = f"ranking_{current.fit_id}"
    if not state.asked(
        ranking_id,
        "Rank the features",
        icon=":material/sort:",
        help="Fits LightGBM once per feature (recursive elimination): a few seconds.",
        key="explain_rank",
    ):
        return
    ranked = ranking(current)
    shown = pd.DataFrame(
        {
            "feature": [feature_label(f) for f in ranked.index],
            "used": [f in model.features for f in ranked.index],
            "gain": ranked["gain"].to_numpy(),
            "rfe_rank": ranked["rfe_rank"].to_numpy(),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "feature": "Feature",
            "used": st.column_config.CheckboxColumn("Segmented on", help="Chosen on the Segments page."),
            "gain": st.column_config.ProgressColumn(
                "Gain share", format="percent", min_value=0.0, max_value=float(max(shown["gain"].max(), 1e-9))
            ),
            "rfe_rank": st.column_config.NumberColumn("Elimination rank", format="%d", help="1 = most useful."),
        },
    )
    st.page_link("ui/segments_page.py", label="Change the features on the Segments page", icon=":material/tune:")


if __name__ == "__main__":
    render()
