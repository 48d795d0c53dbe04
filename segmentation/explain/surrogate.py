"""Surrogate classifiers that learn segment membership from the interpretable (unscaled) features.

An explanation is only as good as the model it explains, so every surrogate reports its fidelity by
cross-validation (accuracy, macro-F1, recall per segment); below ``min_fidelity`` macro-F1 the result carries
a warning. The fitted surrogate also assigns new customers to segments, with a probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import StratifiedKFold

from segmentation.errors import ConfigError, ModelError
from segmentation.explain.names import MODELS
from segmentation.explain.sampling import stratified_sample
from segmentation.features.definitions import CATEGORICAL


def surrogate_inputs(features: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The feature table as the surrogates see it: numeric columns as floats, categorical ones as text."""
    columns = columns or list(features.columns)
    frame = features[columns].copy()
    for column in columns:
        if column in CATEGORICAL or not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("string").fillna("unknown").astype("category")
        else:
            frame[column] = frame[column].astype(float)
    return frame


class SegmentSurrogate(ClassifierMixin, BaseEstimator):
    """LightGBM or CatBoost classifier of segment labels, with cross-validated fidelity in ``fidelity_``.

    The fidelity is cross-validated on a stratified sample of at most ``cv_rows`` customers (``None``: all of
    them): 100,000 pin accuracy and F1 down to a few tenths of a percent, and on 1M customers the folds on
    every row would triple the training time. The final model is fitted on every customer.

    100 trees per segment at a learning rate of 0.2 reproduce the segments as well as 200 at 0.1 (macro-F1 within
    0.5 points on Online Retail and the sample, k = 4 to 8) in half the time, and SHAP's cost halves with the trees.
    """

    def __init__(
        self,
        model: str = "lightgbm",
        n_estimators: int = 100,
        learning_rate: float = 0.2,
        cv: int = 3,
        cv_rows: int | None = 100_000,
        min_fidelity: float = 0.8,
        random_state: int = 0,
        n_jobs: int = 1,
        device: str = "cpu",
    ):
        self.model = model
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.cv = cv
        self.cv_rows = cv_rows
        self.min_fidelity = min_fidelity
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.device = device

    def _new_model(self, categorical: list[str]):
        if self.model == "lightgbm":
            from lightgbm import LGBMClassifier

            return LGBMClassifier(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                num_leaves=15,
                min_child_samples=10,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
                verbose=-1,
                device_type="gpu" if self.device == "gpu" else "cpu",
            )
        if self.model == "catboost":
            from catboost import CatBoostClassifier

            return CatBoostClassifier(
                iterations=self.n_estimators,
                learning_rate=self.learning_rate,
                depth=4,
                random_seed=self.random_state,
                thread_count=self.n_jobs,
                cat_features=categorical,
                one_hot_max_size=64,  # countries and channels one-hot: 2-3x faster than target statistics
                verbose=0,
                allow_writing_files=False,
                task_type="GPU" if self.device == "gpu" else "CPU",
            )
        raise ConfigError(f"unknown surrogate model {self.model!r}; choose one of {', '.join(MODELS)}")

    def model_input(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as the underlying model takes it (CatBoost wants categories as text)."""
        if self.model == "catboost":
            X = X.copy()
            for column in self.categorical_:
                X[column] = X[column].astype(str)
        return X

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> SegmentSurrogate:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ModelError(
                f"the segmentation has {len(self.classes_)} segment(s): a surrogate needs at least two to tell apart",
                where="segments",
            )
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.categorical_ = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        data = self.model_input(X)
        rows = np.arange(len(y))
        if self.cv_rows is not None and len(y) > self.cv_rows:
            labels = pd.Series(y, index=rows)
            rows = stratified_sample(labels, self.cv_rows, random_state=self.random_state).to_numpy()
        self.fidelity_ = self._cross_validate(data.iloc[rows], y[rows])
        self.model_ = self._new_model(self.categorical_).fit(data, y)
        return self

    def _cross_validate(self, data: pd.DataFrame, y: np.ndarray) -> dict:
        smallest = int(pd.Series(y).value_counts().min())
        folds = min(self.cv, smallest)
        if folds < 2:
            return {
                "customers": len(y),
                "accuracy": np.nan,
                "macro_f1": np.nan,
                "recall": {},
                "warning": "a segment has one customer",
            }
        predicted = np.empty_like(y)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(data, y):
            model = self._new_model(self.categorical_).fit(data.iloc[train], y[train])
            predicted[test] = np.asarray(model.predict(data.iloc[test])).ravel()
        macro_f1 = float(f1_score(y, predicted, average="macro"))
        recall = recall_score(y, predicted, average=None, labels=self.classes_)
        return {
            "customers": len(y),
            "accuracy": float(accuracy_score(y, predicted)),
            "macro_f1": macro_f1,
            "recall": {int(c): float(r) for c, r in zip(self.classes_, recall, strict=True)},
            "warning": (
                f"low fidelity: macro-F1 {macro_f1:.2f} < {self.min_fidelity:.2f}; the explanations describe a model "
                "that does not reproduce the segments well"
                if macro_f1 < self.min_fidelity
                else ""
            ),
        }

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model_.predict(self.model_input(X))).ravel().astype(self.classes_.dtype)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self.model_input(X))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The trees' raw output, what SHAP values add up to: log-odds per segment (rows, segments), or of the
        second segment (rows,) when there are two."""
        data = self.model_input(X)
        if self.model == "catboost":
            return np.asarray(self.model_.predict(data, prediction_type="RawFormulaVal"), dtype=float)
        return np.asarray(self.model_.predict(data, raw_score=True), dtype=float)
