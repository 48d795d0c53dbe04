"""Churn: "no order in the next H days", predicted from the feature table at a date, trained so nothing leaks.

A model for cutoff C is trained one horizon earlier: features as of C - H, labels from [C - H, C). It then
predicts from the features as of C and is judged on [C, C + H). Every step reads only its side of its date, so
changing any transaction from C on changes no prediction (a test checks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.errors import InputError, ModelError, NotFittedError
from segmentation.value.summary import orders, require_history, rfm_summary, to_timestamp

RFM_COLUMNS = ("recency_days", "frequency", "monetary")
"""The three inputs of the RFM logistic baseline, each log1p-scaled."""


@dataclass
class ChurnData:
    """Features of the customers with an order before ``as_of`` and, when the data reaches that far, whether they
    placed no order in [as_of, as_of + horizon)."""

    features: pd.DataFrame
    churned: pd.Series | None
    summary: pd.DataFrame
    as_of: pd.Timestamp


def _day(value: str | pd.Timestamp) -> pd.Timestamp:
    return to_timestamp(value).normalize()


def churn_data(
    transactions: pa.Table | pd.DataFrame, as_of: str | pd.Timestamp, horizon_days: float = 90.0, labels: bool = True
) -> ChurnData:
    """Feature table as of ``as_of`` (only earlier transactions) and, with ``labels``, the churn labels of the
    horizon after it (only transactions in [as_of, as_of + horizon))."""
    from segmentation.config import FeatureConfig
    from segmentation.features import compute_features

    as_of = _day(as_of)
    table = orders(transactions)
    summary = rfm_summary(table, as_of)
    features = compute_features(transactions, FeatureConfig(as_of=as_of.date()))
    features.index = features.index.astype(str)
    features = features.loc[features.index.intersection(summary.index).sort_values()]
    churned = churn_labels(table, as_of, horizon_days, features.index) if labels else None
    return ChurnData(features, churned, summary.loc[features.index], as_of)


def churn_labels(
    transactions: pa.Table | pd.DataFrame, as_of: str | pd.Timestamp, horizon_days: float, customers: pd.Index
) -> pd.Series:
    """Whether each of ``customers`` placed no order in [as_of, as_of + horizon); refuses data that stops short."""
    as_of = _day(as_of)
    end = as_of + pd.Timedelta(days=horizon_days)
    table = orders(transactions)
    require_history(
        table, end, f"(as-of + {horizon_days:g} days) to label churn", "choose an earlier date or a shorter horizon"
    )
    buyers = table.loc[(table["ts"] >= as_of) & (table["ts"] < end), "customer_id"].unique()
    return pd.Series(~customers.isin(buyers), index=customers, name="churned")


def _numeric(features: pd.DataFrame) -> pd.DataFrame:
    return features.select_dtypes("number").astype(float)


def _rfm(features: pd.DataFrame) -> np.ndarray:
    return np.log1p(features[list(RFM_COLUMNS)].clip(lower=0).to_numpy(dtype=float))


class ChurnClassifier:
    """P(no order in the horizon) from the feature table.

    ``model="lightgbm"``: gradient boosting on every numeric feature, probabilities calibrated by isotonic
    regression on out-of-fold predictions (5 folds; one booster refitted on all rows, so SHAP explains it).
    ``model="rfm_logistic"``: logistic regression on log recency, frequency and monetary value (the baseline).
    """

    def __init__(self, model: Literal["lightgbm", "rfm_logistic"] = "lightgbm", random_state: int = 0) -> None:
        self.model = model
        self.random_state = random_state

    def fit(self, features: pd.DataFrame, churned: pd.Series | np.ndarray) -> ChurnClassifier:
        y = np.asarray(churned, dtype=bool)
        if len(np.unique(y)) < 2 or min(y.sum(), (~y).sum()) < 5:
            raise ModelError("churn needs at least 5 customers who churned and 5 who did not to train")
        if self.model == "rfm_logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            self.estimator_ = make_pipeline(StandardScaler(), LogisticRegression()).fit(_rfm(features), y)
        elif self.model == "lightgbm":
            from lightgbm import LGBMClassifier
            from sklearn.calibration import CalibratedClassifierCV

            self.feature_names_in_ = list(_numeric(features).columns)
            booster = LGBMClassifier(
                # shallow trees: chosen by 5-fold CV AUROC on the training window of Online Retail (4 leaves beat
                # 15 at all three cutoffs tried, see docs/value.md), never on the evaluation window
                n_estimators=300,
                learning_rate=0.02,
                num_leaves=4,
                min_child_samples=50,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.8,
                random_state=self.random_state,
                n_jobs=1,
                verbose=-1,
            )
            self.estimator_ = CalibratedClassifierCV(booster, method="isotonic", cv=5, ensemble=False)
            self.estimator_.fit(_numeric(features), y)
        else:
            raise InputError(f"unknown churn model {self.model!r}", fix="use 'lightgbm' or 'rfm_logistic'")
        return self

    def _inputs(self, features: pd.DataFrame) -> Any:
        if not hasattr(self, "estimator_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(features, churned) first")
        return _rfm(features) if self.model == "rfm_logistic" else _numeric(features)[self.feature_names_in_]

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """(customers, 2): P(stays), P(churns)."""
        inputs = self._inputs(features)  # first: it says "not fitted" before estimator_ is needed
        return self.estimator_.predict_proba(inputs)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(features)[:, 1] >= 0.5

    @property
    def booster_(self) -> Any:
        """The LightGBM model behind the calibration (what SHAP explains)."""
        if self.model != "lightgbm":
            raise ModelError("only the LightGBM churn model has a booster")
        if not hasattr(self, "estimator_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(features, churned) first")
        return self.estimator_.calibrated_classifiers_[0].estimator


def top_decile_lift(churned: np.ndarray, score: np.ndarray) -> float:
    """Churn rate among the 10% highest scores over the overall churn rate (1 = no better than chance)."""
    churned = np.asarray(churned, dtype=float)
    top = np.argsort(-np.asarray(score, dtype=float), kind="stable")[: max(1, math.ceil(0.1 * len(churned)))]
    return float(churned[top].mean() / churned.mean())


def churn_metrics(churned: np.ndarray, score: np.ndarray, probability: bool = True) -> dict[str, float]:
    """AUROC, PR-AUC (average precision), Brier score (only for a probability) and top-decile lift."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    return {
        "auroc": float(roc_auc_score(churned, score)),
        "pr_auc": float(average_precision_score(churned, score)),
        "brier": float(brier_score_loss(churned, score)) if probability else float("nan"),
        "top_decile_lift": top_decile_lift(churned, score),
    }


def churn_scores(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    horizon_days: float = 90.0,
    random_state: int = 0,
) -> tuple[ChurnData, dict[str, tuple[np.ndarray, bool]]]:
    """Every churn model's score for the customers before ``cutoff``, trained without looking past it.

    Returns the data at the cutoff (its labels when the data reaches cutoff + horizon) and, per model, the scores
    and whether they are probabilities. Only transactions before ``cutoff`` are read to score.
    """
    from segmentation.value.clv import BetaGeo

    train, now = _windows(transactions, cutoff, horizon_days)
    lightgbm = ChurnClassifier("lightgbm", random_state).fit(train.features, train.churned)
    rfm = ChurnClassifier("rfm_logistic").fit(train.features, train.churned)
    bgnbd = BetaGeo().fit(now.summary)
    scores = {
        "recency alone": (now.features["recency_days"].to_numpy(dtype=float), False),
        "RFM logistic": (rfm.predict_proba(now.features)[:, 1], True),
        "BG/NBD 1 - P(alive)": (1.0 - bgnbd.probability_alive(now.summary), True),
        "BG/NBD P(no order in horizon)": (bgnbd.probability_no_purchase(now.summary, horizon_days), True),
        "LightGBM (calibrated)": (lightgbm.predict_proba(now.features)[:, 1], True),
    }
    return now, scores


def churn_risk(
    transactions: pa.Table | pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizon_days: float = 90.0,
    random_state: int = 0,
) -> tuple[ChurnClassifier, ChurnData]:
    """The calibrated LightGBM churn model for ``as_of`` and the data it scores: trained one horizon earlier
    (features as of ``as_of`` - H, labels from [as_of - H, as_of)), so it needs no order after ``as_of``.

    ``model.predict_proba(data.features)[:, 1]`` is each customer's P(no order in [as_of, as_of + H)).
    """
    train, now = _windows(transactions, as_of, horizon_days)
    return ChurnClassifier("lightgbm", random_state).fit(train.features, train.churned), now


def _windows(
    transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp, horizon_days: float
) -> tuple[ChurnData, ChurnData]:
    """The training data one horizon before ``cutoff`` (labelled) and the data at ``cutoff`` (unlabelled), both
    from the transactions before ``cutoff`` only."""
    cutoff = _day(cutoff)
    known = _before(transactions, cutoff)
    start = cutoff - pd.Timedelta(days=horizon_days)
    if known.empty:
        raise InputError(
            f"no order before the as-of date {cutoff:%Y-%m-%d}", where="transactions", fix="choose a later date"
        )
    if not (pd.to_datetime(known["ts"]) < start).any():
        raise InputError(
            f"the churn model learns from the customers before {start:%Y-%m-%d} ({horizon_days:g} days before "
            f"{cutoff:%Y-%m-%d}) and the data has none",
            where="transactions",
            fix="choose a later date or a shorter churn horizon",
        )
    train = churn_data(known, start, horizon_days)
    return train, churn_data(known, cutoff, horizon_days, labels=False)


def _before(transactions: pa.Table | pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The transaction lines strictly before ``cutoff``: what a model at the cutoff may see."""
    frame = transactions.to_pandas() if isinstance(transactions, pa.Table) else transactions
    return frame.loc[pd.to_datetime(frame["ts"]) < cutoff]


ExtraModel = Callable[[pd.DataFrame, pd.Index, pd.Timestamp], np.ndarray]
"""A further churn model for :func:`churn_evaluation_table`: (transactions before the cutoff, customers, cutoff)
-> each customer's probability of no order in the horizon."""


def churn_evaluation_table(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    horizon_days: float = 90.0,
    random_state: int = 0,
    more: Mapping[str, ExtraModel] | None = None,
) -> pd.DataFrame:
    """One row per churn model on the same split: AUROC, PR-AUC, Brier score, top-decile lift, with the churn
    rate and the number of customers. Labels come from [cutoff, cutoff + horizon); the models see only the
    transactions before the cutoff (trained one horizon earlier, see :func:`churn_scores`). ``more`` adds models
    from outside this package (``segment churn-eval --gru`` passes the GRU churn head of the recommenders); they
    too get only the transactions before the cutoff."""
    cutoff = _day(cutoff)
    churn_labels(transactions, cutoff, horizon_days, pd.Index([]))  # data too short: say so before training
    now, scores = churn_scores(transactions, cutoff, horizon_days, random_state)
    if more:
        known = _before(transactions, cutoff)
        for name, model in more.items():
            scores[name] = (np.asarray(model(known, now.features.index, cutoff), dtype=float), True)
    churned = churn_labels(transactions, cutoff, horizon_days, now.features.index).to_numpy()
    rows = [
        {"model": name, **churn_metrics(churned, score, probability)} for name, (score, probability) in scores.items()
    ]
    table = pd.DataFrame(rows)
    table["churn_rate"] = float(churned.mean())
    table["customers"] = len(churned)
    return table
