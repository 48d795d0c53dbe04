"""Explain page: why a customer is in their segment, and what defines each segment (surrogate models + SHAP)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from segmentation.clustering import NOISE, SegmentationModel
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, feature_value, ordered_segments, segment_colors
from segmentation.errors import SegmentationError
from segmentation.explain import (
    MODELS,
    Explanation,
    SegmentSurrogate,
    explain,
    importance_agreement,
    rank_features,
    segment_drivers,
    surrogate_inputs,
)
from segmentation.explain.drivers import SOME_UNDEFINED, undefined_meaning
from segmentation.features import feature_label
from ui import components, fairness_panel, state

MODEL_LABELS = {"lightgbm": "LightGBM", "catboost": "CatBoost"}
SAMPLE_SIZE = 2_000
TOP_FEATURES = 10
IMPORTANCE_FEATURES = 12
STRIP_CUSTOMERS = 500
PICKER_OPTIONS = 20_000
LEFT_OUT = ("rfm_code", "rfm_segment")
PUSH_IN, PUSH_OUT = "#16a34a", "#dc2626"


def render() -> None:
    st.title("Explain")
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
        results = {kind: explanation(current, kind) for kind in MODELS}
    except SegmentationError as exc:
        components.show_error(exc)
        return

    show_fidelity(results, order, names, len(table))
    kind = st.segmented_control(
        "Explaining model",
        list(MODELS),
        default=state.kept("explain_model", MODELS[0]),
        format_func=MODEL_LABELS.get,
        required=True,
        help="Both surrogates are trained; choose whose SHAP values the charts below show.",
        **state.keeping("explain_model"),
    )
    _, expl, drivers = results[kind]
    show_drivers(model, table, drivers, order, names, colors, kind)
    show_importance(expl, order, names, colors, kind)
    show_customer(current, kind, model, table, expl, names)
    show_agreement(results, order, names)
    show_ranking(current, model, table)
    fairness_panel.render(current)


# --- cached computations (keyed by the segmentation's settings, which include the data set's digest) -------------


def inputs(current: state.Segmentation) -> pd.DataFrame:
    """The customer features as the surrogates see them (RFM scores, codes and names left out: they restate RFM)."""
    table = components.customer_table(current.dataset, current.config, current.features)
    return surrogate_inputs(table.drop(columns=[c for c in table if c.endswith("_score") or c in LEFT_OUT]))


def labels_of(current: state.Segmentation) -> np.ndarray:
    s = current
    return components.fit_segmentation(s.dataset, s.config, s.features, s.chosen, s.method, s.params).labels_


@st.cache_data(show_spinner=False, max_entries=16)
def surrogate(current: state.Segmentation, kind: str) -> SegmentSurrogate:
    """The surrogate classifier of the segmentation's labels, with its cross-validated fidelity."""
    return SegmentSurrogate(kind).fit(inputs(current), labels_of(current))


@st.cache_data(show_spinner=False, max_entries=16)
def explanation(current: state.Segmentation, kind: str) -> tuple[dict[str, Any], Explanation, pd.DataFrame]:
    """Fidelity, SHAP values on a stratified sample, and the top drivers of every segment."""
    model = surrogate(current, kind)
    expl = explain(model, inputs(current), labels_of(current), sample_size=SAMPLE_SIZE)
    return model.fidelity_, expl, segment_drivers(expl)


@st.cache_data(show_spinner="Explaining this customer…", max_entries=64)
def customer_explanation(
    current: state.Segmentation, kind: str, customer_id: str
) -> tuple[pd.DataFrame, float, dict[int, float]]:
    """Feature pushes of one customer towards their own segment, the base value, and the surrogate's probabilities."""
    expl = explanation(current, kind)[1]
    model = surrogate(current, kind)
    X = inputs(current)
    if customer_id not in expl.data.index:  # outside the SHAP sample: explain this one row
        row = X.index.get_loc(customer_id)
        expl = explain(model, X.loc[[customer_id]], labels_of(current)[[row]], sample_size=None)
    frame = expl.customer(customer_id)
    proba = model.predict_proba(X.loc[[customer_id]])[0]
    return (
        frame,
        float(frame.attrs["base_value"]),
        {int(c): float(p) for c, p in zip(model.classes_, proba, strict=True)},
    )


@st.cache_data(show_spinner="Ranking the features (LightGBM gain and recursive elimination)…", max_entries=16)
def ranking(current: state.Segmentation) -> pd.DataFrame:
    X = inputs(current)
    return rank_features(X.select_dtypes("number"), labels_of(current))


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
    with (
        state.cancellable(run_id, "explain_cancel"),
        st.status("Training the surrogate models…", expanded=True) as status,
    ):
        for i, kind in enumerate(MODELS, 1):
            status.write(
                f"{MODEL_LABELS[kind]} ({i} of {len(MODELS)}): 3-fold cross-validation, final fit, SHAP values on "
                f"up to {SAMPLE_SIZE:,} customers…"
            )
            explanation(current, kind)
        status.update(label="Trained both surrogate models", state="complete", expanded=False)
    state.request(trained_id)
    return True


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
    measures = ["Accuracy", "Macro-F1", *[f"Recall of {names[s]}" for s in order]]
    table = pd.DataFrame(
        {
            MODEL_LABELS[kind]: [
                percent(fidelity["accuracy"]),
                f"{fidelity['macro_f1']:.2f}" if np.isfinite(fidelity["macro_f1"]) else "n/a",
                *[percent(fidelity["recall"].get(int(s), np.nan)) for s in order],
            ]
            for kind, (fidelity, _, _) in results.items()
        },
        index=pd.Index(measures, name="measure"),
    )
    left, right = st.columns([2, 3])
    left.dataframe(table, column_config={"measure": "Measure"})
    right.markdown(
        "- **Accuracy**: share of customers put in their own segment.\n"
        "- **Macro-F1**: precision and recall averaged over the segments, so a small segment counts as much as a "
        "large one; below 0.80 the explanations carry a warning.\n"
        "- **Recall of a segment**: share of its customers the surrogate finds. A low one means the explanations of "
        "that segment are the least reliable."
    )


def percent(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "n/a"


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
) -> None:
    st.subheader("What defines each segment")
    st.caption(
        f"**Profile**: what sets the segment apart from the typical customer (medians). **Drivers**: the three "
        f"features that push customers into the segment most, according to {MODEL_LABELS[kind]}; each bound holds "
        "for three in four customers of the segment."
    )
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
                    else components.trait_lines(row, overall, n=2)
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
        top = importance.head(IMPORTANCE_FEATURES)
        fig = go.Figure(
            [
                go.Bar(
                    x=top[segment],
                    y=[feature_label(f) for f in top.index],
                    orientation="h",
                    name=names[segment],
                    marker_color=colors[segment],
                    hovertemplate="%{y}: %{x:.2f}<extra>" + names[segment] + "</extra>",
                )
                for segment in order
                if segment in top.columns
            ]
        )
        fig.update_layout(
            barmode="stack",
            legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0, "traceorder": "normal"},
        )
        fig.update_yaxes(autorange="reversed")
        components.plot(fig, "Feature importance per segment", "Mean |SHAP value| (log-odds)", "", height=540)
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
        show_strip(expl, importance, int(segment), names[segment])


def show_strip(expl: Explanation, importance: pd.DataFrame, segment: int, name: str) -> None:
    """Beeswarm-style strip: each dot a customer's SHAP push towards ``segment``, coloured by the feature's value."""
    features = importance[segment].sort_values(ascending=False).index[:TOP_FEATURES].tolist()
    s = int(np.flatnonzero(expl.segments == segment)[0])
    rng = np.random.default_rng(0)
    rows = np.arange(len(expl.data))
    if len(rows) > STRIP_CUSTOMERS:
        rows = np.sort(rng.choice(rows, STRIP_CUSTOMERS, replace=False))
    ids = expl.data.index[rows].astype(str)
    numeric, other = [], []
    for position, feature in enumerate(features):
        j = expl.features.index(feature)
        values = expl.data[feature].iloc[rows]
        part = pd.DataFrame(
            {
                "x": expl.values[rows, j, s],
                "y": position + rng.uniform(-0.3, 0.3, len(rows)),
                "customer": ids,
                "feature": feature_label(feature),
            }
        )
        if pd.api.types.is_numeric_dtype(values):
            part["color"] = values.rank(pct=True).to_numpy()
            part["value"] = [feature_value(feature, v) for v in values]
            numeric.append(part)
        else:
            part["value"] = values.astype(str).to_numpy()
            other.append(part)
    hover = "<b>Customer %{customdata[0]}</b><br>%{customdata[1]} = %{customdata[2]}<br>push %{x:+.2f}<extra></extra>"
    fig = go.Figure()
    if numeric:
        frame = pd.concat(numeric)
        fig.add_trace(
            go.Scatter(
                x=frame["x"],
                y=frame["y"],
                mode="markers",
                customdata=frame[["customer", "feature", "value"]].to_numpy(),
                hovertemplate=hover,
                marker={
                    "size": 5,
                    "opacity": 0.75,
                    "color": frame["color"],
                    "colorscale": "RdBu_r",
                    "cmin": 0,
                    "cmax": 1,
                    "colorbar": {
                        "title": {"text": "Feature value"},
                        "tickvals": [0, 1],
                        "ticktext": ["low", "high"],
                        "thickness": 12,
                    },
                },
                showlegend=False,
            )
        )
    if other:
        frame = pd.concat(other)
        fig.add_trace(
            go.Scatter(
                x=frame["x"],
                y=frame["y"],
                mode="markers",
                customdata=frame[["customer", "feature", "value"]].to_numpy(),
                hovertemplate=hover,
                marker={"size": 5, "opacity": 0.6, "color": "#a8a29e"},
                showlegend=False,
            )
        )
    fig.add_vline(x=0, line_color="#94a3b8", line_width=1)
    fig.update_yaxes(
        tickvals=list(range(len(features))), ticktext=[feature_label(f) for f in features], autorange="reversed"
    )
    components.plot(fig, "How each feature pushes customers into the segment", "SHAP value (log-odds)", "", height=470)
    st.caption(
        f"Each dot is one of {len(rows):,} sampled customers: right of the line the feature pushes them towards "
        f"{components.escape(name)}, left away from it. Red = a high value of the feature, blue = a low one (grey: a category)."
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
                "shap": st.column_config.NumberColumn("Push (log-odds)", format="%+.2f"),
            },
        )


def value_text(feature: str, value: object) -> str:
    """A feature value in its unit; categories as they are; no '-0' for a tiny negative value."""
    if not isinstance(value, int | float | np.number):
        return str(value)
    text = feature_value(feature, float(value))
    return text[1:] if text.startswith("-") and not re.search(r"[1-9]", text) else text


def waterfall(frame: pd.DataFrame, base: float, segment_name: str, kind: str) -> None:
    """Plotly waterfall from the surrogate's base value, feature by feature, to this customer's score."""
    top = frame.head(TOP_FEATURES)
    rest = frame.iloc[TOP_FEATURES:]
    steps = [f"{feature_label(f)} = {value_text(f, v)}" for f, v in zip(top["feature"], top["value"], strict=True)]
    pushes = top["shap"].tolist()
    if len(rest):
        steps.append(f"{len(rest)} other features")
        pushes.append(float(rest["shap"].sum()))
    total = base + sum(pushes)
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute", *["relative"] * len(pushes), "total"],
            y=["Average customer (base value)", *steps, "This customer"],
            x=[base, *pushes, total],
            text=[f"{base:.2f}", *[f"{p:+.2f}" for p in pushes], f"{total:.2f}"],
            textposition="outside",
            increasing={"marker": {"color": PUSH_IN}},
            decreasing={"marker": {"color": PUSH_OUT}},
            totals={"marker": {"color": "#64748b"}},
            connector={"line": {"color": "#cbd5e1"}},
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    levels = np.cumsum([base, *pushes])
    low, high = min(0.0, float(levels.min())), max(0.0, float(levels.max()))
    pad = 0.18 * (high - low or 1.0)  # room for the numbers printed next to the bars
    fig.update_xaxes(range=[low - pad, high + pad])
    fig.update_yaxes(autorange="reversed")
    fig.update_traces(cliponaxis=False)
    fig.update_layout(showlegend=False)
    components.plot(
        fig,
        f"Why this customer is in {segment_name}",
        f"{MODEL_LABELS[kind]} score for {segment_name} (log-odds)",
        "",
        height=120 + 34 * (len(steps) + 2),
    )
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
