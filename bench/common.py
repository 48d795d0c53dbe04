"""What the benchmark scripts share: peak RSS, machine facts and running one case in a fresh Python process.

A benchmark script imports it as ``from common import ...``: ``bench/`` is not a package, but Python puts the
folder of the script it runs first on ``sys.path``, both for the parent (``python bench/bench_x.py``) and for the
children ``spawn`` starts (``python /abs/path/bench/bench_x.py --child <json> --result <path>``).

The child protocol: ``spawn(script, job, timeout, env)`` runs ``script --child <json of job> --result <file>``;
the script's ``--child`` branch does the job and writes its result (a JSON object) to ``<file>``, usually with
``write_child_result``. Nothing here imports numpy or anything heavy, so a script can still set thread
variables before its own imports.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
POLL_SECONDS = 0.2
"""How often ``spawn`` reads the child's VmHWM (and checks the time limit)."""


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def children_peak_rss_gib() -> float:
    """Largest peak RSS among this process's reaped children (e.g. worker processes), 0 if none."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def vm_hwm_gib(pid: int) -> float | None:
    """Peak RSS so far (``VmHWM`` of ``/proc/<pid>/status``) of a running process; None if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        return None
    return None


def child_env(threads: Mapping[str, str | None]) -> dict[str, str]:
    """The environment of a child: this one, ``PYTHONPATH`` = the repository, and the thread variables set as given.

    ``threads`` maps a variable to its value, or to None to remove it (so the library's own default applies);
    variables not named are inherited. ``dict.fromkeys(THREAD_VARIABLES) | settings`` clears every thread
    variable but those in ``settings``.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name, value in threads.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def spawn(script: Path, job: dict[str, Any], timeout: float, env: Mapping[str, str]) -> dict[str, Any]:
    """Run ``script --child <json of job> --result <file>`` in a fresh Python process and return its result.

    The child runs in its own session, from the repository root, with ``env``. Its ``VmHWM`` is read every
    ``POLL_SECONDS``; past ``timeout`` seconds the whole process group (the child and any workers it started)
    is killed. Always returns a dict with ``wall_seconds``, ``load_before`` and ``load_after`` (1-minute load
    average) added:

    - success: the JSON object the child wrote, plus those three;
    - time-out: ``{"timed_out": True, "peak_rss_gib": <last VmHWM reading>, ...}``;
    - failure (non-zero exit): ``{"failed": "exit status N", "error": [<last output line>], ...}``; the last
      4,000 characters of the child's output go to stderr.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_path = Path(fh.name)
    cmd = [sys.executable, str(Path(script).resolve()), "--child", json.dumps(job), "--result", str(result_path)]
    load_before, start, hwm, timed_out = os.getloadavg()[0], time.perf_counter(), 0.0, False
    try:
        with tempfile.TemporaryFile(mode="w+") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            while True:
                try:
                    proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    hwm = max(hwm, vm_hwm_gib(proc.pid) or 0.0)
                    if time.perf_counter() - start > timeout:
                        timed_out = True
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        break
            wall = time.perf_counter() - start
            log.seek(0)
            output = log.read()
        facts = {"wall_seconds": wall, "load_before": load_before, "load_after": os.getloadavg()[0]}
        if timed_out:
            return {"timed_out": True, "peak_rss_gib": hwm, **facts}
        if proc.returncode != 0:
            sys.stderr.write(output[-4000:])
            return {"failed": f"exit status {proc.returncode}", "error": output.strip().splitlines()[-1:], **facts}
        return {**json.loads(result_path.read_text()), **facts}
    finally:
        result_path.unlink(missing_ok=True)


def write_child_result(path: str | Path, result: dict[str, Any], children: bool = False) -> None:
    """Child side: add this process's peak RSS (and its reaped children's, if asked) and write ``result``."""
    result["peak_rss_gib"] = peak_rss_gib()
    if children:
        result["children_peak_rss_gib"] = children_peak_rss_gib()
    Path(path).write_text(json.dumps(result, default=str))


def git_commit() -> str:
    """Short commit of the repository, with a note if the working tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return commit + (" (with uncommitted changes)" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution (``importlib.metadata``), "not installed" where it is missing."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_facts(packages: Iterable[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Date, CPU model, cores, RAM, load average, OS, Python, the ``packages``' versions, ``settings``, commit.

    ``settings`` (e.g. the thread variables of the run) comes after the versions, in its own order and keys.
    """
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpu = platform.processor() or "unknown"
    if Path("/proc/cpuinfo").exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            cpu,
        )
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(mem_kib / 2**20, 1),
        "load_average_1_5_15": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **package_versions(packages),
        **settings,
        "commit": git_commit(),
    }


def save_figures(path: Path, figures: Mapping[str, Any]) -> None:
    """Write a run's figures as JSON (the command that made them first) and say where."""
    command = " ".join([".venv/bin/python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"command": command, **figures}, indent=1, default=str))
    print(f"figures saved to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
