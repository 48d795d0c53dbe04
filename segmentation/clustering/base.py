"""The interface every segmenter implements (scikit-learn style)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from segmentation.errors import InputError, NotFittedError

NOISE = -1
"""Segment id of customers a method leaves unassigned (HDBSCAN noise): kept, never dropped."""


class SegmenterNotFittedError(NotFittedError, SklearnNotFittedError):
    """``predict`` before ``fit``: the library's error, and scikit-learn's, so both kinds of caller catch it."""


class Segmenter(ClusterMixin, BaseEstimator):
    """Base class: ``fit(X)`` learns ``labels_`` and ``n_clusters_``; ``predict(X)`` assigns new rows.

    Subclasses that give soft membership also implement ``predict_proba``. ``X`` is the preprocessed matrix
    (see :class:`~segmentation.clustering.preprocess.FeaturePreprocessor`): finite numbers, dense. Subclasses
    call :meth:`_fit_input` first in ``fit`` and :meth:`_predict_input` first in ``predict``.
    """

    def fit_predict(self, X: np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(X).labels_

    @property
    def soft(self) -> bool:
        return hasattr(self, "predict_proba")

    def _fit_input(self, X: np.ndarray, min_samples: int = 2) -> np.ndarray:
        """``X`` checked (2-D, finite, dense, enough rows for the segments asked) as float64; sets
        ``n_features_in_``."""
        X = validate_data(self, X, dtype=np.float64)
        k = getattr(self, "n_clusters", None)
        n = len(X)
        if n < max(min_samples, k if isinstance(k, int) else 0):
            raise InputError(
                f"{n} customer(s) ({n} sample{'' if n == 1 else 's'}) cannot form {k or 'any'} segments",
                fix="choose fewer segments or use more customers",
            )
        return X

    def _predict_input(self, X: np.ndarray) -> np.ndarray:
        """``X`` checked against the fitted shape; :class:`SegmenterNotFittedError` before ``fit``."""
        try:
            check_is_fitted(self)
        except SklearnNotFittedError as exc:
            raise SegmenterNotFittedError(f"{type(self).__name__} is not fitted yet: call fit(X) first") from exc
        return validate_data(self, X, dtype=np.float64, reset=False)
