"""Library figures shown in the app's chart style (``components.plot``), keeping their own titles."""

from __future__ import annotations

import plotly.graph_objects as go

from ui import components


def show(fig: go.Figure, height: int = 360) -> None:
    """Render a figure of a library plotting module (which sets its title and axis titles) at ``height`` pixels."""
    layout = fig.layout
    components.plot(fig, layout.title.text or "", layout.xaxis.title.text or "", layout.yaxis.title.text or "", height)
