"""Shared fixtures: the corpus folder, the real Online Retail file, small transaction frames, AppTest downloads, and
for the browser tests a ``streamlit run`` server, the system Chromium and a fresh page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "data"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
LIFETIMES = "lifetimes==0.11.3"
CDNOW_FILES = ("CDNOW_master.txt", "CDNOW_sample.txt", "cdnow_customers_summary.csv")


@pytest.fixture(scope="session", autouse=True)
def own_timings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Step timings go to a file of the test session (and the servers it starts), not the user's cache."""
    previous = os.environ.get("SEGMENT_TIMINGS")
    os.environ["SEGMENT_TIMINGS"] = str(tmp_path_factory.mktemp("timings") / "timings.json")
    yield
    if previous is None:
        os.environ.pop("SEGMENT_TIMINGS", None)
    else:
        os.environ["SEGMENT_TIMINGS"] = previous


@pytest.fixture
def app() -> AppTest:
    """The whole app, headless (AppTest), not yet run."""
    from tests.app_helpers import new_app

    return new_app()


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The embedded sample file (``make sample`` writes it again)."""
    from tests.app_helpers import SAMPLE

    if not SAMPLE.is_file():
        pytest.fail(f"{SAMPLE} is missing: it is tracked in git (make sample regenerates it)")
    return SAMPLE


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    """The real UCI Online Retail file; under CI a missing file fails instead of skipping."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{ONLINE_RETAIL} is missing: CI must provide ../shared/data/online_retail.csv.gz")
        pytest.skip(f"{ONLINE_RETAIL} not present")
    return ONLINE_RETAIL


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    """The CDNOW data sets (Fader, Hardie and Lee's reference for BG/NBD: the full purchase log of 23,570 customers,
    the 1/10 sample and its calibration summary) as they ship inside the ``lifetimes`` 0.11.3 wheel on PyPI. The
    wheel is downloaded once (``pip download --no-deps``, never installed) and its data files kept in the user's
    cache. Under CI a failed download fails instead of skipping."""
    import subprocess
    import sys
    import tempfile
    import zipfile

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segment-dashboard" / "cdnow"
    if not all((folder / name).is_file() for name in CDNOW_FILES):
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "pip", "download", LIFETIMES, "--no-deps", "--only-binary=:all:"]
            done = subprocess.run([*command, "-q", "-d", tmp], capture_output=True, text=True, timeout=600)
            wheels = list(Path(tmp).glob("*.whl"))
            if not wheels:
                message = f"cannot download {LIFETIMES} for the CDNOW data: {done.stderr.strip()[-300:]}"
                if os.environ.get("CI", "").lower() == "true":
                    pytest.fail(message)
                pytest.skip(message)
            folder.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheels[0]) as wheel:
                for name in CDNOW_FILES:
                    (folder / name).write_bytes(wheel.read(f"lifetimes/datasets/{name}"))
    return folder


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write rows (first one the header) as a CSV file and return its path."""

    def write(rows: list[list[object]], name: str = "tx.csv", sep: str = ",") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(sep.join(str(v) for v in row) for row in rows) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """File name -> content of every download button a run offers with its data (AppTest cannot click them)."""
    files: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(self: MediaFileManager, data: bytes | str, mimetype: str, coordinates: str, file_name=None, **kw) -> str:
        if file_name and isinstance(data, bytes):
            files[file_name] = data
        return original(self, data, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", add)
    yield files


# --- browser tests --------------------------------------------------------------------------------------------------

BROWSER_FIXTURES = {"app_url", "browser", "page"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the server or Chromium must carry the ``browser`` mark, or ``make test-fast`` would run it;
    the longest groups of files run first (:mod:`tests.file_seconds`)."""
    from tests.file_seconds import longest_first

    longest_first(items)
    unmarked = [
        item.nodeid
        for item in items
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("browser") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"mark these tests @pytest.mark.browser (they start a browser): {', '.join(unmarked)}")


@pytest.fixture(scope="module")
def app_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``streamlit run app.py`` on a free port, stopped after the module's tests; its log is per module."""
    from tests.browser_helpers import ARTIFACTS, serve

    ARTIFACTS.mkdir(exist_ok=True)
    with serve(ARTIFACTS / f"streamlit-{request.module.__name__.rsplit('.', 1)[-1]}.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium; Playwright never downloads a browser here."""
    from playwright.sync_api import sync_playwright

    from tests.browser_helpers import CHROMIUM, launch

    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: apt-get install chromium (Playwright must not download browsers)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@contextmanager
def shot_on_failure(page: Page, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Yield ``page``; save a full-page screenshot of it if the test fails meanwhile."""
    from tests.browser_helpers import ARTIFACTS

    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-failure.png", full_page=True)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page, tall enough that a screenshot shows a whole page; a screenshot is saved on failure.

    In a module marked ``one_tab`` every test gets the module's one tab instead, the sample loaded and segmented
    once, and goes on from where the test before left it, as an analyst would (segmenting the sample again took
    most of each test's time)."""
    if request.node.get_closest_marker("one_tab"):
        with shot_on_failure(request.getfixturevalue("segmented_tab"), request) as tab:
            yield tab
        return
    tab = new_tab(browser, {"width": 1440, "height": 2400})
    with shot_on_failure(tab, request):
        yield tab
    tab.context.close()


@pytest.fixture(scope="module")
def segmented_tab(browser: Browser, app_url: str) -> Iterator[Page]:
    """One tall tab on the module's app, the sample loaded and segmented (the ``one_tab`` modules' page)."""
    from tests.browser_helpers import TALL, segmented

    tab = new_tab(browser, TALL)
    segmented(tab, app_url)
    yield tab
    tab.context.close()


def new_tab(browser: Browser, viewport: dict[str, int]) -> Page:
    """A tab in a context of its own (close ``tab.context``), waiting up to the browser tests' one timeout."""
    from tests.browser_helpers import TIMEOUT_MS

    tab = browser.new_context(viewport=viewport).new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    return tab
