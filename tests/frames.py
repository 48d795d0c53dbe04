"""Small clean canonical transaction frames that several test modules build features from."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

AS_OF = date(2024, 1, 1)


def random_transactions(seed: int = 0, n_customers: int = 60) -> pd.DataFrame:
    """Clean canonical transactions: orders of 1-4 lines, some returns, two countries, a category."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for o in range(rng.integers(1, 8)):
            ts = pd.Timestamp("2023-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 420 * 24 * 60)))
            for _ in range(rng.integers(1, 5)):
                qty = int(rng.integers(1, 10))
                price = float(rng.choice([1.25, 2.5, 9.99]))
                rows.append(
                    (
                        f"c{c:03d}",
                        f"o{c}-{o}",
                        ts,
                        f"p{rng.integers(0, 12)}",
                        qty,
                        price,
                        False,
                        f"cat{rng.integers(0, 3)}",
                        rng.choice(["UK", "FR"], p=[0.7, 0.3]),
                    )
                )
            if rng.random() < 0.2:
                rows.append(
                    (
                        f"c{c:03d}",
                        f"Co{c}-{o}",
                        ts + pd.Timedelta(days=3),
                        rows[-1][3],
                        -1,
                        rows[-1][5],
                        True,
                        rows[-1][7],
                        rows[-1][8],
                    )
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "order_id",
            "ts",
            "product_id",
            "quantity",
            "unit_price",
            "is_return",
            "category",
            "country",
        ],
    )
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    frame["channel"] = None
    return frame


def basket_lines(baskets: dict[str, list[list[str]]]) -> pd.DataFrame:
    """Purchase lines of each customer's baskets (lists of products), one day apart, oldest first: one unit at 1.0
    each, the product id upper-cased as its description."""
    lines = [
        (customer, f"{customer}-{day}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=day), product)
        for customer, history in baskets.items()
        for day, basket in enumerate(history)
        for product in basket
    ]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "ts", "product_id"])
    return tx.assign(quantity=1, amount=1.0, description=tx["product_id"].str.upper(), is_return=False)


def random_baskets(customers: int, products: int, orders: int, seed: int, size: int = 3) -> dict[str, list[list[str]]]:
    """``orders`` baskets of ``size`` distinct products drawn uniformly from ``products`` for each of ``customers``
    customers (``c0``..., ``p0``...), for :func:`basket_lines`."""
    rng = np.random.default_rng(seed)
    catalogue = [f"p{j}" for j in range(products)]
    return {
        f"c{i}": [list(rng.choice(catalogue, size, replace=False)) for _ in range(orders)] for i in range(customers)
    }
