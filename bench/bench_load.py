"""Benchmark: many analysts at once on one dashboard server: no cross-talk, and memory back to idle afterwards.

Run from the repository root::

    .venv/bin/python bench/bench_load.py                # 5 analysts (~5-10 min on a busy 2-core machine)
    .venv/bin/python bench/bench_load.py --analysts 3   # fewer at once

One ``streamlit run app.py`` listens on 127.0.0.1 only. Every analyst is a browser context of one headless
Chromium (its own Streamlit session) with its own generated file: ``analyst_<n>_customers.csv``, n = 150, 180,
210, ... customers (``segmentation.synthetic``, clean, so every customer is kept). Each step is done in every
session first and then waited for in every session, so the server runs all the analysts' scripts at the same
time: upload the file (Data), Segments (the default K-Means), Explain (both surrogates and SHAP), Export (the
generic CRM file). After each step every session must show its own file: the Data page's customer count, the
segment sizes summing to it, Explain and Export naming its file and Export writing that many customers.

Memory is the RSS (``VmRSS``) of the server process plus its descendants. *Idle* is measured after a warm-up
analyst (a file of its own) did the same steps alone and its session was cleaned up: the first visit imports
torch, scikit-learn, LightGBM and CatBoost, hundreds of MB that stay for the life of the process and are not
per-session. After the analysts close their contexts, the script waits for Streamlit to drop their sessions
(no active session in ``/_stcore/metrics``, then ``--session-ttl``, which sets
``server.disconnectedSessionTTL``, 120 s by default in Streamlit, then one short visit, see ``drop_sessions``) and then for the RSS to come back within ``--tolerance`` of idle, at most ``--settle``
seconds. It prints the steps' times, the checks, the RSS timeline and the per-cache memory Streamlit reports,
and PASS/FAIL; the figures go to ``bench/out/bench_load.json``. Everything is bounded: at most
``MAX_ANALYSTS`` sessions, ``--timeout`` seconds per step and the server is stopped at the end. The exit status
is non-zero when a target fails.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import OUT, ROOT, machine_facts, save_figures

sys.path.insert(0, str(ROOT))  # the browser tests' helpers: the same waits and readings as the tests

from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.browser_helpers import (
    SCATTER,
    analyst_file,
    chart,
    customers_kpi,
    exported_customers,
    launch,
    loaded,
    segment_sizes,
    serve,
    settled,
)

PACKAGES = ["streamlit", "playwright"]
MAX_ANALYSTS = 8
FIRST_CUSTOMERS, STEP_CUSTOMERS = 150, 30
WARMUP_CUSTOMERS = 120
SAMPLE_SECONDS = 1.0


# --- the server's memory --------------------------------------------------------------------------------------------


def tree_rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` and all its descendants, in MiB (0 for a process that is gone)."""
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"^VmRSS:\s+(\d+)", status, re.M)[1]) / 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, TypeError):
            continue
    return total


class Sampler(threading.Thread):
    """The server's RSS every ``SAMPLE_SECONDS`` in the background: (seconds since start, MiB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stopped, self.start_time = pid, [], threading.Event(), time.monotonic()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.samples.append((round(time.monotonic() - self.start_time, 1), round(tree_rss_mib(self.pid), 1)))

    def peak(self, since: float = 0.0) -> float:
        return max((mib for t, mib in self.samples if t >= since), default=0.0)


def metrics(url: str) -> dict[str, float]:
    """Streamlit's own figures: active sessions, session-state bytes and the bytes of each cache."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=60) as response:
        text = response.read().decode()
    figures = {"active_sessions": 0.0, "session_state_bytes": 0.0}
    for line in text.splitlines():
        if line.startswith("active_sessions "):
            figures["active_sessions"] = float(line.split()[1])
        elif match := re.match(r'cache_memory_bytes\{cache_type="([^"]+)",cache="([^"]*)"\} (\S+)', line):
            kind, name, value = match.groups()
            key = "session_state_bytes" if kind == "st_session_state" else f"{kind}:{name}"
            figures[key] = figures.get(key, 0.0) + float(value)
    return figures


def drop_sessions(browser: Browser, url: str, ttl: float, limit: float) -> float:
    """Wait until Streamlit has dropped every closed session; the seconds it took.

    A closed tab's session is kept ``ttl`` seconds for a reconnect; after that, Streamlit's session storage drops
    it the next time it is written to, so once the TTL has passed one short visit (the Data page on the sample,
    whose caches every analyst filled already) makes it let go; that visit's own session is then disconnected.
    """
    started = time.monotonic()
    while metrics(url)["active_sessions"] > 0:
        if time.monotonic() - started > limit:
            raise TimeoutError(f"Streamlit still had active sessions after {limit:.0f} s: {metrics(url)}")
        time.sleep(1)
    time.sleep(max(0.0, ttl + 2 - (time.monotonic() - started)))
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(url)
    settled(tab, tab.get_by_test_id("stRadio").get_by_text("Upload a file"))
    context.close()
    while metrics(url)["active_sessions"] > 0:
        time.sleep(1)
    return time.monotonic() - started


def wait_rss(pid: int, target: float, limit: float) -> tuple[float, float]:
    """Poll the RSS until it is at most ``target`` MiB or ``limit`` seconds pass: (seconds, last MiB)."""
    started = time.monotonic()
    while True:
        rss = tree_rss_mib(pid)
        if rss <= target or time.monotonic() - started >= limit:
            return time.monotonic() - started, rss
        time.sleep(2)


# --- the analysts ----------------------------------------------------------------------------------------------------


Act = Callable[[Page, Path, str], object]
Expected = Callable[[Page, Path], list[Locator]]
Reading = Callable[[Page], int]


def nav(name: str) -> Act:
    return lambda tab, _, __: tab.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()


STEPS: list[tuple[str, Act, Expected, tuple[str, Reading] | None]] = [
    (
        "open",
        lambda tab, _, url: tab.goto(url),
        lambda tab, _: [tab.get_by_test_id("stRadio").get_by_text("Upload a file")],
        None,
    ),
    (
        "choose upload",
        lambda tab, _, __: tab.get_by_test_id("stRadio").get_by_text("Upload a file").click(),
        lambda tab, _: [tab.get_by_text("Upload an export with one row per order line")],
        None,
    ),
    (
        "upload",
        lambda tab, path, _: tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path),
        lambda tab, path: [loaded(tab, path.name)],
        ("Data: customers", customers_kpi),
    ),
    (
        "segments",
        nav("Segments"),
        lambda tab, path: [tab.get_by_text(f"similar customers in {path.name}"), chart(tab, SCATTER)],
        ("Segments: sum of segment sizes", lambda tab: sum(segment_sizes(tab))),
    ),
    (
        "explain",
        nav("Explain"),
        lambda tab, path: [
            tab.get_by_text(f"learns the segments of {path.name}"),
            chart(tab, "Feature importance per segment").locator("g.barlayer"),
        ],
        None,
    ),
    (
        "export",
        nav("Export"),
        lambda tab, path: [
            tab.get_by_text(f"segments of {path.name} into your CRM"),
            tab.get_by_text(" customers in 1 file"),
        ],
        ("Export: customers written", exported_customers),
    ),
]
"""Each step: what every analyst does, what each session must then show (naming its own file), and which number
it must show for its own file (its customer count)."""


def journey(browser: Browser, url: str, files: list[Path], timeout: int) -> dict[str, Any]:
    """Every analyst through ``STEPS`` at once: each step is done in every session, then waited for in each.

    Returns per step the seconds until all sessions had settled and when each had (an upper bound for all but the
    first, as they are waited on in turn), what each session showed, the cross-talk found (every number that is
    not the session's own file's) and the first failure, if any.
    """
    customers = [int(re.search(r"_(\d+)_customers", f.name)[1]) for f in files]
    contexts = [browser.new_context(viewport={"width": 1440, "height": 4200}) for _ in files]
    tabs = [context.new_page() for context in contexts]
    steps: dict[str, Any] = {}
    seen: dict[str, list[int]] = {}
    failure = None
    try:
        for name, act, expected, reading in STEPS:
            started = time.monotonic()
            for tab, path in zip(tabs, files, strict=True):
                act(tab, path, url)
            each = []
            for tab, path in zip(tabs, files, strict=True):
                settled(tab, *expected(tab, path), timeout=timeout)
                each.append(round(time.monotonic() - started, 1))
            steps[name] = {"all_s": each[-1], "each_s": each}
            if reading:
                seen[reading[0]] = [reading[1](tab) for tab in tabs]
    except (PlaywrightError, AssertionError) as exc:
        failure = f"step {len(steps) + 1} ({STEPS[len(steps)][0]}): {str(exc).splitlines()[0]}"
    finally:
        for context in contexts:
            context.close()
    cross_talk = [
        f"session {i + 1} ({files[i].name}) {check}: {values[i]}, expected {customers[i]}"
        for check, values in seen.items()
        for i in range(len(files))
        if values[i] != customers[i]
    ]
    return {"steps": steps, "seen": seen, "expected": customers, "cross_talk": cross_talk, "failure": failure}


# --- the run ---------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = OUT / "load"
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [FIRST_CUSTOMERS + STEP_CUSTOMERS * i for i in range(args.analysts)]
    files = [analyst_file(folder, n, seed) for seed, n in enumerate(sizes, start=1)]
    warmup = analyst_file(folder, WARMUP_CUSTOMERS, seed=0)
    timeout_ms = int(args.timeout * 1000)
    log = OUT / "bench_load_streamlit.log"
    options = ("--server.disconnectedSessionTTL", str(args.session_ttl))
    with serve(log, *options) as (url, server), sync_playwright() as pw:
        sampler = Sampler(server.pid)
        sampler.start()
        cold = tree_rss_mib(server.pid)
        print(f"server {url} (pid {server.pid}): {cold:.0f} MiB before any session", flush=True)
        browser = launch(pw)
        try:
            warm = journey(browser, url, [warmup], timeout_ms)
            if warm["failure"] or warm["cross_talk"]:
                raise SystemExit(f"the warm-up analyst alone failed: {warm['failure'] or warm['cross_talk']}")
            cleanup_warm = drop_sessions(browser, url, args.session_ttl, args.settle)
            time.sleep(args.quiet)
            idle = tree_rss_mib(server.pid)
            caches_idle = metrics(url)
            print(f"idle after a warm-up analyst: {idle:.0f} MiB; starting {args.analysts} analysts", flush=True)

            started = time.monotonic() - sampler.start_time
            result = journey(browser, url, files, timeout_ms)
            peak = sampler.peak(since=started)
            closed = tree_rss_mib(server.pid)
            caches_busy = metrics(url)
            cleanup = drop_sessions(browser, url, args.session_ttl, args.settle)
        finally:
            browser.close()
        waited, after = wait_rss(server.pid, (1 + args.tolerance) * idle, args.settle)
        caches_after = metrics(url)
        sampler.stopped.set()
    return {
        "analysts": args.analysts,
        "customers": sizes,
        "warmup_customers": WARMUP_CUSTOMERS,
        "session_ttl_s": args.session_ttl,
        "rss_mib": {
            "cold": round(cold, 1),
            "idle": round(idle, 1),
            "peak": round(peak, 1),
            "contexts_closed": round(closed, 1),
            "after": round(after, 1),
        },
        "after_over_idle": round(after / idle, 3),
        "sessions_gone_after_s": round(cleanup, 1),
        "warmup_sessions_gone_after_s": round(cleanup_warm, 1),
        "rss_wait_s": round(waited, 1),
        "tolerance": args.tolerance,
        **result,
        "warmup_steps": warm["steps"],
        "caches_bytes": {"idle": caches_idle, "busy": caches_busy, "after": caches_after},
        "rss_timeline": sampler.samples,
    }


def report(figures: dict[str, Any]) -> bool:
    """Print the figures and PASS/FAIL; True when every target passed."""
    print(f"\n{figures['analysts']} analysts at once, customers {figures['customers']}")
    print(f"{'step':<15}{'all settled (s)':>17}   each session (s)")
    for name, step in figures["steps"].items():
        print(f"{name:<15}{step['all_s']:>17.1f}   {step['each_s']}")
    for check, values in figures["seen"].items():
        print(f"{check:<32} {values}  (own files: {figures['expected']})")
    rss = figures["rss_mib"]
    print(
        f"RSS MiB: cold {rss['cold']:.0f}, idle {rss['idle']:.0f}, peak {rss['peak']:.0f}, "
        f"contexts closed {rss['contexts_closed']:.0f}, after cleanup {rss['after']:.0f} "
        f"({figures['after_over_idle']:.2f} x idle; sessions gone {figures['sessions_gone_after_s']:.0f} s after "
        f"closing, RSS waited {figures['rss_wait_s']:.0f} s more)"
    )
    caches = figures["caches_bytes"]
    print("cache bytes (Streamlit's own count)   idle -> busy -> after")
    for name in sorted(set(caches["busy"]) | set(caches["after"])):
        values = [caches[when].get(name, 0) / 2**20 for when in ("idle", "busy", "after")]
        if max(values) >= 0.05:
            print(f"  {name:<60} {values[0]:7.1f} {values[1]:7.1f} {values[2]:7.1f} MiB")
    targets = {
        "every analyst finished every step": figures["failure"] is None and len(figures["steps"]) == len(STEPS),
        "no cross-talk": not figures["cross_talk"],
        f"RSS back within {figures['tolerance']:.0%} of idle": figures["after_over_idle"] <= 1 + figures["tolerance"],
    }
    if figures["failure"]:
        print(f"  failed at {figures['failure']}")
    for problem in figures["cross_talk"]:
        print(f"  cross-talk: {problem}")
    for target, ok in targets.items():
        print(f"{'PASS' if ok else 'FAIL'}  {target}")
    return all(targets.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--analysts", type=int, default=5, help=f"sessions at once, 1 to {MAX_ANALYSTS} (default 5)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one step may take (default 600)")
    parser.add_argument("--session-ttl", type=float, default=10, help="server.disconnectedSessionTTL (default 10)")
    parser.add_argument("--settle", type=float, default=180, help="seconds to wait for the RSS (default 180)")
    parser.add_argument("--quiet", type=float, default=5, help="seconds of quiet before idle is read (default 5)")
    parser.add_argument("--tolerance", type=float, default=0.2, help="allowed RSS over idle (default 0.2)")
    parser.add_argument("--json", type=Path, default=OUT / "bench_load.json", help="where to save the figures")
    args = parser.parse_args(argv)
    if not 1 <= args.analysts <= MAX_ANALYSTS:
        parser.error(f"--analysts must be between 1 and {MAX_ANALYSTS}")
    facts = machine_facts(PACKAGES, {"OPENBLAS_NUM_THREADS": os.environ["OPENBLAS_NUM_THREADS"]})
    print(" · ".join(f"{k} {v}" for k, v in facts.items()), flush=True)
    figures = run(args)
    ok = report(figures)
    facts["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    save_figures(args.json, {"machine": facts, **figures})
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
