"""Benchmark: the five segmenters on Online Retail customers and on 1M synthetic customers.

Run from the repository root::

    .venv/bin/python bench/bench_clustering.py                      # both data sets (~15-25 min on 2 cores)
    .venv/bin/python bench/bench_clustering.py --skip-large         # Online Retail only (~1-2 min)
    .venv/bin/python bench/bench_clustering.py --large-n 200000     # a smaller synthetic set
    .venv/bin/python bench/bench_clustering.py --threads-compare    # thread settings compared (unset/blas1/all1)

Every (data set, method) runs in a fresh Python process, so its peak RSS is its own: ``ru_maxrss`` of the
child (``getrusage``), and for a run killed at the time limit the parent's last reading of the child's
``VmHWM`` (polled every 0.2 s). Imports and loading the input are left out of the fit time; peak RSS includes
them.

1. **Online Retail** (``/work/shared/data/online_retail.csv.gz``): ``load_transactions`` ->
   ``compute_features`` is timed once in its own process (the feature table is cached under ``bench/out/``);
   then every method goes through ``SegmentationModel(method, params).fit(features)`` on the default features
   (preprocessing, segmenter, profiles and names), k = 5, HDBSCAN tuned by its default search. Each child fits
   ``--repeats`` times: the first fit of a fresh process ("cold", it pays lazy start-up such as torch's and the
   OpenMP thread pools') is the one held to the target; the median of the later fits is shown as "warm".
2. **Synthetic**: ``--large-n`` customers x 20 columns with ``--clusters`` planted Gaussian clusters of uneven
   sizes (6 log-normal "monetary-like" columns, 10 Gaussian informative columns, 4 pure-noise columns),
   written once to ``bench/out/`` (git-ignored). ``FeaturePreprocessor(features=None)`` on a DataFrame of it is
   timed in its own process; the scaled matrix is saved and every segmenter is fitted on it directly
   (``make_segmenter(method, n_clusters=k)``). Hierarchical uses its sample path (``max_samples``, default
   8,000). HDBSCAN runs twice: with its default tuning (TPE on a 5,000-row sample, parameters scaled back to the
   full size) and with fixed ``min_cluster_size=500, min_samples=10``. Every large run has a time limit
   (``--timeout``, 300 s); a run that hits it is reported as "timed out", never dropped. The adjusted Rand index
   is against the planted labels (HDBSCAN noise counts as one more group).

Thread settings (``--threads``): ``all1`` (default) runs every child with ``OPENBLAS_NUM_THREADS=1`` and
``OMP_NUM_THREADS=1``; ``blas1`` sets only the first; ``unset`` sets neither. ``--threads-compare`` measures
the three side by side (see docs/benchmarks.md: on the shared 2-core machine two OpenMP threads made small
K-Means/GMM fits 5-50x slower and the autoencoder at 1M about 15x slower per epoch; OpenBLAS threads made no
difference).

Timings are wall-clock seconds on a shared machine: other jobs run beside it, so expect noise of tens of
percent; the load average is recorded before and after each run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from common import (
    ONLINE_RETAIL,
    OUT,
    THREAD_VARIABLES,
    child_env,
    machine_facts,
    save_figures,
    spawn,
    write_child_result,
)

METHOD_ORDER = ("kmeans", "hierarchical", "hdbscan", "gmm", "autoencoder")

TARGETS = {
    "retail_fit_seconds": 10.0,
    "large_kmeans_seconds": 60.0,
}
RETAIL_K = 5
HDBSCAN_FIXED = {"min_cluster_size": 500, "min_samples": 10}
SKEWED_COLUMNS = 6
NOISE_COLUMNS = 4
PACKAGES = ["numpy", "scipy", "scikit-learn", "hdbscan", "torch", "optuna"]
"""Distributions whose versions go into the machine facts."""


# --------------------------------------------------------------------------------------------------------
# Synthetic data: planted clusters.
# --------------------------------------------------------------------------------------------------------


def synthetic_paths(n: int, d: int, k: int, seed: int) -> dict[str, Path]:
    """Cache files of one synthetic set; the name carries a hash of the generator, so a change regenerates."""
    import hashlib
    import inspect

    version = hashlib.sha1(inspect.getsource(make_planted).encode()).hexdigest()[:8]
    stem = f"clusters_{n}x{d}_k{k}_seed{seed}_{version}"
    return {
        "raw": OUT / f"{stem}_raw.npy",
        "truth": OUT / f"{stem}_truth.npy",
        "scaled": OUT / f"{stem}_scaled.npy",
    }


def make_planted(n: int, d: int, k: int, seed: int) -> tuple[Any, Any]:
    """``n`` x ``d`` matrix with ``k`` planted clusters and the true labels.

    Cluster sizes are uneven (Dirichlet(2) weights). Informative columns: cluster centre ~ N(0, 1.5^2) per
    column, within-cluster sd ~ U(0.5, 1.5) per (cluster, column). The first ``SKEWED_COLUMNS`` columns are
    log-normal (``exp(2 + 0.6 z)``, like spend); the last ``NOISE_COLUMNS`` are N(0, 1) with no cluster signal.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 2.0))
    truth = rng.choice(k, size=n, p=weights).astype(np.int32)
    informative = d - NOISE_COLUMNS
    centres = rng.normal(0.0, 1.5, size=(k, informative))
    spreads = rng.uniform(0.5, 1.5, size=(k, informative))
    X = np.empty((n, d))
    X[:, :informative] = centres[truth] + rng.standard_normal((n, informative)) * spreads[truth]
    X[:, informative:] = rng.standard_normal((n, NOISE_COLUMNS))
    X[:, :SKEWED_COLUMNS] = np.exp(2.0 + 0.6 * X[:, :SKEWED_COLUMNS])
    return X, truth


# --------------------------------------------------------------------------------------------------------
# Child side: one job in a fresh process.
# --------------------------------------------------------------------------------------------------------


def segmenter_notes(segmenter: Any) -> dict[str, Any]:
    """What a segmenter decided on its own: MiniBatch, sample size, noise, tuned parameters, device."""
    notes: dict[str, Any] = {"segments": int(segmenter.n_clusters_)}
    if hasattr(segmenter, "minibatch_"):
        notes["minibatch"] = bool(segmenter.minibatch_)
    if hasattr(segmenter, "sampled_"):
        notes["sampled"] = bool(segmenter.sampled_)
        notes["sample_size"] = len(segmenter.sample_index_)
    if hasattr(segmenter, "noise_share_"):
        notes["noise_share"] = float(segmenter.noise_share_)
        notes["min_cluster_size"] = int(segmenter.min_cluster_size_)
        notes["min_samples"] = int(segmenter.min_samples_)
        notes["tuned"] = segmenter.trials_ is not None
    if hasattr(segmenter, "cluster_model_"):  # autoencoder
        notes["device"] = segmenter.device_
        notes["epochs"] = len(segmenter.loss_curve_)
        notes["inner_minibatch"] = bool(getattr(segmenter.cluster_model_, "minibatch_", False))
    if hasattr(segmenter, "covariance_type_"):
        notes["covariance_type"] = segmenter.covariance_type_
        notes["converged"] = bool(segmenter.model_.converged_)
        notes["iterations"] = int(segmenter.model_.n_iter_)
    if hasattr(segmenter, "model_") and hasattr(segmenter.model_, "n_iter_") and "iterations" not in notes:
        notes["iterations"] = int(segmenter.model_.n_iter_)
    return notes


def timed_fits(fit: Any, repeats: int, budget: float) -> tuple[list[float], Any]:
    """Call ``fit()`` up to ``repeats`` times (stop repeating once ``budget`` seconds are spent)."""
    seconds: list[float] = []
    result = None
    while len(seconds) < repeats and (not seconds or sum(seconds) < budget):
        start = time.perf_counter()
        result = fit()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def child_retail_features(path: Path, out: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    from segmentation.features import compute_features
    from segmentation.pipeline import load_transactions

    imports = time.perf_counter() - t0
    start = time.perf_counter()
    result = load_transactions(path)
    load = time.perf_counter() - start
    start = time.perf_counter()
    features = compute_features(result.transactions)
    compute = time.perf_counter() - start
    features.to_parquet(out)
    return {
        "imports_seconds": imports,
        "load_seconds": load,
        "features_seconds": compute,
        "seconds": load + compute,
        "customers": len(features),
        "columns": features.shape[1],
        "rows_kept": result.cleaning.rows_kept,
    }


def child_retail_fit(features_path: Path, method: str, repeats: int, budget: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    import pandas as pd

    from segmentation.clustering import SegmentationModel

    imports = time.perf_counter() - t0
    features = pd.read_parquet(features_path)
    params = {} if method == "hdbscan" else {"n_clusters": RETAIL_K}
    seconds, model = timed_fits(lambda: SegmentationModel(method, params).fit(features), repeats, budget)
    notes = segmenter_notes(model.segmenter_)
    return {
        "imports_seconds": imports,
        "seconds": seconds,
        "params": params or {"(tuned)": True},
        "customers": len(features),
        "n_features": len(model.preprocessor_.feature_names_out_),
        "features": list(model.preprocessor_.feature_names_out_),
        **notes,
    }


def child_synth_generate(n: int, d: int, k: int, seed: int) -> dict[str, Any]:
    import numpy as np

    paths = synthetic_paths(n, d, k, seed)
    start = time.perf_counter()
    X, truth = make_planted(n, d, k, seed)
    seconds = time.perf_counter() - start
    np.save(paths["raw"], X)
    np.save(paths["truth"], truth)
    return {"seconds": seconds, "sizes": np.bincount(truth, minlength=k).tolist()}


def child_synth_preprocess(n: int, d: int, k: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd

    from segmentation.clustering import FeaturePreprocessor

    imports = time.perf_counter() - t0
    paths = synthetic_paths(n, d, k, seed)
    raw = np.load(paths["raw"])
    frame = pd.DataFrame(raw, columns=[f"x{j:02d}" for j in range(d)])
    del raw
    start = time.perf_counter()
    pre = FeaturePreprocessor(features=None).fit(frame)
    fit_seconds = time.perf_counter() - start
    X = pre.transform(frame)
    seconds = time.perf_counter() - start
    np.save(paths["scaled"], X)
    return {
        "imports_seconds": imports,
        "seconds": seconds,
        "fit_seconds": fit_seconds,
        "transform_seconds": seconds - fit_seconds,
        "n_features": int(X.shape[1]),
        "log_columns": list(pre.log_columns_),
        "dropped": sorted(set(pre.feature_names_in_) - set(pre.feature_names_out_)),
    }


def child_synth_fit(
    n: int,
    d: int,
    k: int,
    seed: int,
    method: str,
    params: dict[str, Any],
    repeats: int,
    budget: float,
    rows: int | None = None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from segmentation.clustering import make_segmenter

    imports = time.perf_counter() - t0
    paths = synthetic_paths(n, d, k, seed)
    X = np.load(paths["scaled"])
    truth = np.load(paths["truth"])
    if rows is not None:  # the first rows: the planted labels are drawn i.i.d., so this is a uniform sample
        X, truth = np.ascontiguousarray(X[:rows]), truth[:rows]
    seconds, segmenter = timed_fits(lambda: make_segmenter(method, **params).fit(X), repeats, budget)
    notes = segmenter_notes(segmenter)
    if method == "hdbscan" and segmenter.trials_ is not None:
        best = segmenter.trials_.sort_values("value", ascending=False).iloc[0]
        notes["tuned_on_sample"] = {
            "min_cluster_size": int(best["params_min_cluster_size"]),
            "min_samples": int(best["params_min_samples"]),
        }
    return {
        "imports_seconds": imports,
        "seconds": seconds,
        "params": params,
        "customers": len(X),
        "n_features": int(X.shape[1]),
        "ari": float(adjusted_rand_score(truth, segmenter.labels_)),
        **notes,
    }


def child_main(args: argparse.Namespace) -> None:
    job = json.loads(args.child)
    kind = job.pop("kind")
    if kind == "retail-features":
        result = child_retail_features(Path(job["path"]), Path(job["out"]))
    elif kind == "retail-fit":
        result = child_retail_fit(Path(job["features"]), job["method"], job["repeats"], job["budget"])
    elif kind == "synth-generate":
        result = child_synth_generate(job["n"], job["d"], job["k"], job["seed"])
    elif kind == "synth-preprocess":
        result = child_synth_preprocess(job["n"], job["d"], job["k"], job["seed"])
    elif kind == "synth-fit":
        result = child_synth_fit(
            job["n"],
            job["d"],
            job["k"],
            job["seed"],
            job["method"],
            job["params"],
            job["repeats"],
            job["budget"],
            job.get("rows"),
        )
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    write_child_result(args.result, result, children=True)


# --------------------------------------------------------------------------------------------------------
# Parent side.
# --------------------------------------------------------------------------------------------------------


THREADS = {
    "unset": {},
    "blas1": {"OPENBLAS_NUM_THREADS": "1"},
    "all1": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
}
"""Thread settings of the children: ``unset`` lets OpenBLAS and OpenMP (scikit-learn, torch, ...) use every
core; ``blas1`` pins OpenBLAS to one thread; ``all1`` pins OpenBLAS and OpenMP to one thread each."""


def run_child(job: dict[str, Any], timeout: float, threads: str) -> dict[str, Any]:
    """Run this script as a child doing ``job`` (see ``child_main``) under the thread setting ``threads``; see
    ``common.spawn`` for what comes back (the child's result, or a time-out or failure)."""
    return spawn(Path(__file__), job, timeout, child_env(dict.fromkeys(THREAD_VARIABLES) | THREADS[threads]))


def fmt_params(params: dict[str, Any]) -> str:
    if params.get("(tuned)"):
        return "k=auto (TPE search)"
    short = {"n_clusters": "k", "min_cluster_size": "mcs", "min_samples": "ms", "minibatch_above": "minibatch_above"}
    params = {
        key: ("never" if key == "minibatch_above" and value >= 10**12 else value) for key, value in params.items()
    }
    return ", ".join(f"{short.get(key, key)}={value}" for key, value in params.items()) or "defaults"


def fmt_notes(r: dict[str, Any]) -> str:
    notes = []
    if "minibatch" in r:
        notes.append("MiniBatchKMeans" if r["minibatch"] else "full Lloyd KMeans")
    if "sampled" in r:
        notes.append(
            f"tree on a sample of {r['sample_size']:,}" if r["sampled"] else f"tree on all {r['sample_size']:,}"
        )
    if "noise_share" in r:
        tuned = "tuned -> " if r.get("tuned") else ""
        notes.append(f"{tuned}mcs={r['min_cluster_size']}, ms={r['min_samples']}; noise {r['noise_share']:.1%}")
        if "tuned_on_sample" in r:
            s = r["tuned_on_sample"]
            notes.append(f"(best on 5k sample: mcs={s['min_cluster_size']}, ms={s['min_samples']})")
    if "covariance_type" in r:
        notes.append(
            f"{r['covariance_type']} cov, {r['iterations']} EM iters" + ("" if r["converged"] else " (not converged)")
        )
    if "device" in r:
        notes.append(
            f"{r['epochs']} epochs on {r['device']}" + (", MiniBatch inner k-means" if r["inner_minibatch"] else "")
        )
    return "; ".join(notes)


def row_of(dataset: str, method: str, r: dict[str, Any], params: dict[str, Any], shape: str) -> dict[str, Any]:
    if r.get("timed_out"):
        return {
            "dataset": dataset,
            "shape": shape,
            "method": method,
            "params": fmt_params(params),
            "fit_s": f"timed out (> {r['wall_seconds']:.0f} s)",
            "warm_s": "",
            "rss": f"{r['peak_rss_gib']:.2f}+",
            "segments": "-",
            "ari": "-",
            "notes": "killed at the time limit",
            "seconds": None,
            "load": f"{r['load_before']:.1f}/{r['load_after']:.1f}",
        }
    if "failed" in r:
        return {
            "dataset": dataset,
            "shape": shape,
            "method": method,
            "params": fmt_params(params),
            "fit_s": "FAILED",
            "warm_s": "",
            "rss": "-",
            "segments": "-",
            "ari": "-",
            "notes": " ".join(r["error"])[:120],
            "seconds": None,
            "load": "",
        }
    seconds = r["seconds"]
    rss = r["peak_rss_gib"]
    workers = r.get("children_peak_rss_gib", 0.0)  # a worker process that peaked above the main one
    rss_note = f" (workers {workers:.2f})" if workers > rss else ""
    return {
        "dataset": dataset,
        "shape": f"{r['customers']:,} x {r['n_features']}",
        "method": method,
        "params": fmt_params(r["params"]),
        "fit_s": f"{seconds[0]:.2f}",
        "warm_s": f"{statistics.median(seconds[1:]):.2f} (x{len(seconds) - 1})" if len(seconds) > 1 else "",
        "rss": f"{rss:.2f}{rss_note}",
        "segments": str(r["segments"]),
        "ari": f"{r['ari']:.3f}" if "ari" in r else "",
        "notes": fmt_notes(r),
        "seconds": seconds[0],
        "load": f"{r['load_before']:.1f}/{r['load_after']:.1f}",
    }


COLUMNS = [
    ("dataset", "data set"),
    ("shape", "customers x features"),
    ("method", "method"),
    ("params", "params"),
    ("fit_s", "fit s (cold)"),
    ("warm_s", "fit s (warm, median)"),
    ("rss", "peak RSS GiB"),
    ("segments", "segments"),
    ("ari", "ARI vs planted"),
    ("notes", "notes"),
    ("load", "load avg before/after"),
]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(str(row[key]) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def plain_table(rows: list[dict[str, Any]]) -> str:
    widths = {key: max(len(title), *(len(str(r[key])) for r in rows)) for key, title in COLUMNS}
    out = ["  ".join(title.ljust(widths[key]) for key, title in COLUMNS)]
    out.append("  ".join("-" * widths[key] for key, _ in COLUMNS))
    for row in rows:
        out.append("  ".join(str(row[key]).ljust(widths[key]) for key, _ in COLUMNS))
    return "\n".join(out)


def run_retail(
    args: argparse.Namespace, threads: str, methods: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    features_path = OUT / "online_retail_features.parquet"
    print(f"Online Retail: load_transactions + compute_features ({ONLINE_RETAIL}) ...", flush=True)
    feat = run_child(
        {"kind": "retail-features", "path": str(ONLINE_RETAIL), "out": str(features_path)}, args.timeout, threads
    )
    if "seconds" not in feat:
        raise SystemExit(f"feature step failed: {feat}")
    print(
        f"  {feat['customers']:,} customers x {feat['columns']} columns in {feat['seconds']:.2f} s "
        f"(load {feat['load_seconds']:.2f} s, features {feat['features_seconds']:.2f} s; "
        f"peak RSS {feat['peak_rss_gib']:.2f} GiB)",
        flush=True,
    )
    rows = []
    for method in methods:
        job = {
            "kind": "retail-fit",
            "features": str(features_path),
            "method": method,
            "repeats": args.repeats,
            "budget": 30.0,
        }
        r = run_child(job, args.timeout, threads)
        params = {} if method == "hdbscan" else {"n_clusters": RETAIL_K}
        row = row_of("Online Retail", method, r, params, f"{feat['customers']:,} x 5")
        rows.append(row)
        print(
            f"  {method:<12} {row['fit_s']:>8} s  warm {row['warm_s']:<10} RSS {row['rss']} GiB  {row['notes']}",
            flush=True,
        )
    return feat, rows


def large_jobs(k: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method, params) of the synthetic runs."""
    return [
        ("kmeans", "kmeans", {"n_clusters": k}),
        ("kmeans (full Lloyd)", "kmeans", {"n_clusters": k, "minibatch_above": 10**12}),
        ("hierarchical", "hierarchical", {"n_clusters": k}),
        ("hdbscan (default tuning)", "hdbscan", {}),
        ("hdbscan (fixed)", "hdbscan", dict(HDBSCAN_FIXED)),
        ("gmm", "gmm", {"n_clusters": k}),
        ("autoencoder", "autoencoder", {"n_clusters": k}),
    ]


def run_large(
    args: argparse.Namespace, threads: str, methods: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    n, d, k, seed = args.large_n, 20, args.clusters, args.seed
    paths = synthetic_paths(n, d, k, seed)
    OUT.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"n": n, "d": d, "k": k, "seed": seed}
    if args.regenerate or not (paths["raw"].exists() and paths["truth"].exists()):
        print(f"Synthetic: generating {n:,} x {d} with {k} planted clusters ...", flush=True)
        gen = run_child({"kind": "synth-generate", "n": n, "d": d, "k": k, "seed": seed}, 3600, threads)
        if "seconds" not in gen:
            raise SystemExit(f"generation failed: {gen}")
        info["generate"] = gen
    print("Synthetic: FeaturePreprocessor fit + transform ...", flush=True)
    pre = run_child({"kind": "synth-preprocess", "n": n, "d": d, "k": k, "seed": seed}, 3600, threads)
    if "seconds" not in pre:
        raise SystemExit(f"preprocessing failed: {pre}")
    info["preprocess"] = pre
    print(
        f"  {pre['seconds']:.2f} s (fit {pre['fit_seconds']:.2f}, transform {pre['transform_seconds']:.2f}); "
        f"log1p on {len(pre['log_columns'])} columns, dropped {pre['dropped'] or 'none'}; "
        f"peak RSS {pre['peak_rss_gib']:.2f} GiB",
        flush=True,
    )
    rows = []
    for label, method, params in large_jobs(k):
        if method not in methods:
            continue
        job = {
            "kind": "synth-fit",
            "n": n,
            "d": d,
            "k": k,
            "seed": seed,
            "method": method,
            "params": params,
            "repeats": args.large_repeats,
            "budget": 60.0,
        }
        r = run_child(job, args.timeout, threads)
        row = row_of(f"Synthetic {n:,}", label, r, params, f"{n:,} x {pre['n_features']}")
        rows.append(row)
        print(
            f"  {label:<24} {row['fit_s']:>8} s  warm {row['warm_s']:<10} RSS {row['rss']} GiB  ARI {row['ari']}  "
            f"{row['notes']}",
            flush=True,
        )
    return info, rows


def targets(retail_rows: list[dict[str, Any]], large_rows: list[dict[str, Any]], large_n: int) -> list[str]:
    lines = []
    limit = TARGETS["retail_fit_seconds"]
    for row in retail_rows:
        s = row["seconds"]
        ok = s is not None and s < limit
        shown = f"{s:.2f} s" if s is not None else row["fit_s"]
        lines.append(f"{'PASS' if ok else 'FAIL'}  Online Retail {row['method']} fit < {limit:.0f} s: {shown}")
    limit = TARGETS["large_kmeans_seconds"]
    for row in large_rows:
        if row["method"] == "kmeans":
            s = row["seconds"]
            ok = s is not None and s < limit
            shown = f"{s:.2f} s" if s is not None else row["fit_s"]
            verdict = ("PASS" if ok else "FAIL") if large_n >= 1_000_000 else "n/a "
            scale = "" if large_n >= 1_000_000 else f" (only {large_n:,} customers: not the target size)"
            lines.append(f"{verdict}  K-Means++ on {large_n:,} customers < {limit:.0f} s: {shown}{scale}")
    return lines


def threads_compare(args: argparse.Namespace) -> None:
    """Fit seconds of each run under every thread setting, the settings taken in rotating order per round."""
    settings = list(THREADS)
    print(f"Thread settings compared: {settings}, {args.compare_rounds} rounds (rotating order)", flush=True)
    features_path = OUT / "online_retail_features.parquet"
    if not features_path.exists():
        run_child({"kind": "retail-features", "path": str(ONLINE_RETAIL), "out": str(features_path)}, 600, "unset")
    n, d, k, seed = args.large_n, 20, args.clusters, args.seed
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    cases: list[tuple[str, dict[str, Any]]] = [
        (
            f"retail {m}",
            {"kind": "retail-fit", "features": str(features_path), "method": m, "repeats": 3, "budget": 30.0},
        )
        for m in methods
    ]
    if not args.skip_large and synthetic_paths(n, d, k, seed)["scaled"].exists():
        for label, method, params in large_jobs(k):
            if method in methods and method != "hdbscan":
                job = {"kind": "synth-fit", "n": n, "d": d, "k": k, "seed": seed, "method": method}
                cases.append((f"{n:,} {label}", {**job, "params": params, "repeats": 1, "budget": 0.0}))
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    for label, job in cases:
        entry = results.setdefault(label, {t: {"cold": [], "warm": [], "load": []} for t in settings})
        for rnd in range(args.compare_rounds):
            for threads in settings[rnd % len(settings) :] + settings[: rnd % len(settings)]:
                r = run_child(dict(job), args.timeout, threads)
                if "seconds" in r:
                    entry[threads]["cold"].append(r["seconds"][0])
                    entry[threads]["warm"].extend(r["seconds"][1:])
                    entry[threads]["load"].append(r["load_before"])
                else:
                    entry[threads]["cold"].append(float("inf"))

        def cell(values: list[float]) -> str:
            if not values:
                return "-"
            return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"

        print(f"  {label}", flush=True)
        for t in settings:
            print(f"    {t:<6} cold {cell(entry[t]['cold']):<22} warm {cell(entry[t]['warm'])}", flush=True)
    (OUT / "bench_clustering_threads.json").write_text(json.dumps(results, indent=1))


def hdbscan_scaling(args: argparse.Namespace, threads: str, sizes: list[int]) -> list[dict[str, Any]]:
    """HDBSCAN (fixed parameters) on the first ``sizes`` rows of the synthetic matrix: how its fit time grows."""
    n, d, k, seed = args.large_n, 20, args.clusters, args.seed
    out = []
    print(f"Synthetic: HDBSCAN {HDBSCAN_FIXED} on the first n rows, n in {sizes} ...", flush=True)
    for size in sizes:
        if size > n:
            continue
        job = {
            "kind": "synth-fit",
            "n": n,
            "d": d,
            "k": k,
            "seed": seed,
            "method": "hdbscan",
            "params": dict(HDBSCAN_FIXED),
        }
        r = run_child({**job, "repeats": 1, "budget": 0.0, "rows": size}, args.timeout, threads)
        entry = {"n": size, "seconds": None if r.get("timed_out") or "failed" in r else r["seconds"][0]}
        entry.update({key: r.get(key) for key in ("peak_rss_gib", "noise_share", "segments", "ari", "timed_out")})
        out.append(entry)
        shown = f"{entry['seconds']:.2f} s" if entry["seconds"] is not None else "timed out / failed"
        print(f"  n={size:>9,}: {shown}, peak RSS {entry['peak_rss_gib']:.2f} GiB, ARI {entry['ari']}", flush=True)
        if entry["seconds"] is None:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large-n", type=int, default=1_000_000, help="synthetic customers (default 1,000,000)")
    parser.add_argument("--clusters", type=int, default=8, help="planted clusters = k of the synthetic runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run before it is killed")
    parser.add_argument("--repeats", type=int, default=3, help="fits per Online Retail run (first is cold)")
    parser.add_argument("--large-repeats", type=int, default=3, help="fits per synthetic run (no repeat after 60 s)")
    parser.add_argument("--methods", default=",".join(METHOD_ORDER), help="comma-separated subset")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-retail", action="store_true")
    parser.add_argument("--regenerate", action="store_true", help="write the synthetic matrix again")
    parser.add_argument(
        "--threads", choices=list(THREADS), default="all1", help="thread settings of the children (default all1)"
    )
    parser.add_argument("--threads-compare", action="store_true", help="only compare the thread settings")
    parser.add_argument("--compare-rounds", type=int, default=3)
    parser.add_argument(
        "--hdbscan-scaling",
        default="10000,20000,50000",
        help="row counts for the HDBSCAN growth probe on the synthetic matrix ('' to skip)",
    )
    parser.add_argument("--json", type=Path, default=OUT / "bench_clustering.json", help="where to write results")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if args.threads_compare:
        threads_compare(args)
        return
    threads = args.threads
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    facts = machine_facts(
        PACKAGES, {"threads": f"{threads} {THREADS[threads] or '(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS not set)'}"}
    )
    print("Machine: " + ", ".join(f"{key}={value}" for key, value in facts.items()), flush=True)
    started = time.perf_counter()
    retail_feat, retail_rows, large_info, large_rows, scaling = None, [], None, [], []
    if not args.skip_retail:
        retail_feat, retail_rows = run_retail(args, threads, methods)
    if not args.skip_large:
        large_info, large_rows = run_large(args, threads, methods)
        sizes = [int(x) for x in args.hdbscan_scaling.split(",") if x.strip()]
        if "hdbscan" in methods and sizes:
            scaling = hdbscan_scaling(args, threads, sizes)
    rows = retail_rows + large_rows
    print()
    print(plain_table(rows))
    print()
    if retail_feat:
        print(
            f"Online Retail load_transactions + compute_features: {retail_feat['seconds']:.2f} s "
            f"(load {retail_feat['load_seconds']:.2f} + features {retail_feat['features_seconds']:.2f}), "
            f"{retail_feat['customers']:,} customers, peak RSS {retail_feat['peak_rss_gib']:.2f} GiB"
        )
    if large_info:
        pre = large_info["preprocess"]
        print(
            f"Synthetic {large_info['n']:,} x {large_info['d']}: FeaturePreprocessor fit+transform {pre['seconds']:.2f} s "
            f"(fit {pre['fit_seconds']:.2f}, transform {pre['transform_seconds']:.2f}), peak RSS {pre['peak_rss_gib']:.2f} GiB"
        )
    if scaling:
        print(
            f"HDBSCAN {HDBSCAN_FIXED} fit seconds by rows: "
            + ", ".join(
                f"{e['n']:,}: {e['seconds']:.1f}" if e["seconds"] is not None else f"{e['n']:,}: -" for e in scaling
            )
        )
    print()
    target_lines = targets(retail_rows, large_rows, args.large_n)
    print("Targets:")
    for line in target_lines:
        print("  " + line)
    print(f"\nTotal {time.perf_counter() - started:.0f} s. Timings are noisy: the machine is shared.")
    save_figures(
        args.json,
        {
            "machine": facts,
            "retail_features": retail_feat,
            "large": large_info,
            "rows": rows,
            "markdown": markdown_table(rows),
            "targets": target_lines,
            "hdbscan_scaling": scaling,
        },
    )


if __name__ == "__main__":
    main()
