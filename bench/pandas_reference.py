"""The equal-work pandas baseline: the library's cleaning policy and its 29 features, written in plain pandas.

It is the benchmark's baseline (``bench/bench_ingest.py``) and the tests' independent reference for the feature
SQL (``tests/test_features.py``, ``tests/test_pandas_reference.py``): one implementation for both, so the baseline
provably does the work ours does. It shares nothing with the library's SQL; it takes the policy's settings
(:class:`~segmentation.config.CleaningPolicy`, :class:`~segmentation.config.FeatureConfig`) and the RFM scoring,
which is pandas already (:func:`segmentation.features.rfm_table`).

What it does not do, because the caller gives it instead: sniffing (encoding, delimiter, header synonyms, decimal
separator, date order: the columns and the date format are passed in), trimming blank space around ids, and the
validation messages (it counts the unreadable values, which is the work; it does not word them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import CleaningPolicy, FeatureConfig

REASONS = (
    "invalid_value",
    "missing_value",
    "zero_quantity",
    "missing_customer_id",
    "non_product_code",
    "exact_duplicate",
    "nonpositive_price",
    "extreme_outlier",
    "return_dropped",
    "return_unmatched",
    "return_netted",
)
"""The library's cleaning reasons in policy order (the first that applies wins); only ``return_netted`` keeps a row."""
DUPLICATE_KEYS = ["customer_id", "order_id", "ts", "product_id", "quantity", "unit_price", "description"]
CANONICAL = {
    "customer": "customer_id",
    "order": "order_id",
    "date": "ts",
    "product": "product_id",
    "quantity": "quantity",
    "price": "unit_price",
    "description": "description",
    "category": "category",
    "country": "country",
    "channel": "channel",
}
"""Source column role -> canonical column name."""
WEEKEND = (5, 6)
"""pandas numbers Monday 0 ... Sunday 6."""


@dataclass(frozen=True)
class Source:
    """Which file columns hold which field, and the date format: given, not sniffed."""

    columns: dict[str, str]
    """Role (a key of :data:`CANONICAL`) -> column in the file."""
    date_format: str


ONLINE_RETAIL = Source(
    {
        "customer": "CustomerID",
        "order": "InvoiceNo",
        "date": "InvoiceDate",
        "product": "StockCode",
        "quantity": "Quantity",
        "price": "UnitPrice",
        "description": "Description",
        "country": "Country",
    },
    "%Y-%m-%d %H:%M:%S",
)
"""The columns of ``../shared/data/online_retail.csv.gz``."""
SYNTHETIC = Source(
    {
        "customer": "customer_id",
        "order": "order_id",
        "date": "order_date",
        "product": "sku",
        "quantity": "quantity",
        "price": "unit_price",
        "description": "product_name",
        "category": "category",
        "country": "country",
        "channel": "channel",
    },
    "%Y-%m-%d %H:%M:%S",
)
"""The columns of the synthetic generator's files (the embedded sample and the benchmark's 10M file)."""


def read(path: str | Path, source: Source) -> pd.DataFrame:
    """Canonical columns of ``path`` with ``source_row`` (header = row 1) and ``invalid``: a date, quantity or price
    written but not readable."""
    names = {column: CANONICAL[role] for role, column in source.columns.items()}
    text = ["customer", "order", "product", "date", "quantity", "price"]
    frame = pd.read_csv(path, usecols=list(names), dtype={source.columns[r]: str for r in text if r in source.columns})
    frame = frame.rename(columns=names)
    frame.insert(0, "source_row", np.arange(2, len(frame) + 2))
    ts = pd.to_datetime(frame["ts"], format=source.date_format, errors="coerce")
    quantity = pd.to_numeric(frame["quantity"], errors="coerce")
    price = pd.to_numeric(frame["unit_price"], errors="coerce")
    frame["invalid"] = (
        (ts.isna() & frame["ts"].notna())
        | (quantity.isna() & frame["quantity"].notna())
        | (price.isna() & frame["unit_price"].notna())
    )
    frame["ts"], frame["quantity"], frame["unit_price"] = ts, quantity, price
    frame["amount"] = quantity * price
    if frame["order_id"].isna().any():  # an empty order id is an order of its own row
        frame["order_id"] = frame["order_id"].fillna("row-" + frame["source_row"].astype(str))
    for column in CANONICAL.values():
        if column not in frame:
            frame[column] = None
    return frame


def clean(frame: pd.DataFrame, policy: CleaningPolicy | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The kept rows (with ``is_return``) and the number of rows per cleaning reason, as the library's policy says."""
    policy = policy or CleaningPolicy()
    quantity, product = frame["quantity"], frame["product_id"].astype("str").where(frame["product_id"].notna())
    is_return = (quantity < 0) | frame["order_id"].str.startswith(policy.cancellation_prefix).fillna(False)
    threshold = None
    if policy.outlier_factor is not None:
        threshold = quantity[~frame["invalid"]].abs().quantile(policy.outlier_quantile) * policy.outlier_factor
    non_product = product.str.upper().isin([c.upper() for c in policy.non_product_codes])
    if policy.non_product_prefixes:
        prefixes = tuple(p.lower() for p in policy.non_product_prefixes)
        non_product |= product.str.lower().str.startswith(prefixes).fillna(False)
    rules = {
        "invalid_value": frame["invalid"],
        "missing_value": frame["ts"].isna() | quantity.isna() | frame["amount"].isna(),
        "zero_quantity": quantity == 0,
        "missing_customer_id": frame["customer_id"].isna() & policy.drop_missing_customer,
        "non_product_code": non_product,
        "exact_duplicate": frame.duplicated(DUPLICATE_KEYS) & policy.drop_duplicates,
        "nonpositive_price": (frame["unit_price"] <= 0) & policy.drop_nonpositive_price,
        "extreme_outlier": quantity.abs() > (np.inf if threshold is None or np.isnan(threshold) else threshold),
        "return_dropped": is_return & (policy.returns == "drop"),
    }
    reason = pd.Series(np.select(list(rules.values()), list(rules), default=""), index=frame.index)
    # a return is netted against the customer's first kept purchase of the same product at or before it
    open_ = reason == ""
    first = (
        frame.loc[open_ & ~is_return, ["customer_id", "product_id", "ts"]]
        .groupby(["customer_id", "product_id"], dropna=False, as_index=False)["ts"]
        .min()
        .rename(columns={"ts": "first_ts"})
    )
    returns = frame.loc[open_ & is_return, ["customer_id", "product_id", "ts"]].reset_index()
    matched = returns.merge(first, on=["customer_id", "product_id"], how="left")
    reason.loc[matched["index"].to_numpy()] = np.where(
        matched["first_ts"] <= matched["ts"], "return_netted", "return_unmatched"
    )
    counts = reason[reason != ""].value_counts()
    kept = frame[(reason == "") | (reason == "return_netted")].drop(columns="invalid")
    kept = kept.assign(is_return=is_return[kept.index])
    return kept, {r: int(counts[r]) for r in REASONS if r in counts}


def features(tx: pd.DataFrame, as_of: date | None = None, config: FeatureConfig | None = None) -> pd.DataFrame:
    """One row per customer with a purchase before ``as_of`` (default: the day after the last transaction), the
    29 features of ``docs/features.md``, sorted by customer id."""
    config = config or FeatureConfig()
    as_of = as_of or config.as_of or (tx["ts"].max().date() + timedelta(days=1))
    as_of_ts = pd.Timestamp(as_of)
    half_life, window = float(config.half_life_days), float(config.trend_window_days)
    lines = tx[(tx["ts"] < as_of_ts) & tx["customer_id"].notna()].copy()
    lines["age"] = (as_of_ts - lines["ts"]).dt.total_seconds() / 86400
    lines["decayed"] = lines["amount"] * 0.5 ** (lines["age"] / half_life)
    buy = lines[~lines["is_return"]]
    items = buy.groupby(["customer_id", "order_id", "product_id"], dropna=False, as_index=False).agg(
        ts=("ts", "min"),
        amount=("amount", "sum"),
        quantity=("quantity", "sum"),
        lines=("ts", "size"),
        age=("age", "min"),
    )
    orders = (
        items.groupby(["customer_id", "order_id"], as_index=False)
        .agg(
            ts=("ts", "min"),
            revenue=("amount", "sum"),
            n_products=("ts", "size"),
            items=("quantity", "sum"),
            age=("age", "min"),
        )
        .sort_values(["customer_id", "ts", "order_id"])
    )
    orders["gap"] = orders.groupby("customer_id")["ts"].diff().dt.total_seconds() / 86400
    orders["decayed"] = 0.5 ** (orders["age"] / half_life)
    orders["last_window"] = orders["revenue"].where(orders["age"] <= window, 0.0)
    orders["previous_window"] = orders["revenue"].where((orders["age"] > window) & (orders["age"] <= 2 * window), 0.0)
    orders["weekend"] = orders["ts"].dt.day_of_week.isin(WEEKEND)
    orders["morning"], orders["evening"] = orders["ts"].dt.hour < 12, orders["ts"].dt.hour >= 18
    orders["q4"] = orders["ts"].dt.month >= 10
    products = items.groupby(["customer_id", "product_id"], dropna=False).agg(
        lines=("lines", "sum"), orders=("ts", "size")
    )
    products["repeat"] = products["orders"] >= 2
    by_order = orders.groupby("customer_id")
    out = by_order.agg(
        frequency=("order_id", "size"),
        avg_order_value=("revenue", "mean"),
        basket_size=("n_products", "mean"),
        items_per_order=("items", "mean"),
        interpurchase_mean_days=("gap", "mean"),
        interpurchase_std_days=("gap", "std"),
        decayed_frequency=("decayed", "sum"),
        spend_last_window=("last_window", "sum"),
        spend_previous_window=("previous_window", "sum"),
        weekend_share=("weekend", "mean"),
        morning_share=("morning", "mean"),
        evening_share=("evening", "mean"),
        q4_share=("q4", "mean"),
    )
    purchases = buy.groupby("customer_id").agg(
        recency_days=("age", "min"), tenure_days=("age", "max"), gross_revenue=("amount", "sum")
    )
    every_line = lines.groupby("customer_id").agg(monetary=("amount", "sum"), decayed_spend=("decayed", "sum"))
    returned = -lines.loc[lines["is_return"]].groupby("customer_id")["amount"].sum()
    out = out.join(purchases).join(every_line)
    out["returned_value"] = returned.reindex(out.index).fillna(0.0)
    out["distinct_products"] = products.groupby("customer_id").size()
    out["product_entropy"] = _entropy(products["lines"])
    out["repeat_product_share"] = products.groupby("customer_id")["repeat"].mean()
    categories = buy[buy["category"].notna()].groupby(["customer_id", "category"]).size()
    out["category_entropy"] = _entropy(categories) if len(categories) else np.nan
    out["country"] = _most_frequent(lines, "country")
    out["channel"] = _most_frequent(lines, "channel")
    out["return_rate"] = out["returned_value"] / out["gross_revenue"].replace(0.0, np.nan)
    both = out["spend_last_window"] + out["spend_previous_window"]
    out["spend_trend"] = (out["spend_last_window"] - out["spend_previous_window"]) / both.replace(0.0, np.nan)
    months = out["tenure_days"].clip(lower=30.0) / 30.0
    out["orders_per_month"] = out["frequency"] / months
    out["spend_per_month"] = out["gross_revenue"] / months
    if (lines["ts"] == lines["ts"].dt.normalize()).all():  # dates only: no time of day
        out[["morning_share", "evening_share"]] = np.nan
    if lines["product_id"].isna().all():
        out[["basket_size", "distinct_products", "product_entropy", "repeat_product_share"]] = np.nan
    out.index.name = "customer_id"
    return out.sort_index()


def _entropy(counts: pd.Series) -> pd.Series:
    """Shannon entropy (nats) per customer of the counts indexed by (customer, value)."""
    share = counts / counts.groupby(level="customer_id").transform("sum")
    return (-share * np.log(share)).groupby(level="customer_id").sum()


def _most_frequent(lines: pd.DataFrame, column: str) -> pd.Series:
    """Each customer's value with the most lines (a tie: the alphabetically first)."""
    counts = lines[lines[column].notna()].groupby(["customer_id", column]).size().rename("n").reset_index()
    if counts.empty:
        return pd.Series(np.nan, index=pd.Index([], name="customer_id"), dtype=object)
    top = counts.sort_values(["customer_id", "n", column], ascending=[True, False, True])
    return top.drop_duplicates("customer_id").set_index("customer_id")[column]
