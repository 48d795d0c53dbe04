"""Benchmark: segment explanations (LightGBM and CatBoost surrogates, SHAP, drivers) on Online Retail customers
and on 1M synthetic customers.

Run from the repository root::

    .venv/bin/python bench/bench_explain.py                      # both data sets (~16 min on 2 cores)
    .venv/bin/python bench/bench_explain.py --skip-large         # Online Retail only (~1 min)
    .venv/bin/python bench/bench_explain.py --customers 200000   # a smaller synthetic table
    .venv/bin/python bench/bench_explain.py --large-cv-rows 0    # fidelity CV on all 1M rows (the library's cv_rows=None; ~31 min)

What the Explain page does for one segmentation is timed, for each surrogate in its own fresh Python process
(so peak RSS, ``ru_maxrss`` of the child, is per (data set, model); it includes imports and the input table):

1. ``surrogate_inputs`` on the customer table without the ``*_score``, ``rfm_code`` and ``rfm_segment`` columns
   (as ``ui/explain_page.py`` builds it);
2. ``SegmentSurrogate(kind, n_jobs=--n-jobs).fit(X, labels)``, split into its 3-fold fidelity cross-validation
   and the final fit (a subclass here times ``_cross_validate``; the library is not changed);
3. ``explain(surrogate, X, labels, sample_size=2000)`` (SHAP TreeExplainer on a stratified sample; 2,000 is the
   app's default), and on 1M customers also ``sample_size=10000``;
4. ``segment_drivers`` on each explanation.

Then ``importance_agreement`` of the two surrogates' 2,000-customer explanations runs in one more process.
Seconds are wall-clock and leave out imports and reading the input table.

Data sets (the segmentation before the explanations is timed in its own process and is not part of the total):

- **Online Retail** (``../shared/data/online_retail.csv.gz``): ``load_transactions(path, Config())`` ->
  ``compute_features`` + ``rfm_table`` joined as ``ui/components.customer_table`` does (4,333 customers x 34
  columns) -> ``SegmentationModel("kmeans", {"n_clusters": 5}, DEFAULT_FEATURES).fit(table, table["rfm_segment"])``.
- **Synthetic** (``--customers``, default 1,000,000): the same 34 columns. Generating transactions for 1M
  customers and ingesting them is not done: ``segmentation.synthetic`` writes about 62 lines per customer, so 1M
  customers would be a ~62M-line file, and ``load_transactions`` needs about 4.8 GiB per 10M lines
  (docs/benchmarks.md), about 30 GiB here against 23.5 GiB of RAM; the measured 50,000-customer build below,
  scaled by 20, is also well over 3 minutes. Instead:

  1. ``write_sample(tmp.csv, SyntheticSpec(n_customers=--base-customers (50,000), seed=--seed))`` ->
     ``load_transactions`` -> ``compute_features(FeatureConfig())``: a real feature table of 50,000 synthetic
     customers;
  2. ``--customers`` rows are drawn from it uniformly with replacement; every numeric column is multiplied by
     ``exp(0.05 z)``, ``z ~ N(0, 1)`` drawn per cell, clipped to the base column's [min, max], and integer
     columns are rounded back to integers; ``country`` and ``channel`` are copied; ids are new (``S0000000``...);
  3. ``rfm_table`` is computed on the resampled table and joined, as for Online Retail.

  The table is cached in ``bench/out/`` (git-ignored) and rebuilt when the generator, this recipe or the options
  change. It is segmented like Online Retail (K-Means, k = 5, on the default features: full Lloyd K-Means below
  the library's 2,000,000-row MiniBatch switch). Because rows are noisy copies of 50,000 customers, near-copies
  fall in different cross-validation folds, so fidelity at 1M is optimistic.

  At 1M rows the fidelity cross-validation costs about two final fits (3 folds of two thirds). By default it runs
  on a stratified sample of ``--large-cv-rows`` (100,000) customers, the library's ``cv_rows`` default, and the
  final model is still fitted on every row; ``--large-cv-rows 0`` cross-validates on every row.

Threads: every process has ``OPENBLAS_NUM_THREADS=1``. The surrogates get ``n_jobs``/``thread_count`` =
``--n-jobs`` (2: both cores; the app itself uses the library default, 1) and ``OMP_NUM_THREADS`` is not set for
them; the segmentation processes run with ``OMP_NUM_THREADS=1`` as in bench_clustering.py.

Timings are wall-clock seconds on a shared machine: other jobs run beside it, so expect noise of tens of percent;
the 1-minute load average is recorded before and after each run.
"""

from __future__ import annotations

import os

# Before numpy is imported anywhere (parent and children inherit it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime as dt
import hashlib
import inspect
import json
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    ONLINE_RETAIL,
    OUT,
    ROOT,
    THREAD_VARIABLES,
    child_env,
    machine_facts,
    peak_rss_gib,
    save_figures,
    spawn,
    write_child_result,
)

SYNTHETIC_SOURCE = ROOT / "segmentation" / "synthetic.py"
MODELS = ("lightgbm", "catboost")
K = 5
APP_SAMPLE = 2_000
"""``ui/explain_page.SAMPLE_SIZE``: the app explains a stratified sample of this many customers."""
LEFT_OUT = ("rfm_code", "rfm_segment")
"""``ui/explain_page.LEFT_OUT``: with the ``*_score`` columns, dropped from the surrogates' inputs."""
NOISE_SD = 0.05
LABEL = "_segment"
"""Column of the prepared table that holds the segmentation's labels."""

TARGETS = {"retail_total_seconds": 30.0}


# --------------------------------------------------------------------------------------------------------
# The synthetic customer table.
# --------------------------------------------------------------------------------------------------------


def resample_customers(base: Any, n: int, seed: int, noise_sd: float = NOISE_SD) -> Any:
    """``n`` rows drawn with replacement from ``base``, numeric cells times ``exp(noise_sd * z)``, within range."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(base), n)
    columns = {}
    for name in base.columns:
        source = base[name]
        values = source.to_numpy()[rows]
        if pd.api.types.is_numeric_dtype(source) and not pd.api.types.is_bool_dtype(source):
            noisy = values.astype(float) * np.exp(noise_sd * rng.standard_normal(n))
            noisy = np.clip(noisy, source.min(), source.max())  # NaN stays NaN
            if pd.api.types.is_integer_dtype(source):
                noisy = np.rint(noisy).astype(source.dtype)
            values = noisy
        columns[name] = values
    ids = pd.Index(np.char.add("S", np.char.zfill(np.arange(n).astype(str), 7)), name=base.index.name)
    frame = pd.DataFrame(columns, index=ids)
    for name in base.columns:  # keep text/categorical dtypes as in the base table
        if frame[name].dtype != base[name].dtype:
            frame[name] = frame[name].astype(base[name].dtype)
    frame.attrs.update(base.attrs)
    return frame


def large_paths(n: int, base: int, seed: int) -> dict[str, Path]:
    """Cache files of one synthetic table; the name carries a hash of the generator and of the recipe."""
    digest = hashlib.sha256(SYNTHETIC_SOURCE.read_bytes())
    digest.update(inspect.getsource(resample_customers).encode())
    digest.update(inspect.getsource(child_large_build).encode())
    stem = f"explain_customers_{n}_base{base}_seed{seed}_{digest.hexdigest()[:10]}"
    return {"table": OUT / f"{stem}.parquet", "meta": OUT / f"{stem}.json"}


# --------------------------------------------------------------------------------------------------------
# Child side: one job in a fresh process.
# --------------------------------------------------------------------------------------------------------


def customer_table(transactions: Any, features_config: Any) -> Any:
    """Features + RFM scores, code and named segment: ``ui/components.customer_table`` without the app cache."""
    from segmentation.features import compute_features, rfm_table

    table = compute_features(transactions, features_config)
    rfm = rfm_table(table, features_config.rfm_bins).drop(columns=["recency_days", "frequency", "monetary"])
    return table.join(rfm)


def segment(table: Any) -> tuple[Any, dict[str, Any]]:
    """K-Means k = 5 on the default features, as the Segments page fits it; labels and notes."""
    import numpy as np

    from segmentation.clustering import DEFAULT_FEATURES, SegmentationModel

    start = time.perf_counter()
    model = SegmentationModel("kmeans", {"n_clusters": K}, DEFAULT_FEATURES).fit(table, table["rfm_segment"])
    seconds = time.perf_counter() - start
    labels = model.labels_
    return labels, {
        "segment_seconds": seconds,
        "minibatch": bool(getattr(model.segmenter_, "minibatch_", False)),
        "sizes": np.bincount(labels).tolist(),
        "names": {int(k): v for k, v in model.names_.items()},
    }


def child_retail_prep(path: Path, out: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    from segmentation.config import Config
    from segmentation.pipeline import load_transactions

    imports = time.perf_counter() - t0
    config = Config()
    start = time.perf_counter()
    result = load_transactions(path, config)
    load = time.perf_counter() - start
    start = time.perf_counter()
    table = customer_table(result.transactions, config.features)
    features = time.perf_counter() - start
    labels, notes = segment(table)
    table[LABEL] = labels
    table.to_parquet(out)
    return {
        "column_names": list(table.columns[:-1]),
        "imports_seconds": imports,
        "load_seconds": load,
        "features_seconds": features,
        "customers": len(table),
        "columns": table.shape[1] - 1,
        **notes,
    }


def child_large_build(n: int, base: int, seed: int, out: Path) -> dict[str, Any]:
    """The synthetic table: real features of ``base`` synthetic customers, resampled to ``n`` rows."""
    t0 = time.perf_counter()
    from segmentation.config import FeatureConfig
    from segmentation.features import compute_features, rfm_table
    from segmentation.pipeline import load_transactions
    from segmentation.synthetic import SyntheticSpec, write_sample

    imports = time.perf_counter() - t0
    config = FeatureConfig()
    csv = out.with_suffix(".base.csv")
    try:
        start = time.perf_counter()
        lines = write_sample(csv, SyntheticSpec(n_customers=base, seed=seed))
        generate = time.perf_counter() - start
        start = time.perf_counter()
        result = load_transactions(csv)
        load = time.perf_counter() - start
    finally:
        csv.unlink(missing_ok=True)
    start = time.perf_counter()
    features = compute_features(result.transactions, config)
    compute = time.perf_counter() - start
    del result
    start = time.perf_counter()
    table = resample_customers(features, n, seed)
    rfm = rfm_table(table, config.rfm_bins).drop(columns=["recency_days", "frequency", "monetary"])
    table = table.join(rfm)
    resample = time.perf_counter() - start
    partial = out.with_suffix(".partial")
    table.to_parquet(partial)
    partial.replace(out)
    return {
        "imports_seconds": imports,
        "base_customers_requested": base,
        "base_customers": len(features),
        "base_lines": lines,
        "generate_seconds": generate,
        "load_seconds": load,
        "features_seconds": compute,
        "resample_seconds": resample,
        "customers": len(table),
        "columns": list(table.columns),
        "bytes": out.stat().st_size,
    }


def child_large_prep(table_path: Path, out: Path) -> dict[str, Any]:
    import pandas as pd

    table = pd.read_parquet(table_path)
    labels, notes = segment(table)
    table[LABEL] = labels
    table.to_parquet(out)
    return {"customers": len(table), "columns": table.shape[1] - 1, "column_names": list(table.columns[:-1]), **notes}


def child_explain(
    table_path: Path, kind: str, n_jobs: int, samples: list[int], cv_rows: int, keep: Path
) -> dict[str, Any]:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd

    from segmentation.explain import SegmentSurrogate, explain, segment_drivers, surrogate_inputs

    imports = time.perf_counter() - t0
    table = pd.read_parquet(table_path)
    labels = table.pop(LABEL).to_numpy()

    class TimedSurrogate(SegmentSurrogate):
        """The library's surrogate with its cross-validation (on the library's ``cv_rows`` sample) timed."""

        def _cross_validate(self, data: pd.DataFrame, y: np.ndarray) -> dict:
            start = time.perf_counter()
            self.cv_rows_ = len(y)
            out = super()._cross_validate(data, y)
            self.cv_seconds_ = time.perf_counter() - start
            return out

    phases: dict[str, float] = {}
    start = time.perf_counter()
    X = surrogate_inputs(table.drop(columns=[c for c in table if c.endswith("_score") or c in LEFT_OUT]))
    phases["inputs"] = time.perf_counter() - start
    del table
    start = time.perf_counter()
    surrogate = TimedSurrogate(kind, n_jobs=n_jobs, cv_rows=cv_rows or None).fit(X, labels)
    fit_total = time.perf_counter() - start
    phases["fidelity_cv"] = surrogate.cv_seconds_
    phases["final_fit"] = fit_total - surrogate.cv_seconds_
    fidelity = surrogate.fidelity_
    shap_runs = []
    for size in samples:
        start = time.perf_counter()
        explanation = explain(surrogate, X, labels, sample_size=size)
        shap_seconds = time.perf_counter() - start
        start = time.perf_counter()
        drivers = segment_drivers(explanation)
        drivers_seconds = time.perf_counter() - start
        shap_runs.append(
            {
                "sample_size": size,
                "explained": len(explanation.data),
                "shap_seconds": shap_seconds,
                "drivers_seconds": drivers_seconds,
                "peak_rss_gib": peak_rss_gib(),
                "top_drivers": drivers.loc[drivers["rank"] == 1, ["segment", "phrase"]].to_dict("records"),
            }
        )
        if size == samples[0]:
            with open(keep, "wb") as fh:
                pickle.dump(explanation, fh)
    return {
        "imports_seconds": imports,
        "model": kind,
        "n_jobs": n_jobs,
        "customers": len(X),
        "n_features": X.shape[1],
        "cv_rows": surrogate.cv_rows_,
        "phases": phases,
        "shap": shap_runs,
        "accuracy": fidelity["accuracy"],
        "macro_f1": fidelity["macro_f1"],
        "recall": fidelity["recall"],
        "warning": fidelity["warning"],
    }


def child_agreement(paths: list[str]) -> dict[str, Any]:
    from segmentation.explain import importance_agreement

    explanations = []
    for path in paths:
        with open(path, "rb") as fh:
            explanations.append(pickle.load(fh))
    start = time.perf_counter()
    agreement = importance_agreement(*explanations)
    return {"seconds": time.perf_counter() - start, "spearman": {str(k): v for k, v in agreement.items()}}


def child_main(args: argparse.Namespace) -> None:
    job = json.loads(args.child)
    kind = job.pop("kind")
    if kind == "retail-prep":
        result = child_retail_prep(Path(job["path"]), Path(job["out"]))
    elif kind == "large-build":
        result = child_large_build(job["n"], job["base"], job["seed"], Path(job["out"]))
    elif kind == "large-prep":
        result = child_large_prep(Path(job["table"]), Path(job["out"]))
    elif kind == "explain":
        result = child_explain(
            Path(job["table"]), job["model"], job["n_jobs"], job["samples"], job["cv_rows"], Path(job["keep"])
        )
    elif kind == "agreement":
        result = child_agreement(job["paths"])
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    write_child_result(args.result, result)


# --------------------------------------------------------------------------------------------------------
# Parent side.
# --------------------------------------------------------------------------------------------------------


PACKAGES = ("numpy", "pandas", "scikit-learn", "lightgbm", "catboost", "shap", "duckdb")
SURROGATE_THREADS = dict.fromkeys(THREAD_VARIABLES) | {"OPENBLAS_NUM_THREADS": "1"}
"""The surrogates' processes: OpenMP left to the libraries (their thread counts are given explicitly)."""
SEGMENT_THREADS = SURROGATE_THREADS | {"OMP_NUM_THREADS": "1"}
"""The segmentation processes: one OpenMP thread, as bench_clustering.py runs K-Means."""


def run_child(job: dict[str, Any], timeout: float, omp1: bool = False) -> dict[str, Any]:
    """``job`` in a fresh process of this script (``common.spawn``), with the thread settings above."""
    return spawn(Path(__file__), job, timeout, child_env(SEGMENT_THREADS if omp1 else SURROGATE_THREADS))


def fmt_s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def explain_row(dataset: str, r: dict[str, Any], samples: list[int]) -> dict[str, Any]:
    """One results-table row of an explain run, and its app-path total (inputs + CV + fit + SHAP 2k + drivers)."""
    row: dict[str, Any] = {"data set": dataset, "model": r.get("model", "?")}
    if r.get("timed_out") or "failed" in r:
        what = f"timed out (> {r['wall_seconds']:.0f} s)" if r.get("timed_out") else "FAILED"
        row.update({"customers x features": "", "total s": what, "peak RSS GiB": f"{r.get('peak_rss_gib', 0):.2f}+"})
        row["total"] = None
        return row
    p, first = r["phases"], r["shap"][0]
    total = p["inputs"] + p["fidelity_cv"] + p["final_fit"] + first["shap_seconds"] + first["drivers_seconds"]
    cv = f"{p['fidelity_cv']:.2f}"
    if r["cv_rows"] < r["customers"]:
        cv += f" (on {r['cv_rows']:,})"
    row.update(
        {
            "customers x features": f"{r['customers']:,} x {r['n_features']}",
            "inputs s": fmt_s(p["inputs"]),
            "fidelity CV s": cv,
            "final fit s": fmt_s(p["final_fit"]),
            f"SHAP {samples[0]:,} s": fmt_s(first["shap_seconds"]),
            "drivers s": fmt_s(first["drivers_seconds"]),
            "total s": fmt_s(total),
        }
    )
    for run in r["shap"][1:]:
        row[f"SHAP {run['sample_size']:,} s (+drivers)"] = f"{run['shap_seconds']:.2f} (+{run['drivers_seconds']:.2f})"
    row.update(
        {
            "accuracy": f"{r['accuracy']:.3f}",
            "macro-F1": f"{r['macro_f1']:.3f}",
            "peak RSS GiB": f"{r['peak_rss_gib']:.2f}",
            "load before/after": f"{r['load_before']:.1f}/{r['load_after']:.1f}",
        }
    )
    row["total"] = total
    return row


def print_table(rows: list[dict[str, Any]]) -> list[str]:
    headers: list[str] = []
    for row in rows:
        headers += [h for h in row if h != "total" and h not in headers]
    text = {h: [str(r.get(h, "")) for r in rows] for h in headers}
    widths = {h: max(len(h), *(len(v) for v in text[h])) for h in headers}
    left = {"data set", "model", "customers x features"}
    lines = ["| " + " | ".join(h.ljust(widths[h]) for h in headers) + " |"]
    lines.append(
        "| " + " | ".join("-" * widths[h] if h in left else "-" * (widths[h] - 1) + ":" for h in headers) + " |"
    )
    for i in range(len(rows)):
        cells = [text[h][i].ljust(widths[h]) if h in left else text[h][i].rjust(widths[h]) for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    return lines


def print_run(label: str, r: dict[str, Any]) -> None:
    if r.get("timed_out") or "failed" in r:
        what = f"timed out after {r['wall_seconds']:.0f} s" if r.get("timed_out") else f"{r['failed']}: {r['error']}"
        print(f"  {label}: {what}", flush=True)
        return
    p = r["phases"]
    shap = "; ".join(
        f"SHAP on {s['explained']:,} {s['shap_seconds']:.2f}s + drivers {s['drivers_seconds']:.2f}s" for s in r["shap"]
    )
    recall = ", ".join(f"{k}: {v:.2f}" for k, v in r["recall"].items())
    print(
        f"  {label}: inputs {p['inputs']:.2f}s, fidelity CV {p['fidelity_cv']:.2f}s on {r['cv_rows']:,} rows, "
        f"final fit {p['final_fit']:.2f}s; {shap}; imports {r['imports_seconds']:.2f}s (not counted); "
        f"peak RSS {r['peak_rss_gib']:.2f} GiB; load {r['load_before']:.1f}/{r['load_after']:.1f}",
        flush=True,
    )
    print(f"      fidelity: accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}, recall per segment {recall}")
    if r["warning"]:
        print(f"      warning: {r['warning']}")
    print(
        "      top driver per segment: "
        + "; ".join(f"{d['segment']}: {d['phrase']}" for d in r["shap"][0]["top_drivers"])
    )


def run_explanations(
    args: argparse.Namespace, dataset: str, table: Path, samples: list[int], cv_rows: int, tmp: Path
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    runs = []
    for kind in MODELS:
        keep = tmp / f"{table.stem}_{kind}.pkl"
        job = {
            "kind": "explain",
            "table": str(table),
            "model": kind,
            "n_jobs": args.n_jobs,
            "samples": samples,
            "cv_rows": cv_rows,
            "keep": str(keep),
        }
        r = run_child(job, args.timeout)
        r.setdefault("model", kind)
        print_run(f"{dataset} / {kind}", r)
        runs.append(r)
    agreement = None
    paths = [str(tmp / f"{table.stem}_{kind}.pkl") for kind in MODELS]
    if all(Path(p).exists() for p in paths):
        agreement = run_child({"kind": "agreement", "paths": paths}, 600)
        if "spearman" in agreement:
            sp = agreement["spearman"]
            per_segment = ", ".join(f"{k}: {v:.2f}" for k, v in sp.items() if k != "overall")
            print(
                f"  {dataset}: importance_agreement (Spearman, SHAP on {samples[0]:,}) overall {sp['overall']:.3f}; "
                f"per segment {per_segment}; {agreement['seconds']:.3f}s",
                flush=True,
            )
    return runs, agreement


def prepare_large(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    paths = large_paths(args.customers, args.base_customers, args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    if paths["table"].exists() and paths["meta"].exists() and not args.regenerate:
        build = json.loads(paths["meta"].read_text())
        build["cached"] = True
        print(f"  {paths['table'].relative_to(ROOT)}: cached (built {build['built']})", flush=True)
    else:
        print(
            f"  building {paths['table'].relative_to(ROOT)}: {args.base_customers:,} synthetic customers -> "
            f"{args.customers:,} rows ...",
            flush=True,
        )
        job = {"kind": "large-build", "n": args.customers, "base": args.base_customers, "seed": args.seed}
        build = run_child({**job, "out": str(paths["table"])}, 3600, omp1=True)
        if "customers" not in build:
            raise SystemExit(f"building the synthetic table failed: {build}")
        build["built"] = dt.datetime.now().isoformat(timespec="seconds")
        paths["meta"].write_text(json.dumps(build, indent=1))
        build["cached"] = False
    base_seconds = build["generate_seconds"] + build["load_seconds"] + build["features_seconds"]
    print(
        f"  base: {build['base_customers']:,} customers ({build['base_lines']:,} lines): write_sample "
        f"{build['generate_seconds']:.1f}s + load_transactions {build['load_seconds']:.1f}s + compute_features "
        f"{build['features_seconds']:.1f}s = {base_seconds:.1f}s (x{args.customers / build['base_customers']:.0f} "
        f"would be ~{base_seconds * args.customers / build['base_customers']:.0f}s, extrapolated); resample + "
        f"rfm_table {build['resample_seconds']:.1f}s; {build['bytes'] / 2**20:.0f} MiB parquet",
        flush=True,
    )
    return paths["table"], build


def print_prep(label: str, prep: dict[str, Any]) -> None:
    if "segment_seconds" not in prep:
        raise SystemExit(f"{label}: preparation failed: {prep}")
    before = ""
    if "load_seconds" in prep:
        before = f"load_transactions {prep['load_seconds']:.2f}s + features/RFM {prep['features_seconds']:.2f}s, "
    print(
        f"  {label}: {prep['customers']:,} customers x {prep['columns']} columns; {before}"
        f"K-Means k={K} {prep['segment_seconds']:.2f}s ({'MiniBatch' if prep['minibatch'] else 'full Lloyd'}); "
        f"segment sizes {prep['sizes']}; peak RSS {prep['peak_rss_gib']:.2f} GiB",
        flush=True,
    )


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checks = []
    retail = [r for r in rows if r["data set"] == "Online Retail"]
    if retail:
        limit = TARGETS["retail_total_seconds"]
        totals = [r["total"] for r in retail]
        ok = len(retail) == len(MODELS) and all(t is not None for t in totals)
        total = sum(totals) if ok else None
        measured = (
            " + ".join(f"{r['model']} {r['total']:.2f}" for r in retail) + f" = {total:.2f} s" if ok else "incomplete"
        )
        checks.append(
            {
                "target": f"Online Retail, LightGBM + CatBoost (CV + fit + SHAP {APP_SAMPLE:,} + drivers) < {limit:.0f} s",
                "measured": measured,
                "result": "PASS" if ok and total < limit else "FAIL",
            }
        )
    for r in rows:
        if r["data set"] != "Online Retail":
            shown = f"{r['total']:.2f} s" if r["total"] is not None else r["total s"]
            checks.append({"target": f"{r['data set']} {r['model']} total", "measured": shown, "result": "no target"})
    for c in checks:
        print(f"  {c['result']:<9} {c['target']}: {c['measured']}")
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="rows of the synthetic table (default 1M)")
    parser.add_argument("--base-customers", type=int, default=50_000, help="synthetic customers resampled (50,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-large", action="store_true", help="Online Retail only")
    parser.add_argument("--online-retail", type=Path, default=ONLINE_RETAIL, help="path of online_retail.csv.gz")
    parser.add_argument("--n-jobs", type=int, default=2, help="threads of LightGBM/CatBoost (default 2)")
    parser.add_argument(
        "--large-samples", default="2000,10000", help="SHAP sample sizes on the synthetic table (default 2000,10000)"
    )
    parser.add_argument(
        "--large-cv-rows",
        type=int,
        default=100_000,
        help="fidelity CV on a stratified sample of this many synthetic customers; 0: every row (the library's path)",
    )
    parser.add_argument("--timeout", type=float, default=2400.0, help="seconds per run before it is killed")
    parser.add_argument("--regenerate", action="store_true", help="build the synthetic table again even if cached")
    parser.add_argument("--json", type=Path, default=OUT / "bench_explain.json", help="where to save all figures")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    if not args.online_retail.exists():
        raise SystemExit(f"{args.online_retail} not found (pass --online-retail PATH)")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    facts = machine_facts(
        PACKAGES,
        {
            "threads": f"OPENBLAS_NUM_THREADS=1; surrogates n_jobs/thread_count={args.n_jobs}, OMP_NUM_THREADS unset; "
            "segmentation OMP_NUM_THREADS=1",
            "gpu": "not used (CPU paths only)",
        },
    )
    print("== Benchmark: segment explanations (surrogates, SHAP, drivers) ==")
    for key, value in facts.items():
        print(f"  {key:<21} {value}")
    print("  note: timings are wall-clock on a machine shared with other work, so they are noisy")
    print()
    large_samples = [int(x) for x in args.large_samples.split(",") if x.strip()]
    rows, runs, preps, agreements, build = [], {}, {}, {}, None
    with tempfile.TemporaryDirectory(prefix="bench_explain_") as tmp_name:
        tmp = Path(tmp_name)
        print("== Online Retail ==")
        retail_table = tmp / "online_retail.parquet"
        prep = run_child(
            {"kind": "retail-prep", "path": str(args.online_retail), "out": str(retail_table)}, 600, omp1=True
        )
        print_prep("Online Retail", prep)
        preps["Online Retail"] = prep
        retail_runs, agreements["Online Retail"] = run_explanations(
            args, "Online Retail", retail_table, [APP_SAMPLE], 0, tmp
        )
        runs["Online Retail"] = retail_runs
        rows += [explain_row("Online Retail", r, [APP_SAMPLE]) for r in retail_runs]
        print()
        if not args.skip_large:
            label = f"Synthetic {args.customers:,}"
            print(f"== {label} ==")
            table_path, build = prepare_large(args)
            labelled = tmp / "synthetic.parquet"
            prep = run_child({"kind": "large-prep", "table": str(table_path), "out": str(labelled)}, 1800, omp1=True)
            print_prep(label, prep)
            prep["same_columns_as_online_retail"] = prep["column_names"] == preps["Online Retail"]["column_names"]
            if not prep["same_columns_as_online_retail"]:
                print(f"  WARNING: the synthetic table's columns differ from Online Retail's: {prep['column_names']}")
            preps[label] = prep
            large_runs, agreements[label] = run_explanations(
                args, label, labelled, large_samples, args.large_cv_rows, tmp
            )
            runs[label] = large_runs
            rows += [explain_row(label, r, large_samples) for r in large_runs]
            print()
    print("== Results (seconds without imports; total = inputs + fidelity CV + final fit + SHAP 2,000 + drivers) ==")
    table = print_table(rows)
    print()
    print("== Targets ==")
    checks = targets(rows)
    print()
    print(f"whole benchmark: {time.perf_counter() - started:.0f} s")
    save_figures(
        args.json,
        {
            "machine": facts,
            "synthetic_build": build,
            "preparation": preps,
            "runs": runs,
            "agreement": agreements,
            "table": table,
            "targets": checks,
        },
    )
    if any(r["total"] is None for r in rows):
        raise SystemExit("a run failed or timed out")


if __name__ == "__main__":
    main()
