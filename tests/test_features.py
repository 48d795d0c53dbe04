"""Feature definitions checked against an independent plain-pandas computation, and the as-of rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segmentation.config import FeatureConfig
from segmentation.features import FEATURES, compute_features, features_markdown
from segmentation.features.sql import feature_sql
from tests.frames import AS_OF, random_transactions


def pandas_features(tx: pd.DataFrame, as_of: date, half_life: float = 90.0, window: float = 90.0) -> pd.DataFrame:
    """The same features written independently with pandas (the reference for the SQL)."""
    as_of_ts = pd.Timestamp(as_of)
    tx = tx[tx["ts"] < as_of_ts].copy()
    tx["age"] = (as_of_ts - tx["ts"]).dt.total_seconds() / 86400
    buy = tx[~tx["is_return"]]
    orders = (
        buy.groupby(["customer_id", "order_id"])
        .agg(ts=("ts", "min"), revenue=("amount", "sum"), n_products=("product_id", "nunique"), age=("age", "min"))
        .reset_index()
        .sort_values(["customer_id", "ts", "order_id"])
    )
    orders["gap"] = orders.groupby("customer_id")["ts"].diff().dt.total_seconds() / 86400
    by_order = orders.groupby("customer_id")
    lines = tx.groupby("customer_id")
    shares = buy.groupby(["customer_id", "product_id"]).size() / buy.groupby("customer_id").size()
    out = pd.DataFrame(
        {
            "recency_days": buy.groupby("customer_id")["age"].min(),
            "tenure_days": buy.groupby("customer_id")["age"].max(),
            "frequency": by_order.size(),
            "monetary": lines["amount"].sum(),
            "avg_order_value": by_order["revenue"].mean(),
            "basket_size": by_order["n_products"].mean(),
            "distinct_products": buy.groupby("customer_id")["product_id"].nunique(),
            "product_entropy": (-shares * np.log(shares)).groupby("customer_id").sum(),
            "interpurchase_mean_days": by_order["gap"].mean(),
            "interpurchase_std_days": by_order["gap"].std(),
            "decayed_spend": (tx["amount"] * 0.5 ** (tx["age"] / half_life)).groupby(tx["customer_id"]).sum(),
            "return_rate": -tx[tx["is_return"]]
            .groupby("customer_id")["amount"]
            .sum()
            .reindex(buy["customer_id"].unique(), fill_value=0)
            / buy.groupby("customer_id")["amount"].sum(),
            "weekend_share": orders.assign(w=orders["ts"].dt.day_of_week >= 5).groupby("customer_id")["w"].mean(),
            "q4_share": orders.assign(q=orders["ts"].dt.month >= 10).groupby("customer_id")["q"].mean(),
        }
    )
    recent = orders[orders["age"] <= window].groupby("customer_id")["revenue"].sum()
    previous = orders[(orders["age"] > window) & (orders["age"] <= 2 * window)].groupby("customer_id")["revenue"].sum()
    recent, previous = recent.reindex(out.index, fill_value=0), previous.reindex(out.index, fill_value=0)
    out["spend_trend"] = ((recent - previous) / (recent + previous)).replace([np.inf, -np.inf], np.nan)
    return out.sort_index()


@pytest.mark.parametrize("seed", [0, 1])
def test_sql_features_equal_an_independent_pandas_computation(seed: int) -> None:
    tx = random_transactions(seed)
    ours = compute_features(pa.Table.from_pandas(tx), FeatureConfig(as_of=AS_OF))
    assert_same_features(ours, pandas_features(tx, AS_OF), tolerance=1e-9)


def assert_same_features(ours: pd.DataFrame, expected: pd.DataFrame, tolerance: float) -> None:
    """Same customers in the same order, and every column of ``expected`` equal within ``tolerance``."""
    assert list(ours.index) == list(expected.index)
    for column in expected.columns:
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
