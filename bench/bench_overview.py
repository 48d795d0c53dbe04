"""Benchmark: the Data page's overview and the default k on Online Retail, in one process.

    .venv/bin/python bench/bench_overview.py [--repeat 3]

Times, median of ``--repeat`` runs after loading the file once: ``overview`` (KPIs, revenue by month with partial
months, top products and countries: what the Data page computes after loading), ``choose_k`` on the default
features (the Segments page's and ``segment cluster``'s default k) and the currency detection on the price texts
the reader samples. Prints the recommended k and its reason. Target: the overview under 3 s, so the Data page is
interactive within 3 s once the file is loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import ONLINE_RETAIL, OUT, machine_facts, save_figures

TARGET_OVERVIEW_S = 3.0


def median_seconds(run, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from segmentation.clustering import FeaturePreprocessor, choose_k
    from segmentation.features import compute_features
    from segmentation.ingest.currency import currency_in_text
    from segmentation.overview import overview
    from segmentation.pipeline import load_transactions

    facts = machine_facts(["duckdb", "pandas", "scikit-learn", "babel"], {"threads": "1 (OpenBLAS, OpenMP)"})
    load_s, result = median_seconds(lambda: load_transactions(ONLINE_RETAIL), 1)
    transactions = result.transactions
    overview_s, data = median_seconds(lambda: overview(transactions), args.repeat)
    X = FeaturePreprocessor().fit_transform(compute_features(transactions))
    choose_s, selection = median_seconds(lambda: choose_k(X), args.repeat)
    prices = [f"£{v:.2f}" for v in transactions.column("unit_price").to_pylist()[:25_000]]
    currency_s, _ = median_seconds(lambda: currency_in_text(prices), args.repeat)
    figures = {
        "load_transactions_s": round(load_s, 2),
        "overview_s": round(overview_s, 2),
        "choose_k_s": round(choose_s, 2),
        "currency_in_text_25000_s": round(currency_s, 3),
        "recommended_k": selection.recommended,
        "runner_up": selection.runner_up,
        "reason": selection.reason,
        "partial_months": data.monthly.loc[data.monthly["partial"], "month"].dt.strftime("%Y-%m").tolist(),
    }
    for key, value in {**facts, **figures}.items():
        print(f"{key:28} {value}")
    passed = overview_s < TARGET_OVERVIEW_S
    print(f"{'PASS' if passed else 'FAIL'}: overview {overview_s:.2f} s (target < {TARGET_OVERVIEW_S:.0f} s)")
    save_figures(OUT / "overview.json", {"machine": facts, **figures})
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
