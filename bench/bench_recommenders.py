"""Benchmark: every recommender on the UCI Online Retail file, temporal hold-out, 3 seeds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_recommenders.py [--cutoff 2011-09-01]

Training is every order before the cutoff; the test is what each customer bought from the cutoff on, ranked
against the full catalogue. Prints one row per model (mean over seeds for the stochastic models), then the
churn AUROC of the GRU with a churn head (no order in the --churn-days after the cutoff) against recency, then
the time of the lists the app makes from all the data: every segment's list (RFM segments, buy-again) and every
customer's top 3.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd
from common import ONLINE_RETAIL

from recommenders.baselines import BuyAgainRecommender
from recommenders.data import Interactions
from recommenders.evaluate import churn_evaluation, evaluate_models, standard_models
from recommenders.segments import customer_top_products, segment_top_products
from recommenders.sequence.model import SequenceRecommender
from segmentation.features import compute_features, rfm_table
from segmentation.pipeline import load_transactions

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
    time_lists(transactions)


def time_lists(transactions) -> None:
    """Seconds for the Recommend page's segment lists and the Export page's top 3 per customer."""
    segments = rfm_table(compute_features(transactions))["rfm_segment"]
    interactions = Interactions.from_transactions(transactions)
    model = BuyAgainRecommender().fit(interactions)
    start = time.perf_counter()
    lists = segment_top_products(model, segments, n=40)
    middle = time.perf_counter()
    customer_top_products(model, segments.index, segments, 3, segment_lists=lists)
    end = time.perf_counter()
    print(
        f"lists ({interactions.n_customers:,} customers, {interactions.n_items:,} products, "
        f"{segments.nunique()} RFM segments, buy-again): segments {middle - start:.2f} s, "
        f"every customer's top 3 {end - middle:.2f} s"
    )


if __name__ == "__main__":
    main()
