"""The bad-input corpus: every file either parses to the known rows or fails with a specific message."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation.config import Config, ReadOptions
from segmentation.errors import InputError
from segmentation.ingest import ValidationFailed
from segmentation.pipeline import load_transactions

from .conftest import CORPUS

# The corpus rows (tests/data/make_corpus.py): 6 lines; cleaning removes the guest line (no customer) and
# the POST line; the cancellation of 85123A is netted against the customer's earlier purchase.
KEPT = 4
REVENUE = round(6 * 2.55 + 6 * 3.39 + 6 * 1.85 - 2.55, 2)
CLEANING = {"missing_customer_id": 1, "non_product_code": 1, "return_netted": 1}

PARSES = [
    "cp1252.csv",
    "utf8_bom.csv",
    "semicolon_decimal_comma.csv",
    "tab.tsv",
    "pipe.txt",
    "dayfirst.csv",
    "monthfirst.csv",
    "duplicated_headers.csv",
    "formula_cells.csv",
    "german_headers.csv",
    "online_retail_ii_headers.csv",
    "null_tokens.csv",
    "mixed_iso_dayfirst.csv",
]


@pytest.mark.parametrize("name", PARSES)
def test_corpus_file_parses_to_the_known_rows(name: str) -> None:
    result = load_transactions(CORPUS / name)
    tx = result.to_pandas()
    assert len(tx) == KEPT
    assert round(tx["amount"].sum(), 2) == REVENUE
    assert result.cleaning.counts == CLEANING
    assert tx["ts"].min() == pd.Timestamp("2010-12-01 08:26:00")
    assert tx["ts"].max() == pd.Timestamp("2010-12-14 09:41:00")
    assert set(tx["customer_id"]) == {"17850", "01234"}  # leading zero kept


def test_non_ascii_text_survives_each_encoding() -> None:
    for name in ("cp1252.csv", "utf8_bom.csv", "german_headers.csv"):
        tx = load_transactions(CORPUS / name).to_pandas()
        assert "CAFÉ HAND WARMER £" in set(tx["description"]), name


def test_bom_does_not_end_up_in_the_first_header() -> None:
    result = load_transactions(CORPUS / "utf8_bom.csv")
    assert result.mapping.get("order_id") == "InvoiceNo"


def test_detected_format_is_reported() -> None:
    detected = load_transactions(CORPUS / "semicolon_decimal_comma.csv").validation.detected
    assert detected["delimiter"] == ";"
    assert detected["decimal"] == ","
    assert "dayfirst" in detected["date_format"]
    assert load_transactions(CORPUS / "cp1252.csv").validation.detected["encoding"] == "cp1252"
    assert load_transactions(CORPUS / "monthfirst.csv").validation.detected["date_format"].endswith("(monthfirst)")


def test_null_token_is_a_missing_customer_but_na_stays_a_country() -> None:
    tx = load_transactions(CORPUS / "null_tokens.csv").to_pandas()
    assert "NULL" not in set(tx["customer_id"])
    assert tx.loc[tx["customer_id"] == "01234", "country"].tolist() == ["NA"]  # Namibia


def test_iso_and_day_first_dates_in_one_column_are_all_read() -> None:
    result = load_transactions(CORPUS / "mixed_iso_dayfirst.csv")
    assert result.validation.detected["date_format"] == "ISO and %d/%m/%Y (dayfirst)"
    assert not result.validation.warnings


def test_formula_like_cells_stay_plain_text() -> None:
    tx = load_transactions(CORPUS / "formula_cells.csv").to_pandas()
    assert '=HYPERLINK("http://x")' in set(tx["description"])


def test_duplicated_header_is_renamed_with_a_warning() -> None:
    validation = load_transactions(CORPUS / "duplicated_headers.csv").validation
    assert any("Description.1" in w.message for w in validation.warnings)


def test_thousands_separators_are_read() -> None:
    tx = load_transactions(CORPUS / "thousands_separators.csv").to_pandas()
    assert tx.loc[tx["source_row"] == 2, "unit_price"].item() == 1234.5


def test_ambiguous_dates_warn_and_can_be_overridden() -> None:
    result = load_transactions(CORPUS / "ambiguous_dates.csv")
    assert [w.code for w in result.validation.warnings] == ["ambiguous_date_order"]
    assert result.to_pandas()["ts"].max() == pd.Timestamp("2011-03-03 10:00")
    monthfirst = load_transactions(CORPUS / "ambiguous_dates.csv", Config(read=ReadOptions(date_order="monthfirst")))
    assert not monthfirst.validation.warnings
    assert monthfirst.to_pandas()["ts"].max() == pd.Timestamp("2011-04-01 10:00")  # 04/01: April, not 4 January


def test_mixed_date_order_is_an_error_naming_rows_and_column() -> None:
    with pytest.raises(ValidationFailed) as info:
        load_transactions(CORPUS / "mixed_date_order.csv")
    error = info.value.report.errors[0]
    assert error.code == "mixed_date_order"
    assert error.column == "InvoiceDate"
    assert error.rows  # the month-first rows are named
    assert "InvoiceDate" in str(info.value) and "ISO" in str(info.value)


def test_date_order_that_contradicts_the_data_is_an_error() -> None:
    with pytest.raises(ValidationFailed, match="can only be dayfirst"):
        load_transactions(CORPUS / "dayfirst.csv", Config(read=ReadOptions(date_order="monthfirst")))


def test_unparseable_values_are_removed_and_named() -> None:
    result = load_transactions(CORPUS / "unparseable_values.csv")
    warnings = {w.code: w for w in result.validation.warnings}
    assert warnings["unparseable_quantity"].rows == (3,)
    assert warnings["unparseable_quantity"].examples == ("six",)
    assert warnings["unparseable_ts"].rows == (4,)
    assert result.cleaning.counts["invalid_value"] == 2
    affected = result.cleaning.affected
    assert set(affected.loc[affected["reason"] == "invalid_value", "source_row"]) == {3, 4}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "the file is empty"),
        ("whitespace_only.csv", "the file is empty"),
        ("header_only.csv", "header but no data rows"),
        ("binary_junk.csv", "binary, not a text table"),
        ("missing_quantity.csv", "required column(s) not found: quantity"),
    ],
)
def test_bad_file_fails_with_a_specific_message(name: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        load_transactions(CORPUS / name)
    assert message in str(info.value)
    assert name in str(info.value)
    assert "Fix:" in str(info.value)


def test_very_long_line_is_read(write_csv) -> None:
    rows = [line.split(",") for line in (CORPUS / "online_retail_ii_headers.csv").read_text().splitlines()]
    rows[1][2] = "X" * 6_000_000  # longer than the reader's block size
    tx = load_transactions(write_csv(rows)).to_pandas()
    assert len(tx) == KEPT
    assert tx["description"].str.len().max() == 6_000_000


def test_excel_and_parquet_read_like_csv(tmp_path) -> None:
    frame = pd.read_csv(CORPUS / "online_retail_ii_headers.csv", dtype=str)
    frame.to_excel(tmp_path / "tx.xlsx", index=False)
    typed = frame.astype({"Quantity": int, "Price": float})
    typed["InvoiceDate"] = pd.to_datetime(typed["InvoiceDate"])
    typed.to_parquet(tmp_path / "tx.parquet")
    for name in ("tx.xlsx", "tx.parquet"):
        result = load_transactions(tmp_path / name)
        assert result.cleaning.rows_kept == KEPT, name
        assert round(result.to_pandas()["amount"].sum(), 2) == REVENUE, name


def test_gzip_is_read(tmp_path) -> None:
    import gzip

    path = tmp_path / "tx.csv.gz"
    path.write_bytes(gzip.compress((CORPUS / "tab.tsv").read_bytes()))
    assert load_transactions(path).cleaning.rows_kept == KEPT


def test_missing_file_names_the_path(tmp_path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_transactions(tmp_path / "nope.csv")


def test_a_field_can_be_left_unmapped_on_purpose() -> None:
    result = load_transactions(CORPUS / "cp1252.csv", Config(mapping={"country": None}))
    assert result.mapping.get("country") is None
    assert result.to_pandas()["country"].isna().all()
    assert load_transactions(CORPUS / "cp1252.csv").mapping.get("country") == "Country"


def test_missing_required_column_comes_with_the_structured_report() -> None:
    with pytest.raises(ValidationFailed) as info:
        load_transactions(CORPUS / "missing_quantity.csv")
    report = info.value.report
    assert [e.code for e in report.errors] == ["missing_column"]
    assert report.detected["delimiter"] == "," and "quantity" not in report.detected["mapping"]


def test_float_customer_ids_in_parquet_lose_the_decimal(tmp_path) -> None:
    frame = pd.read_csv(CORPUS / "online_retail_ii_headers.csv", dtype=str)
    frame = frame[frame["Customer ID"].notna()].astype({"Quantity": int, "Price": float, "Customer ID": float})
    frame.to_parquet(tmp_path / "tx.parquet")
    tx = load_transactions(tmp_path / "tx.parquet").to_pandas()
    assert set(tx["customer_id"]) == {"17850", "1234"}
