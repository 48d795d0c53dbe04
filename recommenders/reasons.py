"""Short, data-backed reasons shown next to a recommendation."""

from __future__ import annotations

import numpy as np

from recommenders.data import Interactions

BOUGHT_AGAIN = "bought again"
NO_HISTORY = "popular overall (no purchase history)"


def explain(interactions: Interactions, rows: np.ndarray, items: np.ndarray, default: str) -> np.ndarray:
    """One reason per (customer row, item column) pair, the first that holds.

    1. "bought again": the customer has bought the product before;
    2. "bought together with X": X, one of the customer's products, goes together with it
       (:attr:`Interactions.associations`; the X with the highest lift);
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
    partner = _best_partner(interactions, r, i)
    names = interactions.descriptions.to_numpy()
    out = reasons[known]
    together = partner >= 0
    out[together] = [f"bought together with {names[p] or interactions.items[p]}" for p in partner[together]]
    out[bought] = BOUGHT_AGAIN
    reasons[known] = out
    return reasons


def _best_partner(interactions: Interactions, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Per (customer row, item) pair, the customer's product that goes best with the item, or -1 for none."""
    lift = interactions.associations[items].multiply(interactions.bought[rows]).tocsr()
    best = np.asarray(lift.argmax(axis=1)).ravel()
    return np.where(np.diff(lift.indptr) > 0, best, -1)
