"""How long the long steps took on this machine, so the app and the CLI can say before a step starts how long it
will take ("about 40 s") and, while it runs, how far along it is in time.

Every timed step is recorded as (size, seconds), the size being what the step's work grows with (transaction
rows for the workflow's steps). An estimate scales the recorded run closest in size linearly to the new size;
a step never seen on this machine falls back to a prior measured on Online Retail on 2 cores
(docs/benchmarks.md), scaled the same way. Records hold step names, sizes and seconds only, never data, and are
kept in a small JSON file (``SEGMENT_TIMINGS``, default ``~/.cache/segment-dashboard/timings.json``) so the
estimates survive restarts; a file that cannot be read or written is ignored (estimates are a courtesy).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TIMINGS_ENV = "SEGMENT_TIMINGS"
KEPT = 20
"""Runs kept per step (the most recent)."""
REFERENCE_ROWS = 398_624
"""Transaction rows of Online Retail after cleaning: the size the priors were measured at."""
PRIORS: dict[str, tuple[float, float]] = {
    # step: (size, seconds) on Online Retail, 2 shared cores at load 2-3, `bench/bench_steps.py --skip gru`
    # (2026-12-01 22:40 UTC; GRU from the run before). K-Means, GMM, stability: under 0.5 s, not timed.
    "customers": (REFERENCE_ROWS, 0.6),
    "k_selection": (REFERENCE_ROWS, 3.4),
    "segmentation:hierarchical": (REFERENCE_ROWS, 0.9),
    "segmentation:hdbscan": (REFERENCE_ROWS, 4.9),
    "segmentation:autoencoder": (REFERENCE_ROWS, 5.3),
    "comparison": (REFERENCE_ROWS, 15.4),
    "surrogate:lightgbm": (REFERENCE_ROWS, 2.6),
    "explanation:lightgbm": (REFERENCE_ROWS, 4.9),
    "surrogate:catboost": (REFERENCE_ROWS, 3.1),
    "explanation:catboost": (REFERENCE_ROWS, 3.3),
    "customer_value": (REFERENCE_ROWS, 9.2),
    "churn": (REFERENCE_ROWS, 3.6),
    "scored_value": (REFERENCE_ROWS, 10.9),  # the Value page fits the CLV models inside it: 9.2 + 1.7 for the reasons
    "interactions": (REFERENCE_ROWS, 4.4),
    "recommender:als": (REFERENCE_ROWS, 7.0),
    "recommender:tifu_knn": (REFERENCE_ROWS, 3.1),
    "recommender:ease": (REFERENCE_ROWS, 5.0),  # 4.0 CPU s; 14-23 s wall at load 5 (2026-12-02)
    "recommender:gru": (REFERENCE_ROWS, 43.5),
}


def default_path() -> Path:
    """Where the records are kept: ``$SEGMENT_TIMINGS`` or the user's cache folder."""
    configured = os.environ.get(TIMINGS_ENV)
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "segment-dashboard" / "timings.json"


class Timings:
    """Recorded durations of named steps, with estimates for a new size; thread-safe."""

    def __init__(self, path: Path | None = None, priors: dict[str, tuple[float, float]] | None = None) -> None:
        self.path = path
        self.priors = PRIORS if priors is None else priors
        self._records: dict[str, list[tuple[float, float]]] = self._read()
        self._lock = threading.Lock()

    def _read(self) -> dict[str, list[tuple[float, float]]]:
        if self.path is None:
            return {}
        try:
            raw = json.loads(self.path.read_text())
            return {str(step): [(float(s), float(t)) for s, t in runs] for step, runs in raw.items()}
        except (OSError, ValueError, TypeError):
            return {}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self._records))
            temporary.replace(self.path)
        except OSError:
            pass

    def record(self, step: str, size: float, seconds: float) -> None:
        """Keep one run of ``step`` on ``size`` units that took ``seconds``."""
        if size <= 0 or not math.isfinite(seconds) or seconds < 0:
            return
        with self._lock:
            runs = self._records.setdefault(step, [])
            runs.append((float(size), float(seconds)))
            del runs[:-KEPT]
            self._write()

    def runs(self) -> dict[str, list[tuple[float, float]]]:
        """A copy of the kept runs: step -> [(size, seconds), ...], oldest first."""
        with self._lock:
            return {step: list(runs) for step, runs in self._records.items()}

    def estimate(self, step: str, size: float) -> float | None:
        """Expected seconds of ``step`` on ``size`` units, or ``None`` when neither a run nor a prior is known.

        The recorded run closest in size (on a log scale; the latest among equals) scaled linearly to ``size``.
        """
        with self._lock:
            runs = list(self._records.get(step, ()))
        if not runs and step in self.priors:
            runs = [self.priors[step]]
        if not runs or size <= 0:
            return None
        nearest = min(reversed(runs), key=lambda run: abs(math.log(run[0] / size)))
        return nearest[1] * size / nearest[0]

    @contextmanager
    def timed(self, step: str, size: float) -> Iterator[None]:
        """Record how long the block took; nothing is recorded when it raises (a failed or cancelled step)."""
        start = time.perf_counter()
        yield
        self.record(step, size, time.perf_counter() - start)


_shared: Timings | None = None
_shared_lock = threading.Lock()


def timings() -> Timings:
    """The process's records, read once from :func:`default_path`."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.path != default_path():
            _shared = Timings(default_path())
        return _shared


def describe(seconds: float | None) -> str:
    """A duration as a person says it before it starts: "a few seconds", "about 40 s", "about 3 min"."""
    if seconds is None or not math.isfinite(seconds):
        return "an unknown time"
    if seconds < 10:
        return "a few seconds"
    if seconds < 60:
        return f"about {5 * round(seconds / 5):.0f} s"
    if seconds < 3600:
        return f"about {max(1, round(seconds / 60)):.0f} min"
    return f"about {seconds / 3600:.1f} h"


def elapsed_text(elapsed: float, expected: float | None) -> str:
    """Time so far against the estimate, for a progress line: "12 s of about 40 s" (or "12 s" without one); past
    the estimate it says so rather than pretending."""
    if expected is None:
        return f"{elapsed:.0f} s"
    if elapsed > expected * 1.2:
        return f"{elapsed:.0f} s, longer than the usual {describe(expected).removeprefix('about ')}"
    return f"{elapsed:.0f} s of {describe(expected)}"
