"""Customers page: RFM scores and named RFM segments of the loaded data, and a searchable customer table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from segmentation.errors import SegmentationError
from segmentation.features import FEATURES, feature_label
from segmentation.features.plotting import RFM_DISTRIBUTIONS, distribution_chart, rfm_share_bars, rfm_treemap
from segmentation.features.rfm_summary import RFM_SEGMENT_ORDER, rfm_segment_summary
from segmentation.privacy.small_groups import small_group_warning
from ui import components, feature_settings, state
from ui.charts import show

TEXT_COLUMNS = {"rfm_segment", "rfm_code", "country", "channel"}
NUMBER_FORMATS = {"days": "%,d", "orders": "%,d"}
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
    loaded = state.loaded_or_prompt()
    if loaded is None:
        return
    dataset, config = loaded
    st.caption(f"RFM scores and segments of the customers in **{dataset.name}**.")
    try:
        features = feature_settings.controls(dataset, config)
        table = components.customer_table(dataset, config, features)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    show_distributions(table)
    show_segments(rfm_segment_summary(table), features.rfm_bins, config.privacy.min_group_size)
    show_table(table, dataset.name, components.currency(dataset, config))


def show_distributions(table: pd.DataFrame) -> None:
    st.subheader("RFM distributions")
    for cell, (column, title, axis, log_y) in zip(st.columns(3), RFM_DISTRIBUTIONS, strict=True):
        with cell:
            show(distribution_chart(table[column], title, axis, log_y), height=300)


def show_segments(summary: pd.DataFrame, bins: int, k: int) -> None:
    st.subheader("RFM segments")
    small = small_group_warning(
        summary.set_index("segment")["customers"],
        k,
        what="RFM segment",
        consequence="keep them out of reports you share",
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    treemap, shares = st.columns(2)
    with treemap:
        show(rfm_treemap(summary), height=420)
    with shares:
        show(rfm_share_bars(summary), height=420)
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


def show_table(table: pd.DataFrame, name: str, currency: str | None) -> None:
    st.subheader("Customer table")
    search, segments = st.columns([1, 2])
    text = search.text_input(
        "Customer ID contains",
        state.kept("customer_search", ""),
        placeholder="e.g. 12345",
        **state.keeping("customer_search"),
    )
    present = [s for s in RFM_SEGMENT_ORDER if s in set(table["rfm_segment"])]
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
    st.dataframe(view, column_config=column_config(currency))
    components.download(
        st,
        "Download these customers (CSV)",
        lambda: components.csv_text(view, currency),
        f"{name.split('.')[0]}_customers.csv",
    )


def column_config(currency: str | None) -> dict[str, st.column_config.Column]:
    """Readable headers, with the library's feature descriptions as help; money in the file's currency."""
    help_text = {f.name: f.description for f in FEATURES}
    help_text |= {"rfm_code": "R, F and M scores side by side; higher is better.", "rfm_segment": "Named RFM segment."}
    units = {f.name: f.unit for f in FEATURES}
    config: dict[str, st.column_config.Column] = {"customer_id": st.column_config.TextColumn("Customer ID")}
    for column, label in TABLE_COLUMNS.items():
        if column in TEXT_COLUMNS:
            config[column] = st.column_config.TextColumn(label, help=help_text.get(column))
        else:
            unit = units.get(column, "")
            number_format = money_format(currency) if unit == "currency" else NUMBER_FORMATS.get(unit, "localized")
            config[column] = st.column_config.NumberColumn(label, help=help_text.get(column), format=number_format)
    return config


def money_format(currency: str | None) -> str:
    """A printf format for a money column: the currency's symbol and minor unit ("£%,.2f", "¥%,.0f")."""
    from segmentation.formatting import currency_symbol, minor_unit

    return f"{currency_symbol(currency).replace('%', '%%')}%,.{minor_unit(currency)}f"


if __name__ == "__main__":
    render()
