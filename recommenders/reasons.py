"""Short, data-backed reasons shown next to a recommendation."""

from __future__ import annotations

import numpy as np

from recommenders.data import Interactions

BOUGHT_AGAIN = "bought again"
NO_HISTORY = "popular overall (no purchase history)"
MIN_TOGETHER = 2
"""Order steps two products must share before one explains the other."""
MIN_LIFT = 2.0
"""...and how many times more often than chance (if orders were filled at random), so that popular products,
which share orders with nearly everything, are not said to go together."""


def explain(interactions: Interactions, rows: np.ndarray, items: np.ndarray, default: str) -> np.ndarray:
    """One reason per (customer row, item column) pair, the first that holds.

    1. "bought again": the customer has bought the product before;
    2. "bought together with X": X, one of the customer's products, shared at least ``MIN_TOGETHER`` order
       steps with it, at least ``MIN_LIFT`` times as many as chance would give (the X with the highest lift);
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
    in_steps = np.asarray(interactions.steps.sum(axis=0)).ravel()
    shared = interactions.together[items].multiply(interactions.bought[rows]).tocoo()
    expected = in_steps[items[shared.row]] * in_steps[shared.col] / max(interactions.steps.shape[0], 1)
    lift = shared.data / np.maximum(expected, 1e-12)
    ok = (shared.data >= MIN_TOGETHER) & (lift >= MIN_LIFT)
    pair, partner, lift = shared.row[ok], shared.col[ok], lift[ok]
    order = np.lexsort((-lift, pair))
    first = np.unique(pair[order], return_index=True)[1]
    best = np.full(len(rows), -1)
    best[pair[order][first]] = partner[order][first]
    return best
