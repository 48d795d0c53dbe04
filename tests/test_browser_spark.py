"""The app opens a run produced on Spark: ``segment run --engine spark`` on the embedded sample writes a run store,
the app started on that store lists the run on the History page and shows its segments."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page

from segmentation.cli import main
from segmentation.store import RunStore
from tests.app_helpers import SAMPLE
from tests.browser_helpers import ARTIFACTS, ROOT, ROWS_KEPT, free_port, open_page, settled, shot, wait_healthy
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STORE = "segmentation_runs.duckdb"
"""The file the app reads its saved runs from, in the folder it is started in (``ui.components.RUN_STORE``)."""


@contextmanager
def app_started_in(folder: Path) -> Iterator[str]:
    """``streamlit run app.py`` with ``folder`` as its working directory (so its run store is ``folder``'s), the
    repository's ``.streamlit`` settings linked in; yields the URL once the server answers."""
    (folder / ".streamlit").symlink_to(ROOT / ".streamlit")
    log_path = ARTIFACTS / "streamlit-test_browser_spark.log"
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server, log_path)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_app_opens_a_run_made_on_spark(spark, page: Page, tmp_path: Path, capsys) -> None:  # noqa: F811
    config = {
        "input": str(SAMPLE),
        "clustering": {"method": "kmeans", "params": {"n_clusters": 4, "n_init": 1}},
        "export": {"out_dir": str(tmp_path / "out")},
        "store": str(tmp_path / STORE),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["run", str(path), "--engine", "spark"]) == 0
    run_id = capsys.readouterr().out.splitlines()[0].removeprefix("run ").split(": ")[0]
    saved = RunStore(tmp_path / STORE).load(run_id)
    names = set(saved.profiles["name"])
    assert len(names) == 4

    with app_started_in(tmp_path) as url:
        page.goto(url)
        settled(page, page.get_by_text(ROWS_KEPT))
        described = re.compile(rf"Run {run_id}: .*K-Means with 4 segments on 2,998 customers.*, computed on Spark\.")
        open_page(page, "History", page.get_by_text("Saved runs", exact=True), page.get_by_text(described))
        shot(page, "history-spark-run")
        with page.expect_download() as download:
            page.get_by_test_id("stDownloadButton").filter(has_text="Download its assignments").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 2998
    assert {row["segment_name"] for row in rows} == names  # the segments of the Spark run, as its store saved them
