"""Erasure (the right to be forgotten): remove customers from the run store and from the CRM exports on disk.

Exports are found through their manifests (``*.manifest.json`` of :func:`segmentation.export.export_segments`), in
the folders given and in the export folder of every saved run. Each listed file loses the customers' rows and the
manifest gets the new row counts and checksums; files in those folders that no manifest lists are only searched,
never changed, and reported when they mention a customer.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from segmentation.errors import InputError
from segmentation.export.safe_csv import atomic_file, neutralise, write_json_atomic
from segmentation.export.shapes import SHAPES


class ErasableStore(Protocol):
    """What erasure needs of a run store (:class:`segmentation.store.RunStore`)."""

    def erase(self, customer_ids: list[str]) -> Any: ...

    def export_dirs(self) -> list[Path]: ...


@dataclass
class ErasureReport:
    """What was removed, and what could not be searched."""

    customers: list[str]
    store_rows: dict[str, int] = field(default_factory=dict)
    """Run id -> assignment rows removed."""
    store_models: list[str] = field(default_factory=list)
    """Runs whose fitted model (per-customer training rows) was removed."""
    other_key: list[str] = field(default_factory=list)
    """Runs pseudonymised with a key this session does not hold: not searched."""
    export_rows: dict[str, int] = field(default_factory=dict)
    """Export file -> rows removed."""
    unlisted: list[str] = field(default_factory=list)
    """Files in the export folders that no manifest lists and that mention a customer: left for the user."""
    missing: list[str] = field(default_factory=list)
    """Export folders of saved runs that no longer exist, and files a manifest lists that are gone."""

    @property
    def removed(self) -> int:
        return sum(self.store_rows.values()) + sum(self.export_rows.values())

    def lines(self) -> list[str]:
        """The report in plain words, one finding per line."""
        out = [f"run {run}: {n} assignment row(s) removed" for run, n in sorted(self.store_rows.items())]
        out += [f"run {run}: fitted model removed (it keeps per-customer training rows)" for run in self.store_models]
        out += [f"{path}: {n} row(s) removed, manifest updated" for path, n in sorted(self.export_rows.items())]
        out += [f"warning: run {run} uses pseudonyms of another key; not searched" for run in self.other_key]
        out += [f"warning: {path} mentions a customer but no manifest lists it; not changed" for path in self.unlisted]
        out += [f"note: {path} not found; skipped" for path in self.missing]
        if not self.removed:
            out.insert(0, "nothing of these customers was found")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "removed": self.removed}


def erase_customers(
    store: ErasableStore | None, customer_ids: list[str], exports_dir: str | Path | None = None
) -> ErasureReport:
    """Remove ``customer_ids`` from every saved run of ``store`` and every export its runs or ``exports_dir``
    hold; returns what was removed."""
    ids = sorted({str(c).strip() for c in customer_ids} - {""})
    if not ids:
        raise InputError("no customer id given", fix="pass the ids to erase, e.g. `segment erase 17850`")
    report = ErasureReport(ids)
    folders = [Path(exports_dir)] if exports_dir is not None else []
    if store is not None:
        erased = store.erase(ids)
        report.store_rows, report.store_models, report.other_key = erased.rows, erased.models, erased.other_key
        folders += store.export_dirs()
    seen: set[Path] = set()
    for folder in folders:
        if folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        if not folder.is_dir():
            report.missing.append(str(folder))
            continue
        erase_from_exports(folder, ids, report)
    return report


def erase_from_exports(folder: Path, customer_ids: list[str], report: ErasureReport) -> None:
    """Remove the customers' rows from every file a manifest in ``folder`` lists; record it in ``report``."""
    listed: set[Path] = set()
    for manifest_path in sorted(folder.rglob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        shape = SHAPES.get(manifest.get("crm", ""))
        if shape is None:
            continue
        column = shape.headers["customer_id"]
        removed = 0
        for entry in manifest.get("files", []):
            path = manifest_path.parent / entry["name"]
            listed.add(path.resolve())
            if not path.is_file():
                report.missing.append(str(path))
                continue
            count = _drop_rows(path, column, customer_ids)
            if count:
                report.export_rows[str(path)] = count
                removed += count
                entry["rows"] -= count
                entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        if removed:
            manifest["rows"] = sum(entry["rows"] for entry in manifest["files"])
            erasures = manifest.setdefault("erasures", [])
            erasures.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), "rows_removed": removed})
            write_json_atomic(manifest, manifest_path)
        listed.add(manifest_path.resolve())
    needles = [c.encode() for c in customer_ids]
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.resolve() not in listed):
        data = path.read_bytes()
        if any(needle in data for needle in needles):
            report.unlisted.append(str(path))


def _drop_rows(path: Path, column: str, customer_ids: list[str]) -> int:
    """Rewrite ``path`` without the rows whose ``column`` is one of the ids; returns how many were dropped."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        gone = frame[column].astype(str).isin(customer_ids)
        if gone.any():
            partial = path.with_name(f".{path.name}.tmp")
            frame[~gone].to_parquet(partial, index=False)
            os.replace(partial, path)
        return int(gone.sum())
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or column not in rows[0]:
        return 0
    at = rows[0].index(column)
    written = {str(neutralise(c)) for c in customer_ids}  # ids as the export wrote them
    kept = [rows[0], *(row for row in rows[1:] if row[at] not in written)]
    if len(kept) < len(rows):
        with atomic_file(path) as fh:  # the export's own dialect, so every kept row keeps its bytes
            csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(kept)
    return len(rows) - len(kept)
