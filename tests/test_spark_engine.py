"""The Spark engine gives DuckDB's answers: the same cleaning counts and rows, the same 29 features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segmentation.config import CleaningPolicy, Config
from segmentation.features import CATEGORICAL, compute_features
from segmentation.pipeline import load_transactions
from segmentation.spark import SparkIngest, compute_features_spark, load_transactions_spark
from tests.frames import random_transactions
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)
from tests.test_ingest_corpus import PARSES

from .conftest import CORPUS


def assert_same_features(duck: pd.DataFrame, spark_frame: pd.DataFrame) -> None:
    """Same customers, columns, number types and values (1e-9 relative: sums may add in another order)."""
    assert list(spark_frame.index) == list(duck.index)
    assert list(spark_frame.columns) == list(duck.columns)
    numeric = [c for c in duck.columns if c not in CATEGORICAL]  # text: str or object when all NULL, alike
    assert spark_frame[numeric].dtypes.to_dict() == duck[numeric].dtypes.to_dict()
    for column in duck.columns:
        if column in CATEGORICAL:
            assert spark_frame[column].fillna("").tolist() == duck[column].fillna("").tolist(), column
        else:
            np.testing.assert_allclose(spark_frame[column], duck[column], rtol=1e-9, atol=1e-9, err_msg=column)
    assert spark_frame.attrs == duck.attrs


def assert_same_ingest(path: Path, spark, config: Config | None = None) -> tuple[pa.Table, SparkIngest]:  # noqa: F811
    """Spark's ingest of ``path`` matches DuckDB's row for row, with the same cleaning counts; both results."""
    duck = load_transactions(path, config)
    result = load_transactions_spark(spark, str(path), config)
    assert result.counts == duck.cleaning.counts
    assert (result.rows_in, result.rows_kept) == (duck.cleaning.rows_in, duck.cleaning.rows_kept)
    assert result.outlier_threshold == pytest.approx(duck.cleaning.outlier_threshold)
    expected = duck.transactions.sort_by("source_row").to_pandas()
    got = result.transactions.orderBy("source_row").toPandas()
    pd.testing.assert_frame_equal(got, expected)
    report = result.cleaning_report()
    pd.testing.assert_frame_equal(report.summary(), duck.cleaning.summary())
    assert report.affected["source_row"].tolist() == duck.cleaning.affected["source_row"].tolist()
    assert result.mapping == duck.mapping
    return duck.transactions, result


def test_feature_sql_runs_on_spark_with_duckdb_answers(spark) -> None:  # noqa: F811
    tx = random_transactions(seed=3, n_customers=80)
    duck = compute_features(tx)
    got = compute_features_spark(spark.createDataFrame(tx)).to_pandas()
    assert_same_features(duck, got)


def test_dates_only_and_no_products_leave_the_same_features_out(spark) -> None:  # noqa: F811
    tx = random_transactions(seed=4, n_customers=30)
    tx["ts"] = tx["ts"].dt.normalize()
    tx["product_id"] = None
    duck = compute_features(tx)
    got = compute_features_spark(spark.createDataFrame(tx)).to_pandas()
    assert len(duck.attrs["notes"]) == 2
    assert_same_features(duck, got)


FAST = ("cp1252.csv", "semicolon_decimal_comma.csv", "monthfirst.csv", "null_tokens.csv")
"""One file per kind of difficulty (encoding, decimal comma, date order, null tokens) runs by default, and its
features are compared too; the rest of the corpus (other delimiters, headers, byte-order marks: the reader's
options) under ``-m slow``, ingest only: each file starts a dozen Spark jobs, the features two dozen more."""


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in PARSES])
def test_corpus_file_reads_cleans_and_features_as_on_duckdb(spark, name: str) -> None:  # noqa: F811
    clean, _ = assert_same_ingest(CORPUS / name, spark)
    if name in FAST:  # cp1252 and UTF-8 text, decimal commas, day- and month-first dates reach the features unchanged
        features = compute_features_spark(spark.createDataFrame(clean)).to_pandas()
        assert_same_features(compute_features(clean), features)


def test_parquet_input_reads_as_on_duckdb(spark, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "tx.parquet"
    pd.read_csv(CORPUS / "online_retail_ii_headers.csv", dtype=str).to_parquet(path)
    clean, _ = assert_same_ingest(path, spark)
    assert clean.num_rows == 4


def test_outlier_rule_keeps_duckdb_order_with_returns_and_duplicates(spark, write_csv) -> None:  # noqa: F811
    """An outlier that is the customer's only purchase of a product leaves that product's return unmatched; an
    exact copy of an outlier is a duplicate: the policy's first reason, as on DuckDB."""
    header = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    rows = [header]
    for i in range(40):  # the usual range: |quantity| 1-4
        rows.append([f"5{i:04d}", f"P{i % 5}", 1 + i % 4, f"2011-01-{1 + i % 28:02d} 10:00", "2.5", f"{i % 4}"])
    rows += [
        ["60000", "BIG", 500, "2011-02-01 10:00", "1.0", "1"],  # outlier, first purchase of BIG by customer 1
        ["60000", "BIG", 500, "2011-02-01 10:00", "1.0", "1"],  # its exact copy: a duplicate first
        ["C60001", "BIG", -2, "2011-02-03 10:00", "1.0", "1"],  # return of BIG: no kept purchase left
        ["C60002", "P1", -1, "2011-02-04 10:00", "2.5", "1"],  # return of an ordinary purchase: netted
    ]
    config = Config(cleaning=CleaningPolicy(outlier_quantile=0.9, outlier_factor=5.0))
    assert_same_ingest(write_csv(rows), spark, config)
    duck = load_transactions(write_csv(rows, "again.csv"), config).cleaning.counts
    assert (duck["extreme_outlier"], duck["exact_duplicate"], duck["return_unmatched"]) == (1, 1, 1)


def test_embedded_sample_end_to_end_as_on_duckdb(spark, sample_path: Path) -> None:  # noqa: F811
    clean, result = assert_same_ingest(sample_path, spark)
    assert_same_features(compute_features(clean), compute_features_spark(result.transactions).to_pandas())


@pytest.mark.slow
def test_online_retail_end_to_end_as_on_duckdb(spark, online_retail_path: Path) -> None:  # noqa: F811
    clean, result = assert_same_ingest(online_retail_path, spark)
    assert_same_features(compute_features(clean), compute_features_spark(result.transactions).to_pandas())
