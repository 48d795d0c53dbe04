"""``segment run CONFIG --engine spark``: Parquet outputs, a run in the store that opens like any other, idempotent,
and the app started on that store reopens the run. One Spark run of a small synthetic file (150 customers: the
Spark steps' time is mostly per job, not per row) serves the module's tests."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from playwright.sync_api import Page

from recommenders.data import purchases
from segmentation.cli import main
from segmentation.features import compute_features
from segmentation.pipeline import load_transactions
from segmentation.store import RunStore
from segmentation.synthetic import SyntheticSpec, write_sample
from tests.browser_helpers import ARTIFACTS, ROOT, ROWS_KEPT, free_port, open_page, settled, shot, wait_healthy
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

STORE = "segmentation_runs.duckdb"
"""The file the app reads its saved runs from, in the folder it is started in (``ui.components.RUN_STORE``)."""


@dataclass
class SparkRun:
    folder: Path
    data: Path
    config: Path
    run_id: str
    status: str
    """What the CLI printed after the run id."""


@pytest.fixture(scope="module")
def spark_run(spark, tmp_path_factory: pytest.TempPathFactory) -> SparkRun:  # noqa: F811
    """``segment run --engine spark`` on 150 synthetic customers, K-Means with 3 segments, into ``folder``."""
    folder = tmp_path_factory.mktemp("spark-run")
    data = folder / "tx.csv.gz"
    write_sample(data, SyntheticSpec(n_customers=150, seed=2))
    config = {
        "input": str(data),
        "clustering": {"method": "kmeans", "params": {"n_clusters": 3, "n_init": 1}},
        "export": {"out_dir": str(folder / "out")},
        "store": str(folder / STORE),
    }
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    with redirect_stdout(io.StringIO()) as out:
        assert main(["run", str(path), "--engine", "spark"]) == 0
    run_id, status = out.getvalue().splitlines()[0].removeprefix("run ").split(": ")
    return SparkRun(folder, data, path, run_id, status)


def test_spark_run_writes_parquet_and_a_run_the_store_opens(spark_run: SparkRun, capsys) -> None:
    run_id, data, out = spark_run.run_id, spark_run.data, spark_run.folder / "out"
    local = compute_features(load_transactions(data).transactions)
    customers = local.index
    assert spark_run.status == f"{len(customers):,} customers, 3 segments"
    segments = pd.read_parquet(out / run_id / "segments").set_index("customer_id").sort_index()
    assert list(segments.index) == list(customers)
    features = pd.read_parquet(out / run_id / "features")
    assert len(features) == len(customers) and len(features.columns) == 30  # customer_id and 29 features
    shap = pd.read_parquet(out / run_id / "shap").set_index("customer_id").sort_index()
    assert list(shap.index) == list(customers)
    assert (shap["segment"] == segments["segment"]).all()
    assert {"base_value", "shap_recency_days", "shap_monetary"} <= set(shap.columns)
    assert shap.filter(like="shap_").notna().all().all()
    recommendations = pd.read_parquet(out / run_id / "recommendations")
    assert list(recommendations.columns) == ["customer_id", "product_id", "score", "rank", "reason"]
    ranks = recommendations.groupby("customer_id")["rank"].agg(list)
    assert ranks.index.sort_values().equals(customers.sort_values()) and all(r == list(range(1, 11)) for r in ranks)
    bought = purchases(load_transactions(data).transactions)[["customer_id", "product_id"]].drop_duplicates()
    again = recommendations.merge(bought, on=["customer_id", "product_id"], how="left", indicator=True)
    assert ((again["_merge"] == "both") == (again["reason"] == "bought again")).all()
    saved = RunStore(spark_run.folder / STORE).load(run_id)
    assert saved.info["config"]["engine"] == "spark"
    pd.testing.assert_series_equal(saved.assignments["segment"], segments["segment"], check_dtype=False)
    assert saved.profiles["customers"].sum() == len(customers)
    assert set(saved.assignments["segment_name"]) == set(saved.profiles["name"])
    # the saved model assigns customers on the driver, without Spark
    assert len(saved.model.assignments(local)) == len(customers)
    # the same data and config again: nothing redone
    assert main(["run", str(spark_run.config), "--engine", "spark"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"run {run_id}: already done"


@contextmanager
def app_started_in(folder: Path) -> Iterator[str]:
    """``streamlit run app.py`` with ``folder`` as its working directory (so its run store is ``folder``'s), the
    repository's ``.streamlit`` settings linked in; yields the URL once the server answers."""
    (folder / ".streamlit").symlink_to(ROOT / ".streamlit")
    log_path = ARTIFACTS / "streamlit-test_spark_run.log"
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


@pytest.mark.browser
def test_the_app_opens_a_run_made_on_spark(spark_run: SparkRun, page: Page) -> None:
    run_id = spark_run.run_id
    saved = RunStore(spark_run.folder / STORE).load(run_id)
    names = set(saved.profiles["name"])
    assert len(names) == 3
    customers = len(saved.assignments)

    with app_started_in(spark_run.folder) as url:
        page.goto(url)
        settled(page, page.get_by_text(ROWS_KEPT))
        described = re.compile(
            rf"Run {run_id}: .*K-Means with 3 segments on {customers:,} customers.*, computed on Spark\."
        )
        open_page(page, "History", page.get_by_text("Saved runs", exact=True), page.get_by_text(described))
        shot(page, "history-spark-run")
        with page.expect_download() as download:
            page.get_by_test_id("stDownloadButton").filter(has_text="Download its assignments").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == customers
    assert {row["segment_name"] for row in rows} == names  # the segments of the Spark run, as its store saved them
