"""The CRM export's widgets and files, shared by the Export page and the History page's movers: the CRM choice with
its import rules, the export written once per content into the session's folder, and its download buttons."""

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

from segmentation.config import ClusteringConfig, Config
from segmentation.export import SHAPES, ExportResult, export_segments
from ui import components, state
from ui.components import Dataset

CRM_LABELS = {
    "generic": "Generic CSV",
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "mailchimp": "Mailchimp",
    "klaviyo": "Klaviyo",
}
MIME = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
    ".json": "application/json",
}
EAGER_BYTES = 8 * 1024**2  # files up to this size go with the page; larger ones are read when the button is clicked
_FOLDER = "export_folder"


def emails(dataset: Dataset, config: Config) -> pd.Series | None:
    """Each customer's latest email address, or ``None`` when the data has no mapped email column."""
    with st.spinner("Finding each customer's email address…"):
        return components.analysis(dataset, config).emails()


def as_of_date(current: state.Segmentation) -> date:
    """The as-of date of the segmentation's customer features."""
    return current.features.as_of or components.snapshot_default(current.dataset, current.config)


def run_config(current: state.Segmentation) -> dict[str, Any]:
    """The whole configuration of the segmentation, as the run store and the manifests record it."""
    clustering = ClusteringConfig(current.method, dict(current.params), current.chosen)
    config = dataclasses.replace(
        current.config, input=current.dataset.name, features=current.features, clustering=clustering
    )
    return config.to_dict()


NO_EMAILS = (
    "This file has no email addresses: no column is mapped as the email. To add them, open the **Data** page, "
    "expand **Column mapping** and choose your file's email column under **Email**, then open the Segments page "
    "once more and come back here."
)
"""How to get emails into the app, for the tools that need them."""
_KEYED_BY_ID = [CRM_LABELS[crm] for crm, shape in SHAPES.items() if not shape.requires_email]
WITHOUT_EMAILS = (
    f"Without emails, {', '.join(_KEYED_BY_ID[:-1])} and {_KEYED_BY_ID[-1]} identify each customer by their "
    "customer id."
)
"""What the tools that need no email offer instead."""


def needs_emails(crm: str, has_emails: bool) -> bool:
    """Whether ``crm`` cannot take this data: its import needs an email per contact and the file has none."""
    return SHAPES[crm].requires_email and not has_emails


def crm_choice(key: str, has_emails: bool = True) -> str:
    """The CRM or e-mail tool picker (kept across pages under ``key``), with that tool's import rules below it.
    Without emails the tools that need them say so on their button, and, when picked, how to map the column."""
    crm = st.segmented_control(
        "CRM or e-mail tool",
        list(SHAPES),
        default=state.kept(key, "generic"),
        format_func=lambda name: CRM_LABELS[name] + (" (needs emails)" if needs_emails(name, has_emails) else ""),
        required=True,
        help=None if has_emails else f"{NO_EMAILS} {WITHOUT_EMAILS}",
        **state.keeping(key),
    )
    st.markdown(crm_rules(crm))
    if needs_emails(crm, has_emails):
        st.warning(
            f"**{CRM_LABELS[crm]} needs an email address per contact**: its import has no other key, so it cannot "
            f"take this file as it is. {NO_EMAILS} {WITHOUT_EMAILS}",
            icon=":material/mail:",
        )
        st.page_link("ui/data_page.py", label="Map the email column on the Data page", icon=":material/swap_horiz:")
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
        st.session_state[_FOLDER] = str(components.EXPORT_DIR / uuid.uuid4().hex)
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
    lists = {c: table[c].map(str) for c in ("top_products", "top_product_names") if c in table}  # lists do not hash
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
