"""Plotly charts of segment migration: segment sizes over time, the migration matrix as a heat map and a Sankey
diagram of who moved where. Nothing here imports Streamlit; the History page shows these figures as they are."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, unlabel_rgb

from segmentation.chart_style import titled
from segmentation.clustering.present import NOISE_COLOR
from segmentation.formatting import compact_money
from segmentation.migration import GONE, NEW, sankey_links, segment_sizes

OUTSIDE_COLOR = "#d4d4d8"
"""Colour of the customers new in, or gone from, a snapshot."""


def day_label(value: date) -> str:
    """A snapshot date for people: '1 Mar 2011'."""
    return f"{value.day} {value:%b %Y}"


def migration_colors(segment_colors: dict[str, str]) -> dict[str, str]:
    """Segment name -> colour, plus the grey of ``(new)`` and ``(not in snapshot)``."""
    return segment_colors | {NEW: OUTSIDE_COLOR, GONE: OUTSIDE_COLOR}


def sizes_chart(snapshots: dict[date, pd.Series], segment_order: list[str], colors: dict[str, str]) -> go.Figure:
    """Stacked areas of the customers per segment at each snapshot date (evenly spaced, whatever the dates)."""
    sizes = segment_sizes(snapshots)
    long = sizes.rename_axis("date").reset_index().melt(id_vars="date", var_name="segment", value_name="customers")
    long["date"] = long["date"].map(day_label)
    fig = px.area(
        long,
        x="date",
        y="customers",
        color="segment",
        color_discrete_map=colors,
        category_orders={"segment": [s for s in segment_order if s in sizes.columns]},
        markers=True,
    )
    fig.update_traces(hovertemplate="%{x}: %{y:,} customers<extra>%{fullData.name}</extra>")
    fig.update_xaxes(type="category")
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0})
    return titled(fig, "Customers per segment over time", "Snapshot date", "Customers (stacked)", 400)


def migration_heatmap(matrix: pd.DataFrame, before: date, after: date) -> go.Figure:
    """The migration matrix with its counts, coloured on a log scale so the few who move show next to the many
    who stay."""
    counts = matrix.to_numpy()
    fig = px.imshow(
        np.log1p(counts), x=list(matrix.columns), y=list(matrix.index), color_continuous_scale="Blues", aspect="auto"
    )
    fig.update_traces(
        text=counts, texttemplate="%{text:,}", hovertemplate="%{y} → %{x}: %{text:,} customers<extra></extra>"
    )
    fig.update_layout(coloraxis_showscale=False)
    fig.update_xaxes(side="bottom", tickangle=-30)
    return titled(fig, "Migration matrix", f"Segment on {day_label(after)}", f"Segment on {day_label(before)}", 460)


def rgba(color: str, alpha: float) -> str:
    """A '#rrggbb' or 'rgb(r, g, b)' colour made transparent."""
    red, green, blue = (hex_to_rgb(color) if color.startswith("#") else unlabel_rgb(color))[:3]
    return f"rgba({red:.0f},{green:.0f},{blue:.0f},{alpha})"


def migration_sankey(matrix: pd.DataFrame, before: date, after: date, colors: dict[str, str]) -> go.Figure:
    """Sankey diagram of the matrix: the segments on ``before`` (left) to those on ``after`` (right), one band per
    move with customers, coloured by where it starts."""
    links = sankey_links(matrix)
    sources, targets = list(matrix.index), list(matrix.columns)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": sources + targets,
                "color": [colors.get(n, NOISE_COLOR) for n in sources + targets],
                "pad": 14,
                "thickness": 16,
                "line": {"width": 0},
                "customdata": [day_label(before)] * len(sources) + [day_label(after)] * len(targets),
                "hovertemplate": "%{label} on %{customdata}: %{value:,} customers<extra></extra>",
            },
            link={
                "source": [sources.index(s) for s in links["source"]],
                "target": [len(sources) + targets.index(t) for t in links["target"]],
                "value": links["value"].tolist(),
                "color": [rgba(colors.get(s, NOISE_COLOR), 0.35) for s in links["source"]],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,} customers<extra></extra>",
            },
        )
    )
    return titled(fig, f"From {day_label(before)} (left) to {day_label(after)} (right)", "", "", 460)


GAIN_COLOR, LOSS_COLOR = "#15803d", "#b91c1c"


def value_moves_chart(moves: pd.DataFrame, before: date, after: date, currency: str | None, top: int = 12) -> go.Figure:
    """Horizontal bars of the change in value along the ``top`` moves that changed it most (:func:`value_moves`),
    gains green and losses red, each labelled in the currency."""
    shown = moves.loc[moves["change"].abs().sort_values(ascending=False).index[:top]].sort_values("change")
    labels = shown["source"] + " → " + shown["target"]
    text = [compact_money(v, currency) for v in shown["change"]]
    fig = go.Figure(
        go.Bar(
            x=shown["change"],
            y=labels,
            orientation="h",
            marker_color=[GAIN_COLOR if v >= 0 else LOSS_COLOR for v in shown["change"]],
            text=text,
            textposition="auto",
            customdata=np.column_stack([shown["customers"], text]),
            hovertemplate="%{y}: %{customdata[0]:,} customers, %{customdata[1]}<extra></extra>",
        )
    )
    fig.update_yaxes(type="category")
    return titled(
        fig,
        f"Change in predicted lifetime value, {day_label(before)} to {day_label(after)}",
        f"Change{f' ({currency})' if currency else ''}",
        "",
        max(300, 40 + 32 * len(shown)),
    )
