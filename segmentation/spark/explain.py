"""Explanations at scale: a surrogate fitted on a stratified sample on the driver, every customer's SHAP values
computed on the executors.

The surrogate is the project's :class:`~segmentation.explain.SegmentSurrogate` (LightGBM by default) fitted on at
most :data:`SAMPLE_SIZE` customers drawn per segment, so its cost does not grow with the customer base. The fitted
model is broadcast and each partition of the feature table is explained with the same exact TreeSHAP the
single-machine path uses (LightGBM's ``pred_contrib``); nothing per customer comes back to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.errors import ModelError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from segmentation.explain import SegmentSurrogate

SAMPLE_SIZE = 100_000
"""Customers the surrogate learns from: fidelity and SHAP values settle well before that (docs/scale.md)."""
MIN_PER_SEGMENT = 200
"""Customers of each segment in the sample where it has that many, so a small segment is still learnt."""


@dataclass
class SparkExplanation:
    """The surrogate fitted on the sample and every customer's SHAP values on Spark.

    ``values`` has ``customer_id``, ``segment``, ``base_value`` and one ``shap_<feature>`` column per feature: each
    feature's push (log-odds) of the customer towards their own segment; with ``base_value`` they add up to the
    surrogate's raw score for that segment.
    """

    surrogate: SegmentSurrogate
    values: DataFrame
    sample_size: int

    @property
    def features(self) -> list[str]:
        return [str(c) for c in self.surrogate.feature_names_in_]

    def importance(self) -> pd.DataFrame:
        """Mean |SHAP| per feature (rows) and segment (columns) over every customer of the segment, as
        :meth:`segmentation.explain.Explanation.global_importance` gives it for a sample."""
        from pyspark.sql import functions as F

        means = self.values.groupBy("segment").agg(*[F.avg(F.abs(f"shap_{f}")).alias(f) for f in self.features])
        table = means.toPandas().set_index("segment").sort_index().T
        table.columns = [int(c) for c in table.columns]
        return table.loc[table.mean(axis=1).sort_values(ascending=False).index]


def surrogate_table(features: pd.DataFrame, allow_sensitive: tuple[str, ...] = ()) -> pd.DataFrame:
    """The features as the surrogate sees them, without the sensitive attributes (as ``segment explain``)."""
    from segmentation.explain.inputs import surrogate_features
    from segmentation.privacy.sensitive import SENSITIVE_FEATURES, without_sensitive

    allowed = tuple(c for c in allow_sensitive if c in SENSITIVE_FEATURES)
    return surrogate_features(without_sensitive(features, allowed))


def segment_sample(
    labelled: DataFrame, size: int = SAMPLE_SIZE, min_per_segment: int = MIN_PER_SEGMENT, seed: int = 0
) -> pd.DataFrame:
    """About ``size`` customers of ``labelled`` (features and ``segment``), each segment in proportion but at least
    ``min_per_segment`` of it where it has that many; on the driver, indexed by ``customer_id``."""
    counts = dict(labelled.groupBy("segment").count().collect())
    total = sum(counts.values())
    fractions = {s: min(1.0, max(size * n / total, min_per_segment) / n) for s, n in counts.items()}
    return labelled.sampleBy("segment", fractions, seed).toPandas().set_index("customer_id")


def explain_spark(
    features: DataFrame,
    segments: DataFrame,
    model: str = "lightgbm",
    sample_size: int = SAMPLE_SIZE,
    allow_sensitive: tuple[str, ...] = (),
    seed: int = 0,
) -> SparkExplanation:
    """Fit the surrogate on a stratified sample of ``features`` joined to ``segments`` (``customer_id``,
    ``segment``) and compute every customer's SHAP values on the executors (lazily: written when asked)."""
    from segmentation.explain import SegmentSurrogate

    labelled = features.join(segments.select("customer_id", "segment"), "customer_id").where("segment IS NOT NULL")
    sample = segment_sample(labelled, sample_size, seed=seed)
    if sample.empty:
        raise ModelError("no customer has a segment: nothing to explain", where="segments")
    labels = sample.pop("segment").to_numpy()
    surrogate = SegmentSurrogate(model, random_state=seed).fit(surrogate_table(sample, allow_sensitive), labels)
    return SparkExplanation(surrogate, shap_on_executors(labelled, surrogate, allow_sensitive), len(sample))


def shap_on_executors(
    labelled: DataFrame, surrogate: SegmentSurrogate, allow_sensitive: tuple[str, ...] = ()
) -> DataFrame:
    """Every customer's SHAP values towards their own segment, computed per partition with the broadcast surrogate."""
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    from segmentation.explain import explain

    names = [str(c) for c in surrogate.feature_names_in_]
    shared = labelled.sparkSession.sparkContext.broadcast(surrogate)
    schema = StructType(
        [
            StructField("customer_id", StringType()),
            StructField("segment", IntegerType()),
            StructField("base_value", DoubleType()),
            *[StructField(f"shap_{f}", DoubleType()) for f in names],
        ]
    )

    def shap(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        fitted = shared.value
        for batch in frames:
            batch = batch.set_index("customer_id")
            labels = batch.pop("segment").to_numpy()
            X = surrogate_table(batch, allow_sensitive)[names]
            result = explain(fitted, X, labels, sample_size=None)
            own = np.searchsorted(fitted.classes_, labels)
            rows = np.arange(len(labels))
            out = pd.DataFrame(result.values[rows, :, own], columns=[f"shap_{f}" for f in names])
            out.insert(0, "base_value", result.base_values[rows, own])
            out.insert(0, "segment", labels.astype(np.int32))
            out.insert(0, "customer_id", batch.index.to_numpy())
            yield out

    return labelled.mapInPandas(shap, schema)
