"""Customers page: RFM scores and named RFM segments of the loaded data, and a searchable customer table."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import streamlit as st

from segmentation.config import Config, FeatureConfig
from segmentation.errors import SegmentationError
from segmentation.features import FEATURES, RFM_SEGMENT_RULES, feature_label
from ui import components, state
from ui.components import Dataset

SEGMENT_ORDER = [rule.name for rule in RFM_SEGMENT_RULES] + ["Unclassified"]
SEGMENT_COLORS = {
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
TEXT_COLUMNS = {"rfm_segment", "rfm_code", "country", "channel"}
NUMBER_FORMATS = {"days": "%,d", "orders": "%,d", "currency": "%,.2f"}
TABLE_COLUMNS = {
    "rfm_segment": "Segment",
    "rfm_code": "RFM code",
    **{
        f: feature_label(f)
        for f in (
            "recency_days",
            "frequency",
            "monetary",
            "avg_order_value",
            "decayed_spend",
            "tenure_days",
            "country",
            "channel",
        )
    },
}


def render() -> None:
    st.title("Customers")
    loaded = state.loaded()
    if loaded is None:
        st.info("No data is loaded yet. Choose the sample or upload a file on the Data page first.")
        st.page_link("ui/data_page.py", label="Go to the Data page", icon=":material/arrow_back:")
        return
    dataset, config = loaded
    st.caption(f"RFM scores and segments of the customers in **{dataset.name}**.")
    try:
        features = feature_controls(dataset, config)
        table = components.customer_table(dataset, config, features)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    show_distributions(table)
    show_segments(segment_summary(table), features.rfm_bins)
    show_table(table, dataset.name)


def feature_controls(dataset: Dataset, config: Config) -> FeatureConfig:
    """As-of date, RFM bins and half-life, with the data's own defaults."""
    default = components.snapshot_default(dataset, config)
    as_of, bins, half_life = st.columns(3)
    as_of_key = f"as_of_{dataset.digest[:16]}"
    chosen: date = as_of.date_input(
        "As-of date",
        state.kept(as_of_key, default),
        format="YYYY-MM-DD",
        **state.keeping(as_of_key),
        help=f"Only purchases before this day count. Default: the day after the last one ({default}).",
    )
    rfm_bins = bins.number_input(
        "RFM score levels",
        min_value=2,
        max_value=10,
        value=state.kept("rfm_bins", 5),
        **state.keeping("rfm_bins"),
        help="Recency, frequency and monetary are each scored 1 (worst) to this number (best), by quantile.",
    )
    days = half_life.number_input(
        "Half-life of recent-weighted spend (days)",
        min_value=1,
        max_value=3650,
        value=state.kept("half_life", 90),
        help="A purchase this many days before the as-of date counts half as much in recent-weighted spend.",
        **state.keeping("half_life"),
    )
    return FeatureConfig(
        as_of=chosen if chosen != default else None, half_life_days=float(days), rfm_bins=int(rfm_bins)
    )


def show_distributions(table: pd.DataFrame) -> None:
    st.subheader("RFM distributions")
    charts = (
        ("recency_days", "Recency", "Days since the last purchase", False),
        ("frequency", "Frequency", "Purchase orders", True),
        ("monetary", "Monetary", "Net revenue", True),
    )
    for cell, (column, title, axis, log_y) in zip(st.columns(3), charts, strict=True):
        with cell:
            fig = px.histogram(table, x=column, nbins=40, log_y=log_y)
            fig.update_yaxes(dtick=1 if log_y else None)  # log axes: ticks at 1, 10, 100... only
            scale = " (log scale)" if log_y else ""
            components.plot(fig, title, axis, f"Customers{scale}", height=300)


def segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Customers, revenue and their shares per named segment, with each segment's rule and suggested action."""
    grouped = table.groupby("rfm_segment")["monetary"].agg(customers="size", revenue="sum")
    summary = grouped.reindex([s for s in SEGMENT_ORDER if s in grouped.index])
    summary["customer_share"] = summary["customers"] / summary["customers"].sum()
    summary["revenue_share"] = summary["revenue"] / summary["revenue"].sum()
    rules = {rule.name: rule for rule in RFM_SEGMENT_RULES}
    summary["r_range"] = [score_range(rules[s].r) if s in rules else "" for s in summary.index]
    summary["fm_range"] = [score_range(rules[s].fm) if s in rules else "" for s in summary.index]
    summary["action"] = [rules[s].action if s in rules else "" for s in summary.index]
    return summary.rename_axis("segment").reset_index()


def score_range(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return str(low) if low == high else f"{low}–{high}"


def show_segments(summary: pd.DataFrame, bins: int) -> None:
    st.subheader("RFM segments")
    treemap, shares = st.columns(2)
    with treemap:
        fig = px.treemap(
            summary,
            path=["segment"],
            values="customers",
            color="segment",
            color_discrete_map=SEGMENT_COLORS,
            custom_data=["customer_share", "revenue_share", "action"],
        )
        fig.update_traces(
            texttemplate="<b>%{label}</b><br>%{value:,} customers",
            hovertemplate="<b>%{label}</b><br>%{value:,} customers (%{customdata[0]:.1%})<br>"
            "%{customdata[1]:.1%} of revenue<br>%{customdata[2]}<extra></extra>",
        )
        components.plot(fig, "Customers per segment", "", "", height=420)
    with shares:
        long = summary.melt(id_vars="segment", value_vars=["customer_share", "revenue_share"], var_name="share")
        long["share"] = long["share"].map({"customer_share": "Customers", "revenue_share": "Revenue"})
        fig = px.bar(
            long,
            x="value",
            y="segment",
            color="share",
            barmode="group",
            orientation="h",
            color_discrete_map={"Customers": "#94a3b8", "Revenue": "#2563eb"},
        )
        fig.update_yaxes(categoryorder="array", categoryarray=summary["segment"].tolist()[::-1])
        fig.update_xaxes(tickformat=".0%")
        components.plot(fig, "Share of customers and of revenue", "Share", "", height=420)
    scale = "" if bins == 5 else f" Scores on your 1–{bins} scale are rescaled to 1–5 for these rules."
    st.caption(f"Segments follow the R × FM grid (FM = average of F and M), scores 1–5.{scale}")
    shown = summary.assign(customer_share=summary["customer_share"] * 100, revenue_share=summary["revenue_share"] * 100)
    st.dataframe(
        shown[["segment", "customers", "customer_share", "revenue_share", "r_range", "fm_range", "action"]],
        hide_index=True,
        height="content",
        column_config={
            "segment": "Segment",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "customer_share": st.column_config.NumberColumn("Share of customers", format="%.1f%%"),
            "revenue_share": st.column_config.NumberColumn("Share of revenue", format="%.1f%%"),
            "r_range": "R score",
            "fm_range": "FM score",
            "action": st.column_config.TextColumn("Suggested action", width="large"),
        },
    )


def show_table(table: pd.DataFrame, name: str) -> None:
    st.subheader("Customer table")
    search, segments = st.columns([1, 2])
    text = search.text_input(
        "Customer ID contains",
        state.kept("customer_search", ""),
        placeholder="e.g. 12345",
        **state.keeping("customer_search"),
    )
    present = [s for s in SEGMENT_ORDER if s in set(table["rfm_segment"])]
    chosen = segments.multiselect(
        "Segments",
        present,
        [s for s in state.kept("segment_filter", []) if s in present],
        placeholder="All segments",
        **state.keeping("segment_filter"),
    )
    view = table[list(TABLE_COLUMNS)]
    if text.strip():
        view = view[view.index.astype(str).str.contains(text.strip(), case=False, regex=False)]
    if chosen:
        view = view[view["rfm_segment"].isin(chosen)]
    st.caption(f"{len(view):,} of {len(table):,} customers")
    st.dataframe(view, column_config=column_config())
    st.download_button(
        "Download these customers (CSV)",
        data=lambda: view.to_csv(),
        file_name=f"{name.split('.')[0]}_customers.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def column_config() -> dict[str, st.column_config.Column]:
    """Readable headers, with the library's feature descriptions as help."""
    help_text = {f.name: f.description for f in FEATURES}
    help_text |= {"rfm_code": "R, F and M scores side by side; higher is better.", "rfm_segment": "Named RFM segment."}
    units = {f.name: f.unit for f in FEATURES}
    config: dict[str, st.column_config.Column] = {"customer_id": st.column_config.TextColumn("Customer ID")}
    for column, label in TABLE_COLUMNS.items():
        if column in TEXT_COLUMNS:
            config[column] = st.column_config.TextColumn(label, help=help_text.get(column))
        else:
            number_format = NUMBER_FORMATS.get(units.get(column, ""), "localized")
            config[column] = st.column_config.NumberColumn(label, help=help_text.get(column), format=number_format)
    return config


if __name__ == "__main__":
    render()
