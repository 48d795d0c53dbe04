"""Benchmark: the 29 customer features on DuckDB (embedded) and on Spark ``local[2]``, same input, same query.

Run from the repository root::

    .venv/bin/python bench/bench_spark.py                      # 1M generated line items
    .venv/bin/python bench/bench_spark.py --lines 1000000 10000000

The input is generated (``segmentation/synthetic.py``, about 65 lines per customer), cleaned once with the
DuckDB ingest and written as Parquet under ``bench/out/`` (git-ignored, reused). Each engine then runs in a fresh
Python process: read the clean Parquet, compute every feature (``feature_sql`` for its dialect), write the
feature table as Parquet. Wall time is the work alone (imports and the JVM start are reported apart); peak RSS is
the Python process's ``VmHWM`` and, for Spark, the driver JVM's (``local[2]``: the executors are threads of it),
with ``spark.driver.memory`` 2g.
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


def clean_parquet(lines: int) -> Path:
    """Clean transactions of about ``lines`` generated line items, written once."""
    path = OUT / f"spark_bench_clean_{lines}.parquet"
    if path.exists():
        return path
    job = {"kind": "generate", "lines": lines, "path": str(path)}
    result = spawn(Path(__file__), job, TIMEOUT, child_env({}))
    if "failed" in result or result.get("timed_out"):
        raise SystemExit(f"generating {lines:,} lines failed: {result}")
    return path


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def generate(job: dict[str, Any]) -> dict[str, Any]:
    import tempfile

    import pyarrow.parquet as pq

    from segmentation.pipeline import load_transactions
    from segmentation.synthetic import SyntheticSpec, write_sample

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "lines.csv"
        written = write_sample(csv, SyntheticSpec(n_customers=max(job["lines"] // LINES_PER_CUSTOMER, 1)))
        clean = load_transactions(csv).transactions
    pq.write_table(clean, job["path"])
    return {"lines": written, "clean_rows": clean.num_rows}


def run_duckdb(job: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    import pyarrow.parquet as pq

    from segmentation.features import compute_features

    imported = time.perf_counter()
    table = pq.read_table(job["input"])
    features = compute_features(table)
    features.reset_index().to_parquet(job["output"])
    done = time.perf_counter()
    return {"customers": len(features), "import_seconds": imported - start, "seconds": done - imported}


def run_spark(job: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    from segmentation.spark import compute_features_spark, spark_session

    spark = spark_session("local[2]")
    started = time.perf_counter()
    features = compute_features_spark(spark.read.parquet(job["input"]))
    features.frame.write.mode("overwrite").parquet(job["output"])
    done = time.perf_counter()
    customers = spark.read.parquet(job["output"]).count()
    jvm = vm_hwm_gib(spark.sparkContext._gateway.proc.pid)
    partitions = spark.read.parquet(job["input"]).rdd.getNumPartitions()
    spark.stop()
    return {
        "customers": customers,
        "import_seconds": started - start,
        "seconds": done - started,
        "jvm_peak_rss_gib": jvm,
        "input_partitions": partitions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=OUT / "bench_spark.json")
    args = parser.parse_args()
    rows = []
    for lines in args.lines:
        source = clean_parquet(lines)
        for engine in ("duckdb", "spark"):
            job = {"kind": engine, "input": str(source), "output": str(OUT / f"spark_bench_features_{engine}")}
            result = spawn(Path(__file__), job, TIMEOUT, child_env({}))
            result.update(engine=engine, lines=lines, clean_rows=_rows(source))
            rows.append(result)
            print(json.dumps(result), flush=True)
    facts = machine_facts(["duckdb", "pyspark", "pyarrow"], {"spark.driver.memory": "2g", "master": "local[2]"})
    args.out.write_text(json.dumps({"machine": facts, "runs": rows}, indent=2))
    print(f"written {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        job = json.loads(sys.argv[sys.argv.index("--child") + 1])
        result = {"generate": generate, "duckdb": run_duckdb, "spark": run_spark}[job["kind"]](job)
        write_child_result(sys.argv[sys.argv.index("--result") + 1], result)
    else:
        main()
