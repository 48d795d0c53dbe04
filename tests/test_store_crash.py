"""A writer killed (SIGKILL) in the middle of ``RunStore.save`` leaves the store readable and every committed run
intact; the run it was writing is either absent or complete, never half there."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 50_000
SEGMENTS = 5
MODEL_BYTES = 8 << 20
KILLS = 6


def run_content(index: int) -> tuple[pd.DataFrame, pd.DataFrame, bytes]:
    """The assignments, profiles and model blob of run ``index``: different for each run, the same every time."""
    rng = np.random.default_rng(index)
    segment = rng.integers(0, SEGMENTS, CUSTOMERS)
    assignments = pd.DataFrame(
        {"segment": segment, "segment_name": [f"S{s}" for s in segment], "probability": rng.random(CUSTOMERS)},
        index=pd.Index([f"C{index}-{i:07d}" for i in range(CUSTOMERS)], name="customer_id"),
    )
    profiles = pd.DataFrame(
        {"name": [f"S{s}" for s in range(SEGMENTS)], "customers": np.bincount(segment, minlength=SEGMENTS)},
        index=pd.RangeIndex(SEGMENTS, name="segment"),
    )
    return assignments, profiles, rng.bytes(MODEL_BYTES)


def writer(path: str, log: str, first: int) -> None:
    """Save runs ``first``, ``first + 1``, ... forever, logging 'start i t' before and 'done i t' after each save."""
    store = RunStore(path)
    with open(log, "a") as out:
        for index in range(first, first + 1000):
            assignments, profiles, blob = run_content(index)
            out.write(f"start {index} {time.monotonic()}\n")
            out.flush()
            store.save(f"run{index}", {"index": index}, assignments, profiles, blob)
            out.write(f"done {index} {time.monotonic()}\n")
            out.flush()


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame).to_numpy().tobytes()).hexdigest()


def check_run(store: RunStore, index: int) -> None:
    """Run ``index`` in the store equals what the writer saved, row for row and byte for byte."""
    assignments, profiles, blob = run_content(index)
    run = store.load(f"run{index}")
    assert digest(run.assignments) == digest(assignments.sort_index()), f"run{index} assignments differ"
    assert run.profiles["customers"].tolist() == profiles["customers"].tolist()
    assert run.model == blob, f"run{index} model blob differs"
    assert run.info["n_customers"] == CUSTOMERS


def wait_for(log: Path, lines_before: int, proc: subprocess.Popen, ready) -> list[str]:
    """The writer's new log lines once ``ready(lines)`` holds; fails if the writer dies or stalls for 120 s."""
    deadline = time.monotonic() + 120
    while True:
        lines = log.read_text().splitlines()[lines_before:] if log.exists() else []
        if lines and ready(lines):
            return lines
        assert proc.poll() is None, "the writer died before the kill"
        assert time.monotonic() < deadline, "the writer made no progress within 120 s"
        time.sleep(0.005)


@pytest.mark.slow
def test_killing_the_writer_mid_save_leaves_committed_runs_intact(tmp_path: Path) -> None:
    path, log = tmp_path / "runs.duckdb", tmp_path / "writer.log"
    rng = random.Random(7)
    committed: set[int] = set()
    killed_mid_save = 0
    for kill in range(KILLS):
        first = 100 * kill
        lines_before = len(log.read_text().splitlines()) if log.exists() else 0
        code = f"from tests.test_store_crash import writer; writer({str(path)!r}, {str(log)!r}, {first})"
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        # Let one save finish to learn how long a save takes on this machine, then kill at a random point inside a
        # later save (a fixed sleep landed between saves too often on a loaded machine).
        lines = wait_for(log, lines_before, proc, lambda new: any(line.startswith("done") for line in new))
        start, done = (next(line for line in lines if line.startswith(kind)) for kind in ("start", "done"))
        duration = float(done.split()[2]) - float(start.split()[2])
        wait_for(log, lines_before, proc, lambda new, seen=start: new[-1].startswith("start") and new[-1] != seen)
        time.sleep(rng.uniform(0.05, 0.8) * duration)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        lines = log.read_text().splitlines()[lines_before:]
        committed |= {int(line.split()[1]) for line in lines if line.startswith("done")}
        killed_mid_save += lines[-1].startswith("start")
        in_flight = int(lines[-1].split()[1]) if lines[-1].startswith("start") else None

        store = RunStore(path)
        saved = set(store.runs()["run_id"])
        assert {f"run{i}" for i in committed} <= saved, "a committed run is missing"
        for run_id in saved - {f"run{i}" for i in committed}:  # killed after COMMIT, before 'done' was logged
            assert run_id == f"run{in_flight}"
            committed.add(in_flight)
        for index in committed:
            check_run(store, index)
    assert killed_mid_save >= KILLS // 2, f"only {killed_mid_save} of {KILLS} kills landed inside a save"
    # the store still takes new runs after all the kills
    assignments, profiles, blob = run_content(10_000)
    RunStore(path).save("run10000", {}, assignments, profiles, blob)
    check_run(RunStore(path), 10_000)
