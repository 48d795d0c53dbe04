"""Known answer: the generator's planted personas are recovered from the features (slow: real pipeline)."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import METHODS, SegmentationModel
from segmentation.features import compute_features
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[pd.DataFrame, pd.Series]:
    folder = tmp_path_factory.mktemp("planted")
    write_sample(folder / "tx.csv.gz", SyntheticSpec(), truth_path=folder / "truth.csv")
    features = compute_features(load_transactions(folder / "tx.csv.gz").transactions)
    truth = pd.read_csv(folder / "truth.csv", dtype={"customer_id": str}).set_index("customer_id")["segment"]
    return features, truth.reindex(features.index)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_kmeans_and_gmm_recover_the_planted_personas(method: str, planted) -> None:
    features, truth = planted
    assert truth.notna().all()
    model = SegmentationModel(method, {"n_clusters": truth.nunique()}).fit(features)
    assert adjusted_rand_score(truth, model.labels_) >= 0.8


def test_every_method_runs_on_the_planted_sample_and_reports_ari(planted) -> None:
    features, truth = planted
    scores = {}
    for method in METHODS:
        params = {} if method == "hdbscan" else {"n_clusters": truth.nunique()}
        model = SegmentationModel(method, params).fit(features)
        scores[method] = adjusted_rand_score(truth, model.labels_)
        assert model.profiles_["customers"].min() > 1 or method == "hdbscan"
    print("ARI against the planted personas:", {k: round(v, 3) for k, v in scores.items()})
    assert min(scores.values()) > 0.3
