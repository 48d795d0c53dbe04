"""Benchmark: the sequence model on growing synthetic catalogues (sampled softmax), against popularity.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_catalogue.py
        [--products 3000,20000,100000] [--customers 3000] [--co-purchase 0.3] [--epochs 10] [--full-softmax 20000]

For each catalogue size, a clean synthetic file (``SyntheticSpec(n_customers, n_products, co_purchase=...)``:
the planted collections give the large catalogue co-purchase structure) is written, read through the normal
cleaning, split at ``--cutoff`` (two thirds of the way in) and evaluated: popularity, item-kNN and the GRU with
its default softmax (``negatives=2048``: sampled above 4,096 products, exact below), without and with its explore
head; with ``--full-softmax N,...`` also the GRU with the exact softmax over the whole catalogue at those sizes. Prints per model: seconds to fit, wall and CPU seconds per epoch (CPU
time of this process, batch preparation included: less sensitive to a loaded machine than the wall clock),
all-items and cross-sell NDCG@10. The table goes to bench/out/catalogue.csv.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd
from common import OUT

from recommenders.baselines import ItemKNNRecommender, PopularityRecommender
from recommenders.evaluate import EvaluationSplit, evaluate
from recommenders.sequence.model import SequenceRecommender
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", default="3000,20000,100000")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--co-purchase", type=float, default=0.3)
    parser.add_argument("--cutoff", default="2023-05-01", help="two thirds of the default 2022-2023 history")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full-softmax", default="", help="catalogue sizes at which the exact softmax runs too")
    args = parser.parse_args()
    full = {int(n) for n in filter(None, args.full_softmax.split(","))}
    rows = []
    for n_products in (int(n) for n in args.products.split(",")):
        split = _split(args.customers, n_products, args.co_purchase, args.cutoff)
        models = {"popularity": PopularityRecommender()}
        models["item-kNN"] = ItemKNNRecommender()
        models["gru"] = SequenceRecommender("gru", epochs=args.epochs, random_state=args.seed)
        models["gru, explore head"] = SequenceRecommender(
            "gru", epochs=args.epochs, explore_head_weight=1.0, random_state=args.seed
        )
        if n_products in full:
            models["gru, full softmax"] = SequenceRecommender(
                "gru", epochs=args.epochs, negatives=None, random_state=args.seed
            )
        for name, model in models.items():
            fitted: list[float] = []  # CPU time when the fit ends

            def mark(done: float, step: str, fitted: list[float] = fitted) -> None:
                if step == "fitted":
                    fitted.append(time.process_time())

            start, cpu = time.perf_counter(), time.process_time()
            result = evaluate(model, split, progress=mark)
            epochs = args.epochs if isinstance(model, SequenceRecommender) else 1
            rows.append(
                {
                    "products": n_products,
                    "customers": split.interactions.n_customers,
                    "scored": len(split.rows),
                    "model": name,
                    "train_s": result["train_s"],
                    "epoch_s": result["train_s"] / epochs,
                    "epoch_cpu_s": (fitted[0] - cpu) / epochs,
                    "total_s": time.perf_counter() - start,
                    "ndcg@10": result["ndcg@10"],
                    "cross-sell ndcg@10": result["cross-sell ndcg@10"],
                }
            )
            print(pd.DataFrame(rows[-1:]).round(4).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    table.to_csv(OUT / "catalogue.csv", index=False)
    print(table.round(4).to_string(index=False))


def _split(customers: int, products: int, co_purchase: float, cutoff: str) -> EvaluationSplit:
    """Write the synthetic file, clean it as an upload would be and split it at ``cutoff``."""
    spec = SyntheticSpec(n_customers=customers, n_products=products, co_purchase=co_purchase, dirty=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"catalogue_{products}.csv.gz"
        start = time.perf_counter()
        lines = write_sample(path, spec)
        transactions = load_transactions(path).transactions
    split = EvaluationSplit.from_transactions(transactions, cutoff)
    print(
        f"{products:,} products: {lines:,} lines, {split.interactions.n_items:,} products bought before the cutoff, "
        f"{len(split.rows):,} customers scored ({time.perf_counter() - start:.1f} s to write, read and split)",
        flush=True,
    )
    return split


if __name__ == "__main__":
    main()
