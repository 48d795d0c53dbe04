"""Turn the raw text table into canonical transactions, in one DuckDB pass, and validate it.

Numbers and dates are parsed per column with a format decided from the column's content: the decimal
separator from the values themselves, the day/month order from the *whole* column (a value with a first
field over 12 proves day-first; both kinds in one column is an error, never silently mixed). ISO dates
(year first) are unambiguous value by value, so a column may mix them with day/month dates.
In the fields the pipeline needs (ids, date, quantity, prices) the :data:`NULL_TOKENS` mean "no value";
optional text fields keep them (``NA`` in a country column is Namibia).
Rows whose values do not parse are kept with ``invalid_fields`` set; cleaning removes and reports them.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.config import ReadOptions
from segmentation.formatting import plural
from segmentation.ingest.currency import STRIPPED, detect_currency
from segmentation.ingest.mapping import FIELD_LABELS, FIELDS, OPTIONAL, ColumnMapping
from segmentation.ingest.reader import ROW_COLUMN, RawTable
from segmentation.ingest.validation import Issue, ValidationReport
from segmentation.sql import connect, fetch_row, quote, to_arrow

NUMERIC_FIELDS = ("quantity", "unit_price", "amount")
SAMPLE_SIZE = 20_000
MIN_PARSED_SHARE = 0.5
"""At or below this share of parseable values a column is taken to be the wrong column: a fatal error."""
NULL_TOKENS: frozenset[str] = frozenset(
    {"", "null", "none", "nan", "na", "n/a", "#n/a", "<na>", "nil", "(null)", "-", "--", "?"}
)
"""Values that mean "no value" in a field the pipeline needs, compared after trimming blank space, in any case."""
_TOKENS = pa.array(sorted(NULL_TOKENS))
_PLAIN_START = np.isin(
    np.arange(256),
    [ord(c) for c in string.digits + string.ascii_letters if c.lower() not in {t[0] for t in NULL_TOKENS if t}],
)
"""Digits and letters that no null token starts with (in any case; all letters but n today): a value starting with
one is no token, even with blank space trimmed. Derived from :data:`NULL_TOKENS`, so a new token keeps it true."""
_SPACE = ord(" ")

_FLOAT_ID = re.compile(r"(^| )\d+\.0+( |$)")
_ISO = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DMY = re.compile(r"^\s*\d{1,2}([-/.])\d{1,2}\1\d{2,4}")
_COMPACT = re.compile(r"^\s*(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\s*$")
_COMMA_DECIMAL = re.compile(r"(^|[^\d])\d*,\d{1,2}$|\.\d{3},\d+$|^-?\d{1,3}(\.\d{3})+$")
_DOT_DECIMAL = re.compile(r"\d\.\d{1,2}$|,\d{3}\.\d+$|^-?\d{1,3}(,\d{3})+$|\.\d{4,}$")


def to_canonical(
    raw: RawTable, mapping: ColumnMapping, options: ReadOptions | None = None
) -> tuple[pa.Table, ValidationReport]:
    """Canonical transactions (see docs/architecture.md) and the validation report for ``raw``."""
    options = options or ReadOptions()
    report = ValidationReport(source=raw.source, rows_read=raw.table.num_rows)
    for warning in raw.warnings:
        report.warn("read", warning)
    report.detected.update(
        kind=raw.format.kind,
        encoding=raw.format.encoding,
        delimiter=raw.format.delimiter,
        mapping=mapping.columns,
    )
    for issue in mapping.problems(raw.columns):
        report.add(issue)
    report.raise_for_errors()  # without the required columns nothing below can run
    # closing releases DuckDB's buffers and its reference to the raw table now, also when a statement fails
    with connect() as con:
        raw = replace(raw, table=_null_tokens_as_null(raw, mapping))
        con.register("raw", raw.table)
        number_text = _number_text(raw, mapping)
        digits: Counter[str] = Counter()
        for text, n in number_text.items():
            digits[re.sub(STRIPPED, "", text)] += n
        decimal = options.decimal or detect_decimal(digits)
        report.detected["decimal"] = decimal
        currency = mapping.get("currency")
        detect_currency(report, options.currency, currency, _distinct_counts(con, currency), number_text)
        ts_expr = _timestamp_expr(con, raw, mapping.get("ts"), options, report)
        column = mapping.get("customer_id")
        float_ids = not _is_text(raw, column) or bool(_FLOAT_ID.search(" ".join(_sample(raw, column))))
        select, checks, unparsed = _parsed_columns(raw, mapping, ts_expr, decimal, float_ids)
        output = _canonical_columns(mapping, unparsed)
        # text columns that need no change are taken from the raw table as they are: no copy through DuckDB
        as_read = {"source_row": ROW_COLUMN, **_unchanged_text(raw, mapping, float_ids)}
        computed = to_arrow(
            con.sql(
                f"""WITH parsed AS (SELECT {", ".join(select)} FROM raw)
                    SELECT {", ".join(e for f, e in output.items() if f not in as_read)} FROM parsed"""
            )
        )
        table = pa.table({f: raw.table.column(as_read[f]) if f in as_read else computed.column(f) for f in output})
        missing = _count_missing(raw, mapping)
        _report_unparsed(con, raw, table, mapping, checks, missing, report)
        _report_missing(mapping, missing, report)
        _report_unmapped(mapping, report)
    return table, report


def _parsed_columns(
    raw: RawTable, mapping: ColumnMapping, ts_expr: str, decimal: str, float_ids: bool
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The SELECT list that parses ``raw``'s mapped columns (each number also as its text), the expression of each
    parsed field (for the row-by-row report) and, per field, the condition of a value that did not parse."""
    # ids exported as floats ("17850.0") lose the ".0"; an empty order id becomes an order of its own row
    customer = _text(mapping.get("customer_id"))
    if float_ids:
        customer = f"regexp_replace({customer}, '^(\\d+)\\.0+$', '\\1')"
    select = [
        f"{quote(ROW_COLUMN)} AS source_row",
        f"{customer} AS customer_id",
        f"coalesce({_text(mapping.get('order_id'))}, 'row-' || {quote(ROW_COLUMN)}) AS order_id"
        if mapping.get("order_id")
        else "NULL::VARCHAR AS order_id",
        f"{_text(mapping.get('product_id'))} AS product_id",
        f"{ts_expr} AS ts",
        *(f"{_text(mapping.get(field))} AS {field}" for field in OPTIONAL),
        f"{quote(mapping.get('ts'))} AS ts_text",
    ]
    checks = {"ts": ts_expr}
    unparsed = {"ts": "ts_text IS NOT NULL AND ts IS NULL"}
    for field in NUMERIC_FIELDS:
        column = mapping.get(field)
        expr = _number_expr(raw, column, decimal) if column else "NULL::DOUBLE"
        select.append(f"{expr} AS {field}_parsed")
        if column:
            checks[field] = expr
            select.append(f"{quote(column)} AS {field}_text")
            unparsed[field] = f"{field}_text IS NOT NULL AND {field}_parsed IS NULL"
    return select, checks, unparsed


def _canonical_columns(mapping: ColumnMapping, unparsed: dict[str, str]) -> dict[str, str]:
    """Canonical field -> its SQL over the parsed columns of :func:`_parsed_columns`."""
    # a line amount without a quantity column: one unit, -1 for a refund
    quantity = "quantity_parsed" if mapping.get("quantity") else "CASE WHEN amount_parsed < 0 THEN -1.0 ELSE 1.0 END"
    return {
        "source_row": "source_row",
        "customer_id": "customer_id",
        # without an order column an order is a customer's purchase day (date first: never a cancellation prefix)
        "order_id": "coalesce(order_id, strftime(ts, '%Y-%m-%d') || ' ' || customer_id) AS order_id",
        "ts": "ts",
        "product_id": "product_id",
        "quantity": f"{quantity} AS quantity",
        "unit_price": f"coalesce(unit_price_parsed, amount_parsed / nullif({quantity}, 0)) AS unit_price",
        "amount": f"coalesce(amount_parsed, {quantity} * unit_price_parsed) AS amount",
        **{field: field for field in OPTIONAL},
        # the list of unreadable fields is built only on the rows that have one
        "invalid_fields": f"CASE WHEN {' OR '.join(unparsed.values())} THEN concat_ws(',', "
        + ", ".join(f"CASE WHEN {condition} THEN '{field}' END" for field, condition in unparsed.items())
        + ") END AS invalid_fields",
    }


def _unchanged_text(raw: RawTable, mapping: ColumnMapping, float_ids: bool) -> dict[str, str]:
    """Text fields (field -> column) whose canonical value is the raw text itself: no value is blank, none has spaces
    around it, and nothing else rewrites them (float-written customer ids, an empty order id)."""
    fields = [
        field
        for field in ("customer_id", "order_id", "product_id", *OPTIONAL)
        if (column := mapping.get(field))
        and raw.table.schema.field(column).type == pa.string()
        and not (field == "customer_id" and float_ids)
        and not (field == "order_id" and raw.table.column(column).null_count)
    ]
    return {field: mapping.get(field) for field in fields if not _any_untrimmed(raw.table.column(mapping.get(field)))}


def _null_tokens_as_null(raw: RawTable, mapping: ColumnMapping) -> pa.Table:
    """``raw``'s table with :data:`NULL_TOKENS` as NULL in the text columns of the needed fields.

    Only values that may be a token are compared (distinct ones, trimmed, in lower case): a value that starts with a
    digit or a letter other than n is none, which rules out nearly every id, date and number without a hash of each
    row. A column is copied only if it holds a token.
    """
    table = raw.table
    needed = [f for f in FIELDS if f not in OPTIONAL]
    for column in dict.fromkeys(c for f in needed if (c := mapping.get(f)) and _is_text(raw, c)):
        values = table.column(column)
        maybe = pa.chunked_array(
            [pa.array(empty | ~_PLAIN_START[first]) for first, _, empty in map(_edges, values.chunks)], pa.bool_()
        )
        distinct = pc.unique(pc.filter(values, maybe))
        spelled = pc.utf8_lower(pc.utf8_trim_whitespace(distinct))
        tokens = pc.filter(distinct, pc.is_in(spelled, value_set=_TOKENS.cast(distinct.type)))
        if len(tokens):
            nulled = pc.if_else(pc.is_in(values, value_set=tokens), pa.scalar(None, values.type), values)
            table = table.set_column(table.schema.get_field_index(column), column, nulled)
    return table


def _any_untrimmed(values: pa.ChunkedArray) -> bool:
    """Whether a value of the text column is blank or starts or ends with a space (see :func:`_untrimmed`)."""
    for chunk in values.chunks:
        first, last, empty = _edges(chunk)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        if (valid & (empty | (first == _SPACE) | (last == _SPACE))).any():
            return True
    return False


def _edges(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first and last byte of each value of a string array (0 where empty or null) and whether it is empty,
    read from Arrow's offsets and data buffers: one pass over the row offsets, no hash and no copy of the text."""
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets, data = chunk.buffers()
    bounds = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    text = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, dtype=np.uint8)
    starts, ends = bounds[:-1], bounds[1:]
    empty = ends <= starts
    first = np.where(empty, 0, text[np.minimum(starts, len(text) - 1)])
    last = np.where(empty, 0, text[np.maximum(ends - 1, 0)])
    return first, last, empty


def _text(column: str | None) -> str:
    """The column's text without spaces around it, NULL when blank; trimmed (a copy) only where it needs it."""
    if column is None:
        return "NULL::VARCHAR"
    value = f"CAST({quote(column)} AS VARCHAR)"
    return f"CASE WHEN {_untrimmed(value)} THEN nullif(trim({value}), '') ELSE {value} END"


def _untrimmed(value: str) -> str:
    """SQL: ``value`` is blank or has spaces around it (DuckDB's ``trim`` removes spaces only)."""
    return f"({value} = '' OR prefix({value}, ' ') OR suffix({value}, ' '))"


def _sample(raw: RawTable, column: str) -> Counter[str]:
    """The trimmed values of the column's first rows (and last ones: exports are often sorted by date) that are not
    null tokens, with how often each occurs. Arrow counts them, so Python looks at each distinct value once."""
    values = raw.table.column(column)
    parts = [values.slice(0, SAMPLE_SIZE)]
    if raw.table.num_rows > SAMPLE_SIZE:
        parts.append(values.slice(raw.table.num_rows - SAMPLE_SIZE // 4))
    sample: Counter[str] = Counter()
    for part in parts:
        counted = pc.value_counts(part)  # in order of first occurrence, like the rows
        for value, n in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True):
            if value and (trimmed := value.strip()).lower() not in NULL_TOKENS:
                sample[trimmed] += n
    return sample


def _is_text(raw: RawTable, column: str) -> bool:
    kind = raw.table.schema.field(column).type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _number_text(raw: RawTable, mapping: ColumnMapping) -> Counter[str]:
    """A sample of the texts of all mapped number columns, counted: one decimal separator and currency for the file."""
    return sum((_sample(raw, c) for f in NUMERIC_FIELDS if (c := mapping.get(f)) and _is_text(raw, c)), Counter())


def _distinct_counts(con: duckdb.DuckDBPyConnection, column: str | None, limit: int = 50) -> list[tuple[str, int]]:
    """The most frequent values of ``column`` with their row counts (none when no column is mapped)."""
    if column is None:
        return []
    value = _text(column)
    return con.execute(
        f"SELECT {value}, count(*) FROM raw WHERE {value} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT {limit}"
    ).fetchall()


def _number_expr(raw: RawTable, column: str, decimal: str) -> str:
    if not _is_text(raw, column):
        return f"TRY_CAST({quote(column)} AS DOUBLE)"
    col = f"regexp_replace(trim({quote(column)}), '{STRIPPED}', '', 'g')"
    if decimal == ",":
        return f"TRY_CAST(replace(replace({col}, '.', ''), ',', '.') AS DOUBLE)"
    return f"coalesce(TRY_CAST({quote(column)} AS DOUBLE), TRY_CAST(replace({col}, ',', '') AS DOUBLE))"


def detect_decimal(values: Iterable[str] | Mapping[str, int]) -> str:
    """``,`` when the values read as decimal-comma numbers (``2,55``, ``1.234,5``), else ``.``; a mapping gives
    each value's count."""
    counted = Counter(values)
    comma = sum(n for v, n in counted.items() if _COMMA_DECIMAL.search(v))
    dot = sum(n for v, n in counted.items() if _DOT_DECIMAL.search(v))
    return "," if comma > dot else "."


def _timestamp_expr(
    con: duckdb.DuckDBPyConnection, raw: RawTable, column: str, options: ReadOptions, report: ValidationReport
) -> str:
    if not _is_text(raw, column):
        report.detected["date_format"] = "native"
        return f"TRY_CAST({quote(column)} AS TIMESTAMP)"
    sample = _sample(raw, column)
    if not sample:
        return "NULL::TIMESTAMP"
    col, text = quote(column), _text(column)
    # year first: one reading whatever the other values are. The cheap cast first; blank space around the value
    # and "2024.03.05" only where it fails (COALESCE evaluates its second argument for those rows alone)
    iso_expr = (
        f"coalesce(TRY_CAST({col} AS TIMESTAMP), TRY_CAST(replace({col}, '/', '-') AS TIMESTAMP), "
        f"TRY_CAST(translate(left({text}, 10), '/.', '--') || substr({text}, 11) AS TIMESTAMP))"
    )
    if any(_COMPACT.match(v) for v in sample):  # 19970101: year, month and day without separators
        iso_expr = f"coalesce({iso_expr}, try_strptime({text}, '%Y%m%d'))"
    iso = sum(bool(_ISO.match(v) or _COMPACT.match(v)) for v in sample)
    dmy: Counter[str] = Counter()
    for value, n in sample.items():
        if m := _DMY.match(value):
            dmy[m.group(1)] += n
    if not dmy:
        report.detected["date_format"] = "ISO (year-month-day)"
        return iso_expr
    sep = dmy.most_common(1)[0][0]
    order = _day_month_order(con, column, sep, options, report)
    first, second = ("%d", "%m") if order == "dayfirst" else ("%m", "%d")
    dates = [f"{first}{sep}{second}{sep}{year}" for year in ("%y", "%Y")]  # %Y would read "24" as year 24
    times = [" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", ""]
    formats = ", ".join(f"'{d}{t}'" for d in dates for t in times)
    report.detected["date_format"] = ("ISO and " if iso else "") + f"{first}{sep}{second}{sep}%Y ({order})"
    # day/month values take the order decided from all of them; a year-first value fails these formats: read as ISO
    return f"coalesce(try_strptime({text}, [{formats}]), {iso_expr})"


def _day_month_order(
    con: duckdb.DuckDBPyConnection, column: str, sep: str, options: ReadOptions, report: ValidationReport
) -> str:
    """Decide day-first or month-first from every value of the column."""
    sep_re = re.escape(sep)
    pattern = f"^\\s*(\\d{{1,2}}){sep_re}(\\d{{1,2}}){sep_re}"
    col = quote(column)
    first = f"TRY_CAST(regexp_extract({col}, '{pattern}', 1) AS INTEGER)"
    second = f"TRY_CAST(regexp_extract({col}, '{pattern}', 2) AS INTEGER)"
    stats = fetch_row(
        con,
        f"""SELECT count(*) FILTER (WHERE {first} > 12), list(source_row) FILTER (WHERE {first} > 12)[1:5],
                   list({col}) FILTER (WHERE {first} > 12)[1:3],
                   count(*) FILTER (WHERE {second} > 12), list(source_row) FILTER (WHERE {second} > 12)[1:5],
                   list({col}) FILTER (WHERE {second} > 12)[1:3]
            FROM raw""",
    )
    n_day_first, rows_df, ex_df, n_month_first, rows_mf, ex_mf = stats
    if n_day_first and n_month_first:
        report.add(
            Issue(
                "error",
                "mixed_date_order",
                f"dates mix day-first ({n_day_first} rows, e.g. rows {rows_df}) and month-first "
                f"({n_month_first} rows) order",
                column=column,
                n_rows=n_month_first,
                rows=tuple(rows_mf),
                examples=tuple(ex_df + ex_mf),
                fix="export the dates in one format, ideally ISO YYYY-MM-DD",
            )
        )
        return options.date_order if options.date_order != "auto" else "dayfirst"
    evident = "dayfirst" if n_day_first else "monthfirst" if n_month_first else None
    if options.date_order != "auto":
        if evident and evident != options.date_order:
            rows, examples, n = (
                (rows_df, ex_df, n_day_first) if evident == "dayfirst" else (rows_mf, ex_mf, n_month_first)
            )
            report.add(
                Issue(
                    "error",
                    "date_order_conflict",
                    f"date order was set to {options.date_order} but these values can only be {evident}",
                    column=column,
                    n_rows=n,
                    rows=tuple(rows),
                    examples=tuple(examples),
                    fix=f"set the date order to {evident} (or auto)",
                )
            )
        return options.date_order
    if evident is None:
        report.warn(
            "ambiguous_date_order",
            "every date has day and month <= 12, so the order cannot be told from the data; read as day-first",
            column=column,
            fix="if the dates are month-first, set the date order to monthfirst (--date-order monthfirst)",
        )
        return "dayfirst"
    return evident


def _report_unparsed(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    canonical: pa.Table,
    mapping: ColumnMapping,
    checks: dict[str, str],
    missing: dict[str, int],
    report: ValidationReport,
) -> None:
    """Count unreadable values from ``invalid_fields`` (no second parse); fetch examples only where some exist."""
    fields = [f for f in checks if mapping.get(f)]
    con.register("canonical", canonical)
    counts = fetch_row(
        con,
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE list_contains(string_split(invalid_fields, ','), '{f}'))" for f in fields)
        + " FROM canonical",
    )
    for field, n_invalid in zip(fields, counts, strict=True):
        column = mapping.get(field)
        n_values = raw.table.num_rows - missing[field]
        n_bad = n_invalid
        rows: list[int] = []
        examples: list[str] = []
        if n_bad:
            col = quote(column)
            found = con.execute(
                f"""SELECT source_row, CAST({col} AS VARCHAR) FROM raw
                    WHERE {col} IS NOT NULL AND ({checks[field]}) IS NULL ORDER BY source_row LIMIT 10"""
            ).fetchall()
            rows, examples = [r for r, _ in found], [v for _, v in found[:5]]
        if n_values == 0 or n_values - n_bad <= MIN_PARSED_SHARE * n_values:
            kind = "dates" if field == "ts" else "numbers"
            level, fix = "error", f"map the {FIELD_LABELS[field]} to the column that holds {kind}, or fix their format"
            message = f"{'no' if n_values == n_bad else 'too few'} parseable {kind} ({n_values - n_bad} of {n_values})"
        elif n_bad:
            level, fix = "warning", "correct them in the source file if they matter"
            message = f"{plural(n_bad, 'value')} cannot be read as the {FIELD_LABELS[field]}; those rows are removed"
        else:
            continue
        report.add(
            Issue(
                level,
                f"unparseable_{field}",
                message,
                column=column,
                n_rows=n_bad,
                rows=tuple(rows),
                examples=tuple(examples),
                fix=fix,
            )
        )


_NOTES = {
    "ts": "those rows are removed",
    "quantity": "those rows are removed",
    "unit_price": "those rows are removed",
    "amount": "those rows are removed",
    "order_id": "rows without an order id are kept, each as an order of its own (row-N)",
    "product_id": "rows without a product are kept",
    "description": "kept",
}
"""What happens to a row whose field is empty: the warning says it."""


def _count_missing(raw: RawTable, mapping: ColumnMapping) -> dict[str, int]:
    """Empty values per mapped field of :data:`_NOTES` (in needed fields: blank or a null token)."""
    return {f: raw.table.column(c).null_count for f in _NOTES if (c := mapping.get(f))}


def _report_missing(mapping: ColumnMapping, missing: dict[str, int], report: ValidationReport) -> None:
    both_prices = all(mapping.get(f) for f in ("unit_price", "amount"))
    for field, n_missing in missing.items():
        if not n_missing:
            continue
        note = _NOTES[field]
        if both_prices and field in ("unit_price", "amount"):
            note = "the other price column fills in where it has a value; else the rows are removed"
        blank = "" if field in OPTIONAL else " (blank or a null token such as NULL, n/a, -)"
        report.warn(
            f"missing_{field}",
            f"{plural(n_missing, 'empty value')}{blank}; {note}",
            column=mapping.get(field),
            n_rows=n_missing,
        )


def _report_unmapped(mapping: ColumnMapping, report: ValidationReport) -> None:
    """What an order is, and which steps are off, when the file has no order, product or quantity column."""
    order = mapping.get("order_id")
    report.detected["order_definition"] = f"column {order!r}" if order else "customer + purchase day"
    if not order:
        report.warn(
            "no_order_column",
            "no order id column: an order is a customer's purchases on one day",
            fix="if the file has order or invoice numbers, map them with --map order_id=COLUMN",
        )
    if not mapping.get("product_id"):
        report.warn(
            "no_product_column",
            "no product column: the product-based features are left empty (NaN) and recommendations are off",
            fix="if the file has product codes, map them with --map product_id=COLUMN",
        )
    if not mapping.get("quantity"):
        report.warn("no_quantity_column", "no quantity column: each line counts as one unit (-1 for a refund)")
