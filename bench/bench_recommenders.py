"""Benchmark: every recommender on the UCI Online Retail file, temporal hold-out, 3 seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_recommenders.py [--cutoff 2011-09-01]

Training is every order before the cutoff; the test is what each customer bought from the cutoff on, ranked
against the full catalogue. Prints one row per model (mean over seeds for the stochastic models), then the
churn AUROC of the GRU with a churn head (no order in the --churn-days after the cutoff) against recency.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd

from recommenders.evaluate import churn_evaluation, evaluate_models, standard_models
from recommenders.sequence.model import SequenceRecommender
from segmentation.pipeline import load_transactions

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.gz"
COLUMNS = [
    "hr@10",
    "ndcg@10",
    "ndcg@10 std",
    "recall@20",
    "map@10",
    "ndcg@10 repeat",
    "ndcg@10 new",
    "coverage@10",
    "train_s",
    "runs",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ONLINE_RETAIL)
    parser.add_argument("--cutoff", default="2011-09-01")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--churn-days", type=float, default=90.0)
    args = parser.parse_args()
    transactions = load_transactions(args.data).transactions
    models = standard_models()
    start = time.perf_counter()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    results = evaluate_models(transactions, args.cutoff, models, seeds=seeds)
    with pd.option_context("display.width", 200):
        print(results[COLUMNS].round(4).to_string())
    print(f"total {time.perf_counter() - start:.1f} s; cutoff {args.cutoff}; seeds {seeds}")
    start = time.perf_counter()
    churn_model = {"gru + churn head": SequenceRecommender("gru", churn_days=args.churn_days)}
    churn = churn_evaluation(transactions, args.cutoff, args.churn_days, churn_model, seeds=seeds)
    print(churn.round(4).to_string())
    print(f"churn: {time.perf_counter() - start:.1f} s; no order in the {args.churn_days:g} days from the cutoff")


if __name__ == "__main__":
    main()
