"""Shared pieces of the pages: data sets, cached library calls, error display and chart styling."""

from __future__ import annotations

import atexit
import copy
import hashlib
import html
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from segmentation.config import ClusteringConfig, Config, FeatureConfig, ReadOptions
from segmentation.errors import InputError, SegmentationError
from segmentation.ingest import Issue, ValidationFailed, infer_mapping, read_raw
from segmentation.overview import Overview
from segmentation.pipeline import IngestResult
from segmentation.store import file_fingerprint
from segmentation.timing import describe
from segmentation.workflow import Analysis
from ui import uploads

if TYPE_CHECKING:
    from segmentation.clustering import SegmentationModel

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "sample_transactions.csv.gz"
PRIVATE_DIR = Path(tempfile.mkdtemp(prefix="segmentation-app-"))
"""This server's own temporary folder: created afresh, readable by its user only (0700), deleted when it exits."""
atexit.register(shutil.rmtree, PRIVATE_DIR, ignore_errors=True)
UPLOAD_DIR = PRIVATE_DIR / "uploads"
"""Uploaded files, one folder per content hash, shared by the sessions that upload the same bytes."""
CACHED_FILES = 4
"""How many loaded files (with their settings) stay in memory for all sessions together."""
RUN_STORE = Path("segmentation_runs.duckdb")
"""The run store of the Export and History pages: a DuckDB file in the working directory the app was started in."""
EXPORT_DIR = PRIVATE_DIR / "exports"
"""Where each session writes its CRM export files (one folder per session) before they are downloaded."""


@dataclass(frozen=True)
class Dataset:
    """A transactions file on disk, identified by the hash of its content."""

    path: str
    name: str
    digest: str


def sample_dataset() -> Dataset | None:
    """The embedded sample data set, or ``None`` when it is missing from the installation."""
    if not SAMPLE_PATH.is_file():
        return None
    return Dataset(str(SAMPLE_PATH), SAMPLE_PATH.name, _file_digest(str(SAMPLE_PATH)))


_file_digest = st.cache_data(show_spinner=False)(file_fingerprint)
"""The file hash of the run store, computed once per file and server."""


def save_upload(upload: UploadedFile) -> Dataset:
    """Write an upload to a temporary file named after its content hash (written once per content)."""
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    name = re.sub(r"[^\w.\- ]", "_", Path(upload.name).name).lstrip(".") or "upload.csv"
    path = UPLOAD_DIR / digest[:32] / name  # the library quotes the file name in its messages
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)
    uploads.register(path.parent)  # deleted when the last session holding it ends
    return Dataset(str(path), name, digest)


@st.cache_data(show_spinner="Reading the file…", max_entries=16)
def inspect_file(dataset: Dataset, read: ReadOptions) -> tuple[list[str], dict[str, str]]:
    """The file's column names and the mapping inferred from its headers and content."""
    raw = read_raw(dataset.path, read)
    return raw.columns, infer_mapping(raw.table).columns


@st.cache_resource(show_spinner=False, max_entries=CACHED_FILES)
def analysis(dataset: Dataset, config: Config) -> Analysis:
    """The workflow of one file under one set of read, mapping and cleaning settings: shared by every session and
    page that loads it, so each step (load, features, segmentation, recommender) runs once for all of them."""
    return Analysis(dataset.path, config, fingerprint=dataset.digest)


def expected(dataset: Dataset, config: Config, *steps: str) -> str:
    """How long ``steps`` (timing names, e.g. "churn", "explanation:lightgbm") usually take together on this file,
    in words ("about 40 s"), from this machine's earlier runs; "" when one of them is unknown. Said before a long
    step starts and in its status, so the analyst knows what they are waiting for."""
    workflow = analysis(dataset, config)
    seconds = [workflow.expected_seconds(step) for step in steps]
    return "" if None in seconds else describe(sum(seconds))


def load(dataset: Dataset, config: Config) -> IngestResult:
    """Read, validate and clean a file, with a progress bar the first time. Shared: never mutate the result."""
    workflow = analysis(dataset, config)
    slot = st.empty()  # always there, loaded or not: elements that come and go above a page's tabs reset them
    if workflow.done("load"):
        return workflow.load()
    try:
        bar = slot.progress(0.0, text=f"Loading {dataset.name}…")
        return workflow.load(lambda done, step: bar.progress(done, text=step.capitalize()))
    finally:
        slot.empty()


def overview(dataset: Dataset, config: Config, top: int = 10) -> Overview:
    """KPIs, revenue by month (partial months flagged) and the top products and countries by revenue."""
    with st.spinner("Summarising…"):
        return analysis(dataset, config).overview(top)


def currency(dataset: Dataset, config: Config) -> str | None:
    """The ISO 4217 code of the amounts: set on the Data page, else as the file says; ``None`` when unknown."""
    return analysis(dataset, config).currency()


def snapshot_default(dataset: Dataset, config: Config) -> date:
    """The default as-of date of the features: the day after the last transaction."""
    return analysis(dataset, config).default_as_of()


def customer_table(dataset: Dataset, config: Config, features: FeatureConfig) -> pd.DataFrame:
    """Every customer feature plus RFM scores, code and named segment, one row per customer (the page's own copy:
    adding a column to it changes nothing shared)."""
    with st.spinner("Computing customer features…"):
        return analysis(dataset, config).customers(features).copy(deep=False)


def fit_segmentation(
    dataset: Dataset,
    config: Config,
    features: FeatureConfig,
    chosen: tuple[str, ...],
    method: str,
    params: tuple[tuple[str, Any], ...],
) -> SegmentationModel:
    """The segmentation the Segments page shows, fitted once by the workflow for every page; each call gets its
    own copy, so renaming a segment changes only this session's view."""
    clustering = ClusteringConfig(method, dict(params), chosen)
    with st.spinner("Finding the segments…"):
        return copy.deepcopy(analysis(dataset, config).segmentation(clustering, features))


def show_error(exc: SegmentationError) -> None:
    """A library error as a readable message (with the validation issues when there are some)."""
    if isinstance(exc, ValidationFailed):
        st.error(f"**{exc.report.source} cannot be used as it is.** Fix the problems below and try again.")
        for issue in exc.report.errors:
            st.error(issue.describe(exc.report.source))
        if exc.report.warnings:
            st.caption("Warnings")
            st.dataframe(issues_frame(exc.report.warnings), hide_index=True)
    elif isinstance(exc, InputError):
        where = f"**{exc.where}**: " if exc.where else ""
        fix = f"\n\n**How to fix it:** {exc.fix}" if exc.fix else ""
        st.error(f"{where}{exc.problem}{fix}")
    else:
        st.error(str(exc))


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """Validation issues as a table an analyst can read."""
    rows = [asdict(issue) for issue in issues]
    frame = pd.DataFrame(rows, columns=["column", "message", "n_rows", "rows", "examples", "fix"])
    for column in ("rows", "examples"):
        frame[column] = frame[column].map(lambda values: ", ".join(map(str, values)))
    frame = frame.loc[:, frame.replace("", None).notna().any()]  # leave out columns no issue fills
    return frame.rename(
        columns={
            "column": "Column",
            "message": "Problem",
            "n_rows": "Rows affected",
            "rows": "First rows",
            "examples": "Examples",
            "fix": "How to fix",
        }
    )


def plot(fig: go.Figure, title: str, x: str, y: str, height: int = 360) -> None:
    """Show a Plotly figure in the app's one chart style (:func:`segmentation.chart_style.titled`)."""
    from segmentation.chart_style import titled

    st.plotly_chart(titled(fig, title, x, y, height), config={"displaylogo": False})


def no_segmentation_yet(purpose: str) -> None:
    """Say there is nothing to show until the Segments page has run, and what this page will then do."""
    st.info(f"There is no segmentation yet. Find the segments on the Segments page first; this page then {purpose}.")
    st.page_link("ui/segments_page.py", label="Go to the Segments page", icon=":material/bubble_chart:")


def escape(text: str) -> str:
    """User or data text shown as plain text inside Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$:])", r"\\\1", html.escape(str(text), quote=False))


def download(
    area: Any, title: str, data: Callable[[], str], file_name: str, help_text: str | None = None, key: str | None = None
) -> None:
    """A CSV download button whose content is made only when the analyst clicks it."""
    area.download_button(
        title,
        data=data,
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        help=help_text,
        key=key,
    )


def csv_text(frame: pd.DataFrame, currency: str | None) -> str:
    """``frame`` as CSV with its money columns rounded to the currency's minor unit (no 4310.000000000002)."""
    from segmentation.clustering.present import money_columns
    from segmentation.formatting import round_money

    return round_money(frame, money_columns(list(frame.columns)), currency).to_csv()


def trait_lines(profile: pd.Series, overall: pd.Series, n: int = 3, currency: str | None = None) -> list[str]:
    """A segment's distinguishing traits as Markdown lines ("**Order often**: 12 orders (typical customer: 3)")."""
    from segmentation.clustering.present import segment_traits

    traits = segment_traits(profile, overall, n=n, currency=currency)
    if not traits:
        return ["Close to the typical customer on every profile feature"]
    return [f"**{trait.headline}**: {trait.detail}" for trait in traits]
