"""Column mapping: same-named columns are never picked silently, explicit mappings may reuse a column, and every
message names a field the way an analyst does."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.cli import main
from segmentation.config import Config
from segmentation.ingest import ValidationFailed
from segmentation.ingest.mapping import FIELD_LABELS, FIELDS, ColumnMapping, infer_mapping
from segmentation.pipeline import load_transactions
from tests.app_helpers import CLEAN_ROWS, CUSTOMERS, assert_clean_run, csv_bytes, metrics, new_app, upload
from tests.app_helpers import HEADER as APP_HEADER

HEADER = ["InvoiceNo", "StockCode", "CustomerID", "Quantity", "InvoiceDate", "UnitPrice"]
ROWS = [
    ["1", "SKU1", "c1", "6", "2011-01-01 10:00", "2.50"],
    ["2", "SKU2", "c2", "1", "2011-01-02 10:00", "1.50"],
    ["3", "SKU1", "c1", "2", "2011-01-03 10:00", "2.50"],
]


def with_column(header: str, values: list[str], at: int | None = None) -> list[list[str]]:
    """The rows above with one more column ``header`` holding ``values`` (at the end unless ``at`` is given)."""
    at = len(HEADER) if at is None else at
    rows = [HEADER, *ROWS]
    return [[*row[:at], value, *row[at:]] for row, value in zip(rows, [header, *values], strict=True)]


def load_error(path, config: Config | None = None) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        load_transactions(path, config)
    return info.value


# --- same header twice (or more) ---------------------------------------------------------------------------------


def test_two_quantity_columns_with_different_values_are_refused_naming_both_positions(write_csv, capsys) -> None:
    path = write_csv(with_column("Quantity", ["12", "1", "2"]))  # columns 4 and 7
    error = load_error(path)
    (issue,) = [e for e in error.report.errors if e.code == "ambiguous_column"]
    assert "columns 4 and 7 are both named 'Quantity'" in issue.message
    assert "quantity" in issue.message
    assert "--map quantity='Quantity.1'" in issue.fix  # how to choose the second one
    assert "quantity" not in error.report.detected["mapping"]  # none of them was used
    assert main(["-q", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "columns 4 and 7 are both named 'Quantity'" in err[0]


@pytest.mark.parametrize("kind", ["xlsx", "parquet"])
def test_repeated_headers_in_excel_and_parquet_are_refused_the_same_way(tmp_path, kind) -> None:
    rows = with_column("Quantity", ["12", "1", "2"])
    path = tmp_path / f"tx.{kind}"
    if kind == "xlsx":
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)
    else:
        columns = [pa.array([row[i] for row in rows[1:]]) for i in range(len(rows[0]))]
        pq.write_table(pa.Table.from_arrays(columns, names=rows[0]), path)
    error = load_error(path)
    assert "columns 4 and 7 are both named 'Quantity'" in str(error)
    amounts = load_transactions(path, Config(mapping={"quantity": "Quantity.1"})).to_pandas()["amount"]
    assert amounts.tolist() == [12 * 2.5, 1.5, 5.0]


def test_choosing_one_of_the_copies_explicitly_uses_its_values(write_csv) -> None:
    path = write_csv(with_column("Quantity", ["12", "1", "2"]))
    second = load_transactions(path, Config(mapping={"quantity": "Quantity.1"})).to_pandas()
    assert second.set_index("source_row")["amount"].to_dict() == {2: 12 * 2.5, 3: 1.5, 4: 5.0}
    first = load_transactions(path, Config(mapping={"quantity": "Quantity"})).to_pandas()
    assert first.set_index("source_row")["amount"].to_dict() == {2: 6 * 2.5, 3: 1.5, 4: 5.0}


def test_copies_with_equal_values_are_used_with_the_reader_warning(write_csv) -> None:
    path = write_csv(with_column("CustomerID", ["c1", "c2", "c1"], at=1))
    result = load_transactions(path)
    assert result.mapping.get("customer_id") == "CustomerID"
    assert result.cleaning.rows_kept == 3
    assert any("CustomerID.1" in w.message for w in result.validation.warnings)
    assert not any(w.code == "ambiguous_column" for w in result.validation.warnings)


def test_headers_that_differ_only_in_case_or_punctuation_are_the_same_header(write_csv) -> None:
    path = write_csv(with_column("quantity", ["12", "1", "2"]))  # "Quantity" and "quantity"
    (issue,) = [e for e in load_error(path).report.errors if e.code == "ambiguous_column"]
    assert "columns 4 and 7 are both headed 'Quantity' / 'quantity'" in issue.message


def test_three_copies_are_all_named(write_csv) -> None:
    rows = with_column("Quantity", ["12", "1", "2"])
    rows = [[*row, value] for row, value in zip(rows, ["Quantity", "6", "1", "3"], strict=True)]
    (issue,) = [e for e in load_error(write_csv(rows)).report.errors if e.code == "ambiguous_column"]
    assert "columns 4, 7 and 8 are all named 'Quantity'" in issue.message


def test_two_different_date_columns_are_not_settled_by_content_either(write_csv) -> None:
    path = write_csv(with_column("InvoiceDate", ["2011-02-01 10:00", "2011-02-02 10:00", "2011-02-03 10:00"]))
    error = load_error(path)
    assert [e.code for e in error.report.errors] == ["ambiguous_column"]
    assert "order date" in error.report.errors[0].message
    assert "ts" not in error.report.detected["mapping"]


def test_an_optional_field_with_two_different_columns_is_left_unmapped_with_a_warning(write_csv) -> None:
    rows = with_column("Country", ["France", "Spain", "France"])
    rows = [[*row, value] for row, value in zip(rows, ["Country", "FR", "ES", "FR"], strict=True)]
    result = load_transactions(write_csv(rows))
    assert result.mapping.get("country") is None
    (issue,) = [w for w in result.validation.warnings if w.code == "ambiguous_column"]
    assert "columns 7 and 8 are both named 'Country'" in issue.message and "left unmapped" in issue.message
    assert result.cleaning.rows_kept == 3


def test_ambiguity_is_reported_when_the_app_passes_the_field_unmapped(write_csv) -> None:
    """The app's mapping editor sends every field, unmapped ones as None: the two columns are still named."""
    path = write_csv(with_column("Quantity", ["12", "1", "2"]))
    error = load_error(path, Config(mapping=dict.fromkeys(FIELDS)))
    assert "columns 4 and 7 are both named 'Quantity'" in str(error)


# --- explicit mappings may reuse a column; inference does not ------------------------------------------------------


def test_order_id_from_the_date_column_keeps_the_date_column_as_order_date(write_csv, capsys) -> None:
    rows = [
        ["customer_id", "order_date", "product", "qty", "price"],
        ["c1", "2011-01-01 10:00", "SKU1", "1", "2.5"],
        ["c1", "2011-01-01 10:00", "SKU2", "2", "1.5"],
        ["c1", "2011-01-01 15:00", "SKU1", "1", "2.5"],
        ["c2", "2011-01-02 11:00", "SKU1", "1", "2.5"],
    ]
    path = write_csv(rows)
    result = load_transactions(path, Config(mapping={"order_id": "order_date"}))
    assert result.mapping.get("ts") == "order_date" and result.mapping.get("order_id") == "order_date"
    tx = result.to_pandas()
    assert tx.groupby("order_id")["amount"].sum().to_dict() == {
        "2011-01-01 10:00": 5.5,
        "2011-01-01 15:00": 2.5,
        "2011-01-02 11:00": 2.5,
    }
    (shared,) = [w for w in result.validation.warnings if w.code == "shared_column"]
    assert shared.column == "order_date" and "order id and order date" in shared.message
    args = ["-q", "validate", str(path), "--json", "--map", "order_id=order_date"]
    assert main(args) == 0
    assert '"orders": 3' in capsys.readouterr().out


def test_with_changes_keeps_other_fields_on_the_same_column() -> None:
    mapping = ColumnMapping({"customer_id": "who", "ts": "when"})
    changed = mapping.with_changes({"order_id": "when", "customer_id": None})
    assert changed.columns == {"ts": "when", "order_id": "when"}


def test_inference_gives_each_column_one_field_and_prefers_the_named_date() -> None:
    table = pa.table(
        {
            "ShipDate": ["2011-01-05"],
            "Customer": ["c1"],
            "OrderDate": ["2011-01-01"],
            "Order": ["o1"],
            "Amount": ["3.5"],
        }
    )
    mapping = infer_mapping(table)
    assert mapping.columns == {"customer_id": "Customer", "order_id": "Order", "ts": "OrderDate", "amount": "Amount"}
    assert len(set(mapping.columns.values())) == len(mapping.columns)


# --- messages name fields by their labels ------------------------------------------------------------------------


def test_every_field_has_a_label() -> None:
    assert set(FIELD_LABELS) == set(FIELDS)
    assert len(set(FIELD_LABELS.values())) == len(FIELDS)


INTERNAL = re.compile(r"\b(ts|customer_id|order_id|product_id|unit_price)\b")


@pytest.mark.parametrize(
    ("rows", "mapping", "label"),
    [
        ([["who", "when", "amount"], ["c1", "2011-01-01", "3"]], {"customer_id": "who", "ts": "nope"}, "order date"),
        ([["who", "what", "amount"], ["c1", "x", "3"]], {"customer_id": "who"}, "order date"),
        ([["when", "amount"], ["2011-01-01", "3"]], {}, "customer id"),
        ([["customer", "date", "qty"], ["c1", "2011-01-01", "3"]], {}, "unit price"),
        ([["customer", "date", "qty", "price"], ["c1", "2011-01-01", "3", "cheap"]], {}, "unit price"),
        ([["customer", "date", "amount"], ["c1", "soon", "3"]], {}, "order date"),
    ],
)
def test_messages_use_the_field_label_not_the_internal_name(write_csv, rows, mapping, label) -> None:
    error = load_error(write_csv(rows), Config(mapping=mapping))
    messages = [e.message for e in error.report.errors]
    assert any(label in f"{e.message} {e.fix}" for e in error.report.errors), error.report.errors
    assert not any(INTERNAL.search(m) for m in messages), messages


def test_missing_fields_fix_names_the_cli_option(write_csv) -> None:
    error = load_error(write_csv([["when", "amount"], ["2011-01-01", "3"]]))
    (issue,) = error.report.errors
    assert "required column(s) not found: customer id" in issue.message
    assert "--map customer_id=COLUMN" in issue.fix


def test_unparseable_column_names_the_label(write_csv) -> None:
    rows = [
        ["customer", "date", "qty", "price"],
        *[["c1", "2011-01-01", "3", "2.5"]] * 3,
        ["c1", "2011-01-02", "x", "1"],
    ]
    result = load_transactions(write_csv(rows))
    (issue,) = [w for w in result.validation.warnings if w.code == "unparseable_quantity"]
    assert issue.message == "1 value cannot be read as the quantity; those rows are removed"
    assert issue.column == "qty"


def test_app_names_both_columns_and_the_mapping_editor_chooses_one() -> None:
    rows = [f"{row},{int(row.split(',')[6]) + 1}" for row in CLEAN_ROWS]  # a second quantity, one unit more
    content = csv_bytes(rows, f"{APP_HEADER},quantity")
    at = upload(new_app(), "two_quantities.csv", content)
    assert not at.exception
    assert any("columns 7 and 12 are both named 'quantity'" in e.value for e in at.error)
    at.selectbox(key=f"map_{hashlib.sha256(content).hexdigest()[:16]}_quantity").set_value("quantity.1").run()
    assert_clean_run(at)
    assert metrics(at)["Customers"] == str(CUSTOMERS)
