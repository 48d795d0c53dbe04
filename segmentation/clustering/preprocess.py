"""The preprocessing every segmenter shares: pick features, impute, log skewed columns, scale, filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import RobustScaler

from segmentation.errors import InputError

DEFAULT_FEATURES: tuple[str, ...] = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days")
"""RFM plus order value and tenure. Adding every engineered feature dilutes these: on the planted sample
K-Means' adjusted Rand index falls from 0.96 to 0.50 with eleven features (docs/clustering.md)."""


class FeaturePreprocessor(TransformerMixin, BaseEstimator):
    """Feature table -> scaled matrix, fitted once and reused for new customers.

    Missing values (e.g. the inter-purchase interval of one-order customers) get the fitted median;
    columns with skewness above ``skew_threshold`` get a signed ``log1p``; everything is robust-scaled
    (median/IQR, so a few huge customers do not squash the rest). ``max_correlation`` drops the later of
    two columns correlated above it; ``min_variance`` drops near-constant columns.
    """

    def __init__(
        self,
        features: tuple[str, ...] | None = DEFAULT_FEATURES,
        skew_threshold: float = 1.0,
        max_correlation: float | None = 0.95,
        min_variance: float = 1e-8,
    ) -> None:
        self.features = features
        self.skew_threshold = skew_threshold
        self.max_correlation = max_correlation
        self.min_variance = min_variance

    def fit(self, X: pd.DataFrame, y: object = None) -> FeaturePreprocessor:
        numeric = X.select_dtypes("number").columns
        columns = [c for c in (self.features or numeric) if c in numeric]
        if not columns:
            raise InputError(
                "none of the requested features are numeric columns of the feature table",
                fix="choose features from the feature table (segment features --docs lists them)",
            )
        data = X[columns].astype(float)
        self.medians_ = data.median().fillna(0.0)
        data = data.fillna(self.medians_)
        skew = data.skew().fillna(0.0)
        self.log_columns_ = [c for c in columns if abs(skew[c]) > self.skew_threshold]
        data = self._log(data)
        keep = [c for c in columns if data[c].var() > self.min_variance]
        if self.max_correlation is not None and len(keep) > 1:
            corr = data[keep].corr().abs().to_numpy()
            dropped: set[int] = set()
            for j in range(len(keep)):
                if any(corr[i, j] > self.max_correlation for i in range(j) if i not in dropped):
                    dropped.add(j)
            keep = [c for j, c in enumerate(keep) if j not in dropped]
        self.feature_names_in_ = np.array(columns, dtype=object)
        self.feature_names_out_ = np.array(keep, dtype=object)
        self.scaler_ = RobustScaler(quantile_range=(10.0, 90.0)).fit(data[keep].to_numpy())
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        data = self._log(X[list(self.feature_names_in_)].astype(float).fillna(self.medians_))
        return self.scaler_.transform(data[list(self.feature_names_out_)].to_numpy())

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_out_

    def _log(self, data: pd.DataFrame) -> pd.DataFrame:
        data = data.copy()
        for column in self.log_columns_:
            data[column] = np.sign(data[column]) * np.log1p(data[column].abs())
        return data
