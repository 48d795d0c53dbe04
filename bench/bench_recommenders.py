"""Benchmark: every recommender on the UCI Online Retail file, temporal hold-out, three protocols, default and tuned.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_recommenders.py [--cutoff 2011-09-01]
        [--seeds 0,1,2] [--only gru,als] [--trials 20] [--trials-per gru=6,bpr=8] [--skip tuned,churn,lists]

Training is every order before the cutoff; the test is what each customer bought from the cutoff on, ranked
against the full catalogue: all items, cross-sell (past products left out, new products relevant) and next
basket (the first order after the cutoff, with its repeat/explore split). Prints the default table (mean over
seeds for the stochastic models), then the tuned one: each model tuned with optuna on the 90 days before the
cutoff (``--trials`` per model, ``--trials-per`` overrides), refitted on everything before it and tested once
per seed, with the chosen parameters and the tuning seconds. Then the churn AUROC of the GRU with a churn head
against recency, and the time of the lists the app makes from all the data. Tables go to bench/out/ as CSV.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd
from common import ONLINE_RETAIL, OUT

from recommenders.baselines import BuyAgainRecommender
from recommenders.data import Interactions
from recommenders.evaluate import churn_evaluation, evaluate_models, headline, standard_models
from recommenders.segments import customer_top_products, segment_top_products
from recommenders.sequence.model import SequenceRecommender
from recommenders.tuning import tuned_evaluation
from segmentation.features import compute_features, rfm_table
from segmentation.pipeline import load_transactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ONLINE_RETAIL)
    parser.add_argument("--cutoff", default="2011-09-01")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", help="comma-separated model names (default: all of standard_models())")
    parser.add_argument("--trials", type=int, default=20, help="optuna trials per model (default 20)")
    parser.add_argument("--trials-per", default="", help="per-model trials, e.g. gru=6,attention=4")
    parser.add_argument("--validation-days", type=float, default=90.0)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: default, tuned, churn, lists")
    parser.add_argument("--churn-days", type=float, default=90.0)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    transactions = load_transactions(args.data).transactions
    models = standard_models()
    if args.only:
        models = {name: models[name] for name in args.only.split(",")}
    seeds = tuple(int(s) for s in args.seeds.split(","))
    OUT.mkdir(exist_ok=True)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_colwidth", 200)
    if "default" not in skip:
        start = time.perf_counter()
        results = evaluate_models(transactions, args.cutoff, models, seeds=seeds, progress=_print_fits)
        print(headline(results).round(4).to_string())
        print(f"default parameters: {time.perf_counter() - start:.1f} s; cutoff {args.cutoff}; seeds {seeds}")
        results.to_csv(OUT / "recommenders_default.csv")
    if "tuned" not in skip:
        trials = {name: args.trials for name in models} | {
            name: int(n) for name, n in (pair.split("=") for pair in filter(None, args.trials_per.split(",")))
        }
        start = time.perf_counter()
        tuned, chosen = tuned_evaluation(
            transactions, args.cutoff, models, trials, args.validation_days, seeds, progress=_print_fits
        )
        print(headline(tuned).round(4).to_string())
        print(chosen.to_string(index=False))
        print(f"tuned: {time.perf_counter() - start:.1f} s; trials {trials}; validation {args.validation_days:g} days")
        tuned.to_csv(OUT / "recommenders_tuned.csv")
        chosen.to_csv(OUT / "recommenders_tuned_params.csv", index=False)
    if "churn" not in skip:
        start = time.perf_counter()
        churn_model = {"gru + churn head": SequenceRecommender("gru", churn_days=args.churn_days)}
        churn = churn_evaluation(transactions, args.cutoff, args.churn_days, churn_model, seeds=seeds)
        print(churn.round(4).to_string())
        print(f"churn: {time.perf_counter() - start:.1f} s; no order in the {args.churn_days:g} days from the cutoff")
    if "lists" not in skip:
        time_lists(transactions)


def _print_fits(done: float, step: str) -> None:
    """Progress on stdout for every fit's end (the per-epoch lines would swamp the tables)."""
    if step.endswith("fitted"):
        print(f"  [{done:4.0%}] {step}", flush=True)


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
