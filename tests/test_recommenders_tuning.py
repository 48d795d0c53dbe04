"""Honest tuning: the tuner never sees the test period, finds a planted best parameter, and refits before testing."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from recommenders.baselines import BuyAgainRecommender, PopularityRecommender, RecentPopularityRecommender
from recommenders.data import Interactions
from recommenders.evaluate import EvaluationSplit, evaluate
from recommenders.tifu import TIFUKNNRecommender
from recommenders.tuning import tune, tuned_evaluation, validation_split
from segmentation.errors import ConfigError
from segmentation.pipeline import load_transactions
from segmentation.progress import Progress
from segmentation.synthetic import SyntheticSpec, write_sample

CUTOFF = pd.Timestamp("2023-10-01")
VALIDATION_DAYS = 60
FITTED_UNTIL: list[pd.Timestamp] = []


class RecordingBuyAgain(BuyAgainRecommender):
    """Buy-again that notes the last purchase of every history it is fitted on."""

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        FITTED_UNTIL.append(interactions.end)
        super()._fit(interactions, progress)


@pytest.fixture(scope="module")
def transactions(tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("tune") / "tx.csv.gz"
    write_sample(path, SyntheticSpec(n_customers=500, n_products=120, seed=11))
    return load_transactions(path).to_pandas()


def _scrambled_after_cutoff(transactions: pd.DataFrame) -> pd.DataFrame:
    """The same orders before the cutoff; from it on, every product replaced by a random one."""
    after = transactions["ts"] >= CUTOFF
    products = transactions["product_id"].unique()
    scrambled = transactions.copy()
    scrambled.loc[after, "product_id"] = np.random.default_rng(0).choice(products, int(after.sum()))
    return scrambled


def test_the_tuner_never_sees_the_test_period(transactions) -> None:
    FITTED_UNTIL.clear()
    models = {"buy_again": RecordingBuyAgain(), "tifu_knn": TIFUKNNRecommender()}
    table, chosen = tuned_evaluation(transactions, CUTOFF, models, n_trials=4, validation_days=VALIDATION_DAYS)
    tuning_fits = FITTED_UNTIL[:4]
    assert max(tuning_fits) < CUTOFF - pd.Timedelta(days=VALIDATION_DAYS)  # trained before the validation period
    assert CUTOFF - pd.Timedelta(days=VALIDATION_DAYS) <= min(FITTED_UNTIL[4:]) < CUTOFF  # refits: all before it
    other_table, other_chosen = tuned_evaluation(
        _scrambled_after_cutoff(transactions), CUTOFF, models, n_trials=4, validation_days=VALIDATION_DAYS
    )
    # what happens after the cutoff changes the test results but not one choice or validation score
    pd.testing.assert_frame_equal(chosen, other_chosen)
    assert not np.allclose(table["ndcg@10"], other_table["ndcg@10"])
    assert set(chosen["protocol"]) == {"all items", "cross-sell", "next-basket"} and (table["tune_s"] > 0).all()


def test_validation_split_is_cut_before_the_cutoff(transactions) -> None:
    split = validation_split(transactions, CUTOFF, VALIDATION_DAYS)
    assert split.cutoff == CUTOFF - pd.Timedelta(days=VALIDATION_DAYS)
    assert split.interactions.end < split.cutoff
    same = validation_split(_scrambled_after_cutoff(transactions), CUTOFF, VALIDATION_DAYS)
    assert (split.truth != same.truth).nnz == 0 and (split.next_truth != same.next_truth).nnz == 0


def _trend_shift() -> EvaluationSplit:
    """Everyone bought "old" products until day 100, then "new" ones from day 180; the validation period (from
    day 200) buys the new ones. A popularity window reaching back past day 100 ranks the old products first."""
    lines = []
    for c in range(40):
        for day in (10, 40, 70, 100):
            lines += [(f"c{c}", f"c{c}-{day}", day, f"old{(c + day) % 3}"), (f"c{c}", f"c{c}-{day}", day, "old3")]
        for day in (180, 195, 210):
            lines.append((f"c{c}", f"c{c}-{day}", day, f"new{c % 2}"))
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "day", "product_id"])
    tx = tx.assign(ts=pd.Timestamp("2024-01-01") + pd.to_timedelta(tx["day"], unit="D"), quantity=1, amount=1.0)
    tx = tx.assign(description="", is_return=False)
    return EvaluationSplit.from_transactions(tx, pd.Timestamp("2024-01-01") + pd.Timedelta(days=200))


def test_tuning_finds_the_planted_best_window() -> None:
    split = _trend_shift()
    tuning = tune(RecentPopularityRecommender(), split, n_trials=12)
    best = tuning.best["all items"]["window_days"]
    assert best < 100  # only a window after the shift ranks the new products first
    assert tuning.validation["all items"] == pytest.approx(
        evaluate(RecentPopularityRecommender(best), split)["ndcg@10"]
    )
    assert tuning.validation["all items"] > evaluate(RecentPopularityRecommender(180.0), split)["ndcg@10"] + 0.3
    assert len(tuning.trials) == 12 and tuning.seconds > 0


def test_nothing_to_tune_is_an_error() -> None:
    with pytest.raises(ConfigError, match="nothing to tune"):
        tune(PopularityRecommender(), _trend_shift(), n_trials=2)


def test_recommend_eval_prints_three_protocols_and_the_tuned_parameters(transactions, tmp_path, capsys, caplog) -> None:
    from segmentation.cli import main

    caplog.set_level(logging.INFO)
    path = tmp_path / "tx.parquet"
    transactions.to_parquet(path)
    command = ["recommend-eval", str(path), "--cutoff", "2023-10-01", "--only", "popularity,buy_again"]
    assert (
        main([*command, "--seeds", "0", "--tune", "3", "--validation-days", "60", "--out", str(tmp_path / "r.csv")])
        == 0
    )
    captured = capsys.readouterr()
    assert "cross-sell ndcg@10" in captured.out and "next-basket ndcg@10 explore" in captured.out
    assert "half_life_days" in captured.out and "tune_s" in captured.out
    assert "buy_again: tuning: trial 3 of 3" in caplog.text  # progress during every training
    assert set(pd.read_csv(tmp_path / "r.csv")["model"]) == {"popularity", "buy_again"}
