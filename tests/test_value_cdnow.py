"""CDNOW, the field's reference data for BG/NBD (Fader, Hardie and Lee 2005), as it ships in the lifetimes wheel
on PyPI: the purchase log reads as it is, the calibration summary is reproduced from the sample's purchases, and
BG/NBD recovers the published parameters."""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc
import pytest

from segmentation.pipeline import load_transactions
from segmentation.value.clv import BetaGeo
from segmentation.value.summary import rfm_summary

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""Fader, Hardie and Lee (2005), "Counting your customers the easy way", CDNOW 1/10 sample, time in weeks."""
WEEK = 7.0


@pytest.fixture(scope="module")
def reference(cdnow_dir) -> pd.DataFrame:
    """The calibration summary (39 weeks to 1997-09-30) published with the data: frequency, recency, T in weeks."""
    return pd.read_csv(cdnow_dir / "cdnow_customers_summary.csv", dtype={"ID": str}).set_index("ID")


def test_the_purchase_log_reads_as_it_is(cdnow_dir) -> None:
    """Column-aligned text, compact dates (19970101), zero-padded ids, headers in words (number_of_cds,
    dollar_value), no order or product column: read without any option."""
    result = load_transactions(cdnow_dir / "CDNOW_master.txt")
    assert result.validation.detected["delimiter"] == "whitespace"
    assert result.mapping.columns == {
        "customer_id": "customer_id",
        "ts": "date",
        "quantity": "number_of_cds",
        "amount": "dollar_value",
    }
    assert result.cleaning.rows_in == 69_659
    reasons = dict(zip(result.cleaning.summary()["reason"], result.cleaning.summary()["rows"], strict=True))
    assert reasons["nonpositive_price"] == 80  # purchases of $0.00
    transactions = result.transactions
    assert pc.count_distinct(transactions["customer_id"]).as_py() == 23_502  # 23,570 less 68 with only $0 purchases
    assert "00001" in set(transactions["customer_id"].to_pylist())  # ids keep their zeros
    assert str(pc.min(transactions["ts"])).startswith("1997-01-01")
    assert str(pc.max(transactions["ts"])).startswith("1998-06-30")


def test_the_calibration_summary_is_reproduced(cdnow_dir, reference) -> None:
    raw = pd.read_csv(
        cdnow_dir / "CDNOW_sample.txt", sep=r"\s+", header=None, names=["master_id", "id", "date", "cds", "value"]
    )
    transactions = pd.DataFrame(
        {
            "customer_id": raw["id"].astype(str),
            "ts": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "amount": raw["value"],
            "quantity": raw["cds"],
        }
    )
    # our as-of date is the first day after the calibration period; T counts to it, one day more than lifetimes'
    ours = rfm_summary(transactions, "1997-10-01").reindex(reference.index)
    zero_value_only = transactions.groupby("customer_id")["amount"].max().loc[lambda m: m == 0].index
    assert set(ours.index[ours["frequency"].isna()]) == set(zero_value_only)  # 8 customers: one $0 purchase
    ours, expected = ours.dropna(subset=["frequency"]), reference.drop(index=zero_value_only)
    assert len(ours) == 2_349
    assert (ours["frequency"] == expected["frequency"]).all()
    assert (ours["recency"] / WEEK - expected["recency"]).abs().max() < 0.006  # the file rounds to 0.01 weeks
    assert (ours["T"] / WEEK - 1 / WEEK - expected["T"]).abs().max() < 0.006


@pytest.mark.slow
def test_bgnbd_recovers_the_published_parameters(reference) -> None:
    params = BetaGeo().fit(reference).params_
    assert {name: round(value, 2) for name, value in params.items()} == {
        name: round(value, 2) for name, value in PUBLISHED.items()
    }
