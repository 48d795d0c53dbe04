"""The dashboard in a real Chromium: upload through the file uploader, read the reports, see the segments."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
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
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)


def chart(tab: Page, title: str) -> Locator:
    """The Plotly chart whose title contains ``title``."""
    return tab.get_by_test_id("stPlotlyChart").filter(has=tab.locator("text.gtitle", has_text=title))


def settled(tab: Page) -> None:
    """Wait until Streamlit has finished the rerun (no spinner, no 'running' indicator)."""
    tab.wait_for_timeout(300)
    expect(tab.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(tab.get_by_test_id("stSpinner")).to_have_count(0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def app_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, stopped after the module's tests; its log is per module."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"streamlit-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server, log_path)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium; Playwright never downloads a browser here."""
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: apt-get install chromium (Playwright must not download browsers)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page, tall enough that a screenshot shows a whole page; a screenshot is saved on failure."""
    context = browser.new_context(viewport={"width": 1440, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-failure.png", full_page=True)
    context.close()


def write_export(path: Path, customers: int = 120, seed: int = 7) -> Path:
    """A year of order lines of a small shop, with a guest order and a cancellation planted."""
    rng = random.Random(seed)
    products = [
        (f"SKU{i:03d}", f"Product {i}", rng.choice(["Kitchen", "Home", "Garden"]), 2 + i % 17) for i in range(40)
    ]
    lines = ["order_id,order_date,customer_id,sku,product_name,category,quantity,unit_price,country,channel"]
    start, order = datetime(2024, 1, 1), 5000
    for customer in range(customers):
        country = rng.choice(["United Kingdom"] * 6 + ["France", "Germany", "Spain"])
        for _ in range(1 + int(rng.expovariate(0.4))):
            order += 1
            day = start + timedelta(days=rng.randrange(365), minutes=rng.randrange(600, 1200))
            for sku, name, category, price in rng.sample(products, rng.randint(1, 4)):
                lines.append(
                    f"{order},{day:%Y-%m-%d %H:%M},K{customer:04d},{sku},{name},{category},"
                    f"{rng.randint(1, 6)},{price}.50,{country},{rng.choice(['web', 'app', 'store'])}"
                )
    first = lines[1].split(",")
    lines.append(f"{order + 1},2024-12-30 10:00,,SKU001,Product 1,Kitchen,1,3.50,United Kingdom,web")
    lines.append(",".join(["C" + first[0], "2024-12-31 09:00", *first[2:6], "-1", *first[7:]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(500)  # let Plotly finish its transitions
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_upload_clean_and_segment(page: Page, app_url: str, tmp_path: Path) -> None:
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Data")).to_be_visible()
    expect(page.get_by_test_id("stAlert").first).to_be_visible()  # the sample loaded, or why not
    shot(page, "01-data-start")

    page.get_by_test_id("stRadio").get_by_text("Upload a file").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(write_export(tmp_path / "shop_export.csv"))
    expect(page.get_by_text(re.compile(r"\d of [\d,]+ rows kept"))).to_be_visible()
    expect(page.locator("text.gtitle", has_text="Revenue by month")).to_be_visible()
    shot(page, "02-data-overview")

    page.get_by_role("tab", name="Cleaning report").click()
    expect(page.locator("text.gtitle", has_text="Rows removed or changed, by reason")).to_be_visible()
    expect(page.get_by_test_id("stDownloadButton")).to_be_visible()
    shot(page, "03-cleaning-report")

    page.get_by_test_id("stSidebarNav").get_by_text("Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.locator("text.gtitle", has_text="Customers per segment")).to_be_visible()
    expect(page.locator("g.slice").first).to_be_visible()  # treemap tiles drawn
    shot(page, "04-customers")

    page.get_by_test_id("stSidebarNav").get_by_text("Data").click()  # the upload survives the page switch
    expect(page.get_by_text(re.compile(r"shop_export\.csv: [\d,]+ of [\d,]+ rows kept"))).to_be_visible()
    shot(page, "05-data-again")
    assert not page.get_by_test_id("stException").count()
