"""SHAP values of a fitted surrogate: global importance per segment, per-customer explanations, dependence of a
segment's score on one feature.

Large tables are explained on a stratified sample (``sample_size`` customers, every segment represented in
proportion, at least ``min_per_segment`` of each where it has that many).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.explain.sampling import stratified_sample
from segmentation.explain.surrogate import SegmentSurrogate


@dataclass
class Explanation:
    """SHAP values of a sample: ``values[i, j, s]`` is feature j's push of customer i towards segment s (log-odds)."""

    values: np.ndarray
    base_values: np.ndarray
    data: pd.DataFrame
    segments: np.ndarray
    labels: pd.Series

    @property
    def features(self) -> list[str]:
        return list(self.data.columns)

    def _segment(self, segment: int) -> int:
        return int(np.flatnonzero(self.segments == segment)[0])

    def global_importance(self) -> pd.DataFrame:
        """Mean |SHAP| per feature (rows) and segment (columns), over the segment's own customers."""
        out = {}
        for s, segment in enumerate(self.segments):
            members = (self.labels == segment).to_numpy()
            out[int(segment)] = np.abs(self.values[members, :, s]).mean(axis=0)
        table = pd.DataFrame(out, index=self.features)
        return table.loc[table.mean(axis=1).sort_values(ascending=False).index]

    def customer(self, customer_id: str, segment: int | None = None) -> pd.DataFrame:
        """Why this customer is in ``segment`` (default: their own): value and SHAP push of each feature."""
        row = self.data.index.get_loc(customer_id)
        segment = int(self.labels.loc[customer_id]) if segment is None else segment
        s = self._segment(segment)
        frame = pd.DataFrame(
            {"feature": self.features, "value": self.data.iloc[row].to_numpy(), "shap": self.values[row, :, s]}
        )
        frame = frame.reindex(frame["shap"].abs().sort_values(ascending=False).index).reset_index(drop=True)
        frame.attrs["base_value"] = float(self.base_values[row, s])
        return frame

    def dependence(self, segment: int, feature: str) -> pd.DataFrame:
        """Feature value against its SHAP push towards ``segment``, one row per sampled customer."""
        j = self.features.index(feature)
        return pd.DataFrame(
            {
                "value": self.data[feature].to_numpy(),
                "shap": self.values[:, j, self._segment(segment)],
                "segment": self.labels.to_numpy(),
            },
            index=self.data.index,
        )


def explain(
    surrogate: SegmentSurrogate,
    X: pd.DataFrame,
    labels: np.ndarray | pd.Series,
    sample_size: int | None = 2_000,
    random_state: int = 0,
) -> Explanation:
    """SHAP values of ``surrogate`` on a stratified sample of ``X`` (rows = customers, labels = segments).

    ``sample_size=None`` explains every row given, e.g. ``X.loc[[customer_id]]`` for one customer.
    """
    labels = pd.Series(np.asarray(labels), index=X.index)
    index = labels.index if sample_size is None else stratified_sample(labels, sample_size, random_state=random_state)
    data = X.loc[index]
    values, base = _tree_shap(surrogate, surrogate.model_input(data))
    if values.ndim == 2:  # two segments: one log-odds output; make it two symmetric ones
        values = np.stack([-values, values], axis=2)
        base = np.stack([-base, base], axis=1)
    return Explanation(values, base, data, surrogate.classes_, labels.loc[index])


def _tree_shap(surrogate: SegmentSurrogate, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values (rows, features[, classes]) and base values of the surrogate's trees, from each library's own
    exact TreeSHAP: LightGBM's ``predict(pred_contrib=True)`` (what ``shap.TreeExplainer`` itself calls for a
    LightGBM model: tests/test_shap_additivity.py checks the values are equal) and CatBoost's
    ``get_feature_importance(type="ShapValues")`` (shap's parser of CatBoost's oblivious trees crashed the process
    now and then: a segmentation fault in ``_cext.compute_expectations``, shap 0.51). Calling them directly spares
    the Explain page importing shap (numba, matplotlib and pyspark when installed: 1-2.4 s on a first visit).
    """
    if surrogate.model == "catboost":
        from catboost import Pool

        raw = surrogate.model_.get_feature_importance(
            Pool(data, cat_features=surrogate.categorical_), type="ShapValues"
        )
    else:
        raw = surrogate.model_.predict(data, pred_contrib=True, num_threads=surrogate.n_jobs)
    raw = np.asarray(raw, dtype=float)
    if raw.ndim == 2 and len(surrogate.classes_) > 2:  # LightGBM: (rows, classes x (features + 1))
        raw = raw.reshape(len(data), len(surrogate.classes_), -1)
    if raw.ndim == 2:  # binary: (rows, features + 1), the last column the expected value
        return raw[:, :-1], raw[:, -1]
    return raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1]  # (rows, classes, features + 1)
