"""Benchmark: what the Data page costs for an uploaded file, to size the upload limit.

Run from the repository root::

    .venv/bin/python bench/bench_upload.py FILE [FILE ...]

Each file runs in a fresh Python process that does what the Data page does with an upload, through the page's
own functions (``ui.components``, outside a Streamlit server): the upload held in memory as Streamlit holds it
(``UploadedFile``), ``save_upload`` (hash, write to the upload folder), ``inspect_file`` (columns and the inferred
mapping), ``load`` (``load_transactions``: read, validate, clean) and ``overview`` (KPIs and the charts' data).
Reported: wall seconds, the peak RSS (``VmHWM``), and the RSS once the page is drawn (what a session keeps: the
upload and the cached clean table).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import time
from pathlib import Path
from typing import Any

from common import OUT, child_env, machine_facts, peak_rss_gib, save_figures, spawn, write_child_result

PACKAGES = ["streamlit", "duckdb", "pyarrow", "pandas"]


def rss_gib() -> float:
    """Resident set size now (``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError("no VmRSS in /proc/self/status")


def data_page(path: Path) -> dict[str, Any]:
    """The Data page's work on ``path`` uploaded as is; wall seconds and peak RSS after each step."""
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    from segmentation.config import Config, ReadOptions
    from ui import components

    steps: list[dict[str, Any]] = []
    start = last = time.perf_counter()
    base = rss_gib()

    def done(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps.append({"step": step, "seconds": round(now - last, 2), "peak_rss_gib": round(peak_rss_gib(), 2)})
        last = now

    upload = UploadedFile(UploadedFileRec("bench", path.name, "text/csv", path.read_bytes()), None)
    done("upload in memory")
    dataset = components.save_upload(upload)
    done("save_upload")
    _, inferred = components.inspect_file(dataset, ReadOptions())
    done("inspect_file")
    config = Config(mapping=inferred)
    result = components.load(dataset, config)
    done("load (load_transactions)")
    components.overview(dataset, config)
    done("overview")
    Path(dataset.path).unlink()
    return {
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "rows": result.cleaning.rows_in,
        "seconds": round(time.perf_counter() - start, 1),
        "steps": steps,
        "imports_rss_gib": round(base, 2),
        "kept_rss_gib": round(rss_gib(), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="transactions files (CSV) to upload")
    parser.add_argument("--json", type=Path, default=OUT / "bench_upload.json", help="where to save the figures")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        write_child_result(args.result, data_page(Path(json.loads(args.child)["path"])))
        return
    facts = machine_facts(PACKAGES, {"OPENBLAS_NUM_THREADS": "1"})
    runs = []
    for path in args.files:
        result = spawn(Path(__file__), {"path": str(path.resolve())}, 3600, child_env({"OPENBLAS_NUM_THREADS": "1"}))
        if "failed" in result or result.get("timed_out"):
            raise SystemExit(f"{path}: {result}")
        runs.append(result)
        print(
            f"{path.name}: {result['file_mb']:,.0f} MB, {result['rows']:,} rows: {result['seconds']:.0f} s, "
            f"peak {result['peak_rss_gib']:.2f} GiB, kept {result['kept_rss_gib']:.2f} GiB "
            f"(imports {result['imports_rss_gib']:.2f} GiB)",
            flush=True,
        )
    save_figures(args.json, {"machine": facts, "runs": runs})


if __name__ == "__main__":
    main()
