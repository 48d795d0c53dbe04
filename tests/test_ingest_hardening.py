"""Classes of bad input that once broke `segment validate`: each is read right or refused in one line, never a traceback.

Every test builds its file from :func:`transactions` (200 rows, 20 customers, every row kept by cleaning), so the
known answer is the clean file's answer minus exactly the rows the test spoils.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.errors import InputError
from segmentation.ingest import ValidationFailed, reader
from segmentation.ingest.parse import NULL_TOKENS
from segmentation.pipeline import load_transactions

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
N_ROWS, N_CUSTOMERS = 200, 20
START = datetime(2024, 1, 1, 10, 0)
# the null tokens as exports write them: any case, blank space around
WRITTEN_NULLS = ["NULL", "None", "NaN", "-", "n/a", "#N/A", "", "  ", " null ", "NONE", "nan", "N/A", "#n/a", "\tNull"]


def transactions() -> list[list[str]]:
    """Header and 200 rows a clean run keeps in full: distinct orders, positive quantities and prices."""
    rows = [
        [
            str(5000 + i),
            f"P{i % 7}",
            f"item {i % 7}",
            str(1 + i % 3),
            (START + timedelta(days=i)).strftime("%Y-%m-%d %H:%M"),
            f"{1 + i % 5}.50",
            f"C{i % N_CUSTOMERS:03d}",
            "United Kingdom",
        ]
        for i in range(N_ROWS)
    ]
    return [HEADER, *rows]


def revenue(rows: list[list[str]]) -> float:
    return round(sum(float(r[3]) * float(r[5]) for r in rows), 2)


def write(tmp_path: Path, rows: list[list[str]], sep: str = ",", name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(sep.join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict | None, str]:
    """Exit code, the JSON summary (when the run succeeded) and stderr of `segment -q validate PATH --json`."""
    code = main(["-q", "validate", str(path), "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out) if code == 0 else None, err


# --- 1. fields longer than the csv module's 131,072-character limit -------------------------------------------


@pytest.mark.parametrize(
    ("length", "row", "sep", "quoted"),
    [
        (131_073, 0, ",", False),  # just over the csv module's default limit, in the sniffed sample
        (150_000, 0, ";", True),  # quoted, with the delimiter and a line break inside
        (300_000, 1, "\t", False),  # longer than the sniffed sample itself: the sample ends inside it
        (150_000, N_ROWS - 1, "|", True),  # past the sample, in the last row
    ],
)
def test_very_long_fields_are_read(tmp_path, capsys, length, row, sep, quoted) -> None:
    rows = transactions()
    text = ("x" * (length // 2)) + sep + "\n" + ("y" * (length - length // 2 - 2)) if quoted else "x" * length
    rows[1 + row][2] = f'"{text}"' if quoted else text
    path = write(tmp_path, rows, sep)
    code, summary, err = validate(capsys, path)
    assert code == 0, err
    assert summary["rows_kept"] == N_ROWS and summary["revenue"] == revenue(rows[1:])
    tx = load_transactions(path).to_pandas()
    assert tx.loc[tx["source_row"] == row + 2, "description"].str.len().item() == length


def test_a_field_longer_than_the_largest_block_is_refused_naming_row_and_column(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(reader, "MAX_BLOCK_BYTES", 1 << 17)
    rows = transactions()
    rows[4][2] = '"' + "z" * 400_000 + '"'  # row 5 of the file (the header is row 1)
    with pytest.raises(InputError) as info:
        load_transactions(write(tmp_path, rows))
    message = str(info.value)
    assert "row 5, column 'Description': a field is longer than 131,072 bytes" in message
    assert "Fix:" in message and "\n" not in message


def test_a_row_longer_than_the_largest_block_is_refused_naming_the_row(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(reader, "MAX_BLOCK_BYTES", 1 << 17)
    rows = transactions()
    rows[6][1] = rows[6][2] = rows[6][7] = '"' + "z" * 100_000 + '"'  # no field over the limit, the row is
    with pytest.raises(InputError, match=r"tx.csv, row 7: a row is longer than 131,072 bytes"):
        load_transactions(write(tmp_path, rows))


# --- 2. null tokens in the fields the pipeline needs ------------------------------------------------------------


def spoil(rows: list[list[str]], column: str, values: list[str]) -> tuple[list[list[str]], list[int]]:
    """Write ``values`` (cycled) into ``column`` of every seventh data row (at most 2 of a customer's 10 rows);
    return the rows and the spoiled row numbers."""
    index = HEADER.index(column)
    spoiled = [list(r) for r in rows]
    numbers = []
    for k, i in enumerate(range(1, len(rows), 7)):
        spoiled[i][index] = values[k % len(values)]
        numbers.append(i + 1)  # spreadsheet row: the header is row 1
    return spoiled, numbers


def test_null_tokens_are_one_definition() -> None:
    assert {t.strip().lower() for t in WRITTEN_NULLS} <= NULL_TOKENS
    assert all(t == t.strip().lower() for t in NULL_TOKENS)


def test_null_customer_ids_are_missing_customers_not_new_ones(tmp_path, capsys) -> None:
    rows, spoiled = spoil(transactions(), "CustomerID", WRITTEN_NULLS)
    code, summary, err = validate(capsys, write(tmp_path, rows))
    assert code == 0, err
    assert summary["customers"] == N_CUSTOMERS
    assert summary["cleaning"] == {"missing_customer_id": len(spoiled)}
    kept = [r for i, r in enumerate(rows[1:], start=2) if i not in spoiled]
    assert summary["rows_kept"] == len(kept) and summary["revenue"] == revenue(kept)


@pytest.mark.parametrize(
    ("column", "code"),
    [("InvoiceDate", "missing_ts"), ("Quantity", "missing_quantity"), ("UnitPrice", "missing_unit_price")],
)
def test_null_tokens_in_date_quantity_or_price_are_missing_values(tmp_path, column, code) -> None:
    rows, spoiled = spoil(transactions(), column, WRITTEN_NULLS)
    result = load_transactions(write(tmp_path, rows))
    assert result.cleaning.counts == {"missing_value": len(spoiled)}
    assert set(result.cleaning.affected["source_row"]) == set(spoiled)
    warnings = {w.code: w for w in result.validation.warnings}
    assert set(warnings) == {code}  # missing, not "unparseable"
    assert warnings[code].n_rows == len(spoiled) and warnings[code].column == column
    kept = [r for i, r in enumerate(rows[1:], start=2) if i not in spoiled]
    assert round(result.to_pandas()["amount"].sum(), 2) == revenue(kept)


def test_null_tokens_in_an_amount_column_are_missing_values(tmp_path) -> None:
    rows = [
        [*r[:5], "Amount" if i == 0 else f"{float(r[3]) * float(r[5]):.2f}", *r[6:]]
        for i, r in enumerate(transactions())
    ]
    rows, spoiled = spoil(rows, "UnitPrice", WRITTEN_NULLS)  # the Amount column sits where UnitPrice was
    result = load_transactions(write(tmp_path, rows))
    assert result.cleaning.counts == {"missing_value": len(spoiled)}
    assert [w.code for w in result.validation.warnings] == ["missing_amount"]


def test_null_order_ids_become_orders_of_their_own_row(tmp_path) -> None:
    rows, spoiled = spoil(transactions(), "InvoiceNo", WRITTEN_NULLS)
    result = load_transactions(write(tmp_path, rows))
    tx = result.to_pandas()
    assert len(tx) == N_ROWS
    assert sorted(tx.loc[tx["source_row"].isin(spoiled), "order_id"]) == sorted(f"row-{n}" for n in spoiled)
    assert [w.code for w in result.validation.warnings] == ["missing_order_id"]


def test_null_product_ids_are_kept_without_a_product(tmp_path) -> None:
    rows, spoiled = spoil(transactions(), "StockCode", WRITTEN_NULLS)
    result = load_transactions(write(tmp_path, rows))
    tx = result.to_pandas()
    assert len(tx) == N_ROWS
    assert tx.loc[tx["source_row"].isin(spoiled), "product_id"].isna().all()
    assert tx["product_id"].notna().sum() == N_ROWS - len(spoiled)
    assert result.validation.warnings[0].code == "missing_product_id"


def test_optional_text_keeps_what_looks_like_a_null(tmp_path) -> None:
    rows, spoiled = spoil(transactions(), "Country", ["NA"])  # Namibia
    rows, _ = spoil(rows, "Description", ["None", "NULL", "-"])
    tx = load_transactions(write(tmp_path, rows)).to_pandas()
    assert tx.loc[tx["source_row"].isin(spoiled), "country"].eq("NA").all()
    assert set(tx.loc[tx["source_row"].isin(spoiled), "description"]) == {"None", "NULL", "-"}


def test_excel_and_parquet_apply_the_same_null_tokens(tmp_path) -> None:
    rows, spoiled = spoil(transactions(), "CustomerID", ["NULL", "n/a", "None", " - "])
    rows[3][HEADER.index("Country")] = "NA"  # row 4, a customer's: Namibia
    frame = pd.DataFrame(rows[1:], columns=HEADER)
    frame.to_excel(tmp_path / "tx.xlsx", index=False)
    frame.to_parquet(tmp_path / "tx.parquet")
    for name in ("tx.xlsx", "tx.parquet"):
        result = load_transactions(tmp_path / name)
        assert result.cleaning.counts == {"missing_customer_id": len(spoiled)}, name
        tx = result.to_pandas()
        assert tx["customer_id"].nunique() == N_CUSTOMERS, name
        assert tx.loc[tx["country"] == "NA", "source_row"].tolist() == [4], name


# --- 4. one date column mixing ISO and day/month values -----------------------------------------------------------


def with_dates(rows: list[list[str]], write_date) -> list[list[str]]:
    """Every other row's date written by ``write_date(datetime)``, the others ISO."""
    column = HEADER.index("InvoiceDate")
    out = [list(r) for r in rows]
    for i in range(2, len(rows), 2):
        out[i][column] = write_date(datetime.strptime(rows[i][column], "%Y-%m-%d %H:%M"))
    return out


@pytest.mark.parametrize(
    ("write_date", "date_format"),
    [
        (lambda d: d.strftime("%d/%m/%Y %H:%M"), "ISO and %d/%m/%Y (dayfirst)"),
        (lambda d: d.strftime("%m/%d/%Y"), "ISO and %m/%d/%Y (monthfirst)"),
        (lambda d: d.strftime("%d.%m.%y %H:%M:%S"), "ISO and %d.%m.%Y (dayfirst)"),
    ],
)
def test_iso_and_day_month_dates_are_all_read(tmp_path, capsys, write_date, date_format) -> None:
    rows = with_dates(transactions(), write_date)
    code, summary, err = validate(capsys, write(tmp_path, rows))
    assert code == 0, err
    assert summary["rows_kept"] == N_ROWS and summary["detected"]["date_format"] == date_format
    tx = load_transactions(write(tmp_path, rows)).to_pandas().sort_values("source_row")
    expected = pd.Series([START + timedelta(days=i) for i in range(N_ROWS)])
    if "%H" not in date_format and "(monthfirst)" in date_format:  # those rows were written without a time
        expected[1::2] = expected[1::2].dt.normalize()
    assert tx["ts"].tolist() == expected.tolist()


def test_iso_dates_with_slashes_or_dots_mix_with_ambiguous_day_month_dates(tmp_path) -> None:
    rows = with_dates(transactions()[:13], lambda d: d.strftime("%d/%m/%Y"))  # all days <= 12: order not evident
    rows[1][4], rows[3][4] = "2024/01/01 10:00", "2024.01.03 10:00"
    result = load_transactions(write(tmp_path, rows))
    assert result.cleaning.rows_kept == 12
    assert [w.code for w in result.validation.warnings] == ["ambiguous_date_order"]
    ts = result.to_pandas().sort_values("source_row")["ts"]
    assert ts.tolist() == [
        START.replace(hour=0) + timedelta(days=i) if i % 2 else START + timedelta(days=i) for i in range(12)
    ]


def test_day_first_and_month_first_together_are_still_refused(tmp_path) -> None:
    rows = with_dates(transactions(), lambda d: d.strftime("%d/%m/%Y"))
    rows[3][4] = "01/13/2024"
    with pytest.raises(ValidationFailed) as info:
        load_transactions(write(tmp_path, rows))
    assert [e.code for e in info.value.report.errors] == ["mixed_date_order"]


def test_losing_half_the_dates_is_refused_not_a_warning(tmp_path, capsys) -> None:
    rows = with_dates(transactions(), lambda d: d.strftime("%B %d %Y"))  # "January 03 2024": no known format
    code, _, err = validate(capsys, write(tmp_path, rows))
    assert code == 2
    assert "too few parseable dates (100 of 200)" in err and "InvoiceDate" in err
    assert err.count("\n") == 1


# --- 5. files with nothing but blank space -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b" ", b"\n\n\n", b" \t\r\n  \n", b"\xef\xbb\xbf  \n", gzip.compress(b"   \n\n"), gzip.compress(b"")],
    ids=["space", "newlines", "mixed-blank", "bom", "gzip-blank", "gzip-empty"],
)
def test_blank_files_are_empty(tmp_path, capsys, content) -> None:
    path = tmp_path / "tx.csv"
    path.write_bytes(content)
    code, _, err = validate(capsys, path)
    assert code == 2
    assert err.startswith("error: tx.csv: the file is empty") and err.count("\n") == 1


# --- found by tests/test_ingest_properties.py ------------------------------------------------------------------------


def test_a_quoted_header_with_a_line_break_is_one_header_row(tmp_path) -> None:
    rows = transactions()
    rows[0] = ['"Invoice\nNo"', *HEADER[1:6], '"Customer\r\nID"', "Country"]
    result = load_transactions(write(tmp_path, rows))
    assert result.cleaning.rows_kept == N_ROWS
    assert result.mapping.get("order_id") == "Invoice No" and result.mapping.get("customer_id") == "Customer ID"
    assert result.to_pandas()["source_row"].min() == 2


def test_quoted_line_breaks_past_the_sniffed_sample_are_read(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 16)  # many blocks, so some end inside a quoted line break
    rows = transactions()
    for i, row in enumerate(rows[1:]):
        row[2] = ('"two\n' if i >= 150 else "") + "y" * 2_000 + ('"' if i >= 150 else "")  # 300 KB without quotes
    tx = load_transactions(write(tmp_path, rows)).to_pandas()
    assert len(tx) == N_ROWS
    assert (tx["description"].str.startswith("two\ny")).sum() == N_ROWS - 150
