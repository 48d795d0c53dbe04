"""Explanations at scale: the surrogate learns from a stratified sample, every customer's SHAP values come from the
executors and equal the single-machine TreeSHAP of the same fitted surrogate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.clustering import SegmentationModel
from segmentation.explain import explain
from segmentation.features import compute_features
from segmentation.pipeline import load_transactions
from segmentation.spark.explain import explain_spark, surrogate_table
from tests.app_helpers import SAMPLE
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)


@pytest.mark.slow
def test_executor_shap_equals_the_driver_shap_of_the_same_surrogate(spark) -> None:  # noqa: F811
    frame = compute_features(load_transactions(SAMPLE).transactions)
    labels = SegmentationModel("kmeans", {"n_clusters": 4}).fit(frame).assignments(frame)["segment"]
    features = spark.createDataFrame(frame.reset_index()).repartition(3)  # several partitions, several batches
    segments = spark.createDataFrame(labels.rename("segment").reset_index())
    result = explain_spark(features, segments, sample_size=1_000)
    # fitted on a sample of about 1,000 of the 2,998 customers, every segment in it
    assert 800 <= result.sample_size <= 1_300
    assert list(result.surrogate.classes_) == sorted(labels.unique())
    assert "country" not in result.features  # sensitive attributes left out, as `segment explain` does
    got = result.values.toPandas().set_index("customer_id").loc[frame.index]
    assert (got["segment"] == labels).all()
    X = surrogate_table(frame)
    local = explain(result.surrogate, X, labels, sample_size=None)
    own = np.searchsorted(result.surrogate.classes_, labels.to_numpy())
    rows = np.arange(len(frame))
    expected = pd.DataFrame(local.values[rows, :, own], index=frame.index, columns=[f"shap_{f}" for f in X.columns])
    np.testing.assert_allclose(got[expected.columns], expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["base_value"], local.base_values[rows, own], rtol=1e-9, atol=1e-9)
    # and they add up to the surrogate's raw score for the customer's own segment
    raw = result.surrogate.decision_function(X)[rows, own]
    np.testing.assert_allclose(got[expected.columns].sum(axis=1) + got["base_value"], raw, atol=1e-6)
    importance = result.importance()
    assert list(importance.columns) == sorted(labels.unique())
    np.testing.assert_allclose(
        importance.loc["recency_days", 0], expected.loc[labels == 0, "shap_recency_days"].abs().mean(), rtol=1e-9
    )
