"""Feature definitions checked against an independent plain-pandas computation (``bench/pandas_reference.py``, also
the benchmark's baseline), and the as-of rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from bench.pandas_reference import features as pandas_features
from segmentation.config import FeatureConfig
from segmentation.features import CATEGORICAL, FEATURES, compute_features, features_markdown
from segmentation.features.sql import feature_sql
from tests.frames import AS_OF, random_transactions


@pytest.mark.parametrize("seed", [0, 1])
def test_sql_features_equal_an_independent_pandas_computation(seed: int) -> None:
    tx = random_transactions(seed)
    ours = compute_features(pa.Table.from_pandas(tx), FeatureConfig(as_of=AS_OF))
    assert_same_features(ours, pandas_features(tx, AS_OF), tolerance=1e-9)


def assert_same_features(ours: pd.DataFrame, expected: pd.DataFrame, tolerance: float) -> None:
    """Same customers in the same order, the same columns, numbers equal within ``tolerance`` and text equal."""
    assert list(ours.index) == list(expected.index)
    assert sorted(ours.columns) == sorted(expected.columns)
    for column in CATEGORICAL:
        assert ours[column].fillna("").tolist() == expected[column].fillna("").tolist(), column
    for column in expected.columns.difference(CATEGORICAL):
        np.testing.assert_allclose(
            ours[column].to_numpy(dtype=float),
            expected[column].to_numpy(dtype=float),
            rtol=tolerance,
            atol=tolerance,
            err_msg=column,
        )


def test_country_is_the_most_frequent_one() -> None:
    tx = random_transactions(2)
    ours = compute_features(tx, FeatureConfig(as_of=AS_OF))
    before = tx[tx["ts"] < pd.Timestamp(AS_OF)]
    counts = before.groupby(["customer_id", "country"]).size().unstack(fill_value=0)
    # idxmax takes the first column of a tie, and the columns are sorted: ties go alphabetically, as ours
    expected = counts.reindex(ours.index).idxmax(axis=1)
    assert (ours["country"] == expected).all()
    assert (counts.max(axis=1) == counts.min(axis=1)).any()  # the data has ties, so the rule is exercised


def test_transactions_on_or_after_as_of_do_not_change_features() -> None:
    tx = random_transactions(3)
    before = compute_features(tx, FeatureConfig(as_of=date(2023, 9, 1)))
    later = tx[tx["ts"] >= pd.Timestamp("2023-09-01")].copy()
    later["amount"] *= 100  # if any of these leaked, every money feature would move
    tampered = pd.concat([tx[tx["ts"] < pd.Timestamp("2023-09-01")], later])
    after = compute_features(tampered, FeatureConfig(as_of=date(2023, 9, 1)))
    pd.testing.assert_frame_equal(before, after)
    assert before.attrs["as_of"] == "2023-09-01"


def test_default_as_of_is_the_day_after_the_last_transaction() -> None:
    tx = random_transactions(4)
    features = compute_features(tx)
    assert features.attrs["as_of"] == (tx["ts"].max().normalize() + pd.Timedelta(days=1)).date().isoformat()
    assert (features["recency_days"] > 0).all()


def test_as_of_before_any_purchase_is_a_clear_error() -> None:
    from segmentation.errors import InputError

    with pytest.raises(InputError, match="later as-of date"):
        compute_features(random_transactions(0), FeatureConfig(as_of=date(2000, 1, 1)))


def test_half_life_changes_only_decayed_features() -> None:
    tx = random_transactions(5)
    short = compute_features(tx, FeatureConfig(as_of=AS_OF, half_life_days=10))
    long = compute_features(tx, FeatureConfig(as_of=AS_OF, half_life_days=1000))
    numeric = short.select_dtypes("number").columns
    changed = {c for c in numeric if not np.allclose(short[c], long[c], equal_nan=True, rtol=1e-12)}
    assert changed == {"decayed_spend", "decayed_frequency"}


def test_category_entropy_uses_categories_and_is_null_without_them() -> None:
    tx = random_transactions(6)
    with_cat = compute_features(tx, FeatureConfig(as_of=AS_OF))
    assert with_cat["category_entropy"].between(0, np.log(3) + 1e-9).all()
    without = compute_features(tx.assign(category=None), FeatureConfig(as_of=AS_OF))
    assert without["category_entropy"].isna().all()


def test_spark_dialect_differs_only_in_dialect_words() -> None:
    duck = feature_sql(AS_OF, FeatureConfig())
    spark = feature_sql(AS_OF, FeatureConfig(), dialect="spark")
    assert "unix_timestamp(ts)" in spark and "epoch(ts)" in duck
    assert (
        duck.replace("epoch(", "unix_timestamp(").replace("IN (0, 6)", "IN (1, 7)").replace("row(", "struct(") == spark
    )


def test_every_feature_is_documented_once() -> None:
    names = [f.name for f in FEATURES]
    assert len(names) == len(set(names))
    docs = (Path(__file__).parent.parent / "docs" / "features.md").read_text()
    assert docs == features_markdown(), "docs/features.md is stale: run `segment features --docs > docs/features.md`"


def test_a_parquet_file_or_folder_gives_the_features_of_the_table_in_memory(tmp_path: Path) -> None:
    """Data larger than memory is read by DuckDB from disk: the same features as the table itself."""
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(random_transactions(seed=5, n_customers=90), preserve_index=False)
    expected = compute_features(table)
    pq.write_table(table, tmp_path / "tx.parquet")
    parts = tmp_path / "parts"
    (parts / "later").mkdir(parents=True)
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), parts / "part-0.parquet")
    pq.write_table(table.slice(half), parts / "later" / "part-1.parquet")
    for source in (tmp_path / "tx.parquet", parts):
        got = compute_features(source)
        pd.testing.assert_frame_equal(got, expected)
        assert got.attrs == expected.attrs
