"""The one look of the app's charts: a left-aligned title, axis titles, a fixed height and tight margins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go


def titled(fig: go.Figure, title: str, x: str, y: str, height: int) -> go.Figure:
    """``fig`` with a readable title, axis titles, ``height`` pixels and tight margins (returned for chaining)."""
    return fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 8},
        xaxis_title=x,
        yaxis_title=y,
        legend_title_text="",
    )
