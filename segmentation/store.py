"""Saved runs in one embedded DuckDB file: reopen, compare and export a segmentation later.

A run holds its data fingerprint, the whole config (mapping, cleaning policy, features, method and
parameters), the assignments, the profiles and names, and the fitted model. Each write is one transaction on a
short-lived connection; a writer that finds the file locked by another process retries with backoff, so
concurrent writers wait for each other instead of failing or corrupting the file. A writer killed in the middle
of a save, even with SIGKILL, leaves every committed run intact and nothing of the run it was writing: the next
open recovers from DuckDB's write-ahead log (tests/test_store_crash.py). A file that is not a DuckDB database,
or was written by another schema version, is a clear error and is never overwritten.

Privacy (docs/privacy.md): with a pseudonym key (``SEGMENT_PSEUDONYM_KEY``) every customer id is saved as its
keyed hash; :meth:`RunStore.erase` removes customers from every run and rewrites the file, so their rows are not
left behind in freed database blocks.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from segmentation.errors import SegmentationError
from segmentation.privacy.pseudonym import Pseudonymizer

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, source VARCHAR, data_fingerprint VARCHAR,
    as_of DATE, method VARCHAR, n_customers INTEGER, n_segments INTEGER, config JSON
);
CREATE TABLE IF NOT EXISTS assignments (
    run_id VARCHAR, customer_id VARCHAR, segment INTEGER, segment_name VARCHAR, probability DOUBLE
);
CREATE TABLE IF NOT EXISTS profiles (run_id VARCHAR, segment INTEGER, name VARCHAR, profile JSON);
CREATE TABLE IF NOT EXISTS artifacts (run_id VARCHAR, name VARCHAR, content BLOB);
"""


class StoreError(SegmentationError):
    """The run store file cannot be used; the message says why and what to do."""


@dataclass
class StoreErasure:
    """What :meth:`RunStore.erase` removed."""

    rows: dict[str, int]
    """Run id -> assignment rows removed."""
    models: list[str]
    """Runs whose fitted model was removed: it keeps per-customer training rows (labels, for HDBSCAN the scaled
    features), which cannot be taken out of a fitted model; fit the segmentation again to assign new customers."""
    other_key: list[str]
    """Runs saved with pseudonyms of another key (or when this store has no key): not searched for raw ids."""


@dataclass
class SavedRun:
    run_id: str
    info: dict[str, Any]
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    model: Any


def file_fingerprint(path: str | Path) -> str:
    """SHA-256 of the file's bytes: the same data gives the same fingerprint whatever its name."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RunStore:
    """Runs saved in the DuckDB file ``path`` (created on first save).

    ``pseudonymizer`` (by default the one of ``SEGMENT_PSEUDONYM_KEY``, if set) replaces every customer id by its
    keyed hash before it is saved.
    """

    def __init__(
        self,
        path: str | Path = "segmentation_runs.duckdb",
        lock_timeout: float = 60.0,
        pseudonymizer: Pseudonymizer | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.pseudonymizer = pseudonymizer or Pseudonymizer.from_env()

    @contextmanager
    def _connect(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if not write and not self.path.exists():
            raise StoreError(f"{self.path}: no run store here yet; save a run first")
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=not write)
                break
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower() or time.monotonic() > deadline:
                    raise StoreError(self._describe(message)) from exc
                time.sleep(0.05 + random.random() * 0.2)  # another process is writing: wait our turn
            except duckdb.Error as exc:
                raise StoreError(self._describe(str(exc))) from exc
        try:
            self._check_schema(con, write)
            yield con
        finally:
            con.close()

    def _describe(self, message: str) -> str:
        if "lock" in message.lower():
            return f"{self.path}: still locked by another process after {self.lock_timeout:.0f} s; try again later"
        return (
            f"{self.path} is not a readable run store ({message.splitlines()[0]}); it was left untouched. "
            "Fix: point --store (or `store:` in the config) at another file, or move this one away"
        )

    def _check_schema(self, con: duckdb.DuckDBPyConnection, write: bool) -> None:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "meta" in tables:
            found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            version = int(found[0][0]) if found else None
            if version != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has run store schema version {version}, this program uses {SCHEMA_VERSION}; "
                    "it was left untouched. Fix: use a new store file, or open it with the version that wrote it"
                )
        elif tables:
            raise StoreError(f"{self.path} is a DuckDB file but not a run store (tables {sorted(tables)}); untouched")
        elif write:
            con.execute(SCHEMA)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

    def save(
        self,
        run_id: str,
        config: dict[str, Any],
        assignments: pd.DataFrame,
        profiles: pd.DataFrame,
        model: Any = None,
        source: str = "",
        data_fingerprint: str = "",
        as_of: str | None = None,
    ) -> str:
        """Save (or replace) a run in one transaction; returns ``run_id``."""
        table = assignments.reset_index().rename(columns={"index": "customer_id"})
        if "probability" not in table:
            table["probability"] = None
        table = table[["customer_id", "segment", "segment_name", "probability"]].assign(run_id=run_id)
        if self.pseudonymizer is not None:
            table["customer_id"] = self.pseudonymizer.pseudonymize(table["customer_id"].astype(str))
        prof = pd.DataFrame(
            {
                "run_id": run_id,
                "segment": profiles.index.astype(int),
                "name": profiles.get("name", ""),
                "profile": [
                    json.dumps(row, default=float)
                    for row in profiles.drop(columns="name", errors="ignore").to_dict(orient="records")
                ],
            }
        )
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for name in ("runs", "assignments", "profiles", "artifacts"):
                    con.execute(f"DELETE FROM {name} WHERE run_id = ?", [run_id])
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        run_id,
                        datetime.now(UTC).replace(tzinfo=None),
                        source,
                        data_fingerprint,
                        as_of,
                        config.get("clustering", {}).get("method"),
                        len(table),
                        int(profiles.index.size),
                        json.dumps(config, default=str),
                    ],
                )
                con.register("new_assignments", table)
                con.execute(
                    "INSERT INTO assignments SELECT run_id, customer_id, segment, segment_name, probability "
                    "FROM new_assignments"
                )
                con.register("new_profiles", prof)
                con.execute("INSERT INTO profiles SELECT run_id, segment, name, profile FROM new_profiles")
                if model is not None:
                    con.execute("INSERT INTO artifacts VALUES (?, 'model', ?)", [run_id, pickle.dumps(model)])
                if self.pseudonymizer is not None:
                    key_id = self.pseudonymizer.key_id.encode()
                    con.execute("INSERT INTO artifacts VALUES (?, 'pseudonym_key_id', ?)", [run_id, key_id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return run_id

    def runs(self) -> pd.DataFrame:
        """One row per saved run, newest first."""
        with self._connect(write=False) as con:
            return con.sql(
                "SELECT run_id, created_at, source, as_of, method, n_customers, n_segments, data_fingerprint "
                "FROM runs ORDER BY created_at DESC"
            ).df()

    def exists(self, run_id: str) -> bool:
        if not self.path.exists():
            return False
        with self._connect(write=False) as con:
            return bool(con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchall()[0][0])

    def load(self, run_id: str) -> SavedRun:
        with self._connect(write=False) as con:
            info = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
            if info.empty:
                known = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY created_at DESC").fetchall()]
                raise StoreError(f"no run {run_id!r} in {self.path}; saved runs: {', '.join(known[:10]) or 'none'}")
            assignments = (
                con.execute(
                    "SELECT customer_id, segment, segment_name, probability FROM assignments WHERE run_id = ? "
                    "ORDER BY customer_id",
                    [run_id],
                )
                .df()
                .set_index("customer_id")
            )
            rows = con.execute(
                "SELECT segment, name, profile FROM profiles WHERE run_id = ? ORDER BY segment", [run_id]
            ).fetchall()
            blob = con.execute("SELECT content FROM artifacts WHERE run_id = ? AND name = 'model'", [run_id]).fetchall()
            key = con.execute(
                "SELECT content FROM artifacts WHERE run_id = ? AND name = 'pseudonym_key_id'", [run_id]
            ).fetchall()
        profiles = pd.DataFrame([{"segment": s, "name": n, **json.loads(p)} for s, n, p in rows]).set_index("segment")
        record = info.iloc[0].to_dict()
        record["config"] = json.loads(record["config"])
        record["pseudonym_key_id"] = bytes(key[0][0]).decode() if key else None
        if assignments["probability"].isna().all():
            assignments = assignments.drop(columns="probability")
        return SavedRun(run_id, record, assignments, profiles, pickle.loads(blob[0][0]) if blob else None)

    def export_dirs(self) -> list[Path]:
        """The export folders (``export.out_dir``) of the saved runs' configs, for erasure to search."""
        if not self.path.exists():
            return []
        with self._connect(write=False) as con:
            configs = [json.loads(c) for (c,) in con.execute("SELECT config FROM runs").fetchall()]
        found = {(c.get("export") or {}).get("out_dir") for c in configs if isinstance(c, dict)}
        return [Path(d) for d in sorted(d for d in found if d)]

    def erase(self, customer_ids: list[str]) -> StoreErasure:
        """Remove these customers (raw ids, and their pseudonyms when the store has a key) from every run.

        Their assignment rows go, with the fitted model of each run they were in (see
        :attr:`StoreErasure.models`); the counts in ``runs`` follow. The file is then rewritten, because a
        database only marks deleted rows and their bytes would otherwise stay in the file.
        """
        if not self.path.exists():
            raise StoreError(f"{self.path}: no run store here; nothing to erase (check --store)")
        ids = [str(c) for c in customer_ids]
        candidates = ids + (self.pseudonymizer.pseudonymize(ids) if self.pseudonymizer else [])
        own_key = self.pseudonymizer.key_id if self.pseudonymizer else None
        with self._connect(write=True) as con:
            keys = con.execute("SELECT run_id, content FROM artifacts WHERE name = 'pseudonym_key_id'").fetchall()
            other_key = sorted(run for run, key in keys if bytes(key).decode() != own_key)
            con.register("erased", pd.DataFrame({"customer_id": candidates}))
            gone = "customer_id IN (SELECT customer_id FROM erased)"
            con.execute("BEGIN TRANSACTION")
            try:
                rows = dict(
                    con.execute(f"SELECT run_id, count(*) FROM assignments WHERE {gone} GROUP BY run_id").fetchall()
                )
                models = [
                    run
                    for (run,) in con.execute("SELECT DISTINCT run_id FROM artifacts WHERE name = 'model'").fetchall()
                    if run in rows
                ]
                con.execute(f"DELETE FROM assignments WHERE {gone}")
                for run, count in rows.items():
                    con.execute("UPDATE runs SET n_customers = n_customers - ? WHERE run_id = ?", [count, run])
                    con.execute("DELETE FROM artifacts WHERE run_id = ? AND name = 'model'", [run])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.unregister("erased")
            if rows:
                self._rewrite(con)
        return StoreErasure(rows, sorted(models), other_key)

    def _rewrite(self, con: duckdb.DuckDBPyConnection) -> None:
        """Copy the live rows into a fresh file and put it in place, while ``con`` still holds the write lock."""
        con.execute("CHECKPOINT")
        fresh = self.path.with_name(self.path.name + ".rewrite")
        for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
            leftover.unlink(missing_ok=True)
        database = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute(f"ATTACH '{str(fresh).replace(chr(39), chr(39) * 2)}' AS rewritten")
        try:
            con.execute(f'COPY FROM DATABASE "{database}" TO rewritten')
        finally:
            con.execute("DETACH rewritten")
        os.replace(fresh, self.path)


def run_id_for(config: dict[str, Any], data_fingerprint: str) -> str:
    """A run id that is the same for the same data and the same config: re-running a schedule is idempotent."""
    text = json.dumps({"config": config, "data": data_fingerprint}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
