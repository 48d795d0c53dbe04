"""Benchmark: ingest and the 29 customer features on DuckDB (embedded) and on Spark ``local[2]``, same input.

Run from the repository root::

    .venv/bin/python bench/bench_spark.py                      # features, 1M generated line items
    .venv/bin/python bench/bench_spark.py --lines 1000000 10000000
    .venv/bin/python bench/bench_spark.py --step ingest        # CSV -> parsed, validated, clean Parquet
    .venv/bin/python bench/bench_spark.py --step downstream --lines 10000000   # segments, SHAP, lists (Spark)
    .venv/bin/python bench/bench_spark.py --step als --lines 1000000 3000000   # MLlib ALS fit (Spark)

The input is generated (``segmentation/synthetic.py``, about 65 lines per customer) and kept under
``bench/out/`` (git-ignored, reused): as CSV for ``--step ingest``, cleaned once with the DuckDB ingest and
written as Parquet for ``--step features``. Each engine then runs in a fresh Python process: read, do the step
(the same rules and the same ``feature_sql`` text on both engines), write Parquet. Wall time is the work alone
(imports and the JVM start are reported apart); peak RSS is the Python process's ``VmHWM`` and, for Spark, the
driver JVM's (``local[2]``: the executors are threads of it, with ``spark.driver.memory`` 2g) and the largest of
the Python workers it started (ingest parses and cleans in them).

Per-partition cost comes from Spark's own event log (written to a temporary folder and read back): every task's
executor run time and CPU time, by stage. Their sum (task-seconds) is the work a cluster would spread over its
cores; :func:`cluster_estimate` turns the task-seconds per row into the cores (and 4-core executors) that would
process ``--target-lines`` in ``--target-seconds`` (``--estimate FILE`` recomputes it from a saved result).
The equal-work pandas baseline (same cleaning, same 29 features) is ``bench/bench_ingest.py``.

``--step downstream`` runs the steps after the features on Spark alone, on every customer of the generated lines
(their features computed once with DuckDB): MLlib K-Means (6 segments, 4 seeds), the explanations (surrogate on
the driver, SHAP on the executors) and the top-10 lists of a driver-fitted ALS scored on the executors. Each step's
tasks are told apart by their job description; the driver's own seconds (collecting, fitting) are reported apart.

``--step als`` fits MLlib's ALS (``segmentation.spark.recommend.fit_mllib_als``, its defaults: 64 factors, 15
iterations) on the (customer, product) order counts of the clean lines, built on Spark: the factorisation a run
takes above ``DRIVER_MAX_LINES`` purchase lines; its task-seconds per million pairs scale to a cluster.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from common import OUT, ROOT, child_env, machine_facts, spawn, vm_hwm_gib, write_child_result

LINES_PER_CUSTOMER = 65
"""About what the synthetic generator draws per customer (196,818 lines for 3,000 customers)."""
TIMEOUT = 3600
"""Seconds one child may take per 10M lines (Spark's features took 500 s at 10M, ingest 160 s at 1M)."""
PART_LINES = 10_000_000
"""Above this many generated lines the clean input is made in parts of whole customers: the DuckDB ingest holds a
file in memory (3.4 GiB at 10M lines), the features then read the Parquet folder from disk."""
ROWS_PER_SHUFFLE_PARTITION = 2_000_000
"""Spark's shuffle partitions grow with the rows (4 at 10M, as measured there), so a task's work stays comparable."""


def clean_parquet(lines: int) -> Path:
    """Clean transactions of about ``lines`` generated line items, written once: the features step's input."""
    return _generated(OUT / f"spark_bench_clean_{lines}.parquet", "generate", lines)


def lines_csv(lines: int) -> Path:
    """The same generated line items as CSV, written once: the ingest step's input."""
    return _generated(OUT / f"spark_bench_lines_{lines}.csv", "write_csv", lines)


def customer_features(lines: int) -> Path:
    """The 29 features of every customer of the generated lines (DuckDB), written once: the downstream input."""
    return _generated(OUT / f"spark_bench_customers_{lines}.parquet", "customers", lines)


def _generated(path: Path, kind: str, lines: int) -> Path:
    if not path.exists():
        result = spawn(
            Path(__file__), {"kind": kind, "lines": lines, "path": str(path)}, _timeout(lines), child_env({})
        )
        if "failed" in result or result.get("timed_out"):
            raise SystemExit(f"generating {lines:,} lines failed: {result}")
        _made(path).write_text(json.dumps(result, indent=2))
    return path


def _made(path: Path) -> Path:
    """Where what generating ``path`` measured is kept (the ingest of the parts)."""
    return path.with_name(path.name + ".json")


def _timeout(lines: int) -> float:
    return TIMEOUT * max(1.0, lines / 10_000_000)


def _rows(path: Path) -> int:
    """Rows of a Parquet file or folder, from the metadata."""
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet").count_rows()


def generate(job: dict[str, Any]) -> dict[str, Any]:
    """Clean Parquet of the generated lines: one file, or above ``PART_LINES`` a folder of parts of whole customers,
    each cleaned alone by the DuckDB ingest (its seconds and peak memory kept: the ingest of the whole, in parts)."""
    import tempfile

    import pyarrow.parquet as pq

    from segmentation.pipeline import load_transactions
    from segmentation.synthetic import SyntheticSpec, write_parts

    spec = SyntheticSpec(n_customers=max(job["lines"] // LINES_PER_CUSTOMER, 1))
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        parts = write_parts(tmp, spec, PART_LINES)
        if len(parts) > 1:
            Path(job["path"]).mkdir()
        lines, clean_rows, seconds = 0, 0, []
        for index, part in enumerate(parts):
            started = time.perf_counter()
            result = load_transactions(part)
            seconds.append(time.perf_counter() - started)
            clean = result.transactions
            lines, clean_rows = lines + result.cleaning.rows_in, clean_rows + clean.num_rows
            pq.write_table(clean, Path(job["path"]) / f"part-{index:05d}.parquet" if len(parts) > 1 else job["path"])
            part.unlink()
    # the outlier threshold (a quantile of every row) is each part's own: the only rule the parts can change
    return {
        "lines": lines,
        "clean_rows": clean_rows,
        "parts": len(parts),
        "ingest_seconds": seconds,
        "peak_rss_gib": vm_hwm_gib(os.getpid()),
    }


def customers(job: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from segmentation.features import compute_features

    features = compute_features(pq.read_table(clean_parquet(job["lines"])))
    features.reset_index().to_parquet(job["path"])
    return {"customers": len(features)}


def write_csv(job: dict[str, Any]) -> dict[str, Any]:
    from segmentation.synthetic import SyntheticSpec, write_sample

    return {"lines": write_sample(job["path"], SyntheticSpec(n_customers=max(job["lines"] // LINES_PER_CUSTOMER, 1)))}


def run_duckdb(job: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    import pyarrow.parquet as pq

    from segmentation.features import compute_features
    from segmentation.pipeline import load_transactions

    imported = time.perf_counter()
    source = Path(job["input"])
    if job["step"] == "ingest":
        pq.write_table(load_transactions(source).transactions, job["output"])
    else:  # a folder of parts is read from disk as the query runs; a file is read into memory first
        compute_features(source if source.is_dir() else pq.read_table(source)).reset_index().to_parquet(job["output"])
    done = time.perf_counter()
    return {"rows_out": _rows(Path(job["output"])), "import_seconds": imported - start, "seconds": done - imported}


def run_spark(job: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    from segmentation.spark import compute_features_spark, load_transactions_spark, spark_session

    events, log = _event_log()
    shuffle = max(4, job["clean_rows"] // ROWS_PER_SHUFFLE_PARTITION)
    spark = spark_session("local[2]", {**log, "spark.sql.shuffle.partitions": str(shuffle)})
    started = time.perf_counter()
    if job["step"] == "ingest":
        result = load_transactions_spark(spark, job["input"]).transactions
    else:
        result = compute_features_spark(spark.read.parquet(job["input"])).frame
    result.write.mode("overwrite").parquet(job["output"])
    done = time.perf_counter()
    jvm_pid = spark.sparkContext._gateway.proc.pid
    jvm = vm_hwm_gib(jvm_pid)
    workers = max((vm_hwm_gib(pid) or 0.0 for pid in _descendants(jvm_pid)), default=None)
    partitions = spark.read.parquet(job["input"]).rdd.getNumPartitions() if job["step"] == "features" else None
    spark.stop()  # the event log is complete once the session stops
    return {
        "rows_out": _rows(Path(job["output"])),
        "import_seconds": started - start,
        "seconds": done - started,
        "jvm_peak_rss_gib": jvm,
        "python_worker_peak_rss_gib": workers,
        "input_partitions": partitions,
        "shuffle_partitions": shuffle,
        **task_costs(_event_files(events)),
    }


def run_downstream(job: dict[str, Any]) -> dict[str, Any]:
    """Segments, SHAP values and top-10 lists of every customer on Spark ``local[2]``; task costs per step."""
    import pandas as pd

    from recommenders.data import Interactions
    from recommenders.mf import ALSRecommender
    from segmentation.config import ClusteringConfig
    from segmentation.features import rfm_table
    from segmentation.spark import spark_session
    from segmentation.spark.clustering import segment_spark
    from segmentation.spark.explain import explain_spark
    from segmentation.spark.recommend import LINE_COLUMNS, recommend_spark

    events, log = _event_log()
    spark = spark_session("local[2]", log)
    out = Path(job["output"])
    features = spark.read.parquet(job["input"]).repartition("customer_id").cache()  # as a run: shuffle partitions
    frame = features.toPandas().set_index("customer_id")

    def step(name: str, table: Any = None) -> None:
        spark.sparkContext.setJobDescription(name)
        if table is not None:
            table.write.mode("overwrite").parquet(str(out / name))

    started = time.perf_counter()
    step("segment")
    config = ClusteringConfig("kmeans", {"n_clusters": 6})
    segments = segment_spark(features, frame, config, rfm_table(frame)["rfm_segment"]).assignments.cache()
    step("segment", segments)
    segmented = time.perf_counter()
    step("explain")
    step("explain", explain_spark(features, segments).values)
    explained = time.perf_counter()
    lines = pd.read_parquet(job["lines_input"], columns=list(LINE_COLUMNS))
    model = ALSRecommender().fit(Interactions.from_transactions(lines))
    del lines
    fitted = time.perf_counter()
    step("recommend")
    step("recommend", recommend_spark(features.select("customer_id"), model, 10))
    done = time.perf_counter()
    driver = {"segment": segmented - started, "explain": explained - segmented, "recommend_fit": fitted - explained}
    driver["recommend"] = done - fitted
    spark.stop()
    costs = task_costs(_event_files(events), by_description=True)
    return {"customers": len(frame), "step_wall_seconds": driver, **costs}


def run_als(job: dict[str, Any]) -> dict[str, Any]:
    """The purchase pairs of the clean lines and MLlib's ALS fitted on them, on Spark ``local[2]``; task costs."""
    from segmentation.spark import spark_session
    from segmentation.spark.recommend import fit_mllib_als, purchase_pairs

    events, log = _event_log()
    spark = spark_session("local[2]", log)
    started = time.perf_counter()
    spark.sparkContext.setJobDescription("pairs")
    pairs = purchase_pairs(spark.read.parquet(job["input"])).cache()
    n_pairs = pairs.count()
    paired = time.perf_counter()
    spark.sparkContext.setJobDescription("als")
    model = fit_mllib_als(pairs)
    customers = model.user_factors.count()
    done = time.perf_counter()
    jvm = vm_hwm_gib(spark.sparkContext._gateway.proc.pid)
    spark.stop()
    costs = task_costs(_event_files(events), by_description=True)
    wall = {"pairs": paired - started, "als_fit": done - paired}
    return {
        "pairs": n_pairs,
        "customers": customers,
        "products": len(model.items),
        "step_wall_seconds": wall,
        "jvm_peak_rss_gib": jvm,
        **costs,
    }


def _event_log() -> tuple[Path, dict[str, str]]:
    """A fresh folder for Spark's event log and the session options that write it there (uncompressed)."""
    import tempfile

    events = Path(tempfile.mkdtemp(prefix="spark-events-"))
    return events, {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": events.as_uri(),
        "spark.eventLog.compress": "false",
    }


def _event_files(events: Path) -> list[Path]:
    """The event log files Spark wrote under ``events`` (complete once its session stopped)."""
    return sorted(f for f in events.rglob("*") if f.is_file())


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (the JVM's Python daemon and its forked workers)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def task_costs(event_logs: list[Path], by_description: bool = False) -> dict[str, Any]:
    """Tasks, their summed executor run time and CPU time (task-seconds) and the median task time, from Spark's
    event log files (Spark 4 rolls them into a folder): the work the cluster estimate scales. ``by_description``
    adds the run time and CPU time of each job description's tasks (``steps``)."""
    import statistics

    stages: dict[int, list[float]] = {}
    described: dict[int, str] = {}
    steps: dict[str, dict[str, float]] = {}
    cpu = 0.0
    for lines in (path.read_text().splitlines() for path in event_logs):
        for line in lines:
            if '"SparkListenerJobStart"' in line:
                event = json.loads(line)
                name = (event.get("Properties") or {}).get("spark.job.description", "other")
                described.update(dict.fromkeys(event["Stage IDs"], name))
            if '"SparkListenerTaskEnd"' not in line:
                continue
            event = json.loads(line)
            metrics = event.get("Task Metrics") or {}
            run = metrics.get("Executor Run Time", 0) / 1000
            task_cpu = metrics.get("Executor CPU Time", 0) / 1e9
            stages.setdefault(event["Stage ID"], []).append(run)
            cpu += task_cpu
            totals = steps.setdefault(described.get(event["Stage ID"], "other"), {"task_seconds": 0.0, "cpu": 0.0})
            totals["task_seconds"] += run
            totals["cpu"] += task_cpu
    times = [t for stage in stages.values() for t in stage]
    return {
        **({"steps": steps} if by_description else {}),
        "stages": len(stages),
        "tasks": len(times),
        "task_seconds": sum(times),
        "task_cpu_seconds": cpu,
        "median_task_seconds": statistics.median(times) if times else None,
        "max_task_seconds": max(times, default=None),
        "stage_task_seconds": {str(s): round(sum(t), 2) for s, t in sorted(stages.items())},
        "stage_tasks": {str(s): len(t) for s, t in sorted(stages.items())},
    }


def cluster_estimate(
    run: dict[str, Any], target_lines: float, target_seconds: float, rows_per_task: float = 1e6
) -> dict[str, Any]:
    """Cores (and 4-core executors) that would spend ``run``'s task-seconds per clean row on ``target_lines``
    rows within ``target_seconds``.

    Assumptions: the work grows linearly with the rows; cluster cores are as fast as these; every task of every
    stage holds ``rows_per_task`` rows (1M: the shuffle partitions docs/scale.md recommends) and the stages run
    one after another, so the time no number of cores removes is one task per stage: the per-row cost times
    ``rows_per_task``. Two figures: from the tasks' run time (on this busy shared machine it includes waiting
    for a core: an upper bound) and from their CPU time (no waiting, no I/O: a lower bound).
    """
    out: dict[str, Any] = {"rows_per_task": rows_per_task}
    for basis, seconds in (("run_time", run["task_seconds"]), ("cpu_time", run["task_cpu_seconds"])):
        per_row = seconds / run["clean_rows"]
        critical_path = per_row * rows_per_task
        available = target_seconds - critical_path
        cores = per_row * target_lines / available if available > 0 else float("inf")
        out[basis] = {
            "task_seconds_per_million_rows": per_row * 1e6,
            "critical_path_seconds": critical_path,
            "cores": cores,
            "executors_4_cores": -(-cores // 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--step",
        choices=("features", "ingest", "downstream", "als"),
        default="features",
        help="features: clean Parquet -> 29 features; ingest: CSV -> parsed, validated, clean Parquet; "
        "downstream: every customer's segment, SHAP values and top-10 list on Spark; als: MLlib ALS fit",
    )
    parser.add_argument("--out", type=Path, default=OUT / "bench_spark.json")
    parser.add_argument("--target-lines", type=float, default=1e9, help="clean rows of the cluster estimate")
    parser.add_argument("--target-seconds", type=float, default=600, help="time allowed in the cluster estimate")
    parser.add_argument("--rows-per-task", type=float, default=1e6, help="rows of one task in the cluster estimate")
    parser.add_argument("--estimate", type=Path, help="print the cluster estimates of a saved result file; run nothing")
    args = parser.parse_args()
    if args.estimate:
        for run in json.loads(args.estimate.read_text())["runs"]:
            if "task_seconds" in run:
                estimate = cluster_estimate(run, args.target_lines, args.target_seconds, args.rows_per_task)
                print(json.dumps({"lines": run["lines"], **estimate}))
        return
    rows = []
    for lines in args.lines if args.step == "downstream" else ():
        output = str(OUT / "spark_bench_downstream")
        job = {"kind": "downstream", "input": str(customer_features(lines)), "lines_input": str(clean_parquet(lines))}
        result = spawn(Path(__file__), {**job, "output": output}, TIMEOUT, child_env({}))
        rows.append({**result, "step": "downstream", "lines": lines, "clean_rows": _rows(clean_parquet(lines))})
        print(json.dumps(rows[-1]), flush=True)
    for lines in args.lines if args.step == "als" else ():
        job = {"kind": "als", "input": str(clean_parquet(lines))}
        result = spawn(Path(__file__), job, TIMEOUT, child_env({}))
        rows.append({**result, "step": "als", "lines": lines, "clean_rows": _rows(clean_parquet(lines))})
        print(json.dumps(rows[-1]), flush=True)
    for lines in args.lines if args.step in ("features", "ingest") else ():
        clean = clean_parquet(lines)
        clean_rows = _rows(clean)
        source = lines_csv(lines) if args.step == "ingest" else clean
        for engine in ("duckdb", "spark"):
            output = str(OUT / f"spark_bench_{args.step}_{engine}")
            job = {
                "kind": engine,
                "step": args.step,
                "input": str(source),
                "output": output,
                "clean_rows": clean_rows,
            }
            result = spawn(Path(__file__), job, _timeout(lines), child_env({}))
            result.update(engine=engine, step=args.step, lines=lines, clean_rows=clean_rows)
            if _made(clean).exists():
                result["input_made"] = json.loads(_made(clean).read_text())
            if engine == "spark" and "task_seconds" in result:
                estimate = cluster_estimate(result, args.target_lines, args.target_seconds, args.rows_per_task)
                result["cluster_estimate"] = estimate
            rows.append(result)
            print(json.dumps(result), flush=True)
    facts = machine_facts(["duckdb", "pyspark", "pyarrow"], {"spark.driver.memory": "2g", "master": "local[2]"})
    args.out.write_text(json.dumps({"machine": facts, "runs": rows}, indent=2))
    print(f"written {args.out.resolve().relative_to(ROOT)}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        job = json.loads(sys.argv[sys.argv.index("--child") + 1])
        kinds = {"generate": generate, "write_csv": write_csv, "customers": customers, "duckdb": run_duckdb}
        kinds |= {"spark": run_spark, "downstream": run_downstream, "als": run_als}
        result = kinds[job["kind"]](job)
        write_child_result(sys.argv[sys.argv.index("--result") + 1], result)
    else:
        main()
