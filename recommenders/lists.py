"""Recommendation lists as the app and the ``segment recommend`` command hand them out: segment lists long enough
for the cold-start fallback, and each customer's product ids for a CRM export."""

from __future__ import annotations

import pandas as pd

from recommenders.base import Recommender
from recommenders.segments import customer_top_products


def segment_list_length(n: int) -> int:
    """Products a segment's list holds when customers are shown ``n``: twice as many, so that a cold-start
    customer who gets the segment's list still has ``n`` left after leaving out what they bought."""
    return 2 * n


def products_per_customer(
    model: Recommender,
    segments: pd.Series,
    n: int,
    min_orders: int = 1,
    exclude_bought: bool = False,
    segment_lists: pd.DataFrame | None = None,
) -> pd.Series:
    """customer_id -> list of the ``n`` recommended product ids (best first) for every customer of ``segments``
    (customer_id -> segment), as :func:`recommenders.segments.customer_top_products` ranks them."""
    recs = customer_top_products(model, segments.index, segments, n, min_orders, exclude_bought, segment_lists)
    return recs.groupby("customer_id", sort=False)["product_id"].agg(list)


def named_segment_lists(lists: pd.DataFrame, names: dict[int, str], n: int) -> pd.DataFrame:
    """The first ``n`` products of every segment list of :func:`recommenders.segments.segment_top_products`, with
    a ``segment_name`` column after ``segment``: the segment lists as a file for people."""
    shown = lists.loc[lists["rank"] <= n]
    named = shown.assign(segment_name=shown["segment"].map(names))
    return named[["segment", "segment_name", *[c for c in shown.columns if c != "segment"]]]


def lists_at_a_glance(lists: pd.DataFrame, top: int = 3) -> pd.Series:
    """segment -> its ``top`` products in one line ("Product A · Product B · Product C"); a product without a
    description by its id."""
    head = lists.loc[lists["rank"] <= top].sort_values(["segment", "rank"], kind="stable")
    product = head["description"].where(head["description"] != "", head["product_id"])
    return product.groupby(head["segment"]).agg(" · ".join)
