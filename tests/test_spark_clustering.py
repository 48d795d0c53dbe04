"""Segments on Spark: MLlib recovers the planted personas, the sample-then-assign path assigns everyone, and the
saved model assigns new customers on the driver as MLlib did."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.config import ClusteringConfig
from segmentation.features import compute_features, rfm_table
from segmentation.pipeline import load_transactions
from segmentation.spark.clustering import segment_spark
from tests.app_helpers import SAMPLE
from tests.spark_fixtures import spark  # noqa: F401 (the fixture)

TRUTH = SAMPLE.parent / "sample_truth.csv"


@pytest.fixture(scope="module")
def planted(spark):  # noqa: F811
    """The embedded sample's features (DuckDB) on the driver and in Spark, and the planted persona of each."""
    frame = compute_features(load_transactions(SAMPLE).transactions)
    truth = pd.read_csv(TRUTH, dtype={"customer_id": str}).set_index("customer_id")["segment"].reindex(frame.index)
    table = spark.createDataFrame(frame.reset_index()).cache()
    return frame, table, truth


@pytest.mark.parametrize(
    ("method", "n_init", "seed", "least_ari"),
    [
        # fitted alone, seeds 0-3 measured ARI 0.683, 0.681, 0.967 and 0.967 (2026-12-02): seeds 1 and 2, the best
        # of two, recover the personas only if the fit with the lower cost is kept; 2 fits instead of the default 4
        pytest.param("kmeans", 2, 1, 0.8, marks=pytest.mark.slow),
        # MLlib's mixture has full covariances only (the local one: diagonal): measured 0.70. Seed 1 holds the best
        # log-likelihood of the default 4 (measured 40,370, 40,518, 23,540, 38,909; 200, 200, 18 and 200
        # iterations): fitting it alone (random_state 1) measured the ARI and driver agreement of the best of two,
        # 0.701 and 0.9997, in 39 s instead of 48
        pytest.param("gmm", 1, 1, 0.65, marks=pytest.mark.slow),
        # top-down splits, another algorithm: measured 0.49 as the best of 4 seeds; seed 0 alone gave the same, 0.486
        # (driver agreement 0.945), in 4.4 s instead of 13 (seeds 1-3 alone: 0.439, 0.476, 0.408)
        ("bisecting_kmeans", 1, 0, 0.45),
    ],
)
def test_mllib_recovers_the_planted_personas(planted, method: str, n_init: int, seed: int, least_ari: float) -> None:
    frame, table, truth = planted
    config = ClusteringConfig(method, {"n_clusters": truth.nunique(), "n_init": n_init}, random_state=seed)
    result = segment_spark(table, frame, config, rfm_table(frame)["rfm_segment"])
    got = result.assignments.toPandas().set_index("customer_id").reindex(frame.index)
    assert got["segment"].notna().all()
    assert adjusted_rand_score(truth, got["segment"]) >= least_ari
    model = result.model
    assert model.profiles_["customers"].sum() == len(frame)
    assert (got["segment_name"] == got["segment"].map(model.names_)).all()
    # the saved model (no Spark) gives the same segments for the same customers
    again = model.assignments(frame)
    agreement = (again["segment"] == got["segment"]).mean()
    assert agreement >= (0.99 if method != "bisecting_kmeans" else 0.9)
    if method == "gmm":
        assert got["probability"].between(0, 1).all()
        # MLlib's densities use a pseudo-inverse for nearly singular covariances, scipy its own: 7 of 2,998
        # customers differed by more than 0.001 when measured
        close = np.isclose(again["probability"], got["probability"], atol=1e-3)
        assert close.mean() >= 0.99
    else:
        assert got["probability"].isna().all()


def test_other_methods_fit_a_sample_and_assign_every_customer(planted) -> None:
    frame, table, truth = planted
    config = ClusteringConfig("hierarchical", {"n_clusters": truth.nunique()})
    result = segment_spark(table, frame, config)
    got = result.assignments.toPandas().set_index("customer_id").reindex(frame.index)
    # every customer on the executors, with the sample-fitted model itself: the same answer as on the driver
    pd.testing.assert_series_equal(
        got["segment"], result.model.assignments(frame)["segment"].astype(got["segment"].dtype)
    )
    assert adjusted_rand_score(truth, got["segment"]) >= 0.5
