"""Tensors for the next-basket model, cut from a customer's order steps.

A customer's *window* is their last ``length`` order steps, right-padded with -1. Right padding keeps the
encoders simple: both are causal, so a real position never sees a padded one. Positions are numbered
``customer * length + step``. Repeat features and targets are made with sparse matrix products and kept over
each customer's own products only: a dense (positions x products) array would cost more than the network
itself and grow with the catalogue (a 100,000-product catalogue made one batch 800 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from recommenders.data import Interactions

CHURN_DRAWS = 4
"""Churn questions per step, each at its own moment."""
CATEGORY_DRAWS = 2
"""Category questions per step, each at its own moment."""


@dataclass
class PairList:
    """Sparse (position, product) entries: repeat feature values and latest-step flags."""

    position: torch.Tensor
    item: torch.Tensor
    value: torch.Tensor
    flag: torch.Tensor


@dataclass
class OwnProducts:
    """A training batch's customers' own products, dense: ``item`` (customers, width), each customer's products
    padded with product 0 where ``mask`` is False; per query (in the order of ``Batch.query``) its ``customer``
    and, over that customer's columns, the repeat feature ``value`` and ``flag`` (0 for products not bought
    so far) and the target ``weight``: 1/|next step| for the next step's products, else 0."""

    item: torch.Tensor
    mask: torch.Tensor
    customer: torch.Tensor
    value: torch.Tensor
    flag: torch.Tensor
    weight: torch.Tensor


@dataclass
class Batch:
    """What one forward pass needs.

    Scoring: ``repeat``, per (customer, product bought so far), log(1 + steps that contained the product) and
    whether the latest step contains it. Training: ``query``, the positions (of the window without its latest
    step, flattened) that have a next step, in order, and ``own``, the repeat features and targets of each
    query over its customer's products (counts over the whole history up to the query's step, not only the
    window). ``churn`` and ``category`` (training with those heads only): see :func:`churn_samples` and
    :func:`category_samples`.
    """

    baskets: torch.Tensor
    shape: tuple[int, int]
    lengths: torch.Tensor
    repeat: PairList | None = None
    query: torch.Tensor | None = None
    query_age: torch.Tensor | None = None
    """Training: days from each query's next step to the last purchase of the data."""
    own: OwnProducts | None = None
    churn: ChurnSamples | None = None
    category: ChurnSamples | None = None


@dataclass
class ChurnSamples:
    """Positions (of the full window) whose label is known, the days elapsed since their step at which the
    question is asked, and the label: for churn 1 when no order follows within the horizon from then; for
    categories one column per category, 1 when the customer buys from it within the horizon from then."""

    position: torch.Tensor
    elapsed_days: torch.Tensor
    label: torch.Tensor


def windows(interactions: Interactions, rows: np.ndarray, length: int) -> np.ndarray:
    """(len(rows), length) step indices: each customer's last ``length`` steps, oldest first, -1 after them."""
    end = interactions.step_ptr[rows + 1]
    start = np.maximum(interactions.step_ptr[rows], end - length)
    index = start[:, None] + np.arange(length)
    return np.where(index < end[:, None], index, -1)


def basket_means(steps: sp.csr_matrix, window: np.ndarray, device: torch.device) -> torch.Tensor:
    """Sparse (positions, products): each step's products weighted 1/|step|, so multiplying by the item
    embeddings gives the step's mean embedding (a padded step stays an empty row)."""
    flat = window.ravel()
    valid = np.flatnonzero(flat >= 0)
    picked = steps[flat[valid]].tocoo()
    size = np.asarray(picked.sum(axis=1)).ravel()
    index = torch.from_numpy(np.vstack([valid[picked.row], picked.col]).astype(np.int64))
    values = torch.from_numpy((1.0 / size[picked.row]).astype(np.float32))
    shape = (flat.size, steps.shape[1])
    return torch.sparse_coo_tensor(index, values, shape, device=device, check_invariants=False).coalesce()


def _selector(row: np.ndarray, col: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 0/1 sparse matrix with ones at (row, col): multiplying it with a matrix sums the chosen rows."""
    return sp.csr_matrix((np.ones(len(row), np.float32), (row, col)), shape=shape)


def _pairs(counts: sp.csr_matrix, flags: sp.csr_matrix, device: torch.device) -> PairList:
    """Repeat features from sparse (customers, products) counts and latest-step flags (a subset of the counts'
    entries): both read from one matrix ``2 * counts + flags``, so no dense (customers x products) array is made."""
    both = (2 * counts + flags).tocoo()
    value = np.rint(both.data).astype(np.int64)
    return PairList(
        torch.from_numpy(both.row.astype(np.int64)).to(device),
        torch.from_numpy(both.col.astype(np.int64)).to(device),
        torch.from_numpy(np.log1p(value // 2).astype(np.float32)).to(device),
        torch.from_numpy((value % 2).astype(np.float32)).to(device),
    )


def own_products(
    history: sp.csr_matrix,
    customer: np.ndarray,
    counts: sp.csr_matrix,
    flags: sp.csr_matrix,
    following: sp.csr_matrix,
    device: torch.device,
) -> OwnProducts:
    """:class:`OwnProducts` from each customer's whole ``history`` (customers, products) and the sparse
    (queries, products) repeat counts, latest-step flags and next-step products of queries of ``customer``."""
    history = history.tocsr()
    history.sort_indices()
    n_items = history.shape[1]
    owner = np.repeat(np.arange(history.shape[0]), np.diff(history.indptr))
    slot = np.arange(history.nnz) - history.indptr[owner]
    width = max(int(np.diff(history.indptr).max(initial=0)), 1)
    item = np.zeros((history.shape[0], width), np.int64)
    mask = np.zeros((history.shape[0], width), bool)
    item[owner, slot], mask[owner, slot] = history.indices, True
    keys = owner * n_items + history.indices

    def columns(matrix: sp.csr_matrix) -> np.ndarray:
        coo = matrix.tocoo()
        who = customer[coo.row]
        out = np.zeros((len(customer), width), np.float32)
        out[coo.row, np.searchsorted(keys, who * n_items + coo.col) - history.indptr[who]] = coo.data
        return out

    target = columns(following)
    target /= np.maximum(target.sum(axis=1, keepdims=True), 1.0)
    return OwnProducts(
        *(torch.from_numpy(a).to(device) for a in (item, mask, customer.astype(np.int64))),
        *(torch.from_numpy(a).to(device) for a in (np.log1p(columns(counts)), columns(flags), target)),
    )


def churn_samples(
    interactions: Interactions, window: np.ndarray, horizon_days: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Churn questions about the steps of ``window`` (which ends at each customer's latest step).

    For a step at time t, the question is asked ``e`` days later (``CHURN_DRAWS`` times), with ``e`` drawn uniformly from the days the
    customer is known not to have ordered yet (before the next step, at most a year): "no order in
    [t + e, t + e + horizon)?" The label is known when the next order is observed (1 if it comes after that
    interval, 0 if inside it) or when the data covers the whole interval after the latest step (1).
    Returns flat positions, elapsed days and labels.
    """
    flat = window.ravel()
    following = np.full_like(window, -1)
    following[:, :-1] = window[:, 1:]
    following = following.ravel()
    valid = flat >= 0
    day = np.timedelta64(1, "D")
    position = np.flatnonzero(valid)
    start = interactions.step_time[flat[position]]
    has_next = following[position] >= 0
    gap = np.where(has_next, (interactions.step_time[np.maximum(following[position], 0)] - start) / day, np.inf)
    observed = (interactions.end.to_datetime64() - start) / day
    # latest steps: only moments whose whole horizon lies in the data; the others: any moment before the next order
    room = np.where(has_next, gap, observed - horizon_days)
    room = np.minimum(room, 365.0)
    keep = np.repeat(np.flatnonzero(room > 0), CHURN_DRAWS)
    elapsed = rng.uniform(0.0, 1.0, len(keep)) * room[keep]
    label = np.where(has_next[keep], gap[keep] > elapsed + horizon_days, True)
    return position[keep], elapsed.astype(np.float32), label.astype(np.float32)


def category_samples(
    interactions: Interactions,
    window: np.ndarray,
    horizon_days: float,
    step_categories: sp.csr_matrix,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category questions about the steps of ``window`` (which ends at each customer's latest step).

    For a step at time t, the question is asked ``e`` days later (``CATEGORY_DRAWS`` times), ``e`` drawn
    uniformly from the days before the next step (at most a year) whose horizon the data covers: "which
    categories will they buy from in [t + e, t + e + horizon)?" The answer is the categories
    (``step_categories``: order steps x categories, binary) of the customer's later steps inside that interval.
    Returns flat positions, elapsed days and (questions, categories) labels.
    """
    day = np.timedelta64(1, "D")
    length = window.shape[1]
    flat = window.ravel()
    position = np.flatnonzero(flat >= 0)
    start = interactions.step_time[flat[position]]
    customer, step = position // length, position % length
    later = np.where(np.arange(length)[None, :] > step[:, None], window[customer], -1)
    following = later[np.arange(len(later)), np.minimum(step + 1, length - 1)]
    gap = np.where(following >= 0, (interactions.step_time[np.maximum(following, 0)] - start) / day, np.inf)
    covered = (interactions.end.to_datetime64() - start) / day - horizon_days
    room = np.minimum(np.minimum(gap, covered), 365.0)
    keep = np.repeat(np.flatnonzero(room > 0), CATEGORY_DRAWS)
    elapsed = rng.uniform(0.0, 1.0, len(keep)) * room[keep]
    until = start[keep] + ((elapsed + horizon_days) * 86_400).astype("timedelta64[s]")
    ahead = later[keep]
    inside = (ahead >= 0) & (interactions.step_time[np.maximum(ahead, 0)] < until[:, None])
    question, slot = np.nonzero(inside)
    picked = _selector(question, ahead[question, slot], (len(keep), step_categories.shape[0])) @ step_categories
    return position[keep], elapsed.astype(np.float32), (picked.toarray() > 0).astype(np.float32)


def training_batch(
    interactions: Interactions,
    rows: np.ndarray,
    max_len: int,
    device: torch.device,
    churn_horizon: float | None = None,
    rng: np.random.Generator | None = None,
    category_horizon: float | None = None,
    step_categories: sp.csr_matrix | None = None,
) -> Batch:
    """Every position of each customer's last ``max_len + 1`` steps that has a step after it is a query that
    predicts that step; with a ``churn_horizon`` (days), every position also gets a churn question
    (:func:`churn_samples`), with a ``category_horizon`` category questions (:func:`category_samples`). Built from sparse matrices only: its cost grows with the products the customers
    bought, not with the catalogue."""
    steps = interactions.steps
    n_steps = steps.shape[0]
    length = int(min(interactions.n_orders[rows].max(), max_len + 1))
    window = windows(interactions, rows, length)
    customer, step = np.nonzero(window[:, 1:] >= 0)  # queries: (customer, step) with a next step, in position order
    n_queries = len(customer)
    query = customer * (length - 1) + step
    # repeat counts of a query: the customer's orders before the window plus the window's steps up to the query
    in_window = np.nonzero(window >= 0)
    before = interactions.orders[rows] - _selector(in_window[0], window[in_window], (len(rows), n_steps)) @ steps
    upto_q, upto_k = np.nonzero(np.arange(length)[None, :] <= step[:, None])
    upto_step = window[customer[upto_q], upto_k]
    upto = _selector(upto_q, upto_step, (n_queries, n_steps)) @ steps
    counts = _selector(np.arange(n_queries), customer, (n_queries, len(rows))) @ before + upto
    counts.eliminate_zeros()
    own = _selector(np.arange(n_queries), window[customer, step], (n_queries, n_steps)) @ steps
    following = _selector(np.arange(n_queries), window[customer, step + 1], (n_queries, n_steps)) @ steps
    churn = None
    if churn_horizon is not None:
        samples = churn_samples(interactions, window, churn_horizon, rng or np.random.default_rng())
        churn = ChurnSamples(*(torch.from_numpy(a).to(device) for a in samples))
    category = None
    if category_horizon is not None:
        samples = category_samples(
            interactions, window, category_horizon, step_categories, rng or np.random.default_rng()
        )
        category = ChurnSamples(*(torch.from_numpy(a).to(device) for a in samples))
    return Batch(
        baskets=basket_means(steps, window, device),
        shape=(len(rows), length),
        lengths=torch.from_numpy((window >= 0).sum(axis=1)).to(device),
        query=torch.from_numpy(query.astype(np.int64)).to(device),
        query_age=torch.from_numpy(interactions.step_age_days[window[customer, step + 1]].astype(np.float32)).to(
            device
        ),
        own=own_products(interactions.orders[rows], customer, counts, own, following, device),
        churn=churn,
        category=category,
    )


def scoring_batch(interactions: Interactions, rows: np.ndarray, max_len: int, device: torch.device) -> Batch:
    """The last ``max_len`` steps of each customer; repeat features as of their latest step (position = the
    customer's index in ``rows``)."""
    window = windows(interactions, rows, int(min(interactions.n_orders[rows].max(), max_len)))
    lengths = (window >= 0).sum(axis=1)
    latest = window[np.arange(len(rows)), lengths - 1]
    return Batch(
        baskets=basket_means(interactions.steps, window, device),
        shape=window.shape,
        lengths=torch.from_numpy(lengths).to(device),
        repeat=_pairs(interactions.orders[rows], interactions.steps[latest], device),
    )
