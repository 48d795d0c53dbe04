"""Short, data-backed reasons shown next to a recommendation."""

from __future__ import annotations

import numpy as np

from recommenders.data import Interactions

BOUGHT_AGAIN = "bought again"
NO_HISTORY = "popular overall (no purchase history)"
MIN_TOGETHER = 2
"""Order steps two products must share before one explains the other."""


def explain(interactions: Interactions, rows: np.ndarray, items: np.ndarray, default: str) -> np.ndarray:
    """One reason per (customer row, item column) pair, the first that holds.

    1. "bought again": the customer has bought the product before;
    2. "bought together with X": X, one of the customer's products, shared at least ``MIN_TOGETHER`` orders
       with it (the X that shared the most);
    3. ``default``: the model's own reason (e.g. "popular in your segment").

    A row of -1 (a customer without purchases) always gets "popular overall (no purchase history)".
    """
    reasons = np.full(len(rows), default, dtype=object)
    known = rows >= 0
    reasons[~known] = NO_HISTORY
    if not known.any():
        return reasons
    r, i = rows[known], items[known]
    bought = np.asarray(interactions.bought[r, i]).ravel() > 0
    shared = interactions.together[i].multiply(interactions.bought[r]).tocsr()
    partner = np.asarray(shared.argmax(axis=1)).ravel()
    strength = np.asarray(shared.max(axis=1).todense()).ravel()
    names = interactions.descriptions.to_numpy()
    together = np.array([f"bought together with {names[p] or interactions.items[p]}" for p in partner], dtype=object)
    out = np.where(bought, BOUGHT_AGAIN, np.where(strength >= MIN_TOGETHER, together, reasons[known]))
    reasons[known] = out
    return reasons
