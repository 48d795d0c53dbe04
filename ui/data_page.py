"""Data page: choose a file, set how it is read and cleaned, check the reports and get an overview."""

from __future__ import annotations

import dataclasses
from typing import Any

import plotly.express as px
import streamlit as st
from babel.numbers import get_currency_name
from streamlit.delta_generator import DeltaGenerator

from segmentation.config import CleaningPolicy, Config, ReadOptions
from segmentation.errors import InputError, SegmentationError
from segmentation.formatting import LOCALE, compact_money, money, number, plural
from segmentation.ingest import FIELDS, REQUIRED, CleaningReport, ValidationReport
from segmentation.ingest.mapping import missing_fields
from segmentation.limits import CLI_FIX, MAX_UPLOAD_MB, check_upload
from segmentation.overview import (
    monthly_revenue_chart,
    partial_note,
    top_countries_chart,
    top_products_chart,
)
from segmentation.pipeline import IngestResult
from ui import components, feature_settings, prefetch, state
from ui.components import Dataset

SAMPLE = "Use the sample data"
UPLOAD = "Upload a file"
FILE_TYPES = ["csv", "gz", "tsv", "txt", "xlsx", "parquet"]
NOT_MAPPED = "—"
FIELD_LABELS = {
    "customer_id": "Customer ID",
    "order_id": "Order / invoice ID",
    "ts": "Order date",
    "product_id": "Product ID",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "amount": "Line amount",
    "description": "Product name",
    "category": "Category",
    "country": "Country",
    "channel": "Channel",
    "email": "Email",
    "currency": "Currency",
}
DELIMITERS = {"Detect": None, "Comma ,": ",", "Semicolon ;": ";", "Tab": "\t", "Pipe |": "|"}
DECIMALS = {"Detect": None, "Point (1.5)": ".", "Comma (1,5)": ","}
DATE_ORDERS = {"Detect": "auto", "Day first (31/12/2024)": "dayfirst", "Month first (12/31/2024)": "monthfirst"}
RETURNS = {"net": "Net against purchases", "drop": "Remove"}
# the currencies offered (a code set in the config but not listed here is offered too)
CURRENCIES = ["GBP", "EUR", "USD", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF"]
CURRENCIES += ["INR", "CNY", "HKD", "SGD", "KRW", "BRL", "MXN", "ZAR", "TRY", "AED", "SAR", "ILS"]
DETECT_CURRENCY = "As the file says"
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", ".": "point"}
ACTION_COLORS = {"removed": "#dc2626", "changed": "#f59e0b"}


def render() -> None:
    st.caption("Load a transactions export, check how it was read and cleaned, and get a first overview.")
    dataset = choose_dataset()
    if dataset is None:
        state.forget()
        return
    previous = state.config_for(dataset) or Config()
    mapping_area, options_area = st.columns([2, 1])
    with options_area:
        read, cleaning = options_form(previous)
    try:
        columns, inferred = components.inspect_file(dataset, dataclasses.replace(read, date_order="auto"))
        with mapping_area:
            mapping = mapping_editor(dataset, columns, previous.mapping or inferred)
        config = Config(read=read, mapping=mapping, cleaning=cleaning)
        result = components.load(dataset, config)
    except SegmentationError as exc:
        state.forget()
        components.show_error(exc)
        return
    state.remember(dataset, config)
    prefetch.start(dataset, config, feature_settings.current(dataset, config))
    show_result(dataset, config, result)


def choose_dataset() -> Dataset | None:
    """The sample or an uploaded file, as the analyst chooses."""
    sources = [SAMPLE, UPLOAD]
    source = st.radio(
        "Data source",
        sources,
        index=sources.index(state.kept("source", SAMPLE)),
        horizontal=True,
        label_visibility="collapsed",
        **state.keeping("source"),
    )
    if source == UPLOAD:
        return uploaded_dataset()
    sample = components.sample_dataset()
    if sample is None:
        st.warning("The sample data set is not part of this installation. Upload a file instead.")
    return sample


def uploaded_dataset() -> Dataset | None:
    """The uploaded file saved to disk; the last upload again when the uploader was reset by a page switch."""
    upload = st.file_uploader(
        "Transactions file",
        type=FILE_TYPES,
        key="upload",
        help=(
            "One row per order line: CSV or TSV (optionally gzip-compressed), Excel .xlsx or Parquet, up to "
            f"{MAX_UPLOAD_MB:,} MB once decompressed. For larger files, {CLI_FIX}."
        ),
    )
    last = state.last_upload()
    if upload is None:
        if last is None:
            st.info("Upload an export with one row per order line: customer, order, date, product, quantity, price.")
            return None
        st.caption(f"Showing **{last[1].name}**, uploaded earlier. Upload another file to replace it.")
        return last[1]
    if last is not None and last[0] == upload.file_id:
        return last[1]
    try:
        check_upload(upload.name, upload)
    except InputError as exc:
        st.error(str(exc), icon=":material/block:")
        return None
    dataset = components.save_upload(upload)
    state.remember_upload(upload.file_id, dataset)
    return dataset


def options_form(previous: Config) -> tuple[ReadOptions, CleaningPolicy]:
    """Reading options and the cleaning policy, starting from the settings used last."""
    read, policy = previous.read, previous.cleaning
    with st.expander("Reading and cleaning options", icon=":material/tune:"):
        left, right = st.columns(2)
        delimiter = choice(left, "Delimiter", DELIMITERS, read.delimiter, "opt_delimiter")
        decimal = choice(right, "Decimal separator", DECIMALS, read.decimal, "opt_decimal")
        date_order = choice(left, "Dates", DATE_ORDERS, read.date_order, "opt_date_order")
        encoding = right.text_input("Encoding", read.encoding or "", placeholder="Detect", key="opt_encoding")
        currency = currency_choice(read.currency)
        st.divider()
        returns = st.radio(
            "Returns and cancellations",
            list(RETURNS),
            format_func=RETURNS.get,
            key="opt_returns",
            index=list(RETURNS).index(policy.returns),
            horizontal=True,
            help="Net: keep them as negative revenue against the customer's purchases. Remove: drop them all.",
        )
        duplicates = st.checkbox("Remove exact duplicate rows", policy.drop_duplicates, key="opt_duplicates")
        prices = st.checkbox("Remove zero or negative prices", policy.drop_nonpositive_price, key="opt_prices")
        outliers = st.checkbox("Remove extreme quantities", policy.outlier_factor is not None, key="opt_outliers")
        factor = st.number_input(
            "Extreme means more than this many times the usual maximum",
            min_value=1.0,
            value=policy.outlier_factor or 10.0,
            step=1.0,
            disabled=not outliers,
            key="opt_factor",
            help=f"The usual maximum is the {policy.outlier_quantile:.1%} quantile of |quantity|.",
        )
        codes = st.text_input(
            "Non-product codes",
            ", ".join(policy.non_product_codes),
            key="opt_codes",
            help="Product IDs of postage, fees and adjustments, separated by commas. These rows are removed.",
        )
    read = ReadOptions(encoding.strip() or None, delimiter, decimal, date_order, currency=currency)
    policy = dataclasses.replace(
        policy,
        returns=returns,
        drop_duplicates=duplicates,
        drop_nonpositive_price=prices,
        outlier_factor=factor if outliers else None,
        non_product_codes=tuple(c.strip() for c in codes.split(",") if c.strip()),
    )
    return read, policy


def choice(area: DeltaGenerator, label: str, options: dict[str, Any], current: Any, key: str) -> Any:
    """A selectbox over labelled values in ``area``, preselecting ``current``."""
    values = list(options.values())
    index = values.index(current) if current in values else 0
    return options[area.selectbox(label, list(options), index=index, key=key)]


def currency_choice(current: str | None) -> str | None:
    """The currency of the amounts: as the file says (a currency column or symbol), or the analyst's choice."""
    codes = CURRENCIES if current is None or current in CURRENCIES else [current, *CURRENCIES]
    options = [DETECT_CURRENCY, *codes]
    choice = st.selectbox(
        "Currency",
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda c: c if c == DETECT_CURRENCY else f"{c} · {get_currency_name(c, locale=LOCALE)}",
        key="opt_currency",
        help="Amounts are shown in this currency. The file may say it in a currency column or with a symbol "
        "(£3.50, 3,50 €, USD 12); choose one here when it does not, or to override it.",
    )
    return None if choice == DETECT_CURRENCY else choice


def mapping_editor(dataset: Dataset, columns: list[str], chosen: dict[str, str | None]) -> dict[str, str | None]:
    """One selectbox per field with the current column preselected; returns field -> column (None: unmapped)."""
    complete = not missing_fields(chosen)
    options = [NOT_MAPPED, *columns]
    mapping: dict[str, str | None] = {}
    with st.expander("Column mapping", expanded=not complete, icon=":material/swap_horiz:"):
        st.caption(
            "Which column of the file holds each field. \\* required, and a line amount or quantity and unit price. "
            "Without an order ID an order is a customer's purchases on one day; without a product ID "
            "recommendations are off."
        )
        cells = st.columns(4)
        for i, field in enumerate(FIELDS):
            required = field in REQUIRED
            current = chosen.get(field)
            with cells[i % 4]:
                column = st.selectbox(
                    FIELD_LABELS[field] + (" \\*" if required else ""),
                    options,
                    index=options.index(current) if current in options else 0,
                    key=f"map_{dataset.digest[:16]}_{field}",
                )
            mapping[field] = None if column == NOT_MAPPED else column
    return mapping


def show_result(dataset: Dataset, config: Config, result: IngestResult) -> None:
    report = result.cleaning
    changed = int(report.affected["action"].eq("changed").sum())
    st.success(
        f"**{dataset.name}**: {number(report.rows_kept)} of {plural(report.rows_in, 'row')} kept. Cleaning removed "
        f"{number(report.rows_removed)} and changed {number(changed)} (details in the cleaning report).",
        icon=":material/check_circle:",
    )
    st.caption(format_line(result.validation.detected))
    currency = result.validation.detected.get("currency")
    overview, cleaning, validation = st.tabs(
        ["Overview", "Cleaning report", f"Validation ({plural(len(result.validation.warnings), 'warning')})"]
    )
    with overview:
        show_overview(dataset, config, currency)
    with cleaning:
        show_cleaning(report, changed, dataset.name)
    with validation:
        show_validation(result.validation, result.mapping.columns)


def format_line(detected: dict[str, Any]) -> str:
    """What was detected about the file, in one line."""
    parts = [f"**Format** {detected.get('kind', '?').upper()}"]
    if detected.get("kind") == "csv":
        delimiter = detected["delimiter"]
        parts += [f"**Encoding** {detected['encoding']}", f"**Delimiter** {SEPARATORS.get(delimiter, delimiter)}"]
    if "decimal" in detected:
        parts.append(f"**Decimal separator** {SEPARATORS.get(detected['decimal'], detected['decimal'])}")
    if "date_format" in detected:
        parts.append(f"**Dates** {detected['date_format']}")
    if "order_definition" in detected:
        parts.append(f"**Orders** {detected['order_definition']}")
    if "currency" in detected:
        parts.append(f"**Currency** {currency_words(detected)}")
    return " · ".join(parts)


def currency_words(detected: dict[str, Any]) -> str:
    """The currency and where it came from: "GBP (set by you)", "EUR (from the prices)", "not stated"."""
    currency, source = detected.get("currency"), detected.get("currency_source")
    if not currency:
        return "not stated in the file"
    return f"{currency} ({'set by you' if source == 'set' else f'from {source}'})"


def show_validation(report: ValidationReport, mapping: dict[str, str]) -> None:
    if report.warnings:
        st.warning("The file was loaded, but check these findings.", icon=":material/warning:")
        st.dataframe(components.issues_frame(report.warnings), hide_index=True)
    else:
        st.success(f"No problems found in the {plural(report.rows_read, 'row')} read.", icon=":material/check:")
    st.caption("Columns used")
    used = [{"Field": FIELD_LABELS[f], "Column in the file": mapping.get(f, NOT_MAPPED)} for f in FIELDS]
    st.dataframe(used, hide_index=True, height="content")


def show_cleaning(report: CleaningReport, changed: int, name: str) -> None:
    kpis = {
        "Rows read": report.rows_in,
        "Rows kept": report.rows_kept,
        "Rows removed": report.rows_removed,
        "Rows changed": changed,
    }
    for cell, (label, value) in zip(st.columns(len(kpis)), kpis.items(), strict=True):
        cell.metric(label, number(value))
    summary = report.summary()
    if summary.empty:
        st.success("Cleaning removed and changed nothing.")
        return
    summary["reason"] = summary["reason"].str.replace("_", " ").str.capitalize()
    st.dataframe(
        summary.rename(columns=str.capitalize),
        hide_index=True,
        height="content",
        column_config={
            "Rows": st.column_config.NumberColumn(format="localized"),
            "Meaning": st.column_config.TextColumn(width="large"),
        },
    )
    st.download_button(
        "Download the affected rows (CSV)",
        data=report.affected_csv,
        file_name=f"{name.split('.')[0]}_cleaning_affected_rows.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        help="Every removed or changed row with its row number in the file and the reason.",
    )
    fig = px.bar(
        summary,
        x="rows",
        y="reason",
        color="action",
        orientation="h",
        color_discrete_map=ACTION_COLORS,
        hover_data=["meaning"],
    )
    fig.update_yaxes(categoryorder="array", categoryarray=summary["reason"].tolist()[::-1])
    components.plot(fig, "Rows removed or changed, by reason", "Rows", "", height=120 + 40 * len(summary))


def show_overview(dataset: Dataset, config: Config, currency: str | None) -> None:
    data = components.overview(dataset, config)
    k = data.kpis
    average = k["revenue"] / max(k["orders"], 1)
    days = (k["last_ts"].date() - k["first_ts"].date()).days + 1
    tiles = {
        "Revenue": (compact_money(k["revenue"], currency), money(k["revenue"], currency)),
        "Orders": (number(k["orders"]), "Purchases; returns and cancellations are not counted as orders."),
        "Average order": (money(average, currency), "Revenue divided by the number of orders."),
        "Customers": (number(k["customers"]), None),
        "Products": (number(k["products"]), None),
        "Rows kept": (number(k["rows"]), None),
        "First day": (f"{k['first_ts']:%Y-%m-%d}", None),
        "Last day": (f"{k['last_ts']:%Y-%m-%d}", None),
        "Days of data": (number(days), "From the first day to the last, both included."),
    }
    items = list(tiles.items())
    for row in (items[:3], items[3:6], items[6:]):  # three a row: a date fits its tile at 1280 px
        for cell, (label, (value, help_text)) in zip(st.columns(3), row, strict=True):
            cell.metric(label, value, help=help_text, border=True)
    if currency:
        st.caption(f"Revenue is net of returns, in {get_currency_name(currency, locale=LOCALE)} ({currency}).")
    else:
        st.caption(
            "Revenue is net of returns. The file does not say its currency: choose it under **Reading and "
            "cleaning options** to show amounts as money."
        )
    unit = f" ({currency})" if currency else ""
    components.plot(monthly_revenue_chart(data.monthly, currency), "Revenue by month", "Month", "Revenue" + unit)
    note = partial_note(data.monthly)
    if note:
        st.caption(f"Partial months are drawn apart (open grey markers): {note}.")
    products, countries = st.columns(2)
    with products:
        if data.products.empty:
            st.info("This file has no product column, so there are no products to rank.")
        else:
            title = f"Top {len(data.products)} products by revenue"
            components.plot(top_products_chart(data.products, currency), title, "Revenue" + unit, "", height=420)
    with countries:
        title = f"Top {len(data.countries)} countries by revenue"
        components.plot(top_countries_chart(data.countries, currency), title, "Revenue" + unit, "", height=420)


if __name__ == "__main__":
    render()
