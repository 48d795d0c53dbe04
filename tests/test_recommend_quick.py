"""The quick evaluation's models, and the estimates the Recommend page gives before and during its long steps."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recommenders.evaluate import quick_models, standard_models
from recommenders.names import MODEL_LABELS, QUICK_MODELS
from segmentation.config import Config
from segmentation.timing import timings
from segmentation.workflow import Analysis
from tests.app_helpers import RECOMMEND, assert_clean_run, new_app, segmented
from ui.recommend_widgets import timed_progress, usually


def test_the_quick_models_are_every_model_but_those_with_a_sequence_network() -> None:
    assert list(quick_models()) == list(QUICK_MODELS)
    assert set(standard_models()) - set(QUICK_MODELS) == {"gru", "attention", "repeat_explore"}
    for name, model in quick_models().items():
        assert type(model) is type(standard_models()[name])  # the same models, same defaults
        assert model.get_params() == standard_models()[name].get_params()


def test_the_quick_models_do_not_import_torch() -> None:
    code = "import sys; from recommenders.evaluate import quick_models; quick_models(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


class Bar:
    """What a progress bar was told."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def progress(self, done: float, text: str) -> None:
        self.texts.append(text)


def test_the_progress_text_says_the_time_so_far_against_the_estimate() -> None:
    bar = Bar()
    timed_progress(bar, "Training GRU sequence", 40.0)(0.1, "epoch 1/10")
    assert bar.texts == ["Training GRU sequence (0 s of about 40 s): epoch 1/10"]
    timed_progress(bar, "Evaluating", None)(0.5, "als, seed 0")
    assert bar.texts[-1] == "Evaluating (0 s): als, seed 0"  # no estimate: the time so far only
    assert usually(40.0) == " Usually about 40 s on this file." and usually(None) == ""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The Recommend page on the sample, with a timings file of its own."""
    monkeypatch.setenv("SEGMENT_TIMINGS", str(tmp_path / "timings.json"))
    at = new_app()
    segmented(at).switch_page(RECOMMEND).run()
    assert_clean_run(at)
    return at


def rows(at: AppTest) -> int:
    dataset, config = at.session_state["loaded"]
    return Analysis(dataset.path, config, fingerprint=dataset.digest).size("churn")


def test_estimates_before_the_long_steps_from_this_machines_runs(app: AppTest) -> None:
    timings().record("churn", rows(app), 40.0)
    timings().record("recommender:gru", rows(app), 300.0)
    # a churn horizon set on the Value page, which no other test trains: the Recommend page follows it
    app.switch_page("ui/value_page.py").run()
    app.number_input(key="value_churn_days").set_value(61).run()
    app.switch_page(RECOMMEND).run()
    assert_clean_run(app)
    assert any(h.value.startswith("Who is likely to stop buying in the 61 days from") for h in app.subheader)
    assert "Usually about 40 s on this file." in [c.value for c in app.caption]
    assert app.button(key="estimate_churn").help.endswith("Usually about 40 s on this file.")
    assert "GRU sequence about 5 min" in app.segmented_control(key="recommend_model").help

    cutoff = app.date_input(key="recommend_cutoff").value
    app.date_input(key="recommend_cutoff").set_value(cutoff - timedelta(days=7)).run()  # evaluated by no other test
    app.button(key="evaluate_models").click().run()  # the first evaluation on this machine is timed
    assert_clean_run(app)
    [(size, seconds)] = timings().runs()["quick_evaluation"]
    assert size == rows(app) and seconds > 0
    app.date_input(key="recommend_cutoff").set_value(cutoff - timedelta(days=14)).run()
    assert usually(seconds).strip() in [c.value for c in app.caption]  # the next one is estimated from it


@pytest.mark.slow
def test_the_quick_evaluation_of_online_retail_ranks_as_documented(online_retail_path: Path) -> None:
    """What the page does on Online Retail: the eight quick models at the default cutoff, 90 days before the end.
    How long it takes is measured by bench/bench_recommend_page.py, not asserted here (a loaded machine is slow)."""
    workflow = Analysis(online_retail_path, Config())
    transactions = workflow.load().transactions
    cutoff = pd.Timestamp(workflow.interactions().end).date() - timedelta(days=90)
    from recommenders.evaluate import evaluate_models

    table = evaluate_models(transactions, cutoff.isoformat(), quick_models(), seeds=(0,))
    assert list(table.index) == list(QUICK_MODELS)
    # the known ranking (docs/recommenders.md): TIFU-KNN best with repeats, EASE best for new products
    assert table["ndcg@10"].idxmax() == "tifu_knn" and table["cross-sell ndcg@10"].idxmax() == "ease"
    assert table["ndcg@10"].min() == table.loc[["popularity", "recent_popularity"], "ndcg@10"].min()
    assert {MODEL_LABELS[m] for m in table.index} >= {"ALS", "EASE", "TIFU-KNN", "Item kNN", "BPR"}
