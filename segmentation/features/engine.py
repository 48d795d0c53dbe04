"""Compute the customer feature table on DuckDB."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.config import FeatureConfig
from segmentation.errors import InputError
from segmentation.features.definitions import PRODUCT_BASED, TIME_OF_DAY
from segmentation.features.sql import feature_sql
from segmentation.sql import fetch_row

log = logging.getLogger(__name__)


def default_as_of(transactions: pa.Table | pd.DataFrame) -> date:
    """The day after the last transaction, so every transaction counts."""
    con = duckdb.connect()
    con.register("transactions", transactions)
    (last,) = fetch_row(con, "SELECT max(ts) FROM transactions")
    if last is None:
        raise InputError("there are no transactions to compute features from")
    return last.date() + timedelta(days=1)


def _unsupported(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple[tuple[str, ...], str]]:
    """Features the transactions before ``as_of`` cannot support, with why: NaN beats a constant for everyone.

    Files of dates only have no time of day (every timestamp at midnight); files without a product column
    have no products (every ``product_id`` empty).
    """
    timed, with_products = fetch_row(
        con,
        f"""SELECT bool_or(ts <> date_trunc('day', ts)), count(product_id) > 0
            FROM transactions WHERE ts < TIMESTAMP '{as_of.isoformat()}'""",
    )
    found = []
    if not timed:
        found.append((TIME_OF_DAY, "every timestamp is at 00:00:00, so the data carry dates but no time of day"))
    if not with_products:
        found.append((PRODUCT_BASED, "the file has no product column (or every product id is empty)"))
    return found


def compute_features(transactions: pa.Table | pd.DataFrame, config: FeatureConfig | None = None) -> pd.DataFrame:
    """One row per customer (index ``customer_id``) with every feature of ``docs/features.md``.

    Only transactions strictly before ``config.as_of`` are used; ``df.attrs["as_of"]`` records the date.
    When every timestamp is at midnight (a file of dates only) the time-of-day features are NaN, not 1.0 and 0.0;
    without products the product-based features are NaN; ``df.attrs["notes"]`` (also logged as a warning) says so.
    """
    config = config or FeatureConfig()
    as_of = config.as_of or default_as_of(transactions)
    con = duckdb.connect()
    con.register("transactions", transactions)
    frame = con.sql(feature_sql(as_of, config)).df()
    if frame.empty:
        raise InputError(
            f"no customer has a purchase before the as-of date {as_of.isoformat()}",
            fix="choose a later as-of date",
        )
    frame = frame.set_index("customer_id")
    frame.attrs["as_of"] = as_of.isoformat()
    frame.attrs["notes"] = []
    for columns, reason in _unsupported(con, as_of):
        frame[list(columns)] = np.nan
        note = f"{', '.join(columns)} left out (NaN): {reason}"
        frame.attrs["notes"].append(note)
        log.warning(note)
    log.info("features for %d customers as of %s", len(frame), as_of)
    return frame
