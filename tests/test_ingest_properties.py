"""Property: for any transactions file a user might export, `segment validate` keeps exactly the rows whose needed
values are present, or refuses the file in one line; it never ends in a traceback.

The files vary what exports vary: encoding, delimiter, quoting, line endings, header spellings and extra columns,
null tokens in any field, line breaks and delimiters inside text, very long text, ISO and day-first dates.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.cli import main

HEADERS = {  # canonical field -> spellings found in exports (case, blank space, separators, languages)
    "order": ["InvoiceNo", "invoice", " Order ID ", "ORDER_ID", "Rechnungsnummer"],
    "product": ["StockCode", "SKU", "product id", "Artikelnummer"],
    "description": ["Description", "Beschreibung", "product name"],
    "quantity": ["Quantity", "QTY", "Menge", " units "],
    "date": ["InvoiceDate", "Order Date", "Datum", "date"],
    "price": ["UnitPrice", "Price", "unit price", "Prix"],
    "customer": ["CustomerID", "Customer ID", " customer_id ", "Kundennummer"],
    "country": ["Country", "Land"],
}
EXTRA_HEADERS = ["", "Notes", "Notes", "Ünïcödé €", 'say "hi"', "a,b;c|d\ttab", "line\nbreak"]
NEEDED = ("customer", "date", "quantity", "price")
NULLS = ["NULL", "None", "NaN", "-", "n/a", "#N/A", ""]
TEXT = st.text(alphabet="abcXYZ 019,;|\t\"'\n\réüßÉ€£-#/", max_size=25)
START = datetime(2023, 1, 1)


NULL_TOKEN = st.builds(
    lambda token, case, left, right: left + case(token) + right,
    st.sampled_from(NULLS),
    st.sampled_from([str, str.lower, str.upper, str.title]),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " "]),
)
VALUES = {  # what a present value looks like; the order id and the date depend on the row
    "product": st.sampled_from(["85123A", "22633", "P1", "Produkt-ä"]),
    "quantity": st.integers(1, 5).map(str),
    "price": st.integers(50, 9999).map(lambda cents: f"{cents / 100:.2f}"),
    "customer": st.sampled_from(["17850", "01234", "C-9", "Müller 7"]),
}
MISSING = st.integers(0, 4).map(lambda n: n == 0)  # one value in five is a null token
DESCRIPTION = st.one_of(TEXT, NULL_TOKEN)
LONG_TEXT = "x" * 140_000
COUNTRY = st.sampled_from(["United Kingdom", "NA", "None", ""])
DATE_STYLE = st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d.%m.%Y", "mixed"])
MIXED_STYLE = st.sampled_from(["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"])
MINUTES = st.integers(0, 2 * 365 * 24 * 60)
HEADER = {field: st.sampled_from(spellings) for field, spellings in HEADERS.items()}


@st.composite
def transaction_files(draw: st.DrawFn) -> tuple[bytes, list[dict[str, str | None]]]:
    """CSV bytes and the rows written in it (``None`` where a null token was written)."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    date_style = draw(DATE_STYLE)
    fields = draw(st.permutations(list(HEADERS)))
    extras = draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=2))
    rows, lines = [], [[draw(HEADER[f]) for f in fields] + extras]
    for i in range(draw(st.integers(1, 25))):
        style = draw(MIXED_STYLE) if date_style == "mixed" else date_style
        row = {f: None if draw(MISSING) else draw(values) for f, values in VALUES.items()}
        row["order"] = None if draw(MISSING) else str(100_000 + i)
        row["date"] = None if draw(MISSING) else (START + timedelta(minutes=draw(MINUTES))).strftime(style)
        row["description"] = LONG_TEXT if i == 0 and draw(st.booleans()) else draw(DESCRIPTION)
        row["country"] = draw(COUNTRY)
        pad = draw(st.sampled_from(["", " "]))
        cells = [pad + row[f] + pad if row[f] is not None and f in NEEDED else row[f] for f in fields]
        lines.append([draw(NULL_TOKEN) if c is None else c for c in cells] + [draw(TEXT) for _ in extras])
        rows.append(row)
    text = newline.join(delimiter.join(_quoted(draw, c, delimiter) for c in line) for line in lines) + newline
    return text.encode(encoding), rows


def _quoted(draw: st.DrawFn, cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")) or draw(st.booleans()):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def expected_time(value: str) -> datetime:
    for style in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, style)
        except ValueError:
            continue
    raise AssertionError(f"the test wrote a date it cannot read back: {value!r}")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=transaction_files())
def test_validate_keeps_every_row_with_its_needed_values_or_refuses_in_one_line(capsys, case) -> None:
    content, rows = case
    with tempfile.TemporaryDirectory() as folder:
        path, affected = Path(folder) / "export.csv", Path(folder) / "affected.csv"
        path.write_bytes(content)
        code = main(["-q", "validate", str(path), "--json", "--affected", str(affected)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        # a needed column with no value at all cannot be read: the one case that must be refused
        if any(all(r[f] is None for r in rows) for f in ("date", "quantity", "price")):
            assert code == 2
            assert err.startswith("error: export.csv") and err.count("\n") == 1, err
            return
        assert code == 0, err
        summary = json.loads(out)
        # the affected-rows file reads back row for row, whatever line breaks the descriptions hold
        removed = set(pd.read_csv(affected, usecols=["source_row"])["source_row"])
    valid = {i + 2: r for i, r in enumerate(rows) if all(r[f] is not None for f in NEEDED)}
    assert summary["rows_read"] == len(rows)
    assert summary["rows_kept"] == len(valid)
    assert removed == {i + 2 for i in range(len(rows))} - set(valid)
    assert summary["customers"] == len({r["customer"] for r in valid.values()})
    revenue = sum(int(r["quantity"]) * float(r["price"]) for r in valid.values())
    assert summary["revenue"] == pytest.approx(revenue, abs=0.01)
    if valid:
        times = [expected_time(r["date"]) for r in valid.values()]
        assert summary["date_range"] == [str(min(times)), str(max(times))]
