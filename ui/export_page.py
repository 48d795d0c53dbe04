"""Export page: the segments as an import file for a CRM or e-mail tool, and saving the run to reopen it later."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import uuid
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from segmentation.clustering import NOISE, SegmentationModel
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, ordered_segments
from segmentation.config import ClusteringConfig, Config
from segmentation.errors import SegmentationError
from segmentation.export import SHAPES, ExportResult, customer_emails, export_segments, export_table
from segmentation.store import RunStore, run_id_for
from ui import components, recommend_page, state
from ui.components import Dataset

CRM_LABELS = {
    "generic": "Generic CSV",
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "mailchimp": "Mailchimp",
    "klaviyo": "Klaviyo",
}
FORMATS = {"csv": "CSV", "parquet": "Parquet"}
MIME = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
    ".json": "application/json",
}
PREVIEW_ROWS = 10
EXPORTED_PRODUCTS = 3
EAGER_BYTES = 8 * 1024**2  # files up to this size go with the page; larger ones are read when the button is clicked
EXPORT_DIR = components.EXPORT_DIR  # one folder per session, before downloading
_FOLDER = "export_folder"


def render() -> None:
    st.title("Export")
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
    export = export_table(assignments, table, mails, products, run_id, as_of)
    manifest = {"run_id": run_id, "data_fingerprint": current.dataset.digest, **settings}
    show_export(current, export, order, names, manifest | ({"recommendations": recommending} if recommending else {}))
    show_save(current, model, table, run_id, settings, as_of)


def recommendations(current: state.Segmentation) -> tuple[pd.Series | None, dict[str, Any] | None]:
    """Each customer's recommended products (model and settings as last set on the Recommend page) and those
    settings for the manifest, or ``(None, None)`` when the analyst leaves them out."""
    name, min_orders, exclude_bought = recommend_page.chosen_settings()
    if not st.toggle(
        f"Add each customer's top {EXPORTED_PRODUCTS} recommended products",
        value=state.kept("export_products", True),
        help="From the model chosen on the Recommend page, with its settings; product ids, best first.",
        **state.keeping("export_products"),
    ):
        return None, None
    st.caption(
        f"Recommended by **{recommend_page.MODEL_LABELS[name]}**"
        + (", products new to the customer only" if exclude_bought else "")
        + (f", segment lists for customers with fewer than {min_orders} orders" if min_orders > 1 else "")
        + ". Change the model on the Recommend page."
    )
    try:
        products = recommend_page.products_per_customer(current, name, EXPORTED_PRODUCTS, min_orders, exclude_bought)
    except SegmentationError as exc:  # e.g. no purchase lines to learn from
        st.warning(f"No products can be recommended: {exc}.", icon=":material/warning:")
        return None, None
    settings = {"model": name, "products": EXPORTED_PRODUCTS, "min_orders": min_orders, "new_only": exclude_bought}
    return products, settings


# --- shared with the History page ------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Finding each customer's email address…", max_entries=16)
def emails(dataset: Dataset, config: Config) -> pd.Series | None:
    """Each customer's latest email address, or ``None`` when the data has no mapped email column."""
    transactions = components.load(dataset, config).transactions
    if "email" not in transactions.column_names or transactions["email"].null_count == len(transactions):
        return None
    return customer_emails(transactions.select(["customer_id", "email", "ts"]).to_pandas())


def as_of_date(current: state.Segmentation) -> date:
    return current.features.as_of or components.snapshot_default(current.dataset, current.config)


def run_config(current: state.Segmentation) -> dict[str, Any]:
    """The whole configuration of the segmentation, as the run store and the manifests record it."""
    clustering = ClusteringConfig(current.method, dict(current.params), current.chosen)
    config = dataclasses.replace(
        current.config, input=current.dataset.name, features=current.features, clustering=clustering
    )
    return config.to_dict()


def crm_choice(key: str) -> str:
    crm = st.segmented_control(
        "CRM or e-mail tool",
        list(SHAPES),
        default=state.kept(key, "generic"),
        format_func=CRM_LABELS.get,
        required=True,
        **state.keeping(key),
    )
    st.markdown(crm_rules(crm))
    return crm


def crm_rules(crm: str) -> str:
    """One line on the CRM's import rules (identifier, limits), with a link to its documentation."""
    shape = SHAPES[crm]
    email = shape.headers.get("email")
    if shape.requires_email:
        rules = [f"Contacts are identified by **{email}** in the first column; customers without an email are left out"]
    elif crm == "generic":
        rules = ["One row per customer, identified by **customer_id**; the email is added when one is mapped"]
    else:
        rules = [
            f"Contacts are identified by **{email}**; without an email column, by "
            f"**{shape.headers['customer_id']}** (import it as an external id)"
        ]
    if shape.tag_header:
        rules.append(f"segment names become tags in **{shape.tag_header}**")
    if shape.text_limit_bytes:
        rules.append(f"text is cut to {shape.text_limit_bytes} bytes")
    limits = []
    if shape.max_rows:
        limits.append(f"{shape.max_rows:,} rows")
    if shape.max_bytes:
        limits.append(f"{shape.max_bytes // 1024**2:,} MB")
    if limits:
        rules.append(f"at most {' and '.join(limits)} per file (larger exports are split into parts)")
    link = (
        f" · [{CRM_LABELS[crm]} import rules]({shape.source})"
        if shape.source.startswith("http")
        else f" · {shape.source} CSV"
    )
    return f"{'; '.join(rules)}.{link} · Every shape is described in `docs/export.md`."


def session_folder() -> Path:
    """This session's own folder for export files."""
    if _FOLDER not in st.session_state:
        st.session_state[_FOLDER] = str(EXPORT_DIR / uuid.uuid4().hex)
    return Path(st.session_state[_FOLDER])


def write_export(
    table: pd.DataFrame,
    crm: str,
    segments: list[int] | None,
    run: dict[str, Any],
    fmt: str = "csv",
    stem: str = "segments",
) -> ExportResult:
    """Write the export into this session's folder once per content; the previous export of ``stem`` is removed."""
    lists = {"top_products": table["top_products"].map(str)} if "top_products" in table else {}  # lists do not hash
    content = hashlib.sha256(pd.util.hash_pandas_object(table.assign(**lists), index=False).to_numpy().tobytes())
    content.update(json.dumps([crm, segments, fmt, stem, run, list(table.columns)], default=str).encode())
    base = session_folder() / stem
    out = base / content.hexdigest()[:16]
    manifest = out / f"{crm}_{stem}.manifest.json"
    if manifest.is_file():
        written = json.loads(manifest.read_text(encoding="utf-8"))
        files = [out / f["name"] for f in written["files"]]
        return ExportResult(files, manifest, written["rows"], written["warnings"])
    if base.is_dir():
        for old in base.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    return export_segments(table, crm, out, segments, run, fmt, stem)


def preview(path: Path) -> pd.DataFrame:
    """The first rows of a written file, exactly as written (CSV cells as text)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).head(PREVIEW_ROWS)
    return pd.read_csv(path, dtype=str, keep_default_na=False, nrows=PREVIEW_ROWS, encoding="utf-8")


def file_data(path: Path) -> bytes | Callable[[], bytes]:
    return path.read_bytes() if path.stat().st_size <= EAGER_BYTES else path.read_bytes


def zip_data(paths: list[Path]) -> bytes | Callable[[], bytes]:
    def build() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, path.name)
        return buffer.getvalue()

    return build() if sum(p.stat().st_size for p in paths) <= EAGER_BYTES else build


def offer_downloads(result: ExportResult, key: str) -> None:
    """Download buttons: the file (a ZIP when the export was split into parts) and the manifest."""
    files = result.files
    row = st.container(horizontal=True)
    if len(files) == 1:
        name, data = files[0].name, file_data(files[0])
    else:
        name, data = files[0].name.replace("_part1", "").rsplit(".", 1)[0] + ".zip", zip_data(files)
    row.download_button(
        f"Download {name}",
        data=data,
        file_name=name,
        mime=MIME.get(Path(name).suffix, "application/octet-stream"),
        icon=":material/download:",
        on_click="ignore",
        key=f"{key}_file",
        help=f"{len(files)} files, zipped: the CRM's limits split the export." if len(files) > 1 else None,
    )
    row.download_button(
        "Download the manifest (JSON)",
        data=result.manifest.read_bytes(),
        file_name=result.manifest.name,
        mime=MIME[".json"],
        icon=":material/receipt_long:",
        on_click="ignore",
        key=f"{key}_manifest",
        help="What was exported: CRM and its rules, rows, segments, columns, warnings, the run's settings, and per "
        "file its rows and SHA-256.",
    )


# --- the export -------------------------------------------------------------------------------------------------------


def show_export(
    current: state.Segmentation, table: pd.DataFrame, order: list[int], names: dict[int, str], run: dict[str, Any]
) -> None:
    crm_area, format_area = st.columns([3, 1])
    with crm_area:
        crm = crm_choice("export_crm")
    fmt = "csv"
    if crm == "generic":
        fmt = format_area.radio(
            "File format", list(FORMATS), format_func=FORMATS.get, horizontal=True, key="export_fmt"
        )
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
