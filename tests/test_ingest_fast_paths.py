"""The shortcuts of the fast ingest path give the answers of the plain one: null tokens found from each value's first
byte, untrimmed text found from the offsets of chunked and sliced columns, affected rows found by binary search when
the rows are not in file order, and the feature query on numbered ids."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.config import FeatureConfig
from segmentation.features import compute_features
from segmentation.ingest import RawTable, clean_transactions, infer_mapping, read_raw, to_canonical
from segmentation.ingest.reader import ROW_COLUMN, FileFormat
from segmentation.pipeline import load_transactions

HEADER = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]


def test_padded_tokens_are_null_and_words_starting_with_n_are_not(write_csv) -> None:
    rows = [
        ["1", "A", "2", "2024-01-02 10:00", "1.50", "   n/a   "],  # longer than any token, only by its padding
        ["2", "A", "1", "2024-01-02 11:00", "1.50", "\u00a0NULL\u00a0"],  # no-break spaces around it
        ["3", "A", "1", "2024-01-03 10:00", "1.50", "Nina"],  # starts with n, a name, not a token
        ["4", "A", "-1", "2024-01-04 10:00", "1.50", "Nina"],  # a minus sign may start a token: here a number
        ["5", "Q", "3", "2024-01-05 10:00", "2.00", "nil"],
        ["6", "Q", "3", "2024-01-06 10:00", "2.00", "77"],
    ]
    result = load_transactions(write_csv([HEADER, *rows]))
    assert result.cleaning.counts == {"missing_customer_id": 3, "return_netted": 1}
    kept = result.to_pandas()
    assert kept["customer_id"].tolist() == ["Nina", "Nina", "77"]
    assert kept["quantity"].tolist() == [1.0, -1.0, 3.0]


def test_untrimmed_text_is_found_in_any_chunk_of_a_sliced_column() -> None:
    """A padded id at the end of a sliced chunk, and one in a later chunk: both trimmed like the others."""
    customers = pa.chunked_array([pa.array(["x", "10", " 11 "]).slice(1), pa.array(["12", "13"])])
    orders = pa.chunked_array([pa.array(["1", "2", "3"]), pa.array([" 4 "])])
    n = len(customers)
    table = pa.table(
        {
            "InvoiceNo": orders,
            "CustomerID": customers,
            "InvoiceDate": pa.array([f"2024-01-0{i + 1} 10:00" for i in range(n)]),
            "Quantity": pa.array(["1"] * n),
            "UnitPrice": pa.array(["2.5"] * n),
            ROW_COLUMN: pa.array(range(2, n + 2), pa.int64()),
        }
    )
    raw = RawTable(table, "hand-made", FileFormat("csv"))
    canonical, report = to_canonical(raw, infer_mapping(table))
    assert report.ok
    assert canonical["customer_id"].to_pylist() == ["10", "11", "12", "13"]
    assert canonical["order_id"].to_pylist() == ["1", "2", "3", "4"]


def test_rows_out_of_file_order_get_the_same_reasons(write_csv) -> None:
    """A Spark partition hands cleaning its rows in any order: the kept rows and the report are those of file order."""
    rows = [
        ["1", "A", "2", "2024-01-02 10:00", "1.50", "100"],
        ["1", "A", "2", "2024-01-02 10:00", "1.50", "100"],  # exact duplicate
        ["2", "POST", "1", "2024-01-02 10:00", "5", "100"],  # non-product
        ["3", "A", "1", "2024-01-03 10:00", "1.50", ""],  # no customer
        ["C4", "A", "-1", "2024-01-04 10:00", "1.50", "100"],  # netted return
        ["5", "Q", "0", "2024-01-05 10:00", "1.00", "200"],  # zero quantity
        ["6", "Q", "3", "2024-01-06 10:00", "1.00", "200"],
    ]
    path = write_csv([HEADER, *rows])
    raw_result = load_transactions(path)
    raw = read_raw(path)
    canonical, _ = to_canonical(raw, infer_mapping(raw.table))
    shuffled = canonical.take(pa.array([5, 2, 6, 0, 3, 1, 4]))
    kept, report = clean_transactions(shuffled)
    assert report.counts == raw_result.cleaning.counts
    assert report.affected_rows.to_pylist() == raw_result.cleaning.affected_rows.to_pylist()
    assert sorted(kept["source_row"].to_pylist()) == raw_result.transactions["source_row"].to_pylist()
    assert kept["source_row"].to_pylist() == [8, 2, 6]  # in the order they came


def test_features_on_numbered_ids_equal_those_on_the_ids(sample_path) -> None:
    """Arrow tables are grouped on numbered ids; a data frame goes through as it is: both give the same features.
    Ids whose text order differs from their numeric order ("10" < "9") keep the text order."""
    transactions = load_transactions(sample_path).transactions
    renamed = transactions.set_column(
        transactions.schema.get_field_index("order_id"),
        "order_id",
        pc.binary_replace_slice(transactions["order_id"], start=0, stop=0, replacement="9"),
    )
    for table in (transactions, renamed):
        numbered = compute_features(table, FeatureConfig())
        plain = compute_features(table.to_pandas(), FeatureConfig())
        pd.testing.assert_frame_equal(numbered, plain)
        assert numbered.index.is_monotonic_increasing
        assert len(numbered) > 100
