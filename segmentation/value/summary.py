"""Per-customer purchase summaries for the buy-till-you-die models: frequency, recency, T and spend at a date.

An order is an order id of the clean transactions (ingest names a customer's purchase day as the order when the
file has no order column). Only sale lines count (returns are not subtracted: a negative order value has no place
in the Gamma-Gamma spend model). Times are in days, fractions included.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from segmentation.errors import InputError

_NEEDED = ("customer_id", "ts", "amount")
_DAY = pd.Timedelta(days=1)


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], where: str, fix: str) -> None:
    """Refuse ``frame`` in one line when any of ``columns`` is missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=where, fix=fix)


def require_history(table: pd.DataFrame, end: pd.Timestamp, purpose: str, fix: str) -> None:
    """Refuse ``orders`` that stop more than a week before ``end``: a holdout or a label window would be cut short."""
    if table.empty or table["ts"].max() < end - pd.Timedelta(days=7):
        raise InputError(f"the data must run to {end:%Y-%m-%d} {purpose}", where="transactions", fix=fix)


def orders(transactions: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """One row per order: customer_id, order_id, ts (its first line), amount (its sale lines), sorted by time."""
    frame = transactions.to_pandas() if isinstance(transactions, pa.Table) else transactions
    require_columns(
        frame,
        _NEEDED,
        "transactions",
        "pass the clean transactions of segmentation.pipeline.load_transactions(path).transactions",
    )
    frame = frame[[*_NEEDED, *(c for c in ("order_id", "is_return", "quantity") if c in frame.columns)]]
    sale = pd.Series(True, index=frame.index)
    if "is_return" in frame.columns:
        sale &= ~frame["is_return"].fillna(False).astype(bool)
    if "quantity" in frame.columns:
        sale &= frame["quantity"].fillna(0) > 0
    frame = frame.loc[sale & (frame["amount"] > 0)].copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["ts"] = pd.to_datetime(frame["ts"])
    if "order_id" not in frame.columns:
        frame["order_id"] = frame["ts"].dt.strftime("%Y-%m-%d")
    grouped = frame.groupby(["customer_id", "order_id"], sort=False, observed=True)
    out = grouped.agg(ts=("ts", "min"), amount=("amount", "sum")).reset_index()
    return out.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)


def to_timestamp(value: str | pd.Timestamp | object) -> pd.Timestamp:
    """``value`` as a timestamp, or an InputError saying what a date looks like."""
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"as-of date {value!r} is not a date", fix="give a date like 2011-06-01") from error


def rfm_summary(transactions: pa.Table | pd.DataFrame, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """BG/NBD inputs per customer with an order before ``as_of``, indexed by customer_id.

    frequency: repeat orders (orders - 1); recency: days from the first to the latest order; T: days from the
    first order to ``as_of``; monetary_value: mean value of the repeat orders (0 without one), as Fader, Hardie and
    Lee define it (the first order is left out because it is often unlike the later ones).
    """
    as_of = to_timestamp(as_of)
    table = orders(transactions)
    table = table.loc[table["ts"] < as_of]
    if table.empty:
        raise InputError(
            f"no order before the as-of date {as_of:%Y-%m-%d}", where="transactions", fix="choose a later date"
        )
    grouped = table.groupby("customer_id", sort=True)
    first, last = grouped["ts"].min(), grouped["ts"].max()
    total, count = grouped["amount"].sum(), grouped["amount"].size()
    first_amount = grouped["amount"].first()
    frequency = count - 1
    repeat = (total - first_amount) / frequency.where(frequency > 0)
    return pd.DataFrame(
        {
            "frequency": frequency.astype(int),
            "recency": (last - first) / _DAY,
            "T": (as_of - first) / _DAY,
            "monetary_value": repeat.fillna(0.0),
            "revenue": total,
        }
    ).rename_axis("customer_id")


def period_totals(
    transactions: pa.Table | pd.DataFrame, start: str | pd.Timestamp, end: str | pd.Timestamp
) -> pd.DataFrame:
    """Orders and revenue per customer in [start, end), indexed by customer_id (customers with an order only)."""
    table = orders(transactions)
    table = table.loc[(table["ts"] >= to_timestamp(start)) & (table["ts"] < to_timestamp(end))]
    grouped = table.groupby("customer_id", sort=True)["amount"]
    return pd.DataFrame({"orders": grouped.size(), "revenue": grouped.sum()}).rename_axis("customer_id")
