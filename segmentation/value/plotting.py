"""Plotly charts of the value models (the app renders them; nothing here imports Streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def calibration_chart(calibration: pd.DataFrame, holdout_days: float | None = None) -> go.Figure:
    """Actual against predicted holdout orders per customer, grouped by calibration repeat orders (0..7+).

    ``calibration`` is :attr:`BacktestResult.calibration`; bars close together mean the model tracks each group.
    """
    period = f" in the {holdout_days:g}-day holdout" if holdout_days else " in the holdout"
    x = [str(i) for i in calibration.index]
    figure = go.Figure(
        [
            go.Bar(name="actual", x=x, y=calibration["actual_orders"], customdata=calibration["customers"]),
            go.Bar(
                name="BG/NBD predicted", x=x, y=calibration["predicted_orders"], customdata=calibration["customers"]
            ),
        ]
    )
    figure.update_traces(hovertemplate="%{y:.2f} orders per customer (%{customdata} customers)")
    figure.update_layout(
        barmode="group",
        title=f"Orders per customer{period}, actual vs predicted",
        xaxis_title="repeat orders in the calibration period",
        yaxis_title="mean orders per customer",
    )
    return figure
