"""Tensors for the next-basket model, cut from a customer's order steps.

A customer's *window* is their last ``length`` order steps, right-padded with -1. Right padding keeps the
encoders simple: both are causal, so a real position never sees a padded one. Positions are numbered
``customer * length + step``. Repeat features and targets are sparse (position, product) lists: dense
(positions x products) tensors would cost more than the network itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from recommenders.data import Interactions

CHURN_DRAWS = 4
"""Churn questions per step, each at its own moment."""


@dataclass
class PairList:
    """Sparse (position, product) entries with one or two values each."""

    position: torch.Tensor
    item: torch.Tensor
    value: torch.Tensor
    flag: torch.Tensor | None = None


@dataclass
class Batch:
    """What one forward pass needs.

    ``repeat``: per (position, product bought so far), log(1 + steps up to the position that contained the
    product, over the whole history, not only the window) and whether the position's own step contains it.
    ``target`` (training only): the next step's products, each weighted 1/|next step|.
    ``churn`` (training with a churn horizon only): see :func:`churn_samples`.
    """

    baskets: torch.Tensor
    shape: tuple[int, int]
    lengths: torch.Tensor
    repeat: PairList
    target: PairList | None = None
    churn: ChurnSamples | None = None


@dataclass
class ChurnSamples:
    """Positions (of the full window) whose churn label is known, the days elapsed since their step at which
    the question is asked, and the label: 1 when no order follows within the horizon from then."""

    position: torch.Tensor
    elapsed_days: torch.Tensor
    label: torch.Tensor


def windows(interactions: Interactions, rows: np.ndarray, length: int) -> np.ndarray:
    """(len(rows), length) step indices: each customer's last ``length`` steps, oldest first, -1 after them."""
    end = interactions.step_ptr[rows + 1]
    start = np.maximum(interactions.step_ptr[rows], end - length)
    index = start[:, None] + np.arange(length)
    return np.where(index < end[:, None], index, -1)


def multi_hot(steps: sp.csr_matrix, window: np.ndarray) -> np.ndarray:
    """(customers, length, products) float32: the products of each step in the window, zeros for padding."""
    out = np.zeros((window.size, steps.shape[1]), dtype=np.float32)
    valid = window.ravel() >= 0
    out[valid] = steps[window.ravel()[valid]].toarray()
    return out.reshape(*window.shape, steps.shape[1])


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


def _pairs(counts: np.ndarray, flags: np.ndarray, device: torch.device) -> PairList:
    """Repeat features from dense (positions, products) counts and latest-step flags."""
    position, item = np.nonzero(counts)
    return PairList(
        torch.from_numpy(position).to(device),
        torch.from_numpy(item).to(device),
        torch.from_numpy(np.log1p(counts[position, item])).to(device),
        torch.from_numpy(flags[position, item]).to(device),
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


def training_batch(
    interactions: Interactions,
    rows: np.ndarray,
    max_len: int,
    device: torch.device,
    churn_horizon: float | None = None,
    rng: np.random.Generator | None = None,
) -> Batch:
    """Every position of each customer's last ``max_len + 1`` steps but the latest predicts the step after it;
    with a ``churn_horizon`` (days), every position also gets a churn question (:func:`churn_samples`)."""
    length = int(min(interactions.n_orders[rows].max(), max_len + 1))
    window = windows(interactions, rows, length)
    full = multi_hot(interactions.steps, window)
    before = interactions.orders[rows].toarray() - full.sum(axis=1)
    inputs, following = full[:, :-1], full[:, 1:]
    counts = before[:, None, :] + np.cumsum(inputs, axis=1)
    n_products = full.shape[2]
    nxt = following.reshape(-1, n_products)
    position, item = np.nonzero(nxt)
    size = nxt.sum(axis=1)
    churn = None
    if churn_horizon is not None:
        samples = churn_samples(interactions, window, churn_horizon, rng or np.random.default_rng())
        churn = ChurnSamples(*(torch.from_numpy(a).to(device) for a in samples))
    return Batch(
        baskets=basket_means(interactions.steps, window, device),
        shape=(len(rows), length),
        lengths=torch.from_numpy((window >= 0).sum(axis=1)).to(device),
        repeat=_pairs(counts.reshape(-1, n_products), inputs.reshape(-1, n_products), device),
        target=PairList(
            torch.from_numpy(position).to(device),
            torch.from_numpy(item).to(device),
            torch.from_numpy((1.0 / size[position]).astype(np.float32)).to(device),
        ),
        churn=churn,
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
        repeat=_pairs(interactions.orders[rows].toarray(), interactions.steps[latest].toarray(), device),
    )
