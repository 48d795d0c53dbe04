"""Plotly charts of an explanation: feature importance per segment, a beeswarm strip of one segment's SHAP pushes
and one customer's waterfall. Nothing here imports Streamlit; the Explain page shows these figures as they are."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.chart_style import titled
from segmentation.clustering.present import feature_value
from segmentation.features import feature_label

if TYPE_CHECKING:
    from segmentation.explain.shap_values import Explanation

PUSH_IN, PUSH_OUT, TOTAL = "#16a34a", "#dc2626", "#64748b"
CATEGORY_COLOR = "#a8a29e"
"""Dots of a categorical feature in the strip (numeric ones run from blue, low, to red, high)."""


def value_text(feature: str, value: object) -> str:
    """A feature value in its unit; categories as they are; no '-0' for a tiny negative value."""
    if not isinstance(value, int | float | np.number):
        return str(value)
    text = feature_value(feature, float(value))
    return text[1:] if text.startswith("-") and not re.search(r"[1-9]", text) else text


def importance_bars(
    importance: pd.DataFrame, order: list[int], names: dict[int, str], colors: dict[int, str], top: int = 12
) -> go.Figure:
    """Stacked horizontal bars of the ``top`` features of :meth:`Explanation.global_importance` (rows in its
    order, most important first), one colour per segment in ``order``."""
    head = importance.head(top)
    labels = [feature_label(f) for f in head.index]
    fig = go.Figure(
        [
            go.Bar(
                x=head[segment],
                y=labels,
                orientation="h",
                name=names[segment],
                marker_color=colors[segment],
                hovertemplate="%{y}: %{x:.2f}<extra>" + names[segment] + "</extra>",
            )
            for segment in order
            if segment in head.columns
        ]
    )
    fig.update_layout(
        barmode="stack", legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0, "traceorder": "normal"}
    )
    fig.update_yaxes(autorange="reversed")
    return titled(fig, "Feature importance per segment", "Mean |SHAP value| (log-odds)", "", 540)


def _strip_rows(explanation: Explanation, customers: int = 500, seed: int = 0) -> np.ndarray:
    """Positions of the (at most ``customers``) sampled customers the strip shows, in the explanation's order."""
    rows = np.arange(len(explanation.data))
    if len(rows) <= customers:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, customers, replace=False))


def shap_strip(explanation: Explanation, segment: int, top: int = 10, customers: int = 500, seed: int = 0) -> go.Figure:
    """Beeswarm-style strip of the ``top`` features of ``segment``: each dot one customer's SHAP push towards the
    segment (x), jittered around its feature's row, coloured by the feature's value (percentile rank, blue low to
    red high; grey for a category)."""
    importance = explanation.global_importance()[segment]
    features = importance.sort_values(ascending=False).index[:top].tolist()
    s = int(np.flatnonzero(explanation.segments == segment)[0])
    rows = _strip_rows(explanation, customers, seed)
    jitter = np.random.default_rng(seed + 1)
    ids = explanation.data.index[rows].astype(str)
    numeric, other = [], []
    for position, feature in enumerate(features):
        values = explanation.data[feature].iloc[rows]
        part = pd.DataFrame(
            {
                "x": explanation.values[rows, explanation.features.index(feature), s],
                "y": position + jitter.uniform(-0.3, 0.3, len(rows)),
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
    scale = {"colorscale": "RdBu_r", "cmin": 0, "cmax": 1}
    bar = {"title": {"text": "Feature value"}, "tickvals": [0, 1], "ticktext": ["low", "high"], "thickness": 12}
    fig = go.Figure()
    for parts, marker in (
        (numeric, {"opacity": 0.75, **scale, "colorbar": bar}),
        (other, {"opacity": 0.6, "color": CATEGORY_COLOR}),
    ):
        if parts:
            frame = pd.concat(parts)
            fig.add_trace(
                go.Scatter(
                    x=frame["x"],
                    y=frame["y"],
                    mode="markers",
                    customdata=frame[["customer", "feature", "value"]].to_numpy(),
                    hovertemplate=hover,
                    marker={"size": 5, **({"color": frame["color"]} if "color" in frame else {}), **marker},
                    showlegend=False,
                )
            )
    fig.add_vline(x=0, line_color="#94a3b8", line_width=1)
    fig.update_yaxes(
        tickvals=list(range(len(features))), ticktext=[feature_label(f) for f in features], autorange="reversed"
    )
    return titled(fig, "How each feature pushes customers into the segment", "SHAP value (log-odds)", "", 470)


def customer_waterfall(
    pushes: pd.DataFrame, base: float, segment_name: str, model_label: str, top: int = 10
) -> go.Figure:
    """Waterfall from the surrogate's base value, through the ``top`` pushes of :meth:`Explanation.customer`
    (largest first) and the sum of the others, to this customer's score for their segment (log-odds)."""
    head, rest = pushes.head(top), pushes.iloc[top:]
    steps = [f"{feature_label(f)} = {value_text(f, v)}" for f, v in zip(head["feature"], head["value"], strict=True)]
    values = head["shap"].astype(float).tolist()
    if len(rest):
        steps.append(f"{len(rest)} other features")
        values.append(float(rest["shap"].sum()))
    total = base + sum(values)
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute", *["relative"] * len(values), "total"],
            y=["Average customer (base value)", *steps, "This customer"],
            x=[base, *values, total],
            text=[f"{base:.2f}", *[f"{p:+.2f}" for p in values], f"{total:.2f}"],
            textposition="outside",
            increasing={"marker": {"color": PUSH_IN}},
            decreasing={"marker": {"color": PUSH_OUT}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": "#cbd5e1"}},
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
            cliponaxis=False,
        )
    )
    levels = np.cumsum([base, *values])
    low, high = min(0.0, float(levels.min())), max(0.0, float(levels.max()))
    pad = 0.18 * (high - low or 1.0)  # room for the numbers printed next to the bars
    fig.update_xaxes(range=[low - pad, high + pad])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    return titled(
        fig,
        f"Why this customer is in {segment_name}",
        f"{model_label} score for {segment_name} (log-odds)",
        "",
        120 + 34 * (len(steps) + 2),
    )
