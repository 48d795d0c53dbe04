"""The workflow object: each step computed once from its inputs, kept, re-run when an input changes; the CLI and
the app get the same results from it."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import ClusteringConfig, Config, FeatureConfig
from segmentation.errors import ConfigError
from segmentation.workflow import Analysis, run_config


@pytest.fixture
def analysis(sample_path: Path) -> Analysis:
    return Analysis(sample_path)


def test_each_step_runs_once_and_is_kept(analysis: Analysis) -> None:
    calls = []
    first = analysis.load(lambda done, step: calls.append(step))
    assert calls, "the first load reports progress"
    calls.clear()
    assert analysis.load(lambda done, step: calls.append(step)) is first
    assert calls == [], "a kept step does not run again"
    assert analysis.done("load")
    table = analysis.customers()
    assert analysis.customers() is table
    assert len(table) == analysis.summary()["customers"]
    assert {"rfm_segment", "rfm_code", "recency_days", "frequency", "monetary"} <= set(table.columns)


def test_a_changed_input_reruns_only_its_step(analysis: Analysis) -> None:
    loaded = analysis.load()
    default = analysis.customers()
    as_of = (pd.Timestamp(default.attrs["as_of"]) - pd.Timedelta(days=60)).date()
    earlier = analysis.customers(FeatureConfig(as_of=as_of))
    assert analysis.load() is loaded
    assert earlier is not default
    assert earlier.attrs["as_of"] < default.attrs["as_of"]
    assert (earlier["frequency"].sum()) < default["frequency"].sum()
    assert analysis.customers() is default, "the first result is still kept"


def test_segmentation_key_follows_its_settings(analysis: Analysis) -> None:
    three = analysis.segmentation(ClusteringConfig("kmeans", {"n_clusters": 3}))
    four = analysis.segmentation(ClusteringConfig("kmeans", {"n_clusters": 4}))
    assert three.segmenter_.n_clusters_ == 3 and four.segmenter_.n_clusters_ == 4
    assert analysis.segmentation(ClusteringConfig("kmeans", {"n_clusters": 3})) is three
    assert analysis.key("segmentation", ClusteringConfig("kmeans", {"n_clusters": 3})) != analysis.key(
        "segmentation", ClusteringConfig("kmeans", {"n_clusters": 4})
    )


def test_same_bytes_under_another_name_share_keys(tmp_path: Path, sample_path: Path) -> None:
    copy = tmp_path / "renamed.csv.gz"
    copy.write_bytes(sample_path.read_bytes())
    assert Analysis(copy).key("customers", FeatureConfig()) == Analysis(sample_path).key("customers", FeatureConfig())
    other = replace(Config(), cleaning=replace(Config().cleaning, returns="drop"))
    assert Analysis(copy, other).key("customers", FeatureConfig()) != Analysis(copy).key("customers", FeatureConfig())


def test_concurrent_callers_compute_a_step_once(analysis: Analysis, monkeypatch: pytest.MonkeyPatch) -> None:
    import segmentation.workflow as workflow

    calls = []
    original = workflow.load_transactions

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(workflow, "load_transactions", counting)
    results = []
    threads = [threading.Thread(target=lambda: results.append(analysis.load())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(result is results[0] for result in results)


def test_a_failed_step_stores_nothing(write_csv) -> None:
    path = write_csv([["customer", "date"], ["a", "2024-01-02"], ["b", "2024-01-03"]])
    analysis = Analysis(path)
    with pytest.raises(ConfigError, match="unknown recommender"):
        analysis.recommender("no-such-model")
    assert not analysis.done("recommender", "no-such-model")


def test_run_config_needs_an_input() -> None:
    with pytest.raises(ConfigError, match="names no input file"):
        run_config(Config())


def test_surrogates_never_see_a_sensitive_attribute_unless_allowed(analysis: Analysis) -> None:
    assert "country" in analysis.customers().columns
    assert "country" not in analysis.surrogate_inputs().columns
    assert "country" in analysis.surrogate_inputs(allow_sensitive=("country",)).columns
    assert not any(c.endswith("_score") or c in ("rfm_code", "rfm_segment") for c in analysis.surrogate_inputs())


def test_explanation_is_of_the_segmentation_it_names(analysis: Analysis) -> None:
    clustering = ClusteringConfig("kmeans", {"n_clusters": 3})
    surrogate = analysis.surrogate("lightgbm", clustering)
    assert analysis.surrogate("lightgbm", clustering) is surrogate
    labels = analysis.segmentation(clustering).labels_
    assert set(surrogate.predict(analysis.surrogate_inputs())) <= set(labels)
    assert surrogate.fidelity_["accuracy"] > 0.8
    explanation = analysis.explanation("lightgbm", clustering, sample_size=300)
    assert len(explanation.data) == 300 and set(explanation.data.columns) == set(analysis.surrogate_inputs().columns)


def test_segment_diagnostics_share_the_matrix_and_the_fit(analysis: Analysis) -> None:
    chosen = ("recency_days", "frequency", "monetary")
    X, names = analysis.matrix(chosen)
    assert X.shape == (len(analysis.customers()), len(names)) and set(names) <= set(chosen)
    assert analysis.matrix(chosen)[0] is X
    kmeans = ClusteringConfig("kmeans", {"n_clusters": 4}, chosen)
    quality = analysis.quality(kmeans)
    assert -1 <= quality["silhouette"] <= 1
    tops = analysis.top_lists(kmeans)
    assert set(tops["product"]) == set(analysis.segmentation(kmeans).labels_)
    metrics, ari = analysis.comparison({"kmeans": kmeans, "gmm": ClusteringConfig("gmm", {"n_clusters": 4}, chosen)})
    assert {"kmeans", "gmm"} <= set(metrics.index) | set(metrics.columns)
    assert ari.loc["kmeans", "kmeans"] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="same features"):
        analysis.comparison({"kmeans": kmeans, "other": ClusteringConfig("kmeans", {"n_clusters": 4}, chosen[:2])})
