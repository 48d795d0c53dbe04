"""The first look at clean transactions: headline numbers, revenue by month, top products and countries, charts.

Pure functions of the clean transactions table (see docs/architecture.md), so the Data page, the CLI summary and
the tests count the same way: one definition of an order (a purchase, not a return), of revenue (net of returns)
and of a partial month (the data covers only some of its days, as December 2011 in Online Retail: 9 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from segmentation.formatting import currency_symbol, money, plural
from segmentation.pipeline import summary_kpis
from segmentation.sql import connect

if TYPE_CHECKING:
    import plotly.graph_objects as go

PARTIAL_COLOR = "#9ca3af"
FULL_COLOR = "#2563eb"


@dataclass(frozen=True)
class Overview:
    """Headline numbers and small aggregates of the clean transactions."""

    kpis: dict[str, int | float | datetime | None]
    """rows, customers, orders, products, revenue, first_ts, last_ts (see :func:`summary_kpis`)."""
    monthly: pd.DataFrame
    """See :func:`monthly_revenue`."""
    products: pd.DataFrame
    """product_id, description, revenue: the best sellers first."""
    countries: pd.DataFrame
    """country, revenue, customers: the largest first."""


def _query(transactions: pa.Table, sql: str) -> pd.DataFrame:
    """``sql`` on ``transactions`` (table ``t``) as a frame."""
    with connect() as con:
        con.register("t", transactions)
        return con.sql(sql).df()


def monthly_revenue(transactions: pa.Table) -> pd.DataFrame:
    """Revenue per calendar month with how many of its days the data covers.

    Columns: month (first day), revenue, days_covered, days_in_month, partial. Only the first and the last month
    can be partial: the data starts after the 1st or ends before the month's last day. A chart that draws a
    partial month like a full one shows a cliff that is not in the business (December 2011 in Online Retail).
    """
    monthly = _query(
        transactions,
        """WITH span AS (SELECT min(ts)::DATE AS first_day, max(ts)::DATE AS last_day FROM t)
           SELECT date_trunc('month', ts)::DATE AS month, sum(amount) AS revenue,
                  any_value(first_day) AS first_day, any_value(last_day) AS last_day
           FROM t, span GROUP BY 1 ORDER BY 1""",
    )
    month = pd.to_datetime(monthly["month"])
    month_end = month + pd.offsets.MonthEnd(0)
    start = month.clip(lower=pd.to_datetime(monthly["first_day"]))
    end = month_end.clip(upper=pd.to_datetime(monthly["last_day"]))
    days_in_month = month.dt.days_in_month
    days_covered = (end - start).dt.days + 1
    return pd.DataFrame(
        {
            "month": month,
            "revenue": monthly["revenue"].astype(float),
            "days_covered": days_covered.astype(int),
            "days_in_month": days_in_month.astype(int),
            "partial": days_covered < days_in_month,
        }
    )


def top_products(transactions: pa.Table, top: int = 10) -> pd.DataFrame:
    """The ``top`` products by revenue: product_id, description (its most frequent name; may be empty), revenue."""
    return _query(
        transactions,
        f"""SELECT product_id, mode(description) AS description, sum(amount) AS revenue FROM t
            WHERE product_id IS NOT NULL GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT {int(top)}""",
    )


def top_countries(transactions: pa.Table, top: int = 10) -> pd.DataFrame:
    """The ``top`` countries by revenue (``unknown`` where no country is given): country, revenue, customers."""
    return _query(
        transactions,
        f"""SELECT coalesce(country, 'unknown') AS country, sum(amount) AS revenue,
                   count(DISTINCT customer_id) AS customers
            FROM t GROUP BY 1 ORDER BY revenue DESC, country LIMIT {int(top)}""",
    )


def overview(transactions: pa.Table, top: int = 10) -> Overview:
    """Everything the Data page's overview shows, computed from the clean transactions."""
    return Overview(
        summary_kpis(transactions),
        monthly_revenue(transactions),
        top_products(transactions, top),
        top_countries(transactions, top),
    )


def partial_note(monthly: pd.DataFrame) -> str:
    """One sentence naming the partial months ("December 2011 has data for 9 of 31 days"), or ``""``."""
    partial = monthly[monthly["partial"]]
    parts = [
        f"{row.month:%B %Y} has data for {row.days_covered} of {row.days_in_month} days"
        for row in partial.itertuples(index=False)
    ]
    return "; ".join(parts)


def monthly_revenue_chart(monthly: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Revenue by month as a line; partial months drawn apart (grey, open markers, dotted link, "partial" in the
    hover) so their drop reads as missing days, not lost business."""
    import plotly.graph_objects as go

    hover = [
        f"{row.month:%B %Y}<br>{money(row.revenue, currency)}"
        + (f"<br>partial: {row.days_covered} of {row.days_in_month} days" if row.partial else "")
        for row in monthly.itertuples(index=False)
    ]
    monthly = monthly.assign(hover=hover)
    full = monthly[~monthly["partial"]]
    fig = go.Figure()
    fig.add_scatter(
        x=monthly["month"],
        y=monthly["revenue"],
        mode="lines",
        line={"color": PARTIAL_COLOR, "dash": "dot"},
        hoverinfo="skip",
        showlegend=False,
    )
    fig.add_scatter(
        x=full["month"],
        y=full["revenue"],
        mode="lines+markers",
        line={"color": FULL_COLOR},
        name="Full month",
        hovertext=full["hover"],
        hoverinfo="text",
    )
    partial = monthly[monthly["partial"]]
    if len(partial):
        fig.add_scatter(
            x=partial["month"],
            y=partial["revenue"],
            mode="markers",
            marker={"color": "white", "size": 10, "line": {"color": PARTIAL_COLOR, "width": 2}},
            name="Partial month",
            hovertext=partial["hover"],
            hoverinfo="text",
        )
    fig.update_yaxes(rangemode="tozero", tickprefix=currency_symbol(currency), tickformat="~s")
    fig.update_layout(legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"})
    return fig


def _ranked_bars(frame: pd.DataFrame, label: pd.Series, currency: str | None, extra: pd.Series | None) -> go.Figure:
    import plotly.graph_objects as go

    hover = [money(v, currency) for v in frame["revenue"]]
    if extra is not None:
        hover = [f"{h}<br>{e}" for h, e in zip(hover, extra, strict=True)]
    fig = go.Figure(
        go.Bar(
            x=frame["revenue"], y=label, orientation="h", hovertext=hover, hoverinfo="y+text", marker_color=FULL_COLOR
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickprefix=currency_symbol(currency), tickformat="~s")
    return fig


def top_products_chart(products: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Horizontal bars of the top products by revenue, named by description (the id where it has none)."""
    label = products["description"].fillna(products["product_id"]).str.slice(0, 40)
    return _ranked_bars(products, label, currency, "product " + products["product_id"])


def top_countries_chart(countries: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Horizontal bars of the top countries by revenue, with their customers in the hover."""
    customers = countries["customers"].map(lambda n: plural(n, "customer"))
    return _ranked_bars(countries, countries["country"], currency, customers)
