"""Plotly charts of the value models (the app renders them; nothing here imports Streamlit)."""

from __future__ import annotations

from itertools import pairwise

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
        xaxis_type="category",  # "0".."6" and "7+" are groups, not numbers
        yaxis_title="mean orders per customer",
    )
    return figure


def clv_histogram(table: pd.DataFrame, horizon_days: float, currency: str | None = None) -> go.Figure:
    """How the predicted lifetime value spreads over customers (log-scaled counts), its total (in ``currency``)
    under the title, where a half-width chart has room for it."""
    from segmentation.formatting import money, plural

    figure = go.Figure(go.Histogram(x=table["clv"], nbinsx=50, hovertemplate="CLV %{x}: %{y} customers"))
    total = f"{money(table['clv'].sum(), currency)} in total, {plural(len(table), 'customer')}"
    figure.update_layout(
        title={"text": f"Predicted CLV over {horizon_days:g} days", "subtitle": {"text": total}},
        xaxis_title="predicted CLV (discounted revenue)",
        yaxis_title="customers (log scale)",
        yaxis_type="log",
        yaxis_dtick=1,  # ticks at 1, 10, 100... only
        bargap=0.05,
    )
    return figure


RECENCY_EDGES = (0, 30, 60, 90, 180, 365, float("inf"))
FREQUENCY_EDGES = (0, 1, 2, 3, 5, 10, 20, float("inf"))


def _bands(edges: tuple[float, ...], unit: str) -> list[str]:
    return [
        f"{low:g}+ {unit}" if high == float("inf") else f"{low:g}-{high - 1:g} {unit}" if high - low > 1 else f"{low:g}"
        for low, high in pairwise(edges)
    ]


def p_alive_heatmap(table: pd.DataFrame) -> go.Figure:
    """Mean P(alive) over days since the last order x repeat orders: who the model still counts as a customer.

    Each cell is the mean over its customers (their number is in the hover); an empty cell has none.
    """
    since = pd.cut(table["T"] - table["recency"], RECENCY_EDGES, right=False, labels=_bands(RECENCY_EDGES, "days"))
    repeat = pd.cut(table["frequency"], FREQUENCY_EDGES, right=False, labels=_bands(FREQUENCY_EDGES, "orders"))
    grouped = table.groupby([repeat, since], observed=False)["p_alive"]
    mean, count = grouped.mean().unstack(), grouped.size().unstack()
    figure = go.Figure(
        go.Heatmap(
            z=mean.to_numpy(),
            x=[str(c) for c in mean.columns],
            y=[str(i) for i in mean.index],
            customdata=count.to_numpy(),
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "P(alive)"},
            hovertemplate="%{y}, last order %{x} ago: P(alive) %{z:.2f} (%{customdata} customers)<extra></extra>",
        )
    )
    figure.update_layout(
        title="P(alive) by days since the last order and repeat orders",
        xaxis_title="days since the last order",
        yaxis_title="repeat orders",
        xaxis_type="category",
        yaxis_type="category",  # "0", "1", "2" are bands, not numbers
    )
    return figure


def value_risk_scatter(table: pd.DataFrame, min_clv: float, min_churn: float) -> go.Figure:
    """Every customer by predicted CLV and churn probability; the top-right corner (both above the thresholds,
    shaded) is the "valuable and at risk" audience."""
    chosen = (table["clv"] >= min_clv) & (table["churn_probability"] >= min_churn)
    figure = go.Figure(
        [
            go.Scattergl(
                name=name,
                x=table.loc[mask, "clv"].clip(lower=1.0),
                customdata=table.loc[mask, "clv"],
                y=table.loc[mask, "churn_probability"],
                text=table.index[mask].astype(str),
                mode="markers",
                marker={"size": 5, "opacity": 0.6, "color": color},
                hovertemplate="%{text}: CLV %{customdata:,.2f}, churn %{y:.0%}<extra></extra>",
            )
            for name, mask, color in (("others", ~chosen, "#94a3b8"), ("valuable and at risk", chosen, "#dc2626"))
        ]
    )
    figure.add_shape(
        type="rect",
        x0=max(min_clv, 1.0),
        x1=max(float(table["clv"].max()), min_clv),
        y0=min_churn,
        y1=1,
        fillcolor="#fecaca",
        opacity=0.3,
        line_width=0,
        layer="below",
    )
    figure.update_layout(
        title=f"Valuable and at risk: {int(chosen.sum()):,} customers with CLV >= {min_clv:,.0f} and churn >= "
        f"{min_churn:.0%}",
        xaxis_title="predicted CLV (log scale; below 1 shown at 1)",
        xaxis_type="log",
        yaxis_title="churn probability",
        yaxis_tickformat=".0%",
    )
    return figure


def segment_risk_chart(risk: pd.DataFrame) -> go.Figure:
    """Mean churn probability per segment (from :func:`segment_risk`), the CLV at risk in the hover."""
    figure = go.Figure(
        go.Bar(
            x=[str(s) for s in risk.index],
            y=risk["churn_probability"],
            customdata=risk[["customers", "clv_at_risk"]].to_numpy(),
            hovertemplate="%{x}: %{y:.0%} mean churn risk, %{customdata[0]} customers, CLV at risk "
            "%{customdata[1]:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(title="Churn risk per segment", xaxis_title="segment", yaxis_title="mean churn probability")
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    return figure


def churn_push_chart(contributions: pd.Series, top: int = 8) -> go.Figure:
    """One customer's strongest pushes towards (red) and away from (green) churning, in log-odds (TreeSHAP)."""
    strongest = contributions.reindex(contributions.abs().sort_values(ascending=False).index[:top])[::-1]
    figure = go.Figure(
        go.Bar(
            x=strongest.to_numpy(),
            y=[str(i) for i in strongest.index],
            orientation="h",
            marker_color=["#dc2626" if v > 0 else "#16a34a" for v in strongest],
            hovertemplate="%{y}: %{x:+.2f} log-odds<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Why customer {contributions.name} is at risk", xaxis_title="push towards churning (log-odds)"
    )
    return figure
