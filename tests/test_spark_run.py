"""``segment run CONFIG --engine spark``: Parquet outputs, a run in the store that opens like any other, idempotent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from segmentation.cli import main
from segmentation.features import compute_features
from segmentation.pipeline import load_transactions
from segmentation.store import RunStore
from segmentation.synthetic import SyntheticSpec, write_sample
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)


@pytest.mark.slow
def test_spark_run_writes_parquet_and_a_run_the_store_opens(spark, tmp_path: Path, capsys) -> None:  # noqa: F811
    data = tmp_path / "tx.csv.gz"
    write_sample(data, SyntheticSpec(n_customers=150, seed=2))
    config = {
        "input": str(data),
        "clustering": {"method": "kmeans", "params": {"n_clusters": 3, "n_init": 1}},
        "export": {"out_dir": str(tmp_path / "out")},
        "store": str(tmp_path / "runs.duckdb"),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["run", str(path), "--engine", "spark"]) == 0
    run_id, status = capsys.readouterr().out.splitlines()[0].removeprefix("run ").split(": ")
    local = compute_features(load_transactions(data).transactions)
    customers = local.index
    assert status == f"{len(customers):,} customers, 3 segments"
    segments = pd.read_parquet(tmp_path / "out" / run_id / "segments").set_index("customer_id").sort_index()
    assert list(segments.index) == list(customers)
    features = pd.read_parquet(tmp_path / "out" / run_id / "features")
    assert len(features) == len(customers) and len(features.columns) == 30  # customer_id and 29 features
    saved = RunStore(tmp_path / "runs.duckdb").load(run_id)
    assert saved.info["config"]["engine"] == "spark"
    pd.testing.assert_series_equal(saved.assignments["segment"], segments["segment"], check_dtype=False)
    assert saved.profiles["customers"].sum() == len(customers)
    assert set(saved.assignments["segment_name"]) == set(saved.profiles["name"])
    # the saved model assigns customers on the driver, without Spark
    assert len(saved.model.assignments(local)) == len(customers)
    # the same data and config again: nothing redone
    assert main(["run", str(path), "--engine", "spark"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"run {run_id}: already done"
