"""``segment run CONFIG --engine spark``: Parquet outputs, a run in the store that opens like any other, idempotent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from recommenders.data import purchases
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
    shap = pd.read_parquet(tmp_path / "out" / run_id / "shap").set_index("customer_id").sort_index()
    assert list(shap.index) == list(customers)
    assert (shap["segment"] == segments["segment"]).all()
    assert {"base_value", "shap_recency_days", "shap_monetary"} <= set(shap.columns)
    assert shap.filter(like="shap_").notna().all().all()
    recommendations = pd.read_parquet(tmp_path / "out" / run_id / "recommendations")
    assert list(recommendations.columns) == ["customer_id", "product_id", "score", "rank", "reason"]
    ranks = recommendations.groupby("customer_id")["rank"].agg(list)
    assert ranks.index.sort_values().equals(customers.sort_values()) and all(r == list(range(1, 11)) for r in ranks)
    bought = purchases(load_transactions(data).transactions)[["customer_id", "product_id"]].drop_duplicates()
    again = recommendations.merge(bought, on=["customer_id", "product_id"], how="left", indicator=True)
    assert ((again["_merge"] == "both") == (again["reason"] == "bought again")).all()
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
