"""Plotly charts of the customer features and the named RFM segments (the app renders them; no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

SHARE_COLORS = {"Customers": "#94a3b8", "Revenue": "#2563eb"}
RFM_SEGMENT_COLORS = {
    "Champions": "#15803d",
    "Loyal": "#22c55e",
    "Potential Loyalist": "#86efac",
    "New": "#0ea5e9",
    "Promising": "#7dd3fc",
    "Need Attention": "#eab308",
    "About to Sleep": "#fb923c",
    "Can't Lose Them": "#b91c1c",
    "At Risk": "#ef4444",
    "Hibernating": "#a8a29e",
    "Lost": "#57534e",
    "Unclassified": "#d4d4d8",
}
"""Greens for the best segments, blues for the new ones, yellow to red for those slipping away, greys for lost."""
RFM_DISTRIBUTIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("recency_days", "Recency", "Days since the last purchase", False),
    ("frequency", "Frequency", "Purchase orders", True),
    ("monetary", "Monetary", "Net revenue", True),
)
"""(feature, title, axis, log-scaled counts) of the three RFM histograms: orders and spend are heavy-tailed."""


def distribution_chart(values: pd.Series, title: str, axis: str, log_y: bool = False, bins: int = 40) -> go.Figure:
    """Histogram of one feature over customers; ``log_y`` counts on a log axis so the long tail stays visible."""
    fig = px.histogram(x=values, nbins=bins, log_y=log_y)
    fig.update_yaxes(dtick=1 if log_y else None)  # log axes: ticks at 1, 10, 100... only
    fig.update_layout(
        title={"text": title}, xaxis_title=axis, yaxis_title="Customers" + (" (log scale)" if log_y else "")
    )
    return fig


def share_bars(
    segments: Sequence[str],
    customer_share: Sequence[float],
    revenue_share: Sequence[float],
    title: str = "Share of customers and of revenue",
    legend_below: bool = True,
) -> go.Figure:
    """Each segment's share of customers beside its share of revenue, first segment at the top; the legend below
    the chart (a tall chart has room for it) or, with ``legend_below=False``, at its right."""
    fig = go.Figure(
        [
            go.Bar(name=of, x=list(shares), y=list(segments), orientation="h", marker_color=SHARE_COLORS[of])
            for of, shares in (("Customers", customer_share), ("Revenue", revenue_share))
        ]
    )
    fig.update_traces(hovertemplate="%{y}: %{x:.1%}<extra>%{fullData.name}</extra>")
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=list(segments)[::-1])
    fig.update_layout(
        title={"text": title},
        xaxis_title="Share",
        yaxis_title="",
        barmode="group",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0} if legend_below else {},
    )
    return fig


def rfm_treemap(summary: pd.DataFrame) -> go.Figure:
    """Named RFM segments as tiles sized by customers, in their segment colours; the hover adds the revenue share
    and the suggested action. ``summary`` is :func:`~segmentation.features.rfm_summary.rfm_segment_summary`."""
    fig = px.treemap(
        summary,
        path=["segment"],
        values="customers",
        color="segment",
        color_discrete_map=RFM_SEGMENT_COLORS,
        custom_data=["customer_share", "revenue_share", "action"],
    )
    fig.update_traces(
        texttemplate="<b>%{label}</b><br>%{value:,} customers",
        hovertemplate="<b>%{label}</b><br>%{value:,} customers (%{customdata[0]:.1%})<br>"
        "%{customdata[1]:.1%} of revenue<br>%{customdata[2]}<extra></extra>",
    )
    # one text size for every tile: a tile too small for it shows no text (its hover still does) instead of a
    # label shrunk past reading, as "Need Attention" and "Promising" were at 1280 px
    fig.update_layout(title={"text": "Customers per segment"}, uniformtext={"minsize": 11, "mode": "hide"})
    return fig


def rfm_share_bars(summary: pd.DataFrame) -> go.Figure:
    """:func:`share_bars` of the named RFM segments of ``summary`` (best segment at the top), legend at the right."""
    return share_bars(summary["segment"], summary["customer_share"], summary["revenue_share"], legend_below=False)
