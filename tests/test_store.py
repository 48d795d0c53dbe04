"""Saved runs: round trip, concurrent writers, bad files left untouched, idempotent scheduled runs."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from segmentation.cli import main
from segmentation.clustering import SegmentationModel
from segmentation.store import RunStore, StoreError, run_id_for

from .test_clustering import customer_features

ROOT = Path(__file__).resolve().parent.parent


def fitted() -> tuple[SegmentationModel, pd.DataFrame]:
    features = customer_features()
    model = SegmentationModel("gmm", {"n_clusters": 2}, features=("recency_days", "monetary")).fit(features)
    return model, model.fitted_assignments(features)


def test_save_and_reload_are_equal(tmp_path) -> None:
    model, assignments = fitted()
    store = RunStore(tmp_path / "runs.duckdb")
    store.save(
        "r1", {"clustering": {"method": "gmm"}}, assignments, model.profiles_, model, "x.csv", "abc", "2024-01-01"
    )
    run = store.load("r1")
    pd.testing.assert_frame_equal(run.assignments, assignments.sort_index(), check_dtype=False, check_names=False)
    assert list(run.profiles["name"]) == list(model.profiles_["name"])
    np.testing.assert_allclose(run.profiles["customers"], model.profiles_["customers"])
    assert run.info["config"] == {"clustering": {"method": "gmm"}} and run.info["data_fingerprint"] == "abc"
    new = customer_features(30, seed=4)
    pd.testing.assert_frame_equal(run.model.assignments(new), model.assignments(new))
    assert store.runs()["run_id"].tolist() == ["r1"]


def test_saving_the_same_run_again_replaces_it(tmp_path) -> None:
    model, assignments = fitted()
    store = RunStore(tmp_path / "runs.duckdb")
    for _ in range(2):
        store.save("r1", {}, assignments, model.profiles_)
    assert len(store.load("r1").assignments) == len(assignments)
    assert len(store.runs()) == 1


def _writer(path: str, name: str) -> None:
    model, assignments = fitted()
    RunStore(path).save(name, {"writer": name}, assignments, model.profiles_, model)


def test_concurrent_writers_wait_for_each_other(tmp_path) -> None:
    path = str(tmp_path / "runs.duckdb")
    context = mp.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, f"run{i}")) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    store = RunStore(path)
    assert sorted(store.runs()["run_id"]) == ["run0", "run1", "run2", "run3"]
    for i in range(4):
        assert len(store.load(f"run{i}").assignments) == 400


def test_a_corrupt_file_is_a_clear_error_and_is_not_overwritten(tmp_path) -> None:
    path = tmp_path / "runs.duckdb"
    path.write_bytes(b"definitely not duckdb" * 100)
    model, assignments = fitted()
    with pytest.raises(StoreError, match="not a readable run store"):
        RunStore(path).save("r1", {}, assignments, model.profiles_)
    assert path.read_bytes() == b"definitely not duckdb" * 100


def test_another_schema_version_is_refused(tmp_path) -> None:
    path = tmp_path / "runs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR); INSERT INTO meta VALUES ('schema_version', '0')")
    con.close()
    with pytest.raises(StoreError, match="schema version 0"):
        RunStore(path).runs()


def test_unknown_run_lists_the_saved_ones(tmp_path) -> None:
    model, assignments = fitted()
    store = RunStore(tmp_path / "runs.duckdb")
    store.save("r1", {}, assignments, model.profiles_)
    with pytest.raises(StoreError, match="saved runs: r1"):
        store.load("nope")


def test_run_id_depends_on_data_and_config() -> None:
    assert run_id_for({"a": 1}, "x") == run_id_for({"a": 1}, "x")
    assert run_id_for({"a": 1}, "x") != run_id_for({"a": 2}, "x") != run_id_for({"a": 1}, "y")


@pytest.mark.slow
def test_segment_run_is_idempotent_and_exports(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = {
        "input": str(ROOT / "data" / "sample_transactions.csv.gz"),
        "clustering": {"method": "kmeans", "params": {"n_clusters": 6}},
        "export": {"crm": "klaviyo", "out_dir": "out", "segments": [0, 2]},
        "store": "runs.duckdb",
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    assert main(["-q", "run", "run.yaml"]) == 0
    first = capsys.readouterr().out
    assert "2,998 customers, 6 segments" in first
    exported = pd.read_csv(tmp_path / "out" / "klaviyo_segments.csv")
    assert exported.columns[0] == "Email" and set(exported["Segment ID"]) == {0, 2}
    assert main(["-q", "run", "run.yaml"]) == 0
    assert "already done" in capsys.readouterr().out
    assert len(RunStore(tmp_path / "runs.duckdb").runs()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("input: [unclosed", "not valid YAML"),
        ("clustering: {method: kmeans}\n", "no input file"),
        ("input: x.csv\nclusterng: {}\n", "unknown config section"),
    ],
)
def test_segment_run_bad_config_is_a_one_line_error(tmp_path, capsys, content, message) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    assert main(["-q", "run", str(tmp_path / "bad.yaml")]) == 2
    assert message in capsys.readouterr().err
