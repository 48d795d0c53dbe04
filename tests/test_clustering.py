"""One interface for every segmenter; choice of k, stability, profiles, names, saved models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering import (
    METHODS,
    NOISE,
    AutoencoderSegmenter,
    FeaturePreprocessor,
    GmmSegmenter,
    HdbscanSegmenter,
    HierarchicalSegmenter,
    SegmentationModel,
    bootstrap_stability,
    choose_k,
    compare_methods,
    make_segmenter,
    project_2d,
)
from segmentation.clustering.profiles import name_segments, segment_profiles
from segmentation.errors import ConfigError, InputError

FAST = {
    "kmeans": {"n_clusters": 4},
    "hierarchical": {"n_clusters": 4},
    "hdbscan": {"n_trials": 8},
    "gmm": {"n_clusters": 4},
    "autoencoder": {"n_clusters": 4, "epochs": 30, "latent_dim": 2},
}


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=800, centers=4, n_features=5, cluster_std=0.6, random_state=3)
    return X, y


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_finds_well_separated_blobs(method: str, blobs) -> None:
    X, y = blobs
    model = make_segmenter(method, random_state=0, **FAST[method]).fit(X)
    assigned = model.labels_ != NOISE
    assert assigned.mean() > 0.8
    assert adjusted_rand_score(y[assigned], model.labels_[assigned]) > 0.9
    assert model.n_clusters_ == len(np.unique(model.labels_[assigned]))
    np.testing.assert_array_equal(model.fit_predict(X), model.labels_)
    predicted = model.predict(X[:50])
    assert adjusted_rand_score(model.labels_[:50], predicted) > 0.9


@pytest.mark.parametrize("method", list(METHODS))
def test_same_seed_same_segments(method: str, blobs) -> None:
    X, _ = blobs
    a = make_segmenter(method, random_state=7, **FAST[method]).fit(X).labels_
    b = make_segmenter(method, random_state=7, **FAST[method]).fit(X).labels_
    np.testing.assert_array_equal(a, b)


def test_gmm_gives_soft_membership_and_chooses_k_by_bic(blobs) -> None:
    X, _ = blobs
    model = GmmSegmenter(n_clusters=None, covariance_type=None, k_range=(2, 6)).fit(X)
    assert model.n_clusters_ == 4
    assert set(model.bic_["covariance_type"]) == {"full", "diag"}
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_hdbscan_keeps_noise_and_reports_its_share() -> None:
    X, _ = make_blobs(n_samples=600, centers=3, cluster_std=0.4, random_state=1)
    noise = np.random.default_rng(0).uniform(-15, 15, size=(60, 2))
    model = HdbscanSegmenter(n_trials=10).fit(np.vstack([X, noise]))
    assert model.noise_share_ == pytest.approx(np.mean(model.labels_ == NOISE))
    assert 0 < model.noise_share_ < 0.4
    assert len(model.labels_) == 660  # nobody dropped
    assert model.trials_ is not None and len(model.trials_) == 10


def test_hierarchical_samples_large_inputs_and_says_so(blobs) -> None:
    X, y = blobs
    model = HierarchicalSegmenter(n_clusters=4, max_samples=200).fit(X)
    assert model.sampled_ and len(model.sample_index_) == 200
    assert model.linkage_matrix_.shape == (199, 4)
    assert adjusted_rand_score(y, model.labels_) > 0.9


def test_autoencoder_embeds_new_customers(blobs) -> None:
    X, y = blobs
    model = AutoencoderSegmenter(n_clusters=4, latent_dim=2, epochs=20).fit(X)
    np.testing.assert_allclose(model.transform(X[:5]), model.embedding_[:5], rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.labels_)  # new customers go where fitted ones went
    assert adjusted_rand_score(y, model.labels_) > 0.9  # the code keeps the planted groups apart
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert model.device_ in ("cpu", "cuda")


def test_choose_k_recommends_the_planted_k_with_a_reason(blobs) -> None:
    X, _ = blobs
    selection = choose_k(X, range(2, 8))
    assert selection.recommended == 4
    assert "silhouette" in selection.reason
    assert list(selection.table.columns) == [
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "bic",
        "smallest_share",
    ]
    assert selection.table["inertia"].is_monotonic_decreasing


def test_stability_is_high_for_clear_structure_and_lower_for_noise(blobs) -> None:
    X, _ = blobs
    clear, _ = bootstrap_stability(lambda: make_segmenter("kmeans", n_clusters=4), X, n_rounds=3)
    uniform = np.random.default_rng(0).uniform(size=(800, 5))
    vague, _ = bootstrap_stability(lambda: make_segmenter("kmeans", n_clusters=4), uniform, n_rounds=3)
    assert clear > 0.95 and vague < clear


def test_compare_methods_tables(blobs) -> None:
    X, y = blobs
    metrics, ari, nmi = compare_methods(X, {"truth": y, "shuffled": np.random.default_rng(0).permutation(y)})
    assert metrics.loc["truth", "silhouette"] > metrics.loc["shuffled", "silhouette"]
    assert ari.loc["truth", "truth"] == pytest.approx(1.0)
    assert abs(ari.loc["truth", "shuffled"]) < 0.05
    assert nmi.shape == (2, 2)


def test_projection_keeps_the_two_directions_of_largest_spread(blobs) -> None:
    X = blobs[0]
    projected = project_2d(X)
    assert projected.shape == (800, 2)
    np.testing.assert_allclose(projected.mean(axis=0), 0.0, atol=1e-9)  # centred
    variance = projected.var(axis=0)
    assert variance[0] >= variance[1]
    # no other unit direction spreads the data more than the first axis (checked against random ones)
    directions = np.random.default_rng(0).normal(size=(200, X.shape[1]))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    assert ((X - X.mean(axis=0)) @ directions.T).var(axis=0).max() <= variance[0] + 1e-9


def customer_features(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Two obvious kinds of customer: recent big spenders and lapsed one-timers."""
    rng = np.random.default_rng(seed)
    half = n // 2
    frame = pd.DataFrame(
        {
            "recency_days": np.r_[rng.uniform(1, 20, half), rng.uniform(200, 300, n - half)],
            "frequency": np.r_[rng.integers(8, 20, half), np.ones(n - half)],
            "monetary": np.r_[rng.uniform(2000, 5000, half), rng.uniform(10, 50, n - half)],
            "tenure_days": rng.uniform(300, 400, n),
            "return_rate": np.zeros(n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    frame["interpurchase_mean_days"] = np.where(frame["frequency"] > 1, 20.0, np.nan)
    return frame


def test_preprocessor_imputes_logs_scales_and_filters() -> None:
    features = customer_features()
    features["monetary_copy"] = features["monetary"] * 2
    pre = FeaturePreprocessor(
        ("recency_days", "frequency", "monetary", "monetary_copy", "return_rate", "interpurchase_mean_days")
    ).fit(features)
    X = pre.transform(features)
    assert not np.isnan(X).any()
    assert "monetary_copy" not in pre.feature_names_out_  # perfectly correlated with monetary
    assert "return_rate" not in pre.feature_names_out_  # constant
    assert X.shape == (400, len(pre.feature_names_out_))
    np.testing.assert_allclose(pre.transform(features.iloc[:3]), X[:3])  # new rows, same transform


def test_profiles_and_names_describe_the_segments() -> None:
    features = customer_features()
    labels = np.r_[np.zeros(200, int), np.ones(200, int)]
    profile = segment_profiles(features, labels)
    assert profile["customers"].tolist() == [200, 200]
    assert profile["revenue_share"].sum() == pytest.approx(1.0)
    assert profile.loc[0, "revenue_share"] > 0.9
    names = name_segments(profile)
    assert names[0].startswith("Recent") and names[1].startswith("Lapsed")
    assert len(set(names.values())) == 2


def test_model_assigns_new_customers_and_round_trips(tmp_path) -> None:
    features = customer_features()
    model = SegmentationModel("kmeans", {"n_clusters": 2}, features=("recency_days", "frequency", "monetary")).fit(
        features
    )
    fitted = model.fitted_assignments(features)
    assert set(fitted.columns) == {"segment", "segment_name"}
    model.rename(int(fitted.loc["c0", "segment"]), "VIPs")
    path = tmp_path / "model.pkl"
    model.save(path)
    loaded = SegmentationModel.load(path)
    new = customer_features(50, seed=9)
    pd.testing.assert_frame_equal(loaded.assignments(new), model.assignments(new))
    assert (loaded.assignments(new).loc[["c0", "c1"], "segment_name"] == "VIPs").all()


def test_gmm_model_exports_probability() -> None:
    features = customer_features()
    model = SegmentationModel("gmm", {"n_clusters": 2}, features=("recency_days", "monetary")).fit(features)
    assignments = model.fitted_assignments(features)
    membership = model.segmenter_.predict_proba(model.matrix(features))
    np.testing.assert_allclose(membership.sum(axis=1), 1.0)
    # the exported probability is the membership of the segment the customer is in
    np.testing.assert_allclose(assignments["probability"], membership[np.arange(len(features)), assignments["segment"]])
    assert assignments["probability"].min() >= 0.5  # two segments: the assigned one is the likelier


def test_bad_method_parameters_and_files_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown method 'dbscan'"):
        make_segmenter("dbscan")
    with pytest.raises(ConfigError, match="kmeans"):
        make_segmenter("kmeans", n_clusterz=3)
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="cannot read the segmentation model"):
        SegmentationModel.load(bad)


def test_hdbscan_fits_large_inputs_on_a_sample_and_assigns_the_rest() -> None:
    X, y = make_blobs(n_samples=3_000, centers=3, cluster_std=0.5, random_state=2)
    model = HdbscanSegmenter(min_cluster_size=30, min_samples=5, max_samples=1_000).fit(X)
    assert model.sampled_ and len(model.sample_index_) == 1_000
    assert len(model.labels_) == 3_000 and len(model.probabilities_) == 3_000
    assigned = model.labels_ != NOISE
    assert assigned.mean() > 0.8
    assert adjusted_rand_score(y[assigned], model.labels_[assigned]) > 0.9


def test_auto_k_is_the_recommended_k_for_methods_that_take_one(blobs) -> None:
    X, y = blobs
    # the planted blobs as five positive customer features (profiles and names read these columns)
    names = ["recency_days", "frequency", "monetary", "tenure_days", "return_rate"]
    features = pd.DataFrame(X - X.min(axis=0) + 1.0, columns=names)
    columns = tuple(features.columns)
    model = SegmentationModel("kmeans", {"n_clusters": "auto"}, features=columns).fit(features)
    assert model.k_selection_.recommended == 4 == model.segmenter_.n_clusters_
    assert adjusted_rand_score(y, model.labels_) > 0.95
    assert model.params == {"n_clusters": "auto"}  # what was asked stays, so a saved run says so
    density = SegmentationModel("hdbscan", {"n_clusters": "auto", "n_trials": 4}, features=columns).fit(features)
    assert density.k_selection_ is None and density.segmenter_.n_clusters_ >= 2
