"""Benchmark: start-up of the ``segment`` command, against plain Python doing the same work.

    .venv/bin/python bench/bench_cli.py [--repeat 7]

Every case is a fresh process, timed from start to exit (wall) and by the CPU seconds it used (user + system),
median of ``--repeat`` runs after one warm-up run (which fills the OS file cache and Python's bytecode cache):

- ``python -c pass``: the interpreter alone, the floor of any command;
- ``segment --help``: the parser, every command's choices, no data;
- ``import pandas, pyarrow, duckdb; read_csv``: the libraries reading needs, and pandas reading the same file;
- ``segment validate FILE``: sniffing, mapping, validation and cleaning of a 200-row file.

Targets: ``segment --help`` under 1 s and ``segment validate`` of 200 rows under 2 s (wall, median).
``--before PATH`` also times both ``segment`` cases with the package of another checkout (e.g. a git worktree
of an earlier commit) first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, ROOT, child_env, machine_facts, save_figures

SAMPLE = ROOT / "data" / "sample_transactions.csv.gz"
TARGETS = {"segment --help": 1.0, "segment validate (200 rows)": 2.0}
"""Case -> the most wall seconds (median) it may take."""


def small_file(rows: int) -> Path:
    """The first ``rows`` lines of the sample transactions as a plain CSV in bench/out (written once)."""
    path = OUT / f"cli_{rows}_rows.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
            path.write_text("".join(line for _, line in zip(range(rows + 1), fh, strict=False)), encoding="utf-8")
    return path


def cases(data: Path, before: Path | None) -> dict[str, tuple[str, list[str], Path]]:
    """Case -> (its baseline case or "", the command line, the checkout on ``PYTHONPATH``)."""
    python, segment = sys.executable, str(Path(sys.executable).with_name("segment"))
    read = f"import pandas, pyarrow, duckdb; pandas.read_csv({str(data)!r})"
    found = {
        "python -c pass": ("", [python, "-c", "pass"], ROOT),
        "segment --help": ("python -c pass", [segment, "--help"], ROOT),
        "import pandas, pyarrow, duckdb; read_csv": ("", [python, "-c", read], ROOT),
        "segment validate (200 rows)": (
            "import pandas, pyarrow, duckdb; read_csv",
            [segment, "-q", "validate", str(data)],
            ROOT,
        ),
    }
    if before:
        for name in TARGETS:
            baseline, command, _ = found[name]
            found[f"{name}, --before"] = (baseline, command, before.resolve())
    return found


def time_once(command: list[str], checkout: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``; a failing command stops the benchmark."""
    env = {**child_env({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}), "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case; the table shows the median")
    parser.add_argument("--rows", type=int, default=200, help="data lines of the file `segment validate` reads")
    parser.add_argument("--before", type=Path, help="another checkout to time the segment cases with, too")
    parser.add_argument("--json", type=Path, default=OUT / "bench_cli.json")
    args = parser.parse_args()
    settings = {"repeat": args.repeat, "rows": args.rows, "before": str(args.before or "")}
    facts = machine_facts(["pandas", "pyarrow", "duckdb", "torch", "scikit-learn"], settings)
    for key, value in facts.items():
        print(f"{key}: {value}")
    results: dict[str, dict[str, float | str]] = {}
    for name, (baseline, command, checkout) in cases(small_file(args.rows), args.before).items():
        time_once(command, checkout)  # warm-up
        runs = [time_once(command, checkout) for _ in range(args.repeat)]
        results[name] = {
            "wall_s": statistics.median(w for w, _ in runs),
            "cpu_s": statistics.median(c for _, c in runs),
            "wall_max_s": max(w for w, _ in runs),
            "baseline": baseline,
        }
        if baseline:
            results[name]["ratio"] = results[name]["wall_s"] / results[baseline]["wall_s"]
    print(f"\n{'case':45} {'wall s':>7} {'cpu s':>7} {'max s':>7}  vs baseline")
    for name, r in results.items():
        ratio = f"{r['ratio']:.2f}x {r['baseline']}" if r["baseline"] else ""
        print(f"{name:45} {r['wall_s']:7.3f} {r['cpu_s']:7.3f} {r['wall_max_s']:7.3f}  {ratio}")
    print()
    verdicts = {}
    for name, limit in TARGETS.items():
        verdicts[name] = results[name]["wall_s"] < limit
        print(
            f"{'PASS' if verdicts[name] else 'FAIL'}: {name} under {limit:g} s (median {results[name]['wall_s']:.3f} s)"
        )
    save_figures(args.json, {"machine": facts, "results": results, "targets": verdicts})


if __name__ == "__main__":
    main()
