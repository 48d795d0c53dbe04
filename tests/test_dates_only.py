"""Files with dates but no time of day: the time-of-day features are left out (NaN) and a note says so."""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segmentation.clustering import FeaturePreprocessor
from segmentation.config import FeatureConfig
from segmentation.features import compute_features
from segmentation.features.definitions import TIME_OF_DAY
from segmentation.pipeline import load_transactions
from tests.frames import AS_OF, random_transactions


def at_midnight(tx: pd.DataFrame) -> pd.DataFrame:
    return tx.assign(ts=tx["ts"].dt.normalize())


def test_dates_only_leave_time_of_day_out_and_say_so(caplog: pytest.LogCaptureFixture) -> None:
    tx = at_midnight(random_transactions(0))
    with caplog.at_level(logging.WARNING, logger="segmentation.features.engine"):
        features = compute_features(pa.Table.from_pandas(tx), FeatureConfig(as_of=AS_OF))
    for column in TIME_OF_DAY:
        assert features[column].isna().all(), column
    assert len(features.attrs["notes"]) == 1
    assert "morning_share" in features.attrs["notes"][0] and "00:00:00" in features.attrs["notes"][0]
    assert any("no time of day" in record.getMessage() for record in caplog.records)


def test_date_features_are_unchanged_by_dropping_the_time() -> None:
    """Weekday and month do not need the time of day: same weekend and Q4 shares as with times."""
    tx = random_transactions(1)
    timed = compute_features(pa.Table.from_pandas(tx), FeatureConfig(as_of=AS_OF))
    dated = compute_features(pa.Table.from_pandas(at_midnight(tx)), FeatureConfig(as_of=AS_OF))
    for column in ("weekend_share", "q4_share", "frequency", "monetary"):
        np.testing.assert_allclose(dated[column], timed[column], err_msg=column)


def test_one_timed_transaction_keeps_time_of_day_features() -> None:
    tx = at_midnight(random_transactions(2))
    tx.loc[0, "ts"] = tx.loc[0, "ts"] + pd.Timedelta(hours=14, minutes=5)
    features = compute_features(pa.Table.from_pandas(tx), FeatureConfig(as_of=AS_OF))
    assert features.attrs["notes"] == []
    assert features["morning_share"].notna().all()
    # every order but one is at midnight (before noon): morning share is 1 except for that order's customer
    customer = tx.loc[0, "customer_id"]
    assert (features.drop(index=customer)["morning_share"] == 1.0).all()
    assert features.loc[customer, "morning_share"] < 1.0


def test_times_only_after_the_as_of_date_do_not_count() -> None:
    """The check looks at the transactions the features use: a timed line after the as-of date is ignored."""
    tx = at_midnight(random_transactions(3))
    late = tx.iloc[[0]].assign(ts=pd.Timestamp("2024-03-01 15:30"))
    features = compute_features(pa.Table.from_pandas(pd.concat([tx, late])), FeatureConfig(as_of=AS_OF))
    assert features["morning_share"].isna().all()


def test_a_csv_of_dates_through_ingest(write_csv) -> None:
    header = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    rows = [
        ["1", "85123A", "2", "2011-01-03", "1.50", "100"],
        ["2", "22423", "1", "2011-02-10", "4.00", "100"],
        ["3", "85123A", "5", "2011-01-08", "1.50", "200"],
    ]
    transactions = load_transactions(write_csv([header, *rows])).transactions
    features = compute_features(transactions, FeatureConfig(as_of=date(2011, 3, 1)))
    assert features.loc["100", "frequency"] == 2
    assert features[list(TIME_OF_DAY)].isna().all().all()
    assert features.attrs["notes"]


def test_segmenting_on_left_out_features_drops_them_as_constant() -> None:
    """A chosen time-of-day feature that is NaN everywhere is dropped by the preprocessor, not filled with 1.0."""
    features = compute_features(pa.Table.from_pandas(at_midnight(random_transactions(4))), FeatureConfig(as_of=AS_OF))
    pre = FeaturePreprocessor(("recency_days", "frequency", "morning_share")).fit(features)
    assert list(pre.feature_names_out_) == ["recency_days", "frequency"]
