"""Customer x product interactions and order sequences built from clean transactions.

Returns (negative lines) are not interactions and are left out. An *order step* is everything a customer
bought at one moment: the lines of one order, and of any other order of the same customer with the same first
timestamp (they cannot be put in a time order). Sequence models see one step as one multi-hot basket.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from segmentation.errors import ConfigError, InputError

log = logging.getLogger(__name__)

WEIGHTINGS = ("count", "log_quantity", "revenue", "bm25")
MIN_SHARED_STEPS = 2
"""Order steps two products must share before they count as going together..."""
MIN_LIFT = 2.0
"""...and how many times more often than chance (if orders were filled at random), so that popular products,
which share orders with nearly everything, do not go together with everything."""


def as_frame(transactions: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """Clean transactions as pandas, whichever form they come in."""
    return transactions.to_pandas() if isinstance(transactions, pa.Table) else transactions


def purchases(transactions: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """Sale lines only (no returns, positive quantity), with ``step_ts``: the first timestamp of the line's order."""
    frame = as_frame(transactions)
    frame = frame.loc[~frame["is_return"] & (frame["quantity"] > 0)]
    step_ts = frame.groupby(["customer_id", "order_id"], sort=False)["ts"].transform("min")
    return frame.assign(step_ts=step_ts)


def temporal_split(
    transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by whole orders: train = orders whose every line is before ``cutoff``, test = orders from it on.

    An order with lines on both sides (it spans the cutoff by a few minutes) goes to neither, so no line of the
    test period reaches the training data and no training line is counted as a test purchase.
    """
    frame = as_frame(transactions)
    cutoff = pd.Timestamp(cutoff)
    by_order = frame.groupby(["customer_id", "order_id"], sort=False)["ts"]
    first, last = by_order.transform("min"), by_order.transform("max")
    train, test = frame.loc[last < cutoff], frame.loc[first >= cutoff]
    straddling = len(frame) - len(train) - len(test)
    if straddling:
        log.info("%d lines of orders spanning the cutoff %s left out of both sides", straddling, cutoff)
    return train, test


@dataclass(frozen=True, eq=False)
class Interactions:
    """Customers (rows) x products (columns) with per-pair aggregates and each customer's order steps.

    ``orders``, ``quantity`` and ``revenue`` hold, per (customer, product), the number of order steps with
    the product, the units and the money. ``steps`` is one binary row per order step, grouped by customer in
    time order: customer row ``r`` owns steps ``step_ptr[r]:step_ptr[r + 1]``.
    """

    customers: pd.Index
    items: pd.Index
    orders: sp.csr_matrix
    quantity: sp.csr_matrix
    revenue: sp.csr_matrix
    steps: sp.csr_matrix
    step_ptr: np.ndarray
    step_time: np.ndarray
    descriptions: pd.Series
    end: pd.Timestamp
    """The last purchase time: "now" for recency weights."""
    categories: pd.Series | None = None
    """Each product's category (its most frequent one; missing where none), in ``items`` order; None when the
    transactions have no category column."""

    @classmethod
    def from_transactions(
        cls, transactions: pa.Table | pd.DataFrame, items: pd.Index | list[str] | None = None
    ) -> Interactions:
        """Build from clean transactions; ``items`` fixes the catalogue and its column order (other products
        are dropped), as a saved model needs."""
        lines = purchases(transactions)
        if items is not None:
            items = pd.Index(items, dtype=str)
            lines = lines.loc[lines["product_id"].isin(items)]
        if lines.empty:
            raise InputError(
                "there are no purchase lines to build interactions from",
                fix="use a file (or period) with purchases, not only returns",
            )
        customers = pd.Index(np.sort(lines["customer_id"].unique()), dtype=str, name="customer_id")
        if items is None:
            items = pd.Index(np.sort(lines["product_id"].unique()), dtype=str)
        items = items.rename("product_id")
        row = customers.get_indexer(lines["customer_id"])
        col = items.get_indexer(lines["product_id"])
        step_key = pd.MultiIndex.from_arrays([row, lines["step_ts"].to_numpy()])
        step_code, step_index = pd.factorize(step_key, sort=True)
        step_row = step_index.get_level_values(0).to_numpy()
        shape = (len(customers), len(items))

        pair = pd.DataFrame({"row": row, "col": col, "step": step_code})
        pair_sums = pd.DataFrame(
            {"row": row, "col": col, "quantity": lines["quantity"].to_numpy(), "revenue": lines["amount"].to_numpy()}
        )
        sums = pair_sums.groupby(["row", "col"], sort=False).sum()
        n_steps = pair.drop_duplicates(["step", "col"]).groupby(["row", "col"], sort=False).size()
        sums = sums.join(n_steps.rename("orders"))
        r, c = (sums.index.get_level_values(i).to_numpy() for i in (0, 1))

        def matrix(values: np.ndarray) -> sp.csr_matrix:
            return sp.csr_matrix((values.astype(np.float32), (r, c)), shape=shape)

        unique_steps = pair.drop_duplicates(["step", "col"])
        steps = sp.csr_matrix(
            (np.ones(len(unique_steps), np.float32), (unique_steps["step"], unique_steps["col"])),
            shape=(len(step_index), len(items)),
        )
        descriptions = lines.groupby("product_id")["description"].agg(
            lambda s: s.mode().iat[0] if s.notna().any() else ""
        )
        return cls(
            customers=customers,
            items=items,
            orders=matrix(sums["orders"].to_numpy()),
            quantity=matrix(sums["quantity"].to_numpy()),
            revenue=matrix(np.maximum(sums["revenue"].to_numpy(), 0.0)),
            steps=steps,
            step_ptr=np.searchsorted(step_row, np.arange(len(customers) + 1)),
            step_time=step_index.get_level_values(1).to_numpy(),
            descriptions=descriptions.reindex(items).fillna("").astype(str),
            end=pd.Timestamp(lines["ts"].max()),
            categories=_categories(lines, items),
        )

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @cached_property
    def bought(self) -> sp.csr_matrix:
        """Binary: the customer bought the product at least once."""
        return (self.orders > 0).astype(np.float32).tocsr()

    @cached_property
    def n_orders(self) -> np.ndarray:
        """Order steps per customer row."""
        return np.diff(self.step_ptr)

    @cached_property
    def step_owner(self) -> np.ndarray:
        """Customer row of each order step."""
        return np.repeat(np.arange(self.n_customers), self.n_orders)

    @cached_property
    def step_age_days(self) -> np.ndarray:
        """Days from each order step to the last purchase (``end``, "now" for recency weights)."""
        return (self.end.to_datetime64() - self.step_time) / np.timedelta64(1, "D")

    @cached_property
    def popularity(self) -> np.ndarray:
        """Customers who bought each product."""
        return np.asarray(self.bought.sum(axis=0)).ravel()

    @cached_property
    def in_steps(self) -> np.ndarray:
        """Order steps holding each product."""
        return np.asarray(self.steps.sum(axis=0)).ravel()

    @cached_property
    def together(self) -> sp.csr_matrix:
        """Products x products: order steps that contain both (diagonal zero)."""
        co = (self.steps.T @ self.steps).tocsr()
        co.setdiag(0)
        co.eliminate_zeros()
        return co

    @cached_property
    def associations(self) -> sp.csr_matrix:
        """Products x products: the lift (shared steps over what chance would give: steps with a x steps with b /
        all steps) of each pair that goes together (``MIN_SHARED_STEPS``, ``MIN_LIFT``); zero elsewhere."""
        co = self.together.tocoo()
        in_steps = self.in_steps
        lift = co.data * self.steps.shape[0] / (in_steps[co.row] * in_steps[co.col])
        keep = (co.data >= MIN_SHARED_STEPS) & (lift >= MIN_LIFT)
        return sp.csr_matrix((lift[keep], (co.row[keep], co.col[keep])), shape=co.shape)

    def weights(self, weighting: str = "count", alpha: float = 1.0) -> sp.csr_matrix:
        """Implicit-feedback weights ``alpha * w`` (Hu et al.'s confidence minus one, the form ``implicit`` takes).

        ``w`` is ``count`` (order steps with the product), ``log_quantity`` (log(1 + units)), ``revenue``
        (log(1 + money), so a few big wholesale lines do not swamp the rest) or ``bm25`` (the order counts
        BM25-weighted as ``implicit`` does: products every customer buys and customers who buy everything count
        less).
        """
        if weighting not in WEIGHTINGS:
            raise ConfigError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")
        if weighting == "bm25":
            from implicit.nearest_neighbours import bm25_weight

            w = bm25_weight(self.orders).tocsr().astype(np.float32)
            w.data *= np.float32(alpha)
            return w
        base = {"count": self.orders, "log_quantity": self.quantity, "revenue": self.revenue}[weighting]
        w = base.copy()
        if weighting != "count":
            w.data = np.log1p(w.data)
            # A positive pair must keep a positive weight (a line of a penny item rounds to almost zero).
            w.data = np.maximum(w.data, 1e-3)
        w.data *= np.float32(alpha)
        return w

    def bought_in(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> sp.csr_matrix:
        """Binary customers x products: what each customer bought in the order steps from ``start`` (inclusive)
        to ``end`` (exclusive); None leaves that side open."""
        keep = np.ones(len(self.step_time), dtype=bool)
        if start is not None:
            keep &= self.step_time >= np.datetime64(start)
        if end is not None:
            keep &= self.step_time < np.datetime64(end)
        steps = np.flatnonzero(keep)
        pick = sp.csr_matrix(
            (np.ones(len(steps), np.float32), (self.step_owner[steps], steps)),
            shape=(self.n_customers, len(self.step_time)),
        )
        bought = (pick @ self.steps).tocsr()
        bought.data[:] = 1.0
        return bought

    def rows(self, customers: pd.Index | list[str]) -> np.ndarray:
        """Row of each customer id, -1 for a customer without purchases here."""
        return self.customers.get_indexer(pd.Index(customers, dtype=str))


def _categories(lines: pd.DataFrame, items: pd.Index) -> pd.Series | None:
    """The most frequent category of each product's lines, in ``items`` order; None without a category column."""
    if "category" not in lines or lines["category"].isna().all():
        return None
    counts = lines.groupby(["product_id", "category"], observed=True).size().sort_values(kind="stable")
    top = counts[~counts.index.get_level_values(0).duplicated(keep="last")]
    return pd.Series(top.index.get_level_values(1), index=top.index.get_level_values(0)).reindex(items)
