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
    """

    baskets: torch.Tensor
    shape: tuple[int, int]
    lengths: torch.Tensor
    repeat: PairList
    target: PairList | None = None


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


def training_batch(interactions: Interactions, rows: np.ndarray, max_len: int, device: torch.device) -> Batch:
    """Every position of each customer's last ``max_len + 1`` steps predicts the step after it."""
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
    return Batch(
        baskets=basket_means(interactions.steps, window[:, :-1], device),
        shape=(len(rows), length - 1),
        lengths=torch.from_numpy((window[:, :-1] >= 0).sum(axis=1)).to(device),
        repeat=_pairs(counts.reshape(-1, n_products), inputs.reshape(-1, n_products), device),
        target=PairList(
            torch.from_numpy(position).to(device),
            torch.from_numpy(item).to(device),
            torch.from_numpy((1.0 / size[position]).astype(np.float32)).to(device),
        ),
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
