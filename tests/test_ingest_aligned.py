"""Files as old systems write them: column-aligned text, compact dates (YYYYMMDD) and headers that describe a
field in words (number_of_items, order_value) rather than name it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from segmentation.errors import InputError
from segmentation.ingest import ValidationFailed, infer_mapping, read_raw
from segmentation.pipeline import load_transactions


def aligned(tmp_path, lines: list[str]):
    path = tmp_path / "log.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_aligned_columns_are_split_on_runs_of_blanks(tmp_path) -> None:
    path = aligned(
        tmp_path,
        [
            "  cust   day        qty   amount",
            " 00007  20240301     2    19.98",
            " 00012\t20240302\t 1\t  5.00",
            " 00007  20240315     3    30.00",
        ],
    )
    raw = read_raw(path)
    assert raw.format.delimiter == "whitespace"
    assert raw.columns == ["cust", "day", "qty", "amount"]
    assert raw.table.column("cust").to_pylist() == ["00007", "00012", "00007"]


def test_compact_dates_mix_with_iso_dates(tmp_path) -> None:
    path = aligned(
        tmp_path,
        ["customer_id date amount", "a 20240301 10", "b 2024-03-02 5", "a 20240315 7"],
    )
    result = load_transactions(path)
    assert result.cleaning.rows_kept == 3
    days = [str(t)[:10] for t in result.transactions["ts"].to_pylist()]
    assert sorted(days) == ["2024-03-01", "2024-03-02", "2024-03-15"]


def test_a_number_that_is_no_date_is_not_read_as_one(tmp_path) -> None:
    path = aligned(tmp_path, ["customer_id date amount", "a 20241301 10", "b 20240302 5"])  # month 13
    with pytest.raises(ValidationFailed, match=r"row.? 2.*'20241301'"):
        load_transactions(path)


@pytest.mark.parametrize(
    ("header", "field"),
    [("number_of_cds", "quantity"), ("num_items", "quantity"), ("dollar_value", "amount"), ("Order Value", "amount")],
)
def test_headers_in_words_map_to_quantity_and_amount(header: str, field: str) -> None:
    table = pa.table({"customer_id": ["a", "b"], "date": ["2024-01-01", "2024-01-02"], header: ["2", "3"]})
    assert infer_mapping(table).columns.get(field) == header


@pytest.mark.parametrize("header", ["phone_number", "total_comments"])
def test_words_are_not_enough_without_numbers_or_the_right_form(header: str) -> None:
    values = ["+44 20 7946 0958", "n/a"] if header == "total_comments" else ["0207946", "0207947"]
    table = pa.table({"customer_id": ["a", "b"], "date": ["2024-01-01", "2024-01-02"], header: values})
    mapping = infer_mapping(table).columns
    assert header not in (mapping.get("quantity"), mapping.get("amount"))


def test_a_synonym_wins_over_a_described_header() -> None:
    table = pa.table({"customer_id": ["a"], "date": ["2024-01-01"], "order_value": ["9"], "amount": ["10"]})
    assert infer_mapping(table).columns["amount"] == "amount"


def test_one_column_of_text_names_the_aligned_option(tmp_path) -> None:
    path = aligned(tmp_path, ["just one column", "a", "b c d"])
    with pytest.raises(InputError, match="whitespace"):
        read_raw(path)
