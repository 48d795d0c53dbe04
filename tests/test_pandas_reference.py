"""The benchmark's equal-work pandas baseline (``bench/pandas_reference.py``) does the library's work: the same
cleaning counts, the same customers and all 29 features equal, so the speed comparison compares like with like."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench import pandas_reference as ref
from segmentation.config import CleaningPolicy, Config, FeatureConfig
from segmentation.features import FEATURES, compute_features
from segmentation.pipeline import load_transactions

from .test_features import assert_same_features

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_transactions.csv.gz"
SAMPLE_SOURCE = ref.SYNTHETIC


@pytest.fixture(scope="module")
def ours():
    return load_transactions(SAMPLE)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return ref.read(SAMPLE, SAMPLE_SOURCE)


def test_cleaning_counts_equal_the_library_report(ours, sample: pd.DataFrame) -> None:
    kept, counts = ref.clean(sample)
    assert counts == ours.cleaning.counts
    assert len(kept) == ours.cleaning.rows_kept
    # the planted dirt is there, so every rule that removes something on this file is exercised
    assert {"missing_customer_id", "non_product_code", "exact_duplicate", "return_netted"} <= set(counts)


@pytest.mark.parametrize("returns", ["net", "drop"])
def test_features_of_the_sample_equal_the_library(ours, sample: pd.DataFrame, returns: str) -> None:
    policy = CleaningPolicy(returns=returns)
    result = ours if returns == "net" else load_transactions(SAMPLE, Config(cleaning=policy))
    kept, counts = ref.clean(sample, policy)
    assert counts == result.cleaning.counts
    expected = ref.features(kept)
    assert sorted(expected.columns) == sorted(f.name for f in FEATURES)
    assert_same_features(compute_features(result.transactions, FeatureConfig()), expected, tolerance=1e-9)


def test_outlier_and_invalid_rules_match_on_a_dirty_file(tmp_path: Path) -> None:
    rows = [
        "customer_id,order_id,order_date,sku,quantity,unit_price",
        *(f"C{i % 7},{1000 + i},2024-01-{1 + i % 28:02d} 10:00:00,P{i % 5},{1 + i % 3},2.5" for i in range(2000)),
        "C1,9001,2024-02-01 10:00:00,P1,50000,2.5",  # an extreme outlier
        "C2,9002,not a date,P1,1,2.5",  # unreadable date
        "C3,9003,2024-02-02 10:00:00,P1,abc,2.5",  # unreadable quantity
        "C3,9004,2024-02-02 10:00:00,P1,0,2.5",  # zero quantity
        "C4,C9005,2024-02-03 10:00:00,P9,-1,2.5",  # a return of a product never bought
        "C4,C9006,2024-02-03 10:00:00,P1,-1,2.5",  # a return of a product bought before
    ]
    path = tmp_path / "dirty.csv"
    path.write_text("\n".join(rows) + "\n")
    columns = {r: c for r, c in SAMPLE_SOURCE.columns.items() if r in ("customer", "order", "date", "product")}
    source = ref.Source({**columns, "quantity": "quantity", "price": "unit_price"}, SAMPLE_SOURCE.date_format)
    kept, counts = ref.clean(ref.read(path, source))
    result = load_transactions(path)
    assert counts == result.cleaning.counts
    assert counts["extreme_outlier"] == 1 and counts["invalid_value"] == 2 and counts["zero_quantity"] == 1
    assert counts["return_unmatched"] == 1 and counts["return_netted"] == 1
    assert_same_features(compute_features(result.transactions), ref.features(kept), tolerance=1e-9)
