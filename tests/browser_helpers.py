"""What the browser tests share: one timeout, waiting on the app's own state, and the app's recurring elements.

Every wait is on the app, never on the clock: an action is followed by :func:`settled` with the elements the new
state must show, so a busy machine only makes a test slower, up to the one generous limit, ``TIMEOUT_S``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, Playwright, expect

TIMEOUT_S = float(os.environ.get("BROWSER_TIMEOUT_S", "180"))
"""The longest wait for one state of the app; ``BROWSER_TIMEOUT_S`` raises it on a slower machine."""
TIMEOUT_MS = int(TIMEOUT_S * 1000)
TRAINING_MS = 4 * TIMEOUT_MS
"""For the waits that train a model (the GRU, churn risk, the evaluation of every recommender)."""
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
"""Streamlit's own marker of a connected app whose script is not running."""
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots and server logs of the browser tests (git-ignored)."""
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium: Playwright never downloads a browser here."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TALL = {"width": 1440, "height": 4200}
"""A window showing a whole page: the page scrolls inside its own container, so a screenshot shows what fits."""
SCATTER = "Customers on a map of the chosen features"
ROWS_KEPT = re.compile(r"[\d,]+ of [\d,]+ rows kept")

expect.set_options(timeout=TIMEOUT_MS)


def launch(playwright: Playwright) -> Browser:
    """The system Chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(
    log_path: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run app.py`` headless on a free port of 127.0.0.1, without a file watcher, until the block ends.

    Yields its URL, once the health endpoint answers, and the process. ``options`` are more ``--name value`` flags,
    ``env`` more environment variables of the server.
    """
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    # a crash in native code leaves its Python stack in the log
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})}
    with open(log_path, "wb") as log:
        server = subprocess.Popen([*command, *options], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server, log_path)
            yield url, server
            if server.poll() is not None:
                raise RuntimeError(f"streamlit died while in use (exit code {server.returncode}); see {log_path}")
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers; fail at once if the server exits."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer on {url} within {TIMEOUT_S:.0f} s; see {log}")


def settled(tab: Page, *expected: Locator, timeout: int = TIMEOUT_MS) -> None:
    """Wait until every ``expected`` element is visible and the run that drew them has finished.

    The expected elements must belong to the new state (a stale element of the previous run would not prove the
    new run happened). Finished means: connected and not running, no running indicator, no spinner and no stale
    element left. An exception the app shows fails at once with its text instead of after the timeout.
    """
    error = tab.get_by_test_id("stException")
    for locator in expected:
        expect(locator.or_(error).first).to_be_visible(timeout=timeout)
        _no_exception(error)
    expect(tab.locator(IDLE)).to_have_count(1, timeout=timeout)
    expect(tab.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)
    expect(tab.get_by_test_id("stSpinner")).to_have_count(0, timeout=timeout)
    expect(tab.locator('[data-testid="stElementContainer"][data-stale="true"]')).to_have_count(0, timeout=timeout)
    for locator in expected:
        expect(locator.first).to_be_visible()
    _no_exception(error)


def _no_exception(error: Locator) -> None:
    """Fail at once, with its text, if the app shows an exception."""
    if error.count():
        raise AssertionError(f"the app raised: {error.first.inner_text()}")


def chart(tab: Page, title: str) -> Locator:
    """The Plotly chart whose title contains ``title``."""
    return tab.get_by_test_id("stPlotlyChart").filter(has=tab.locator("text.gtitle", has_text=title))


def title(tab: Page, text: str) -> Locator:
    """A chart title containing ``text``."""
    return tab.locator("text.gtitle", has_text=text)


def open_page(tab: Page, name: str, *expected: Locator, timeout: int = TIMEOUT_MS) -> None:
    """Open page ``name`` from the sidebar and wait until it shows its heading and ``expected``."""
    tab.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    settled(tab, tab.get_by_role("heading", name=name, exact=True), *expected, timeout=timeout)


def segmented(tab: Page, url: str) -> None:
    """Load the sample and open the Segments page once: the other pages use the segmentation it shows."""
    tab.goto(url)
    settled(tab, tab.get_by_text(ROWS_KEPT))
    open_page(tab, "Segments", chart(tab, SCATTER).locator("g.legend g.traces").first)


def upload(tab: Page, path: os.PathLike[str]) -> None:
    """Upload ``path`` on the Data page and wait until it is loaded (its own 'rows kept' line, by file name)."""
    tab.get_by_test_id("stRadio").get_by_text("Upload a file").click()
    settled(tab, tab.get_by_text("Upload an export with one row per order line"))
    tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    settled(tab, loaded(tab, os.path.basename(path)), title(tab, "Revenue by month"))


def shot(tab: Page, name: str) -> None:
    """A full-page screenshot into ``ARTIFACTS``, once the app has settled."""
    settled(tab)
    tab.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True, animations="disabled")


def analyst_file(folder: Path, customers: int, seed: int) -> Path:
    """A small clean synthetic export with exactly ``customers`` customers, named after its size: each analyst of a
    multi-session test gets a different one, so a page showing another session's data is caught by its counts."""
    from segmentation.synthetic import SyntheticSpec, write_sample

    path = folder / f"analyst_{customers}_customers.csv"
    write_sample(path, SyntheticSpec(n_customers=customers, n_products=60, seed=seed, dirty=False))
    return path


def loaded(tab: Page, name: str) -> Locator:
    """The Data page's line saying file ``name`` was loaded."""
    return tab.get_by_text(re.compile(rf"{re.escape(name)}: [\d,]+ of [\d,]+ rows kept"))


def number(text: str) -> int:
    """The first whole number in ``text`` ('1,234 customers' -> 1234)."""
    return int(re.search(r"\d[\d,]*", text)[0].replace(",", ""))


def customers_kpi(tab: Page) -> int:
    """The Data page's Customers tile."""
    return number(
        tab.get_by_test_id("stMetric").filter(has_text="Customers").get_by_test_id("stMetricValue").inner_text()
    )


def segment_sizes(tab: Page) -> list[int]:
    """The customers of each segment card of the Segments page."""
    return [number(t) for t in tab.get_by_text(re.compile(r"customers · [\d.]+% of all customers")).all_inner_texts()]


def exported_customers(tab: Page) -> int:
    """The customers the Export page wrote to its file."""
    return number(tab.get_by_text(re.compile(r"^[\d,]+ customers in \d+ files?")).inner_text())
