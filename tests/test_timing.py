"""Estimates of how long a step takes: scaled from this machine's runs, priors when none, never from failures."""

from __future__ import annotations

import json

import pytest

from segmentation.config import Config
from segmentation.timing import Timings, describe, elapsed_text, timings
from segmentation.workflow import Analysis


def test_estimate_scales_the_nearest_run_linearly(tmp_path) -> None:
    t = Timings(tmp_path / "t.json", priors={})
    t.record("churn", 1_000, 2.0)
    t.record("churn", 100_000, 50.0)
    assert t.estimate("churn", 2_000) == pytest.approx(4.0)  # nearest is the 1,000-row run
    assert t.estimate("churn", 200_000) == pytest.approx(100.0)  # nearest is the 100,000-row run
    assert t.estimate("unknown", 10) is None


def test_the_latest_of_equal_sizes_wins_and_priors_only_fill_gaps(tmp_path) -> None:
    t = Timings(tmp_path / "t.json", priors={"churn": (1_000, 10.0)})
    assert t.estimate("churn", 500) == pytest.approx(5.0)
    t.record("churn", 1_000, 2.0)
    t.record("churn", 1_000, 3.0)
    assert t.estimate("churn", 1_000) == pytest.approx(3.0)


def test_runs_survive_a_restart_and_a_broken_file_is_ignored(tmp_path) -> None:
    path = tmp_path / "t.json"
    Timings(path, priors={}).record("load", 10, 1.5)
    assert Timings(path, priors={}).estimate("load", 20) == pytest.approx(3.0)
    assert set(json.loads(path.read_text())) == {"load"}  # step names, sizes and seconds only
    path.write_text("{not json")
    assert Timings(path, priors={}).estimate("load", 20) is None


def test_a_failed_block_records_nothing(tmp_path) -> None:
    t = Timings(tmp_path / "t.json", priors={})
    with pytest.raises(RuntimeError), t.timed("churn", 100):
        raise RuntimeError("cancelled")
    assert t.estimate("churn", 100) is None
    with t.timed("churn", 100):
        pass
    assert t.estimate("churn", 100) is not None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "an unknown time"), (3, "a few seconds"), (42, "about 40 s"), (150, "about 2 min"), (7200, "about 2.0 h")],
)
def test_describe(seconds, text) -> None:
    assert describe(seconds) == text


def test_elapsed_against_the_estimate() -> None:
    assert elapsed_text(12, 40) == "12 s of about 40 s"
    assert elapsed_text(12, None) == "12 s"
    assert elapsed_text(60, 40).startswith("60 s, longer than the usual")


def test_the_workflow_times_its_slow_steps_by_file_size(sample_path, monkeypatch) -> None:
    monkeypatch.setattr("segmentation.workflow.MIN_TIMED", 0.0)
    analysis = Analysis(sample_path, Config())
    rows = len(analysis.load().transactions)
    analysis.customers()
    runs = timings().runs()
    assert runs["load"][-1][0] == sample_path.stat().st_size
    assert runs["customers"][-1][0] == rows
    assert analysis.expected_seconds("customers") == pytest.approx(runs["customers"][-1][1])
