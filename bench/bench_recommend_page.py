"""Benchmark: the Recommend page's two long steps on one file, exactly as the page calls them.

    .venv/bin/python bench/bench_recommend_page.py [FILE]

The churn risk (the workflow's ``churn`` step at the Value page's defaults: the day after the data, 90 days) and
the quick evaluation (``evaluate.quick_models()``, one seed, at the page's default cutoff 90 days before the last
purchase), each timed on its own after the file is loaded; ``OMP_NUM_THREADS=1`` as in the tests. Prints the
seconds and the evaluation's headline columns.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import ONLINE_RETAIL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ONLINE_RETAIL))
    args = parser.parse_args()

    import pandas as pd

    from recommenders.evaluate import evaluate_models, quick_models
    from segmentation.config import Config
    from segmentation.workflow import Analysis

    workflow = Analysis(args.file, Config())
    started = time.perf_counter()
    transactions = workflow.load().transactions
    print(f"load: {time.perf_counter() - started:.1f} s, {len(transactions):,} clean rows")

    as_of = workflow.default_as_of()
    started = time.perf_counter()
    model, data = workflow.churn(as_of, 90)
    risk = model.predict_proba(data.features)[:, 1]
    print(f"churn risk as of {as_of}, 90 days: {time.perf_counter() - started:.1f} s, {len(risk):,} customers")

    cutoff = pd.Timestamp(workflow.interactions().end).date() - timedelta(days=90)
    started = time.perf_counter()
    table = evaluate_models(transactions, cutoff.isoformat(), quick_models(), seeds=(0,))
    print(f"quick evaluation at {cutoff}: {time.perf_counter() - started:.1f} s, {len(table)} models")
    print(table[["ndcg@10", "cross-sell ndcg@10", "train_s"]].round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
