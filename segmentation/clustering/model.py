"""A fitted segmentation: preprocessing + segmenter + names, saved and versioned, assigning new customers."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation.clustering.autoencoder import AutoencoderSegmenter
from segmentation.clustering.base import NOISE, Segmenter
from segmentation.clustering.density import HdbscanSegmenter
from segmentation.clustering.gmm import GmmSegmenter
from segmentation.clustering.hierarchical import HierarchicalSegmenter
from segmentation.clustering.kmeans import KMeansSegmenter
from segmentation.clustering.preprocess import DEFAULT_FEATURES, FeaturePreprocessor
from segmentation.clustering.profiles import name_segments, segment_profiles
from segmentation.clustering.selection import KSelection, choose_k
from segmentation.errors import ConfigError, InputError

METHODS: dict[str, type[Segmenter]] = {
    "kmeans": KMeansSegmenter,
    "hierarchical": HierarchicalSegmenter,
    "hdbscan": HdbscanSegmenter,
    "gmm": GmmSegmenter,
    "autoencoder": AutoencoderSegmenter,
}
FORMAT_VERSION = 1
AUTO = "auto"
"""``n_clusters`` value that asks for the recommended number of segments (the default of the CLI and of runs)."""


def make_segmenter(method: str, **params: Any) -> Segmenter:
    """The segmenter called ``method`` with ``params``; unknown names and parameters are clear errors."""
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    try:
        return METHODS[method](**params)
    except TypeError as exc:
        raise ConfigError(f"{method}: {exc}") from None


@dataclass
class SegmentationModel:
    """Everything needed to segment customers again: fit once, ``assign`` new feature rows later."""

    method: str
    params: dict[str, Any]
    features: tuple[str, ...] = DEFAULT_FEATURES
    random_state: int = 0
    preprocessor_: FeaturePreprocessor | None = None
    segmenter_: Segmenter | None = None
    names_: dict[int, str] = field(default_factory=dict)
    profiles_: pd.DataFrame | None = None
    as_of_: str | None = None
    k_selection_: KSelection | None = None
    """The scores behind the number of segments when ``params`` asked for ``n_clusters="auto"``."""

    def fit(self, features: pd.DataFrame, rfm_segment: pd.Series | None = None) -> SegmentationModel:
        """Preprocess, segment, profile and name. ``n_clusters="auto"`` takes the k :func:`choose_k` recommends
        for the methods that take a k (HDBSCAN finds its own and ignores it)."""
        self.preprocessor_ = FeaturePreprocessor(self.features).fit(features)
        X = self.preprocessor_.transform(features)
        params = dict(self.params)
        if params.get("n_clusters") == AUTO:
            params.pop("n_clusters")
            if "n_clusters" in METHODS.get(self.method, KMeansSegmenter)().get_params():
                self.k_selection_ = choose_k(X, random_state=self.random_state)
                params["n_clusters"] = self.k_selection_.recommended
        self.segmenter_ = make_segmenter(self.method, random_state=self.random_state, **params).fit(X)
        self.profiles_ = segment_profiles(features, self.segmenter_.labels_, rfm_segment)
        self.names_ = name_segments(self.profiles_)
        self.profiles_.insert(0, "name", pd.Series(self.names_))
        self.as_of_ = features.attrs.get("as_of")
        return self

    @property
    def labels_(self) -> np.ndarray:
        return self.segmenter_.labels_

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        return self.preprocessor_.transform(features)

    def assignments(self, features: pd.DataFrame, labels: np.ndarray | None = None) -> pd.DataFrame:
        """``customer_id`` -> ``segment``, ``segment_name`` and, for soft methods, ``probability``."""
        X = self.matrix(features)
        labels = self.segmenter_.predict(X) if labels is None else labels
        out = pd.DataFrame({"segment": labels.astype(int)}, index=features.index)
        out["segment_name"] = out["segment"].map(self.names_).fillna("Unassigned")
        if self.segmenter_.soft:
            out["probability"] = self.segmenter_.predict_proba(X).max(axis=1)
        elif isinstance(self.segmenter_, HdbscanSegmenter) and labels is self.segmenter_.labels_:
            out["probability"] = self.segmenter_.probabilities_
        return out

    def fitted_assignments(self, features: pd.DataFrame) -> pd.DataFrame:
        """Assignments of the customers the model was fitted on (their fitted labels, noise kept as -1)."""
        return self.assignments(features, self.segmenter_.labels_)

    def rename(self, segment: int, name: str) -> None:
        """Give a segment the analyst's own name."""
        if segment not in self.names_:
            raise ConfigError(f"there is no segment {segment}; segments are {sorted(self.names_)}")
        self.names_[segment] = name
        self.profiles_.loc[segment, "name"] = name

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            pickle.dump({"format_version": FORMAT_VERSION, "model": self}, fh)

    @staticmethod
    def load(path: str | Path) -> SegmentationModel:
        """Load a saved model; a file of another format version is a clear error."""
        try:
            with open(path, "rb") as fh:
                payload = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            raise InputError(f"cannot read the segmentation model: {exc}", where=str(path)) from exc
        if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"model format {payload.get('format_version') if isinstance(payload, dict) else '?'} is not "
                f"{FORMAT_VERSION}",
                where=str(path),
                fix="fit the segmentation again with this version",
            )
        return payload["model"]


__all__ = ["METHODS", "NOISE", "SegmentationModel", "make_segmenter"]
