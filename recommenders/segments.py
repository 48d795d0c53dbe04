"""What to offer each segment, and each customer in it, from any fitted recommender.

A segment's list aggregates its members' personal lists, so it inherits the model's view (repeat purchases,
sequences, similar customers) instead of being a second model. Its *lift* compares it with the whole customer
base: how many times more often the product is recommended to the segment's members than to all customers.
Customers with too little history get their segment's list, and their rows say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommenders.base import Recommender
from recommenders.baselines import segment_labels
from segmentation.errors import InputError

SEGMENT_COLUMNS = [
    "segment",
    "rank",
    "product_id",
    "description",
    "recommended_to",
    "lift",
    "novelty",
    "bought_by",
    "reason",
]
CUSTOMER_COLUMNS = ["customer_id", "segment", "rank", "product_id", "description", "score", "reason", "source"]
COLD_START = "popular in your segment (too little purchase history)"
DEPTH = 20
"""Length of the personal lists a segment's list is aggregated from."""


def segment_top_products(
    model: Recommender,
    segments: pd.Series | pd.DataFrame,
    n: int = 10,
    depth: int = DEPTH,
    exclude_bought: bool = False,
) -> pd.DataFrame:
    """The ``n`` products most often in the segment members' personal top-``depth`` lists, per segment.

    ``segments``: customer_id -> segment (a Series or the assignments frame). Columns:

    - ``recommended_to``: share of the segment's customers whose list holds the product (the ranking key);
    - ``lift``: ``recommended_to`` divided by the share of *all* customers whose list holds it (1: the segment
      is no different from everyone; 3: recommended three times as often here);
    - ``novelty``: share of the segment's customers who never bought it (1 - ``bought_by``): the prospects a
      cross-sell campaign can still reach, the number to read next to lift in cross-sell mode;
    - ``bought_by``: share of the segment's customers who bought it already;
    - ``reason``: the reason most members' lists give for it.

    With ``exclude_bought`` (cross-sell mode) the personal lists leave out what each customer bought, so the
    segment's list holds products new to its members.
    """
    labels = segment_labels(segments)
    if labels.empty:
        raise InputError("there are no customers with a segment to recommend for", fix="segment the customers first")
    recs = model.recommend(labels.index, n=depth, exclude_bought=exclude_bought)
    recs["segment"] = labels.reindex(recs["customer_id"]).to_numpy()
    size = labels.value_counts()
    table = recs.groupby(["segment", "product_id"], sort=False).size().rename("lists").reset_index()
    reasons = recs.groupby(["segment", "product_id", "reason"], sort=False).size().rename("count").reset_index()
    reasons = reasons.sort_values("count", ascending=False, kind="stable").drop_duplicates(["segment", "product_id"])
    table = table.merge(reasons[["segment", "product_id", "reason"]], on=["segment", "product_id"])
    overall = recs.groupby("product_id")["customer_id"].nunique() / len(labels)
    table["recommended_to"] = table["lists"] / size.reindex(table["segment"]).to_numpy()
    table["lift"] = table["recommended_to"] / overall.reindex(table["product_id"]).to_numpy()
    table["bought_by"] = _bought_share(model, labels, table)
    table["novelty"] = 1.0 - table["bought_by"]
    table = table.sort_values(["segment", "recommended_to", "lift"], ascending=[True, False, False], kind="stable")
    table = table.groupby("segment", sort=False).head(n)
    table["rank"] = table.groupby("segment", sort=False).cumcount() + 1
    descriptions = model.interactions.descriptions
    table["description"] = descriptions.reindex(table["product_id"]).fillna("").to_numpy()
    return table[SEGMENT_COLUMNS].reset_index(drop=True)


def _bought_share(model: Recommender, labels: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """Per (segment, product) row of ``table``: share of the segment's customers who bought the product."""
    data = model.interactions
    codes, uniques = pd.factorize(labels)
    rows = data.rows(labels.index)
    known = rows >= 0
    member = sp.csr_matrix(
        (np.ones(int(known.sum())), (codes[known], rows[known])), shape=(len(uniques), data.n_customers)
    )
    buyers = (member @ data.bought).tocsr()
    seg = uniques.get_indexer(table["segment"])
    col = data.items.get_indexer(table["product_id"])
    counts = np.asarray(buyers[seg, col]).ravel()
    return counts / np.bincount(codes, minlength=len(uniques))[seg]


def customer_top_products(
    model: Recommender,
    customers: list[str] | pd.Index,
    segments: pd.Series | pd.DataFrame | None = None,
    n: int = 10,
    min_orders: int = 1,
    exclude_bought: bool = False,
    segment_lists: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Top ``n`` products per customer with a reason, best first; cold-start customers get their segment's list.

    A customer with fewer than ``min_orders`` orders in the model's history (0 for one it has never seen)
    gets the list of their segment from :func:`segment_top_products` (``segment_lists``, computed when not
    given), scored by ``recommended_to``, with ``source`` "segment" and the reason saying why. A customer
    the model has never seen and without a segment gets the global popularity list (``source`` "overall").
    Everyone else gets the model's personal list (``source`` "personal").
    """
    ids = pd.Index(list(customers), dtype=str)
    labels = segment_labels(segments) if segments is not None else pd.Series(dtype=object)
    data = model.interactions
    rows = data.rows(ids)
    orders = np.where(rows >= 0, data.n_orders[np.maximum(rows, 0)], 0)
    segment = labels.reindex(ids)
    cold = (orders < min_orders) & segment.notna().to_numpy()
    personal = model.recommend(ids[~cold], n=n, exclude_bought=exclude_bought)
    unseen = pd.Index(ids[(rows < 0) & ~cold])
    personal["source"] = np.where(personal["customer_id"].isin(unseen), "overall", "personal")
    frames = [personal]
    if cold.any():
        if segment_lists is None:
            segment_lists = segment_top_products(model, labels, n=2 * n if exclude_bought else n)
        frames.append(_segment_lists_for(model, ids[cold], segment[cold], segment_lists, n, exclude_bought))
    out = pd.concat(frames, ignore_index=True)
    out["segment"] = segment.reindex(out["customer_id"]).to_numpy()
    out["description"] = data.descriptions.reindex(out["product_id"]).fillna("").to_numpy()
    order = pd.Series(np.arange(len(ids)), index=ids)
    out = out.iloc[np.lexsort((out["rank"].to_numpy(), order.reindex(out["customer_id"]).to_numpy()))]
    return out[CUSTOMER_COLUMNS].reset_index(drop=True)


def _segment_lists_for(
    model: Recommender,
    ids: pd.Index,
    segment: pd.Series,
    segment_lists: pd.DataFrame,
    n: int,
    exclude_bought: bool,
) -> pd.DataFrame:
    """Each cold-start customer's segment list (without what they bought, if asked), re-ranked from 1."""
    rows = pd.DataFrame({"customer_id": ids, "segment": segment.to_numpy()})
    lists = rows.merge(segment_lists[["segment", "rank", "product_id", "recommended_to"]], on="segment")
    if exclude_bought:
        data = model.interactions
        r = data.rows(lists["customer_id"])
        c = data.items.get_indexer(lists["product_id"])
        seen = r >= 0
        bought = np.zeros(len(lists), dtype=bool)
        bought[seen] = np.asarray(data.bought[r[seen], c[seen]]).ravel() > 0
        lists = lists.loc[~bought]
    lists = lists.sort_values(["customer_id", "rank"], kind="stable").groupby("customer_id", sort=False).head(n)
    return pd.DataFrame(
        {
            "customer_id": lists["customer_id"].to_numpy(),
            "product_id": lists["product_id"].to_numpy(),
            "score": lists["recommended_to"].to_numpy(),
            "rank": lists.groupby("customer_id", sort=False).cumcount().to_numpy() + 1,
            "reason": COLD_START,
            "source": "segment",
        }
    )
