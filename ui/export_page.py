"""Export page: the segments as an import file for a CRM or e-mail tool, and saving the run to reopen it later."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from recommenders.names import MODEL_LABELS
from segmentation.clustering import NOISE, SegmentationModel
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, ordered_segments
from segmentation.errors import SegmentationError
from segmentation.export import export_table
from segmentation.store import RunStore, run_id_for
from ui import components, recommend_widgets, state
from ui.export_widgets import (
    CRM_LABELS,
    as_of_date,
    crm_choice,
    emails,
    needs_emails,
    offer_downloads,
    run_config,
    write_export,
)

FORMATS = {"csv": "CSV", "parquet": "Parquet"}
PREVIEW_ROWS = 10
EXPORTED_PRODUCTS = 3


def render() -> None:
    current = state.segmentation()
    if current is None:
        components.no_segmentation_yet("writes them as an import file for your CRM and saves the run")
        return
    try:
        model = state.current_model(current)
        table = components.customer_table(current.dataset, current.config, current.features)
        mails = emails(current.dataset, current.config)
        as_of = as_of_date(current)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    order = ordered_segments(model)
    names = display_names(model, order)
    settings = run_config(current)
    run_id = run_id_for(settings, current.dataset.digest)
    st.caption(
        f"Get the segments of **{components.escape(current.dataset.name)}** into your CRM: {METHOD_LABELS[current.method]}, "
        f"{len(order)} segments, customer features as of {as_of}. Every row carries the run id `{run_id}`."
    )
    assignments = model.fitted_assignments(table)
    assignments["segment_name"] = assignments["segment"].map(names)
    st.subheader("Export for your CRM")
    products, recommending = recommendations(current)
    workflow = components.analysis(current.dataset, current.config)
    descriptions = None if products is None else workflow.interactions().descriptions
    export = export_table(assignments, table, mails, products, run_id, as_of, product_names=descriptions)
    manifest = {"run_id": run_id, "data_fingerprint": current.dataset.digest, **settings}
    run = manifest | ({"recommendations": recommending} if recommending else {})
    show_export(current, export, order, names, run, has_emails=mails is not None)
    show_save(current, model, table, run_id, settings, as_of)


def recommendations(current: state.Segmentation) -> tuple[pd.Series | None, dict[str, Any] | None]:
    """Each customer's recommended products (model and settings as last set on the Recommend page) and those
    settings for the manifest, or ``(None, None)`` when the analyst leaves them out."""
    name, min_orders, exclude_bought = recommend_widgets.chosen_settings()
    if not st.toggle(
        f"Add each customer's top {EXPORTED_PRODUCTS} recommended products",
        value=state.kept("export_products", True),
        help="From the model chosen on the Recommend page, with its settings; ids and names in two columns, best first.",
        **state.keeping("export_products"),
    ):
        return None, None
    st.caption(
        f"Recommended by **{MODEL_LABELS[name]}**"
        + (", products new to the customer only" if exclude_bought else "")
        + (f", segment lists for customers with fewer than {min_orders} orders" if min_orders > 1 else "")
        + ". Change the model on the Recommend page."
    )
    try:
        products = recommend_widgets.customer_products(current, name, EXPORTED_PRODUCTS, min_orders, exclude_bought)
    except SegmentationError as exc:  # e.g. no purchase lines to learn from
        st.warning(f"No products can be recommended: {exc}.", icon=":material/warning:")
        return None, None
    settings = {"model": name, "products": EXPORTED_PRODUCTS, "min_orders": min_orders, "new_only": exclude_bought}
    return products, settings


def preview(path: Path) -> pd.DataFrame:
    """The first rows of a written file, exactly as written (CSV cells as text)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).head(PREVIEW_ROWS)
    return pd.read_csv(path, dtype=str, keep_default_na=False, nrows=PREVIEW_ROWS, encoding="utf-8")


# --- the export -------------------------------------------------------------------------------------------------------


def show_export(
    current: state.Segmentation,
    table: pd.DataFrame,
    order: list[int],
    names: dict[int, str],
    run: dict[str, Any],
    has_emails: bool,
) -> None:
    crm = crm_choice("export_crm", has_emails)  # the whole width: at 1280 px a column cut "(needs emails)" off
    if needs_emails(crm, has_emails):  # the picker said why and how to map them
        return
    fmt = "csv"
    if crm == "generic":
        fmt = st.radio("File format", list(FORMATS), format_func=FORMATS.get, horizontal=True, key="export_fmt")
    key = f"export_segments_{current.fit_id}"
    default = [s for s in order if s != NOISE]
    chosen = st.multiselect(
        "Segments to export",
        order,
        [s for s in state.kept(key, default) if s in order],
        format_func=names.get,
        placeholder="Choose segments",
        **state.keeping(key),
    )
    if not chosen:
        st.info(f"Choose at least one segment to export for {CRM_LABELS[crm]}.", icon=":material/checklist:")
        return
    try:
        result = write_export(table, crm, [int(s) for s in order if s in chosen], run, fmt)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    for warning in result.warnings:
        st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/warning:")
    files = ", ".join(f"`{f.name}`" for f in result.files)
    st.markdown(f"**{result.rows:,} customers** in {len(result.files)} file{'s' * (len(result.files) > 1)}: {files}")
    if result.rows == 0:
        st.info("No customer of the chosen segments can be exported for this CRM.")
        return
    st.caption(f"The first rows of `{result.files[0].name}`, exactly as written:")
    st.dataframe(preview(result.files[0]), hide_index=True)
    offer_downloads(result, "export")


# --- saving the run -----------------------------------------------------------------------------------------------------


def show_save(
    current: state.Segmentation,
    model: SegmentationModel,
    table: pd.DataFrame,
    run_id: str,
    settings: dict[str, Any],
    as_of: date,
) -> None:
    st.subheader("Save this run")
    st.caption(
        f"Keeps the settings, the assignments, the segment profiles and the fitted model in `{components.RUN_STORE}` "
        "(in the folder the dashboard was started from), to reopen on the History page. The same data and settings "
        "give the same run id: saving again replaces the run, with your current segment names."
    )
    store = RunStore(components.RUN_STORE)
    if st.button("Save this run", icon=":material/save:", key="save_run"):
        try:
            store.save(
                run_id,
                settings,
                model.fitted_assignments(table),
                model.profiles_,
                model,
                current.dataset.name,
                current.dataset.digest,
                as_of.isoformat(),
            )
        except SegmentationError as exc:
            components.show_error(exc)
            return
        st.success(f"Saved as run **{run_id}** in `{components.RUN_STORE}`.", icon=":material/check_circle:")
        st.page_link("ui/history_page.py", label="See the saved runs on the History page", icon=":material/timeline:")
        return
    try:
        saved = store.exists(run_id)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    if saved:
        st.caption(f"This segmentation is saved as run `{run_id}`.")


if __name__ == "__main__":
    render()
