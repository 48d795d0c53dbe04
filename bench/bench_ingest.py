"""Benchmark: ingest, cleaning and features (ours) against the same work written in plain pandas.

Run from the repository root::

    .venv/bin/python bench/bench_ingest.py                 # Online Retail + ~10M-line synthetic file
    .venv/bin/python bench/bench_ingest.py --skip-large    # Online Retail only (a few seconds)
    .venv/bin/python bench/bench_ingest.py --rows 2000000  # a smaller synthetic file

For each data set two implementations run, each in a fresh Python process (so the peak RSS of one run is
not inflated by another):

- ``ours``: ``load_transactions`` (format sniffing, column mapping, validation, cleaning report) +
  ``compute_features`` (every feature, DuckDB SQL) + ``rfm_table`` (RFM scores and named segments);
- ``baseline``: the equal-work pandas baseline of ``bench/pandas_reference.py``: ``pd.read_csv`` with the columns
  and date format given, the unreadable dates, quantities and prices counted, the library's whole cleaning policy
  (the same counts per reason), the same 29 features, and the same ``rfm_table``. The run checks that both find
  the same customers and the same cleaning counts.

Timings are wall-clock seconds of the work itself: interpreter start-up and imports are measured
separately and left out. Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` of the child process, which
includes the imports. The synthetic file is written once under ``bench/out/`` (git-ignored) and reused;
it is regenerated when the spec or ``segmentation/synthetic.py`` changes.
"""

from __future__ import annotations

import os

# Before numpy is imported anywhere (parent and children inherit it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime as dt
import hashlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    ONLINE_RETAIL,
    OUT,
    ROOT,
    child_env,
    machine_facts,
    peak_rss_gib,
    save_figures,
    spawn,
    write_child_result,
)

SYNTHETIC_SOURCE = ROOT / "segmentation" / "synthetic.py"
CALIBRATION_CUSTOMERS = 20_000
PROFILE_TOP = 8

TARGETS = {
    "online_retail_seconds": 1.5,
    "large_seconds": 30.0,
    "large_peak_rss_gib": 4.0,
    "large_speedup": 3.0,
}

LOAD_STEPS = {"reading": "read+sniff", "mapping": "map+parse+validate", "cleaning": "clean"}
"""The progress messages of ``load_transactions`` (first word) -> the step that starts there."""
PACKAGES = ["duckdb", "pandas", "pyarrow", "numpy"]
"""Distributions whose versions go into the machine facts."""


# --------------------------------------------------------------------------------------------------------
# Child side: one (data set, implementation) run in a fresh process.
# --------------------------------------------------------------------------------------------------------


class PhaseClock:
    """Wall time, CPU time (user and system, all threads) and peak RSS at the end of each named phase."""

    def __init__(self) -> None:
        self.phases: list[dict[str, Any]] = []
        self.last = time.perf_counter()
        self.last_cpu = os.times()

    def done(self, name: str) -> None:
        now, cpu = time.perf_counter(), os.times()
        self.phases.append(
            {
                "phase": name,
                "seconds": now - self.last,
                "cpu_user": cpu.user - self.last_cpu.user,
                "cpu_system": cpu.system - self.last_cpu.system,
                "peak_rss_gib": peak_rss_gib(),
            }
        )
        self.last, self.last_cpu = now, cpu


def trace_duckdb(log: list[dict[str, Any]]) -> None:
    """``--profile``: time every DuckDB statement the library runs, with the library line that ran it.

    ``duckdb.connect`` is wrapped so that ``execute`` (eager) and the materialising calls on relations
    (``arrow``, ``df``, ``fetchall``) are timed; the library itself is not changed.
    """
    import duckdb

    connect = duckdb.connect

    def caller() -> str:
        frame = sys._getframe(2)
        while frame and f"{os.sep}segmentation{os.sep}" not in frame.f_code.co_filename:
            frame = frame.f_back
        if frame is None:
            return "?"
        return f"{frame.f_code.co_filename.split(os.sep + 'segmentation' + os.sep)[-1]}:{frame.f_lineno} {frame.f_code.co_name}"

    def record(start: float, where: str, call: str, sql: str) -> None:
        log.append(
            {
                "seconds": time.perf_counter() - start,
                "where": where,
                "call": call,
                "sql": " ".join(sql.split())[:160],
                "peak_rss_gib": peak_rss_gib(),
            }
        )

    class Relation:
        def __init__(self, relation: Any, sql: str, where: str) -> None:
            self._relation, self._sql, self._where = relation, sql, where

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self._relation, name)
            if name not in ("arrow", "df", "fetchall", "fetchone", "fetchdf", "pl"):
                return attr

            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                out = attr(*args, **kwargs)
                if hasattr(out, "read_all"):  # a RecordBatchReader: the work happens when it is read
                    out = out.read_all()
                record(start, self._where, name, self._sql)
                return out

            return timed

    class Connection:
        def __init__(self, con: Any) -> None:
            self._con = con

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

        def execute(self, sql: str, *args: Any, **kwargs: Any) -> Relation:
            where, start = caller(), time.perf_counter()
            result = self._con.execute(sql, *args, **kwargs)
            record(start, where, "execute", sql)
            return Relation(result, sql, where)

        def sql(self, sql: str, *args: Any, **kwargs: Any) -> Relation:
            return Relation(self._con.sql(sql, *args, **kwargs), sql, caller())

    duckdb.connect = lambda *args, **kwargs: Connection(connect(*args, **kwargs))


def run_ours(path: Path, profile: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    statements: list[dict[str, Any]] = []
    if profile:
        trace_duckdb(statements)
    from segmentation.config import FeatureConfig
    from segmentation.features import compute_features, rfm_table
    from segmentation.pipeline import load_transactions

    imports = time.perf_counter() - t0
    clock = PhaseClock()
    # load_transactions reports progress at the start of each of its steps: use it to split the load.
    marks: list[tuple[str, float, float]] = []

    def mark(_fraction: float, message: str) -> None:
        cpu = os.times()
        marks.append((message, time.perf_counter(), cpu.user + cpu.system))

    result = load_transactions(path, progress=mark)
    clock.done("load_transactions")
    features = compute_features(result.transactions, FeatureConfig(as_of=None))
    clock.done("compute_features")
    rfm = rfm_table(features)
    clock.done("rfm_table")
    load_steps = []
    for (message, start, cpu_start), (_, end, cpu_end) in itertools.pairwise(marks):
        step = message.split(" ")[0]
        load_steps.append({"step": LOAD_STEPS.get(step, step), "seconds": end - start, "cpu": cpu_end - cpu_start})
    return {
        "imports_seconds": imports,
        "phases": clock.phases,
        "load_steps": load_steps,
        "rows": result.cleaning.rows_in,
        "rows_kept": result.cleaning.rows_kept,
        "cleaning_counts": result.cleaning.counts,
        "customers": len(rfm),
        "n_features": features.shape[1],
        "segments": rfm["rfm_segment"].value_counts().to_dict(),
        "statements": statements,
    }


def run_baseline(path: Path, dataset: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    import pandas_reference as reference

    from segmentation.features import rfm_table

    imports = time.perf_counter() - t0
    clock = PhaseClock()
    # the source columns and date format are given to the baseline (ours sniffs and infers them)
    source = {"online_retail": reference.ONLINE_RETAIL, "synthetic": reference.SYNTHETIC}[dataset]
    frame = reference.read(path, source)
    rows = len(frame)
    clock.done("read+parse+validate")
    kept, counts = reference.clean(frame)
    del frame
    clock.done("clean")
    features = reference.features(kept)
    clock.done("features")
    rfm = rfm_table(features)
    clock.done("rfm")
    return {
        "imports_seconds": imports,
        "phases": clock.phases,
        "load_steps": [],
        "rows": rows,
        "rows_kept": len(kept),
        "cleaning_counts": counts,
        "customers": len(rfm),
        "n_features": features.shape[1],
    }


def run_generate(path: Path, rows: int, seed: int) -> dict[str, Any]:
    """Scale the number of customers from a small spec, write the file; rescale and write once more when the
    line count is more than 1% off (lines per customer vary a little between blocks of customers)."""
    from segmentation.synthetic import SyntheticSpec, write_sample

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        lines = write_sample(Path(tmp) / "calibration.csv", SyntheticSpec(n_customers=CALIBRATION_CUSTOMERS, seed=seed))
        calibration_seconds = time.perf_counter() - t0
    per_customer = lines / CALIBRATION_CUSTOMERS
    partial = path.with_suffix(".partial")
    attempts = []
    for _ in range(2):
        customers = max(1, round(rows / per_customer))
        t0 = time.perf_counter()
        n_lines = write_sample(partial, SyntheticSpec(n_customers=customers, seed=seed))
        seconds = time.perf_counter() - t0
        attempts.append({"customers": customers, "lines": n_lines, "seconds": seconds})
        if abs(n_lines - rows) <= 0.01 * rows:
            break
        per_customer = n_lines / customers
    partial.replace(path)
    return {
        "customers": customers,
        "lines": n_lines,
        "seconds": seconds,
        "attempts": attempts,
        "calibration_lines_per_customer": lines / CALIBRATION_CUSTOMERS,
        "calibration_seconds": calibration_seconds,
        "bytes": path.stat().st_size,
        "peak_rss_gib": peak_rss_gib(),
    }


def child_main(args: argparse.Namespace) -> None:
    job = json.loads(args.child)
    kind, path = job["kind"], Path(job["path"])
    if kind == "ours":
        result = run_ours(path, job.get("profile", False))
    elif kind == "baseline":
        result = run_baseline(path, job["dataset"])
    elif kind == "generate":
        result = run_generate(path, job["rows"], job["seed"])
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    write_child_result(args.result, result)


# --------------------------------------------------------------------------------------------------------
# Parent side: machine facts, the synthetic file, the runs, the table and the targets.
# --------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    dataset: str
    label: str
    impl: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(sum(p["seconds"] for p in r["phases"]) for r in self.results)

    @property
    def all_seconds(self) -> list[float]:
        return [sum(p["seconds"] for p in r["phases"]) for r in self.results]

    @property
    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU seconds of the median run by wall time."""
        run = sorted(self.results, key=lambda r: sum(p["seconds"] for p in r["phases"]))[len(self.results) // 2]
        return sum(p["cpu_user"] for p in run["phases"]), sum(p["cpu_system"] for p in run["phases"])

    @property
    def load(self) -> str:
        """The 1-minute load average before/after each run."""
        return ", ".join("/".join(f"{x:.1f}" for x in r["load_average_1min"]) for r in self.results)

    @property
    def rows(self) -> int:
        return self.results[0]["rows"]

    @property
    def peak_rss_gib(self) -> float:
        return max(r["peak_rss_gib"] for r in self.results)

    @property
    def customers(self) -> int:
        return self.results[0]["customers"]


def run_child(job: dict[str, Any], timeout: float = 3600) -> tuple[dict[str, Any], list[float]]:
    """Run this script as a child doing ``job`` (see ``child_main``); return what it wrote and the 1-minute load
    average before and after. A child that fails or runs past ``timeout`` stops the benchmark."""
    result = spawn(Path(__file__), job, timeout, child_env({"OPENBLAS_NUM_THREADS": "1"}))
    what = f"child run {job['kind']} on {job['dataset']}"
    if result.get("timed_out"):
        raise SystemExit(f"{what} timed out after {result['wall_seconds']:.0f} s")
    if "failed" in result:
        raise SystemExit(f"{what} failed with {result['failed']}")
    del result["wall_seconds"]
    return result, [round(result.pop("load_before"), 2), round(result.pop("load_after"), 2)]


def synthetic_file(rows: int, seed: int, regenerate: bool) -> tuple[Path, dict[str, Any]]:
    """The cached synthetic file for (rows, seed, generator source), generated when missing."""
    source_hash = hashlib.sha256(SYNTHETIC_SOURCE.read_bytes()).hexdigest()[:12]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"synthetic_{rows}_seed{seed}.csv"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not regenerate:
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_sha256") == source_hash and meta.get("bytes") == path.stat().st_size:
            meta["cached"] = True
            return path, meta
        print(f"  {path.name}: generator or file changed since it was written; generating it again")
    print(f"  generating {path.relative_to(ROOT)} (~{rows:,} lines, seed {seed}) ...", flush=True)
    meta, _ = run_child({"kind": "generate", "dataset": "synthetic", "path": str(path), "rows": rows, "seed": seed})
    meta.update(generator_sha256=source_hash, rows_requested=rows, seed=seed, generated=dt.datetime.now().isoformat())
    meta_path.write_text(json.dumps(meta, indent=2))
    meta["cached"] = False
    return path, meta


def count_lines(path: Path) -> int:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1


def fmt_phases(result: dict[str, Any]) -> str:
    parts = [f"{p['phase']} {p['seconds']:.2f}s" for p in result["phases"]]
    text = ", ".join(parts)
    if result.get("load_steps"):
        text += (
            "  [load: "
            + ", ".join(f"{s['step']} {s['seconds']:.2f}s (CPU {s['cpu']:.2f}s)" for s in result["load_steps"])
            + "]"
        )
    return text


def print_table(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    by_dataset: dict[str, dict[str, Run]] = {}
    for run in runs:
        by_dataset.setdefault(run.dataset, {})[run.impl] = run
    for run in runs:
        ours = by_dataset[run.dataset].get("ours")
        ratio = run.seconds / ours.seconds if ours and run.impl == "baseline" else None
        rows.append(
            {
                "data set": run.label,
                "implementation": run.impl,
                "rows": f"{run.rows:,}",
                "seconds": f"{run.seconds:.2f}",
                "CPU user+sys s": "{:.1f}+{:.1f}".format(*run.cpu_seconds),
                "load before/after": run.load,
                "rows/s": f"{run.rows / run.seconds:,.0f}",
                "peak RSS GiB": f"{run.peak_rss_gib:.2f}",
                "customers": f"{run.customers:,}",
                "baseline/ours": f"{ratio:.2f}x" if ratio else "",
            }
        )
    headers = list(rows[0])
    widths = {h: max(len(h), *(len(r[h]) for r in rows)) for h in headers}
    numeric = {"rows", "seconds", "CPU user+sys s", "rows/s", "peak RSS GiB", "customers", "baseline/ours"}

    def line(values: dict[str, str]) -> str:
        return (
            "| "
            + " | ".join(values[h].rjust(widths[h]) if h in numeric else values[h].ljust(widths[h]) for h in headers)
            + " |"
        )

    print(line({h: h for h in headers}))
    print("| " + " | ".join(("-" * (widths[h] - 1) + ":") if h in numeric else "-" * widths[h] for h in headers) + " |")
    for r in rows:
        print(line(r))
    return rows


def check_targets(runs: list[Run]) -> list[dict[str, Any]]:
    get = {(r.dataset, r.impl): r for r in runs}
    checks = []

    def add(name: str, measured: str, passed: bool) -> None:
        checks.append({"target": name, "measured": measured, "result": "PASS" if passed else "FAIL"})

    if ("online_retail", "ours") in get:
        s = get[("online_retail", "ours")].seconds
        add(
            f"Online Retail end to end < {TARGETS['online_retail_seconds']:.1f} s",
            f"{s:.2f} s",
            s < TARGETS["online_retail_seconds"],
        )
    if ("synthetic", "ours") in get:
        ours = get[("synthetic", "ours")]
        n = f"{ours.rows / 1e6:.1f}M rows"
        add(
            f"{n} end to end < {TARGETS['large_seconds']:.0f} s",
            f"{ours.seconds:.2f} s",
            ours.seconds < TARGETS["large_seconds"],
        )
        add(
            f"{n} peak RSS < {TARGETS['large_peak_rss_gib']:.0f} GiB",
            f"{ours.peak_rss_gib:.2f} GiB",
            ours.peak_rss_gib < TARGETS["large_peak_rss_gib"],
        )
        if ("synthetic", "baseline") in get:
            ratio = get[("synthetic", "baseline")].seconds / ours.seconds
            add(
                f"{n} >= {TARGETS['large_speedup']:.0f}x faster than the equal-work pandas baseline",
                f"{ratio:.2f}x",
                ratio >= TARGETS["large_speedup"],
            )
    width = max(len(c["target"]) for c in checks)
    for c in checks:
        print(f"  {c['result']}  {c['target'].ljust(width)}  measured {c['measured']}")
    return checks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="lines of the synthetic file (default 10M)")
    parser.add_argument("--skip-large", action="store_true", help="run on Online Retail only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic file (default 0)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per (data set, implementation); median is shown")
    parser.add_argument("--regenerate", action="store_true", help="write the synthetic file again even if cached")
    parser.add_argument("--online-retail", type=Path, default=ONLINE_RETAIL, help="path of online_retail.csv.gz")
    parser.add_argument("--json", type=Path, default=OUT / "bench_ingest.json", help="where to save all figures")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time every DuckDB statement of ours and print the slowest (adds a little overhead)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
        return

    started = time.perf_counter()
    facts = machine_facts(PACKAGES, {"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")})
    print("== Benchmark: ingest, cleaning and features vs the equal-work pandas baseline ==")
    for key, value in facts.items():
        print(f"  {key:<21} {value}")
    print("  note: timings are wall-clock on a machine shared with other work, so they are noisy")
    print()

    datasets: list[tuple[str, str, Path]] = []
    generation = None
    if not args.online_retail.exists():
        raise SystemExit(f"{args.online_retail} not found (pass --online-retail PATH)")
    datasets.append(("online_retail", "Online Retail (UCI)", args.online_retail))
    if not args.skip_large:
        print("== Synthetic data set ==")
        path, generation = synthetic_file(args.rows, args.seed, args.regenerate)
        state = "cached; generated earlier in" if generation["cached"] else "generated in"
        print(
            f"  {path.relative_to(ROOT)}: {generation['lines']:,} lines, {generation['customers']:,} customers, "
            f"{generation['bytes'] / 1e9:.2f} GB; {state} {generation['seconds']:.1f} s "
            f"({generation['lines'] / generation['seconds']:,.0f} lines/s, peak RSS {generation['peak_rss_gib']:.2f} GiB; "
            f"calibration {generation['calibration_lines_per_customer']:.1f} lines/customer)"
        )
        if len(generation.get("attempts", [])) > 1:
            print(
                "  (written twice to get near the requested line count: "
                + ", ".join(
                    f"{a['customers']:,} customers -> {a['lines']:,} lines in {a['seconds']:.1f} s"
                    for a in generation["attempts"]
                )
                + ")"
            )
        print()
        datasets.append(("synthetic", f"synthetic {generation['lines'] / 1e6:.1f}M", path))

    print("== Runs (each in a fresh process) ==")
    runs: list[Run] = []
    for dataset, label, path in datasets:
        for impl in ("ours", "baseline"):
            run = Run(dataset, label, impl)
            for i in range(args.repeat):
                job = {"kind": impl, "dataset": dataset, "path": str(path), "profile": args.profile and impl == "ours"}
                result, load = run_child(job)
                result["load_average_1min"] = load
                run.results.append(result)
                total = sum(p["seconds"] for p in result["phases"])
                user, system = (sum(p[key] for p in result["phases"]) for key in ("cpu_user", "cpu_system"))
                print(
                    f"  {label} / {impl}{f' #{i + 1}' if args.repeat > 1 else ''}: {total:.2f}s total "
                    f"(CPU {user:.2f}s user + {system:.2f}s system); "
                    f"{fmt_phases(result)}; imports {result['imports_seconds']:.2f}s (not counted); "
                    f"peak RSS {result['peak_rss_gib']:.2f} GiB; {result['rows']:,} rows in, "
                    f"{result['rows_kept']:,} kept, {result['customers']:,} customers",
                    flush=True,
                )
                print(f"      1-min load average before/after: {result['load_average_1min']}")
                if result.get("cleaning_counts"):
                    print(f"      cleaning report: {result['cleaning_counts']}")
                if result.get("statements"):
                    print("      slowest DuckDB statements (seconds, peak RSS GiB so far, library line, SQL):")
                    for st in sorted(result["statements"], key=lambda x: -x["seconds"])[:PROFILE_TOP]:
                        print(
                            f"      {st['seconds']:7.2f}s {st['peak_rss_gib']:5.2f} {st['where']} .{st['call']}: {st['sql'][:90]}"
                        )
            runs.append(run)

    print()
    print("== Same work (sanity check): customers and cleaning counts ==")
    sane = True
    for dataset, label, _ in datasets:
        ours = next(r for r in runs if r.dataset == dataset and r.impl == "ours")
        base = next(r for r in runs if r.dataset == dataset and r.impl == "baseline")
        same = ours.customers == base.customers and all(
            o["cleaning_counts"] == b["cleaning_counts"] for o in ours.results for b in base.results
        )
        sane &= same
        print(
            f"  {label}: customers ours {ours.customers:,}, baseline {base.customers:,}; cleaning counts "
            f"{'equal' if same else 'DIFFER'}: {ours.results[0]['cleaning_counts']}"
        )

    print()
    print("== Results (seconds: end to end without interpreter start-up and imports; median of runs) ==")
    table = print_table(runs)
    if args.repeat > 1:
        for run in runs:
            print(f"  {run.label} / {run.impl}: runs {', '.join(f'{s:.2f}' for s in run.all_seconds)} s")
    print()
    print("== Targets ==")
    checks = check_targets(runs)
    print()
    print(f"whole benchmark: {time.perf_counter() - started:.0f} s")

    save_figures(
        args.json,
        {
            "machine": facts,
            "generation": generation,
            "runs": [{"dataset": r.dataset, "label": r.label, "impl": r.impl, "results": r.results} for r in runs],
            "table": table,
            "targets": checks,
            "customers_consistent": sane,
        },
    )
    if not sane:
        raise SystemExit("the two implementations disagree on the customers or the cleaning counts")


if __name__ == "__main__":
    main()
