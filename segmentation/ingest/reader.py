"""Read a transactions file into a table of text columns, detecting its format.

CSV/TSV (optionally gzip-compressed) is parsed by pyarrow's multi-threaded reader with every column read
as text, so nothing is guessed before the mapping says what a column means (customer ids keep leading
zeros; numbers and dates are parsed later, column by column, with their own detection). Only an empty
cell is null here: tokens such as ``NULL`` or ``NA`` stay text, because whether they mean "no value" depends on
the column (a missing customer id, but Namibia in a country column); see :data:`segmentation.ingest.parse.NULL_TOKENS`.
Excel and Parquet are read by pandas/pyarrow.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from segmentation.config import ReadOptions
from segmentation.errors import InputError

log = logging.getLogger(__name__)

SNIFF_BYTES = 256 * 1024
BLOCK_BYTES = 4 << 20
MAX_BLOCK_BYTES = 256 << 20
"""The longest line pyarrow is retried with when a line does not fit a block; longer lines are refused."""
DELIMITERS = (",", ";", "\t", "|")
WHITESPACE = "whitespace"
"""The delimiter of column-aligned text files (runs of spaces or tabs between fields, e.g. CDNOW's purchase log)."""
ROW_COLUMN = "source_row"
"""Spreadsheet-style row number of each data line: the header is row 1, the first data line row 2."""

FileKind = Literal["csv", "excel", "parquet"]


@dataclass(frozen=True)
class FileFormat:
    kind: FileKind
    encoding: str = "utf-8"
    delimiter: str = ","
    compression: str | None = None


@dataclass
class RawTable:
    """A file's content as read: text columns plus the row number column, and what was detected."""

    table: pa.Table
    source: str
    format: FileFormat
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.table.column_names if c != ROW_COLUMN]


def read_raw(path: str | Path, options: ReadOptions | None = None) -> RawTable:
    """Read ``path`` (CSV, CSV.gz, TSV, XLSX or Parquet) into a :class:`RawTable`."""
    options = options or ReadOptions()
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", where=str(path), fix="check the path")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", where=path.name, fix="export the transactions again")
    kind = _file_kind(path)
    if kind == "parquet":
        raw = _read_parquet(path)
    elif kind == "excel":
        raw = _read_excel(path, options)
    else:
        raw = _read_csv(path, options)
    if raw.table.num_rows == 0:
        raise InputError(
            "the file has a header but no data rows",
            where=path.name,
            fix="export a file that contains transactions",
        )
    return raw


def _file_kind(path: Path) -> FileKind:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        return "parquet"
    if magic[:2] == b"PK":
        return "excel"
    return "csv"


def _read_parquet(path: Path) -> RawTable:
    try:
        table = pq.ParquetFile(path).read()  # read_table refuses repeated column names
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", where=path.name) from exc
    names, warnings = _unique_names([str(c) for c in table.column_names])
    table = table.rename_columns(names)
    return RawTable(_with_row_numbers(table), path.name, FileFormat("parquet"), warnings)


def _read_excel(path: Path, options: ReadOptions) -> RawTable:
    import pandas as pd

    try:
        frame = pd.read_excel(
            path, sheet_name=options.sheet or 0, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[""]
        )
    except Exception as exc:  # openpyxl raises many unrelated types for broken workbooks
        raise InputError(
            f"cannot read the Excel workbook: {exc}",
            where=path.name,
            fix="save it again as .xlsx or export CSV",
        ) from exc
    names, warnings = _unique_names([str(c) for c in frame.columns])
    frame.columns = names
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return RawTable(_with_row_numbers(table), path.name, FileFormat("excel"), warnings)


def _read_csv(path: Path, options: ReadOptions) -> RawTable:
    compression = "gzip" if _is_gzip(path) else None
    head = _head_bytes(path, compression)
    _reject_binary(head, path.name)
    encoding = options.encoding or _detect_encoding(head)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise InputError("the file is empty", where=path.name, fix="export the transactions again")
    # the sample may hold one field as long as itself; the csv module refuses fields over 128 KiB by default
    csv.field_size_limit(max(csv.field_size_limit(), SNIFF_BYTES))
    delimiter = options.delimiter or _detect_delimiter(text)
    if delimiter == WHITESPACE:
        header, layout = text.splitlines()[0].split(), {"header_lines": 1, "quoted_newlines": False}
    else:
        lines = csv.reader(io.StringIO(text), delimiter=delimiter)
        header = next(lines)
        layout = {"header_lines": lines.line_num, "quoted_newlines": '"' in text}  # a quoted header may span lines
    names, warnings = _unique_names([" ".join(h.split()) for h in header])
    if len(names) < 2:
        raise InputError(
            f"found only one column ({names[0]!r}) with delimiter {delimiter!r}",
            where=path.name,
            fix="pass the delimiter explicitly (--delimiter, 'whitespace' for aligned columns) or export with , or ; "
            "between columns",
        )
    fmt = FileFormat("csv", encoding, delimiter, compression)
    try:
        table = _parse_csv(path, fmt, names, **layout)
    except UnicodeDecodeError as exc:
        if options.encoding:
            raise InputError(f"not valid {encoding}: {exc}", where=path.name, fix="give the right --encoding") from exc
        fmt = FileFormat("csv", "cp1252", delimiter, compression)
        warnings.append(f"{path.name}: text is not valid {encoding} beyond the first bytes; read as cp1252")
        table = _parse_csv(path, fmt, names, **layout)
    log.info("read %s: %d rows, format %s", path.name, table.num_rows, fmt)
    return RawTable(_with_row_numbers(table), path.name, fmt, warnings)


def _parse_csv(
    path: Path,
    fmt: FileFormat,
    names: list[str],
    *,
    header_lines: int = 1,
    quoted_newlines: bool = False,
    block_size: int | None = None,
) -> pa.Table:
    """Every column as text. Line breaks inside quotes cost speed, so they are allowed only where the sample
    has quotes, or on a retry when a quoted line break past the sample splits a row."""
    if fmt.delimiter == WHITESPACE:
        return _parse_aligned(path, fmt, names, header_lines)
    block_size = block_size or BLOCK_BYTES
    read = pacsv.ReadOptions(
        column_names=names, skip_rows=header_lines, encoding=fmt.encoding, block_size=block_size, use_threads=True
    )
    parse = pacsv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=quoted_newlines)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    source = pa.input_stream(str(path), compression=fmt.compression)
    try:
        return pacsv.read_csv(source, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        retry = partial(
            _parse_csv,
            path,
            fmt,
            names,
            header_lines=header_lines,
            quoted_newlines=quoted_newlines,
            block_size=block_size,
        )
        if "straddling" in message or "block" in message:  # a row longer than a block
            if block_size < MAX_BLOCK_BYTES:
                return retry(block_size=MAX_BLOCK_BYTES)
            line, column = _long_field(path, fmt, names, MAX_BLOCK_BYTES)
            raise InputError(
                f"a {'field' if column else 'row'} is longer than {MAX_BLOCK_BYTES:,} bytes",
                where=f"{path.name}, row {line}" + (f", column {column!r}" if column else ""),
                fix="shorten the long text in that row of the source file, or remove the row",
            ) from exc
        if "UTF8" in message or "utf-8" in message.lower():
            raise UnicodeDecodeError(fmt.encoding, b"", 0, 1, message) from exc
        if message.startswith("CSV parse error") and not quoted_newlines:
            return retry(quoted_newlines=True)
        raise InputError(
            f"malformed CSV: {_describe_arrow_error(message)}",
            where=path.name,
            fix="check that every line has the same number of columns and quotes are balanced",
        ) from exc


def _parse_aligned(path: Path, fmt: FileFormat, names: list[str], header_lines: int) -> pa.Table:
    """A column-aligned file (fields between runs of blanks), every column as text. pyarrow splits on one
    character only; pandas' C parser splits on runs of blanks at a similar speed."""
    import pandas as pd

    try:
        frame = pd.read_csv(
            path,
            sep=r"\s+",
            names=names,
            skiprows=header_lines,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding=fmt.encoding,
            compression=fmt.compression,
        )
    except pd.errors.ParserError as exc:
        raise InputError(
            f"malformed aligned columns: {str(exc).strip()}",
            where=path.name,
            fix="every line needs the same number of fields; quote fields that contain blanks",
        ) from exc
    return pa.Table.from_pandas(frame, preserve_index=False)


def _long_field(path: Path, fmt: FileFormat, names: list[str], limit: int) -> tuple[int, str | None]:
    """Line number (header = 1) and column of the first field longer than ``limit`` bytes; without such a field,
    the first line longer than that and ``None``.

    Streams the file once; quotes are not interpreted, so the answer guides the user rather than proves.
    """
    delimiter = fmt.delimiter.encode(fmt.encoding)
    line, column, length, line_length, long_line = 1, 0, 0, 0, 0
    opener = gzip.open if fmt.compression == "gzip" else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            for i, piece in enumerate(chunk.split(b"\n")):
                if i:
                    line, column, length, line_length = line + 1, 0, 0, 0
                line_length += len(piece)
                if line_length > limit and not long_line:
                    long_line = line
                if length + len(piece) <= limit:  # no field here can be too long: just move on
                    if delimiter in piece:
                        column += piece.count(delimiter)
                        length = len(piece) - piece.rindex(delimiter) - 1
                    else:
                        length += len(piece)
                    continue
                for j, part in enumerate(piece.split(delimiter)):
                    if j:
                        column, length = column + 1, 0
                    length += len(part)
                    if length > limit:
                        return line, names[column] if column < len(names) else f"column {column + 1}"
    return long_line or line, None


def _describe_arrow_error(message: str) -> str:
    # pyarrow reports "Expected N columns, got M: <line>"; keep the useful part, shortened.
    first = message.splitlines()[0] if message else "unknown error"
    return first[:300]


def _with_row_numbers(table: pa.Table) -> pa.Table:
    """``table`` with its spreadsheet row numbers; a column of the file with that name (a cleaned table written
    back, say) is dropped: its numbers are another file's, and the reports name rows of this one."""
    if ROW_COLUMN in table.column_names:
        table = table.drop_columns([ROW_COLUMN])
    return table.append_column(ROW_COLUMN, pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64)))


def _unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Give duplicated or empty headers distinct names, with a warning for each."""
    seen: dict[str, int] = {}
    out, warnings = [], []
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        if not name:
            warnings.append(f"column {i + 1} has no header; named it {base!r}")
        if base in seen:
            seen[base] += 1
            new = f"{base}.{seen[base]}"
            warnings.append(f"header {base!r} appears more than once; the copy in column {i + 1} is named {new!r}")
            base = new
        else:
            seen[base] = 0
        out.append(base)
    return out, warnings


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _head_bytes(path: Path, compression: str | None) -> bytes:
    opener = gzip.open if compression == "gzip" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InputError(
            f"cannot read the file: {exc}", where=path.name, fix="check the file is not truncated"
        ) from exc


def _reject_binary(head: bytes, name: str) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("the file is UTF-16 encoded", where=name, fix="save it as UTF-8 CSV")
    control = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    if b"\x00" in head[:8192] or control > len(head[:8192]) * 0.05:
        raise InputError(
            "the file is binary, not a text table", where=name, fix="upload a CSV, TSV, XLSX or Parquet file"
        )


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut by the sample boundary
            return "utf-8"
    best = from_bytes(head, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    return "cp1252" if best is None or best.encoding in ("windows_1252", "cp1252") else best.encoding


def _detect_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (>1) of fields most often; when none splits
    them, :data:`WHITESPACE` if runs of blanks do, consistently (column-aligned text)."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the sample may cut the last line
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = counts.count(mode) / len(counts) * mode**0.5
        if score > best_score:
            best, best_score = delimiter, score
    if best_score == 0 and _aligned(lines):
        return WHITESPACE
    return best


def _aligned(lines: list[str]) -> bool:
    """Whether every non-blank line splits on runs of blanks into the same number (> 1) of fields."""
    counts = {len(line.split()) for line in lines if line.strip()}
    return len(counts) == 1 and counts.pop() > 1
