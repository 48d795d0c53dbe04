"""Segments at scale: Spark MLlib for K-Means, bisecting K-Means and Gaussian mixtures; every other method fitted
on a stratified sample on the driver and applied to every customer on the executors.

Both paths use the same :class:`~segmentation.clustering.preprocess.FeaturePreprocessor` (fitted on the sample,
applied per partition) and end in a :class:`~segmentation.clustering.SegmentationModel` with the usual profiles
and names, so a run made on Spark opens and assigns new customers like any other. What stays on the driver: the
sample the preprocessing (and a sample-fitted method) learns from, and the feature table for the RFM scores and
the segment profiles (whole-base medians and quantiles); see docs/scale.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.clustering.base import Segmenter
from segmentation.clustering.model import AUTO, METHODS, SegmentationModel
from segmentation.clustering.preprocess import DEFAULT_FEATURES, FeaturePreprocessor
from segmentation.clustering.profiles import name_segments, segment_profiles
from segmentation.config import ClusteringConfig
from segmentation.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MLLIB_METHODS: tuple[str, ...] = ("kmeans", "bisecting_kmeans", "gmm")
"""Methods fitted on every customer by Spark MLlib; the others of :data:`METHODS` are fitted on a sample."""
SAMPLE_SIZE = 100_000
"""Customers the driver fits on: enough for stable medians, quantiles and segments, small in driver memory."""
MLLIB_N_INIT = 4
"""Seeds tried per MLlib fit (the best kept), as :class:`~segmentation.clustering.KMeansSegmenter` does."""


class MllibCentroids(Segmenter):
    """The centres an MLlib K-Means or bisecting K-Means learnt, to assign new customers on the driver without
    Spark: each goes to the nearest centre (MLlib's bisecting model descends its tree instead, which can differ
    for a customer near a boundary)."""

    def __init__(self, params: dict[str, np.ndarray] | None = None) -> None:
        self.params = params

    def fit(self, X: np.ndarray, y: object = None) -> MllibCentroids:
        """Keep the learnt parameters; ``X`` (the sample) fixes the input width and gives the sample's labels."""
        X = self._fit_input(X, min_samples=1)
        self.centers_ = np.asarray(self.params["centers"], dtype=float)
        self.n_clusters_ = len(self.centers_)
        self.labels_ = self._predict(X)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._predict(self._predict_input(X))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return ((X[:, None, :] - self.centers_[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)


class MllibMixture(MllibCentroids):
    """The weights, means and covariances an MLlib Gaussian mixture learnt, with membership probabilities.

    The densities are scipy's; MLlib's use a pseudo-inverse for nearly singular covariances, so a customer near a
    boundary may get another probability (7 of the 2,998 customers of the embedded sample by more than 0.001).
    """

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self._posterior(self._predict_input(X))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._posterior(X).argmax(axis=1)

    def _posterior(self, X: np.ndarray) -> np.ndarray:
        from scipy.special import logsumexp
        from scipy.stats import multivariate_normal

        weights, covariances = self.params["weights"], self.params["covariances"]
        log = np.column_stack(
            [
                np.log(w) + multivariate_normal(mean, cov, allow_singular=True).logpdf(X)
                for w, mean, cov in zip(weights, self.params["centers"], covariances, strict=True)
            ]
        )
        return np.exp(log - logsumexp(log, axis=1, keepdims=True))


@dataclass
class SparkSegmentation:
    """The fitted model (preprocessing, segmenter, names, profiles) and every customer's segment on Spark."""

    model: SegmentationModel
    assignments: DataFrame
    """``customer_id``, ``segment``, ``segment_name``, ``probability`` (NULL for hard methods)."""


def stratified_sample(features: DataFrame, size: int = SAMPLE_SIZE, seed: int = 0) -> pd.DataFrame:
    """About ``size`` customers, drawn per order-count stratum (1, 2, 3-4, 5-9, 10+ orders) in proportion,
    with every stratum at least 2% of the sample, so the rare loyal customers are never left out."""
    from pyspark.sql import functions as F

    stratum = F.when(F.col("frequency") >= 10, 10).when(F.col("frequency") >= 5, 5)
    stratum = stratum.when(F.col("frequency") >= 3, 3).otherwise(F.col("frequency"))
    keyed = features.withColumn("_stratum", stratum)
    counts = dict(keyed.groupBy("_stratum").count().collect())
    total = sum(counts.values())
    fractions = {s: min(1.0, max(size * n / total, 0.02 * size) / n) for s, n in counts.items()}
    sample = keyed.sampleBy("_stratum", fractions, seed).drop("_stratum").toPandas()
    return sample.set_index("customer_id")


def segment_spark(
    features: DataFrame, frame: pd.DataFrame, config: ClusteringConfig, rfm_segment: pd.Series | None = None
) -> SparkSegmentation:
    """Segment every customer of ``features`` (Spark) with ``config.method``.

    ``frame`` is the feature table on the driver (for profiles, names and RFM); it may be a sample for the
    sample-then-assign methods when the whole table does not fit.
    """
    method, seed = config.method, config.random_state
    if method not in (*MLLIB_METHODS, *METHODS):
        raise ConfigError(
            f"unknown method {method!r}; on Spark choose one of {', '.join(sorted({*MLLIB_METHODS, *METHODS}))}"
        )
    sample = stratified_sample(features, seed=seed)
    sample.attrs = dict(frame.attrs)
    columns = config.features or DEFAULT_FEATURES
    if method not in MLLIB_METHODS:
        model = SegmentationModel(method, dict(config.params), columns, seed).fit(sample)
        return _with_profiles(model, _assign(features, model), frame, rfm_segment)
    preprocessor = FeaturePreprocessor(columns).fit(sample)
    params = dict(config.params)
    if params.get("n_clusters", AUTO) == AUTO:
        from segmentation.clustering.selection import choose_k

        params["n_clusters"] = choose_k(preprocessor.transform(sample), random_state=seed).recommended
    n_init = int(params.get("n_init", MLLIB_N_INIT))
    fitted, learnt = _fit_mllib(method, _matrix(features, preprocessor), int(params["n_clusters"]), seed, n_init)
    model = SegmentationModel(method, params, columns, seed, preprocessor_=preprocessor)
    segmenter = MllibMixture(learnt) if method == "gmm" else MllibCentroids(learnt)
    model.segmenter_ = segmenter.fit(preprocessor.transform(sample))
    return _with_profiles(model, fitted, frame, rfm_segment)


def _matrix(features: DataFrame, preprocessor: FeaturePreprocessor) -> DataFrame:
    """``customer_id`` and the preprocessed ``x`` vector of every customer, computed on the executors."""
    from pyspark.ml.functions import array_to_vector

    def transform(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in frames:
            X = preprocessor.transform(batch.set_index("customer_id"))
            yield pd.DataFrame({"customer_id": batch["customer_id"], "x": list(X)})

    matrix = features.mapInPandas(transform, "customer_id string, x array<double>")
    return matrix.withColumn("x", array_to_vector("x")).cache()  # MLlib passes over it once per iteration


def _fit_mllib(
    method: str, matrix: DataFrame, k: int, seed: int, n_init: int
) -> tuple[DataFrame, dict[str, np.ndarray]]:
    """Every customer's segment from MLlib (and its probability for the mixture), and the learnt parameters.

    Like the local segmenters (``n_init``), the best of ``n_init`` seeds is kept: the lowest within-segment cost
    for the K-Means kinds, the highest log-likelihood for the mixture.
    """
    from pyspark.ml.clustering import BisectingKMeans, GaussianMixture, KMeans
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    estimators = {
        "kmeans": lambda s: KMeans(k=k, seed=s, featuresCol="x", initMode="k-means||"),
        "bisecting_kmeans": lambda s: BisectingKMeans(k=k, seed=s, featuresCol="x"),
        "gmm": lambda s: GaussianMixture(k=k, seed=s, featuresCol="x", tol=1e-4, maxIter=200),
    }
    fits = [estimators[method](seed + i).fit(matrix) for i in range(max(n_init, 1))]
    if method == "gmm":
        fitted = max(fits, key=lambda f: f.summary.logLikelihood)
        gaussians = fitted.gaussiansDF.collect()
        learnt = {
            "centers": np.array([g["mean"].toArray() for g in gaussians]),
            "covariances": np.array([g["cov"].toArray() for g in gaussians]),
            "weights": np.array(fitted.weights),
        }
        probability = F.array_max(vector_to_array("probability"))
    else:
        fitted = min(fits, key=lambda f: f.summary.trainingCost)
        learnt = {"centers": np.array(fitted.clusterCenters())}
        probability = F.lit(None).cast("double")
    labels = fitted.transform(matrix).select(
        "customer_id", F.col("prediction").cast("int").alias("segment"), probability.alias("probability")
    )
    return labels, learnt


def _assign(features: DataFrame, model: SegmentationModel) -> DataFrame:
    """Every customer assigned on the executors with the (broadcast) sample-fitted model."""
    shared = features.sparkSession.sparkContext.broadcast(model)

    def assign(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in frames:
            out = shared.value.assignments(batch.set_index("customer_id"))
            out["probability"] = out.get("probability", np.nan)
            yield out.reset_index()[["customer_id", "segment", "probability"]]

    return features.mapInPandas(assign, "customer_id string, segment int, probability double")


def _with_profiles(
    model: SegmentationModel, labels: DataFrame, frame: pd.DataFrame, rfm_segment: pd.Series | None
) -> SparkSegmentation:
    """Profiles and names from every customer's segment (the feature table on the driver), as a local fit has."""
    from pyspark.sql import functions as F

    segments = labels.select("customer_id", "segment").toPandas().set_index("customer_id")["segment"]
    segments = segments.reindex(frame.index)
    model.profiles_ = segment_profiles(frame, segments.to_numpy(), rfm_segment)
    model.names_ = name_segments(model.profiles_)
    model.profiles_.insert(0, "name", pd.Series(model.names_))
    model.as_of_ = frame.attrs.get("as_of")
    names = labels.sparkSession.createDataFrame(
        pd.DataFrame({"segment": list(model.names_), "segment_name": list(model.names_.values())}),
        "segment int, segment_name string",
    )
    assignments = labels.join(F.broadcast(names), "segment", "left").select(
        "customer_id", "segment", F.coalesce("segment_name", F.lit("Unassigned")).alias("segment_name"), "probability"
    )
    return SparkSegmentation(model, assignments)
