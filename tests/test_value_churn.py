"""Churn: the metrics on known answers, nothing after the cutoff reaches a prediction, and the comparison table
on data where the answer is known to be learnable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import InputError, ModelError, NotFittedError
from segmentation.value import (
    ChurnClassifier,
    churn_contributions,
    churn_data,
    churn_evaluation_table,
    churn_metrics,
    churn_reasons,
    churn_scores,
    simulate_transactions,
    top_decile_lift,
)

CUTOFF = pd.Timestamp("2023-06-01")


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return simulate_transactions(1500, "2022-01-01", 730, seed=11)


def test_metrics_on_known_answers() -> None:
    churned = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 10, dtype=bool)
    perfect = churned.astype(float)
    metrics = churn_metrics(churned, perfect)
    assert metrics == {"auroc": 1.0, "pr_auc": 1.0, "brier": 0.0, "top_decile_lift": pytest.approx(1 / 0.2)}
    assert churn_metrics(churned, 1 - perfect)["auroc"] == 0.0
    assert np.isnan(churn_metrics(churned, np.arange(100.0), probability=False)["brier"])
    assert churn_metrics(churned, np.full(100, 0.2))["brier"] == pytest.approx(0.16)  # 0.2 * 0.8
    assert top_decile_lift(churned, np.r_[np.ones(10), np.zeros(90)]) == pytest.approx(0.2 / 0.2)  # 2 of 10


def test_labels_read_only_the_horizon(transactions: pd.DataFrame) -> None:
    data = churn_data(transactions, CUTOFF, 90)
    end = CUTOFF + pd.Timedelta(days=90)
    buyers = set(transactions.loc[(transactions["ts"] >= CUTOFF) & (transactions["ts"] < end), "customer_id"])
    assert {c for c, churned in data.churned.items() if not churned} == buyers & set(data.features.index)
    assert set(data.features.index) == set(transactions.loc[transactions["ts"] < CUTOFF, "customer_id"])
    with pytest.raises(InputError, match="must run to 2024-03-30"):
        churn_data(transactions, "2023-12-31", 90)


def test_nothing_after_the_cutoff_changes_a_prediction(transactions: pd.DataFrame) -> None:
    _, before = churn_scores(transactions, CUTOFF, 90)
    later = transactions["ts"] >= CUTOFF
    tampered = transactions.copy()
    tampered.loc[later, "amount"] *= 100  # every later order 100 times bigger,
    tampered.loc[later, "customer_id"] = tampered.loc[later, "customer_id"].sample(frac=1, random_state=0).to_numpy()
    extra = tampered[later].assign(ts=lambda f: f["ts"] + pd.Timedelta(days=1), order_id=lambda f: f["order_id"] + "x")
    tampered = pd.concat([tampered, extra], ignore_index=True)  # bought by someone else, and twice
    _, after = churn_scores(tampered, CUTOFF, 90)
    assert before.keys() == after.keys()
    for name, (score, _) in before.items():
        np.testing.assert_array_equal(score, after[name][0], err_msg=name)
    # the labels the models are judged on do see the change: the test would notice a leak
    assert not churn_data(transactions, CUTOFF, 90).churned.equals(churn_data(tampered, CUTOFF, 90).churned)


def test_the_table_compares_every_model_on_one_split(transactions: pd.DataFrame) -> None:
    seen: dict[str, object] = {}

    def coin(known: pd.DataFrame, customers: pd.Index, cutoff: pd.Timestamp) -> np.ndarray:
        """A further model that knows nothing: 0.5 for everyone (and what it was given)."""
        seen.update(last=pd.to_datetime(known["ts"]).max(), customers=customers, cutoff=cutoff)
        return np.full(len(customers), 0.5)

    table = churn_evaluation_table(transactions, CUTOFF, 90, more={"coin": coin}).set_index("model")
    assert list(table.index) == [
        "recency alone",
        "RFM logistic",
        "BG/NBD 1 - P(alive)",
        "BG/NBD P(no order in horizon)",
        "LightGBM (calibrated)",
        "coin",
    ]
    assert seen["last"] < CUTOFF == seen["cutoff"] and len(seen["customers"]) == table["customers"].iloc[0]
    assert table.loc["coin", "auroc"] == 0.5 and table.loc["coin", "brier"] == pytest.approx(0.25)
    assert table["customers"].nunique() == 1 and 0 < table["churn_rate"].iloc[0] < 1
    assert np.isnan(table.loc["recency alone", "brier"])  # a number of days is no probability
    # BG/NBD data: its own P(no order) and the learned models rank churners well above chance
    for name in ("BG/NBD P(no order in horizon)", "RFM logistic", "LightGBM (calibrated)"):
        assert table.loc[name, "auroc"] > 0.7, name
        assert table.loc[name, "brier"] < table.loc[name, "churn_rate"] * (1 - table.loc[name, "churn_rate"]), name


def test_classifier_refuses_what_it_cannot_do(transactions: pd.DataFrame) -> None:
    data = churn_data(transactions, CUTOFF, 90)
    with pytest.raises(NotFittedError, match="not fitted"):
        ChurnClassifier().predict_proba(data.features)
    with pytest.raises(ModelError, match="at least 5 customers who churned"):
        ChurnClassifier("rfm_logistic").fit(data.features, np.ones(len(data.features), dtype=bool))
    with pytest.raises(InputError, match="unknown churn model"):
        ChurnClassifier("forest").fit(data.features, data.churned)  # type: ignore[arg-type]


def test_reasons_name_the_feature_that_drives_churn() -> None:
    rng = np.random.default_rng(0)
    n = 1200
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "frequency": rng.integers(1, 10, n),
            "monetary": rng.gamma(2, 100, n),
            "noise": rng.normal(size=n),
        },
        index=pd.Index([f"{i:05d}" for i in range(n)], name="customer_id"),
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-(features["recency_days"] - 150) / 20))  # recency alone decides
    model = ChurnClassifier().fit(features, churned)
    contributions = churn_contributions(model, features)
    raw = model.booster_.predict(features, raw_score=True)
    np.testing.assert_allclose(contributions.sum(axis=1) + contributions.attrs["base"], raw, rtol=1e-6, atol=1e-6)
    reasons = churn_reasons(model, features)
    at_risk = reasons[reasons["churn_probability"] > 0.8]
    assert len(at_risk) > 100
    assert (at_risk["reasons"].str[0] == "recency_days").all()
    assert at_risk["sentence"].str.match(r"recency_days = \d+ days").all()
    assert not reasons.loc[reasons["churn_probability"] < 0.2, "reasons"].str[0].eq("recency_days").any()
