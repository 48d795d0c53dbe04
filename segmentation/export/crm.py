"""CRM-ready exports of segment membership: HubSpot, Salesforce, Mailchimp, Klaviyo, generic CSV/Parquet.

The table of every exportable column, written in the :class:`~segmentation.export.shapes.CrmShape` of a CRM
(its documented import rules), split by its limits, with a manifest.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.errors import ConfigError, InputError
from segmentation.export.safe_csv import check_typed, write_csv_atomic, write_json_atomic
from segmentation.export.shapes import SHAPES, VALUE_EXPORT, CrmShape

NUMERIC = (
    "segment",
    "probability",
    "r_score",
    "f_score",
    "m_score",
    "recency_days",
    "frequency",
    "monetary",
    *VALUE_EXPORT,
)
TEXT = ("customer_id", "segment_name", "rfm_segment", "top_products", "top_product_names", "run_id", "tags")


@dataclass
class ExportResult:
    files: list[Path]
    manifest: Path
    rows: int
    warnings: list[str] = field(default_factory=list)


def export_table(
    assignments: pd.DataFrame,
    rfm: pd.DataFrame | None = None,
    emails: pd.Series | None = None,
    recommendations: pd.Series | None = None,
    run_id: str = "",
    run_date: date | str | None = None,
    value: pd.DataFrame | None = None,
    product_names: pd.Series | None = None,
) -> pd.DataFrame:
    """The columns every shape draws from, one row per customer (index ``customer_id``).

    ``assignments`` has ``segment``, ``segment_name`` and optionally ``probability``; ``rfm`` the RFM table;
    ``recommendations`` a list of product ids per customer, and ``product_names`` (product id -> description) names
    them in a column of their own, ``top_product_names``, in the same order; ``value`` the table of
    :func:`segmentation.value.value_table` (``segment value``), whose clv, churn_probability and p_alive become
    predicted_clv, churn_probability and p_alive (customers it does not cover get empty cells). ``run_date`` ("Segmentation Date") is the as-of
    date of the features, the day recency counts from; by default ``attrs["as_of"]`` of ``rfm`` or
    ``assignments``. Without one it is an error: the export date would disagree with "Days Since Last Order".
    """
    as_of = run_date or (rfm.attrs.get("as_of") if rfm is not None else None) or assignments.attrs.get("as_of")
    if not as_of:
        raise ConfigError(
            "the as-of date of the segmentation is unknown; pass run_date (the features' as-of date) or tables "
            "whose attrs carry it"
        )
    table = assignments[[c for c in ("segment", "segment_name", "probability") if c in assignments]].copy()
    if rfm is not None:
        table = table.join(
            rfm[["rfm_segment", "r_score", "f_score", "m_score", "recency_days", "frequency", "monetary"]]
        )
    if emails is not None:
        table["email"] = emails.reindex(table.index)
    if recommendations is not None:
        table["top_products"] = recommendations.reindex(table.index)
        if product_names is not None:
            names = product_names.astype(str).where(product_names.astype(str).str.strip() != "")
            table["top_product_names"] = table["top_products"].map(
                lambda items: (
                    [names.get(i) if pd.notna(names.get(i)) else str(i) for i in items]
                    if isinstance(items, list | tuple)
                    else items
                )
            )
    if value is not None:
        table = table.join(_value_columns(value))
    table = table.round({"probability": 4, "recency_days": 1, "monetary": 2, **VALUE_EXPORT})
    table["run_id"] = run_id
    table["run_date"] = pd.Timestamp(as_of).date().isoformat()
    table.index.name = "customer_id"
    return table.reset_index()


def _value_columns(value: pd.DataFrame) -> pd.DataFrame:
    """The value table's export columns, refusing a table without them (not from ``segment value``)."""
    source = {"predicted_clv": "clv", "churn_probability": "churn_probability", "p_alive": "p_alive"}
    missing = [column for column in source.values() if column not in value]
    if missing:
        raise InputError(
            f"the value table has no {', '.join(missing)} column",
            where="value table",
            fix="make it with `segment value FILE --out value.parquet` (with churn: leave --churn-days above 0)",
        )
    columns = value[list(source.values())].rename(columns={v: k for k, v in source.items()})
    columns.index = columns.index.astype(str)
    return columns


def customer_emails(transactions: pd.DataFrame) -> pd.Series:
    """Each customer's most recent non-empty email from the transactions (needs a mapped email column)."""
    tx = transactions.dropna(subset=["customer_id", "email"]).sort_values("ts")
    return tx.groupby("customer_id")["email"].last().str.strip()


def export_segments(
    table: pd.DataFrame,
    crm: str,
    out_dir: str | Path,
    segments: list[int] | None = None,
    run: dict[str, Any] | None = None,
    fmt: str = "csv",
    stem: str = "segments",
) -> ExportResult:
    """Write ``table`` (from :func:`export_table`) in the shape of ``crm``, split by its limits, with a manifest."""
    if crm not in SHAPES:
        raise ConfigError(f"unknown CRM {crm!r}; choose one of {', '.join(SHAPES)}")
    shape = SHAPES[crm]
    as_of = sorted(table["run_date"].unique()) if "run_date" in table else []  # one date from export_table
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if segments is not None:
        table = table[table["segment"].isin(segments)]
    frame, warnings = _shape(table, shape)
    check_typed(
        frame.set_index(frame.columns[0], drop=False),
        numeric=[shape.headers[c] for c in NUMERIC if shape.headers.get(c) in frame],
        emails=[shape.headers["email"]] if shape.headers.get("email") in frame else [],
    )
    text = [shape.headers.get(c, c) for c in TEXT] + ([shape.tag_header] if shape.tag_header else [])
    if fmt == "parquet":
        files = [out_dir / f"{crm}_{stem}.parquet"]
        frame.to_parquet(files[0], index=False)
    elif fmt == "csv":
        files = _write_parts(frame, shape, out_dir / f"{crm}_{stem}", text)
    else:
        raise ConfigError(f"format {fmt!r}: use csv or parquet")
    manifest = out_dir / f"{crm}_{stem}.manifest.json"
    write_json_atomic(
        {
            "crm": crm,
            "rules": shape.source,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "as_of": ", ".join(as_of) or None,
            "rows": len(frame),
            "segments": sorted(int(s) for s in table["segment"].unique()),
            "columns": list(frame.columns),
            "warnings": warnings,
            "run": run or {},
            "files": [{"name": f.name, "rows": _rows(f, fmt), "sha256": _sha256(f)} for f in files],
        },
        manifest,
    )
    return ExportResult(files, manifest, len(frame), warnings)


def _shape(table: pd.DataFrame, shape: CrmShape) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    table = table.copy()
    has_email = "email" in table and table["email"].notna().any()
    if shape.requires_email:
        if not has_email:
            raise InputError(
                f"{shape.name} imports need an email address per contact and no email column is mapped",
                fix=(
                    "map the email column on the Data page (command line: --transactions FILE, with "
                    "--map email=COLUMN if it is not detected), or export for another CRM"
                ),
            )
        missing = table["email"].isna()
        if missing.any():
            warnings.append(f"{int(missing.sum())} customers without an email were left out ({shape.name} needs one)")
            table = table[~missing]
    elif not has_email:
        table = table.drop(columns=["email"], errors="ignore")
        warnings.append("no email column: customers are identified by their customer id (import it as an external id)")
    for column in ("top_products", "top_product_names"):
        if column in table:
            table[column] = table[column].map(
                lambda items: shape.list_separator.join(map(str, items)) if isinstance(items, list | tuple) else items
            )
    if shape.tag_header:
        table[shape.tag_header] = (
            table[["segment_name", "rfm_segment"]].apply(
                lambda row: shape.list_separator.join(_tag(v) for v in row if isinstance(v, str)), axis=1
            )
            if "rfm_segment" in table
            else table["segment_name"].map(_tag)
        )
    columns = [c for c in shape.headers if c in table]
    frame = table[columns + ([shape.tag_header] if shape.tag_header else [])].rename(columns=shape.headers)
    if "email" in columns:  # the identifier first (Klaviyo requires it in the first column)
        first = shape.headers["email"]
        frame = frame[[first, *[c for c in frame.columns if c != first]]]
    if shape.text_limit_bytes:
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(lambda v: _clip(v, shape.text_limit_bytes))
    return frame.reset_index(drop=True), warnings


def _tag(name: str) -> str:
    """Mailchimp tags: at most 100 characters; commas would split a tag, so they become spaces."""
    return name.replace(",", " ").strip()[:100]


def _clip(value: object, limit: int) -> object:
    if not isinstance(value, str) or len(value.encode()) <= limit:
        return value
    return value.encode()[:limit].decode("utf-8", errors="ignore")


def _write_parts(frame: pd.DataFrame, shape: CrmShape, base: Path, text: list[str]) -> list[Path]:
    """One file when within limits, else ``_part1``, ``_part2``... each within the row and byte limits."""
    chunks = (
        [frame]
        if not shape.max_rows
        else [frame.iloc[i : i + shape.max_rows] for i in range(0, max(len(frame), 1), shape.max_rows)]
    )
    parts: list[pd.DataFrame] = []
    for chunk in chunks:
        parts.extend(_split_by_bytes(chunk, shape.max_bytes))
    if len(parts) == 1:
        path = base.with_suffix(".csv")
        write_csv_atomic(parts[0], path, text)
        return [path]
    files = []
    for i, part in enumerate(parts, start=1):
        path = base.with_name(f"{base.name}_part{i}.csv")
        write_csv_atomic(part, path, text)
        files.append(path)
    return files


def _split_by_bytes(frame: pd.DataFrame, max_bytes: int | None) -> list[pd.DataFrame]:
    if not max_bytes or len(frame) <= 1:
        return [frame]
    size = len(frame.to_csv(index=False).encode())
    if size <= max_bytes:
        return [frame]
    n = -(-size // max_bytes) + 1  # parts, with headroom for uneven rows
    step = -(-len(frame) // n)
    return [part for i in range(0, len(frame), step) for part in _split_by_bytes(frame.iloc[i : i + step], max_bytes)]


def _rows(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        return len(pd.read_parquet(path))
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
