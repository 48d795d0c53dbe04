"""Purchase histories drawn from the BG/NBD and Gamma-Gamma models themselves: data with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _purchase_times(
    rng: np.random.Generator, r: float, alpha: float, a: float, b: float, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeat purchases of BG/NBD customers up to ``end`` (days after each one's first purchase at 0).

    Each customer buys at rate lambda ~ Gamma(r, 1/alpha) and, after each repeat purchase, drops out for good
    with probability p ~ Beta(a, b) (Fader, Hardie and Lee 2005). Returns (customer, time) of every repeat
    purchase, and each customer's dropout time (inf while still active at ``end``).
    """
    n = len(end)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    t = np.zeros(n)
    dropout = np.full(n, np.inf)
    who: list[np.ndarray] = []
    when: list[np.ndarray] = []
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        done = t[idx] > end[idx]
        active[idx[done]] = False
        idx = idx[~done]
        who.append(idx)
        when.append(t[idx].copy())
        drops = idx[rng.random(len(idx)) < p[idx]]
        dropout[drops] = t[drops]
        active[drops] = False
    return np.concatenate(who), np.concatenate(when), dropout


def simulate_bgnbd(
    n_customers: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | np.ndarray,
    future_days: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """frequency, recency and T of ``n_customers`` drawn from the BG/NBD model, with the truth beyond them:
    ``alive`` (not dropped out by T) and ``future`` (purchases in (T, T + future_days])."""
    rng = np.random.default_rng(seed)
    horizon = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    who, when, dropout = _purchase_times(rng, r, alpha, a, b, horizon + future_days)
    seen = when <= horizon[who]
    frequency = np.bincount(who[seen], minlength=n_customers)
    recency = np.zeros(n_customers)
    np.maximum.at(recency, who[seen], when[seen])
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": horizon,
            "alive": dropout > horizon,
            "future": np.bincount(who[~seen], minlength=n_customers),
        },
        index=pd.RangeIndex(n_customers, name="customer_id"),
    )


def simulate_spend(frequency: np.ndarray, p: float, q: float, v: float, seed: int = 0) -> np.ndarray:
    """Mean value of each customer's ``frequency`` repeat orders under Gamma-Gamma (0 where frequency is 0).

    Each customer has nu ~ Gamma(q, 1/v) and orders ~ Gamma(p, 1/nu), so a mean order value of p / nu.
    """
    rng = np.random.default_rng(seed)
    frequency = np.asarray(frequency, dtype=int)
    nu = rng.gamma(q, 1.0 / v, len(frequency))
    # the sum of x Gamma(p, 1/nu) orders is Gamma(p x, 1/nu)
    total = rng.gamma(np.maximum(p * frequency, 1e-12), 1.0 / nu)
    return np.where(frequency > 0, total / np.maximum(frequency, 1), 0.0)


def simulate_transactions(
    n_customers: int,
    start: str | pd.Timestamp,
    days: float,
    bgnbd: tuple[float, float, float, float] = (0.5, 20.0, 0.5, 2.5),
    spend: tuple[float, float, float] = (6.0, 4.0, 150.0),
    seed: int = 0,
) -> pd.DataFrame:
    """Clean transactions (one line per order, every canonical column) of BG/NBD + Gamma-Gamma customers.

    Customers make their first purchase uniformly in the first half of [start, start + days); ``bgnbd`` is
    (r, alpha, a, b) with alpha in days, ``spend`` is Gamma-Gamma's (p, q, v). Ids are zero-padded (``000042``).
    """
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0.0, days / 2, n_customers)
    who, when, _ = _purchase_times(rng, *bgnbd, days - birth)
    who = np.concatenate([np.arange(n_customers), who])
    when = np.concatenate([np.zeros(n_customers), when]) + birth[who]
    p, q, v = spend
    nu = rng.gamma(q, 1.0 / v, n_customers)
    amount = np.round(rng.gamma(p, 1.0 / nu[who]), 2) + 0.01
    n = len(who)
    return pd.DataFrame(
        {
            "customer_id": [f"{c:06d}" for c in who],
            "order_id": [f"SO{i:07d}" for i in range(n)],
            "ts": pd.Timestamp(start) + pd.to_timedelta(when, unit="D").round("s"),
            "product_id": rng.choice([f"P{k}" for k in range(20)], n),
            "quantity": 1.0,
            "unit_price": amount,
            "amount": amount,
            "description": None,
            "category": rng.choice(["home", "garden", "toys"], n),
            "country": rng.choice(["UK", "FR"], n),
            "channel": None,
            "email": None,
            "is_return": False,
        }
    ).sort_values("ts", kind="stable", ignore_index=True)
