"""CSV writing that a spreadsheet cannot turn into code, and that a crash cannot leave half-written.

- RFC 4180: comma separated, CRLF line ends, fields quoted when they hold a comma, quote or line break.
- Formula injection (OWASP "CSV injection"): a free-text cell starting with ``=``, ``+``, ``-``, ``@`` (or their
  full-width forms ``＝＋－＠``), tab, CR or LF, also after leading spaces (some spreadsheets trim them), is
  prefixed with a single quote, so Excel/Sheets show it as text. Typed columns (numbers, dates, E.164 phones)
  are validated instead, so ``-5.20`` stays a number.
- Atomic: rows go to a temporary file in the target folder, fsynced, then renamed over the target.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from segmentation.errors import InputError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def neutralise(value: object) -> object:
    """The cell as text that no spreadsheet evaluates."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def check_typed(
    frame: pd.DataFrame, numeric: Iterable[str] = (), phones: Iterable[str] = (), emails: Iterable[str] = ()
) -> None:
    """Raise a specific error for the first invalid value of a typed column (numbers, E.164 phones, emails)."""
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column].notna() & (values.isna() | ~values.abs().lt(float("inf")))
        _raise_if(frame, column, bad, "is not a finite number")
    for column, pattern, what in [(c, E164, "is not an E.164 phone number (+4420...)") for c in phones] + [
        (c, EMAIL, "is not an email address") for c in emails
    ]:
        text = frame[column].astype("string")
        bad = text.notna() & ~text.str.fullmatch(pattern.pattern).fillna(False)
        _raise_if(frame, column, bad, what)


def _raise_if(frame: pd.DataFrame, column: str, bad: pd.Series, what: str) -> None:
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            f"value {frame[column].iloc[first]!r} {what} ({int(bad.sum())} such values)",
            where=f"export column {column!r}, customer {frame.index[first]!r}",
            fix="correct it in the source data or leave the column out of the export",
        )


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that appears at ``path`` only once it is completely written and synced."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_csv_atomic(frame: pd.DataFrame, path: Path, text_columns: Iterable[str]) -> int:
    """Write ``frame`` (no index) to ``path`` atomically, neutralising ``text_columns``; returns bytes written."""
    path = Path(path)
    with atomic_file(path) as fh:
        write_rows(frame, fh, text_columns)
    return path.stat().st_size


def csv_text(frame: pd.DataFrame, text_columns: Iterable[str] | None = None) -> str:
    """``frame`` (no index) as RFC 4180 text for a download; ``text_columns`` (default: every non-numeric
    column) are neutralised."""
    if text_columns is None:
        text_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    buffer = io.StringIO()
    write_rows(frame, buffer, text_columns)
    return buffer.getvalue()


def write_rows(frame: pd.DataFrame, fh: TextIO, text_columns: Iterable[str]) -> None:
    """Header and rows of ``frame`` to ``fh``: CRLF line ends, a field with a line break (CR or LF) quoted."""
    text_columns = set(text_columns)
    writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(
            [
                "" if _missing(v) else neutralise(v) if col in text_columns else v
                for col, v in zip(frame.columns, row, strict=True)
            ]
        )


def write_json_atomic(payload: dict[str, Any], path: Path) -> None:
    with atomic_file(Path(path)) as fh:
        json.dump(payload, fh, indent=2, default=str)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
