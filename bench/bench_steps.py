"""Benchmark: how long each long step of the workflow takes on one file, as the app runs it (the priors of
:mod:`segmentation.timing`, the "about 40 s" the app says before a step starts on a machine with no runs yet).

    .venv/bin/python bench/bench_steps.py [FILE] [--skip gru]

Runs the steps in the order an analyst meets them (load, customer features, default k, segmentation, stability,
the five-method comparison, both surrogates with SHAP, lifetime value, churn and its reasons, ALS, TIFU-KNN and GRU
recommenders) in one process with ``OMP_NUM_THREADS=1`` like the app, each timed once by the workflow itself, into a fresh
timings file. Prints each step's seconds and the lines of ``segmentation.timing.PRIORS``. The figures depend on
the machine's load: the app replaces them with its own runs as soon as it has any.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import ONLINE_RETAIL, OUT, machine_facts, save_figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ONLINE_RETAIL))
    parser.add_argument("--skip", default="", help="comma-separated steps to leave out, e.g. gru,comparison")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    os.environ["SEGMENT_TIMINGS"] = str(Path(tempfile.mkdtemp()) / "timings.json")

    import pandas as pd

    from segmentation.clustering import DEFAULT_FEATURES, METHODS
    from segmentation.config import ClusteringConfig, Config, FeatureConfig
    from segmentation.timing import timings
    from segmentation.workflow import Analysis

    analysis = Analysis(args.file, Config())
    features, chosen = FeatureConfig(), tuple(DEFAULT_FEATURES)
    analysis.load()
    analysis.customers(features)
    k = analysis.k_selection(chosen, features, 10).recommended
    kmeans = ClusteringConfig("kmeans", {"n_clusters": k}, chosen)
    analysis.segmentation(kmeans, features)
    steps = {
        "stability": lambda: analysis.stability(kmeans, features, 5),
        "comparison": lambda: analysis.comparison(
            {m: ClusteringConfig(m, {"n_clusters": k} if m != "hdbscan" else {}, chosen) for m in METHODS}, features
        ),
        "explanation:lightgbm": lambda: analysis.explanation("lightgbm", kmeans, features),
        "explanation:catboost": lambda: analysis.explanation("catboost", kmeans, features),
        "customer_value": lambda: analysis.customer_value(analysis.default_as_of()),
        "churn": lambda: analysis.churn(analysis.default_as_of()),
        "scored_value": lambda: analysis.scored_value(analysis.default_as_of()),
        "recommender:als": lambda: analysis.recommender("als"),
        "recommender:tifu_knn": lambda: analysis.recommender("tifu_knn"),
        "recommender:ease": lambda: analysis.recommender("ease"),
        "recommender:gru": lambda: analysis.recommender("gru"),
    }
    for name, run in steps.items():
        if name.split(":")[-1] not in skip and name not in skip:
            run()
    recorded = timings().runs()
    rows = analysis.size("k_selection")
    table = pd.DataFrame(
        [(step, size, seconds) for step, runs in recorded.items() for size, seconds in runs],
        columns=["step", "size", "seconds"],
    )
    print(table.to_string(index=False))
    print(f"\nREFERENCE_ROWS = {rows}")
    for step, _, seconds in table.itertuples(index=False):
        if step != "load":
            print(f'    "{step}": (REFERENCE_ROWS, {seconds:.1f}),')
    facts = machine_facts(["duckdb", "lightgbm", "catboost", "torch", "implicit"], {"OMP_NUM_THREADS": "1"})
    save_figures(OUT / "steps.json", {"machine": facts, "file": args.file, "steps": table.to_dict("records")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
