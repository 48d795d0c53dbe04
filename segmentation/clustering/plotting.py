"""Plotly charts of a segmentation: the choice of k, the customer map, shares, membership, training and agreement.

The app renders them and notebook users can too; nothing here imports Streamlit. Segment order, names and colours
come from :mod:`segmentation.clustering.present`, so every chart shows the segments alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from segmentation.features.definitions import feature_label
from segmentation.features.plotting import share_bars

if TYPE_CHECKING:
    from segmentation.clustering.selection import KSelection

CRITERIA: dict[str, tuple[str, str]] = {
    "inertia": ("Inertia: look for the bend", "Inertia"),
    "silhouette": ("Silhouette: higher is better", "Silhouette"),
    "calinski_harabasz": ("Calinski-Harabasz: higher is better", "Calinski-Harabasz"),
    "davies_bouldin": ("Davies-Bouldin: lower is better", "Davies-Bouldin"),
    "bic": ("BIC: lower is better", "BIC"),
}
"""Column of :attr:`KSelection.table` -> (chart title saying how to read it, axis title)."""
RECOMMENDED_COLOR = "#16a34a"
CHOSEN_COLOR = "#dc2626"
MAP_TITLE = "Customers on a map of the chosen features"
MAP_POINTS = 2_500
"""At most this many customers are drawn on the map (a seeded random sample): the map is SVG, and 4,333 points
kept a revisit of the Segments page over 3 s on 2 cores (docs/benchmarks.md, "First visits in the browser");
2,500 show the same shapes."""


def criterion_chart(selection: KSelection, criterion: str, chosen: int | None = None) -> go.Figure:
    """One criterion of the k search against k, the recommended k as a dashed green line and ``chosen`` (the k in
    use, if scored) as a red circle."""
    title, axis = CRITERIA[criterion]
    table = selection.table
    fig = go.Figure(go.Scatter(x=table["k"], y=table[criterion], mode="lines+markers", name=axis))
    fig.add_vline(x=selection.recommended, line_dash="dash", line_color=RECOMMENDED_COLOR)
    if chosen in set(table["k"]):
        fig.add_trace(
            go.Scatter(
                x=[chosen],
                y=[table.loc[table["k"] == chosen, criterion].iloc[0]],
                mode="markers",
                marker={"size": 13, "color": CHOSEN_COLOR, "symbol": "circle-open", "line": {"width": 3}},
                name="Your k",
            )
        )
    fig.update_xaxes(dtick=1)
    fig.update_layout(title={"text": title}, xaxis_title="Number of segments (k)", yaxis_title=axis, showlegend=False)
    return fig


def map_coordinates(X: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """2-D coordinates of every row of the scaled matrix ``X`` and the share of the total variance each axis shows.

    With a single feature there is nothing to project: the feature itself is x and y is a small seeded random
    spread so the dots do not hide each other (its share is reported as 0).
    """
    from segmentation.clustering.projection import project_2d  # imports scikit-learn

    if X.shape[1] < 2:
        jitter = np.random.default_rng(0).uniform(-1.0, 1.0, len(X))
        return np.column_stack([X[:, 0], jitter]), (1.0, 0.0)
    points = project_2d(X)
    total = float(X.var(axis=0).sum()) or 1.0
    return points, (float(points[:, 0].var() / total), float(points[:, 1].var() / total))


def segment_map(
    points: np.ndarray,
    explained: tuple[float, float],
    features: Sequence[str],
    labels: np.ndarray,
    table: pd.DataFrame,
    names: dict[int, str],
    colors: dict[int, str],
    max_points: int = MAP_POINTS,
) -> go.Figure:
    """Customers as dots on :func:`map_coordinates`, one trace per segment in the order of ``names``.

    ``features`` are the matrix's columns (one feature: its scaled value is the x axis); ``table`` is the feature
    table of the same customers (index customer id; recency, frequency and spend show in the hover). Above
    ``max_points`` customers a seeded random sample of that many is drawn.
    """
    if len(features) > 1:
        axes = (
            f"First principal component ({explained[0]:.0%} of the spread)",
            f"Second principal component ({explained[1]:.0%})",
        )
    else:
        axes = (f"{feature_label(features[0])} (scaled)", "Random spread")
    frame = pd.DataFrame(
        {
            "x": points[:, 0],
            "y": points[:, 1],
            "segment": pd.Series(labels).map(names).to_numpy(),
            "customer": table.index.astype(str),
            "recency": table["recency_days"].to_numpy(),
            "frequency": table["frequency"].to_numpy(),
            "monetary": table["monetary"].to_numpy(),
        }
    )
    if len(frame) > max_points:
        frame = frame.sample(max_points, random_state=0)
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
    fig.update_layout(
        title={"text": MAP_TITLE},
        xaxis_title=axes[0],
        yaxis_title=axes[1],
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
    )
    return fig


def segment_shares(profiles: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    """Each segment's share of customers and of revenue (``profiles`` of a fitted model), in the order of ``names``."""
    data = profiles.loc[list(names)]
    return share_bars(list(names.values()), data["share"], data["revenue_share"])


def membership_histogram(assignments: pd.DataFrame, names: dict[int, str], colors: dict[int, str]) -> go.Figure:
    """Each customer's probability of the segment they were put in (``assignments`` of a soft model), stacked by
    segment on log-scaled counts: mass near 100 % means clear-cut segments."""
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
    fig.update_layout(
        title={"text": "How sure each assignment is (Gaussian mixture)"},
        xaxis_title="Probability of the assigned segment",
        yaxis_title="Customers (log scale)",
        bargap=0.05,
    )
    return fig


def training_curve(loss: Sequence[float]) -> go.Figure:
    """The autoencoder's reconstruction error after each training pass."""
    fig = px.line(x=range(1, len(loss) + 1), y=list(loss), markers=True)
    fig.update_layout(
        title={"text": "Autoencoder training"}, xaxis_title="Training pass", yaxis_title="Reconstruction error"
    )
    return fig


def agreement_heatmap(ari: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Adjusted Rand index between every two methods (``ari`` from :func:`compare_methods`), 0 to 1, with the
    values written in the cells; ``labels`` maps method names to the names shown."""
    shown = [(labels or {}).get(m, m) for m in ari.index]
    fig = px.imshow(ari.to_numpy(), x=shown, y=shown, zmin=0, zmax=1, text_auto=".2f", color_continuous_scale="Blues")
    fig.update_traces(hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>")
    fig.update_layout(
        title={"text": "How much the methods agree (1 = the same segments; adjusted Rand index)"},
        xaxis_title="",
        yaxis_title="",
        coloraxis_colorbar={"title": {"text": "ARI"}},
    )
    return fig
