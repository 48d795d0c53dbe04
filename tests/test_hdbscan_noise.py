"""HDBSCAN on data with a known share of noise: the share is reported, a large one is a warning, and
``assign_noise`` places the noise in the nearest segment. ``segment cluster`` defaults to the recommended k."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.cli import main
from segmentation.clustering import NOISE, FeaturePreprocessor, HdbscanSegmenter, choose_k
from segmentation.clustering.density import NOISE_WARNING_SHARE
from tests.app_helpers import assert_clean_run, metrics, new_app, open_segments, profiles

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def blobs_and_noise(n: int = 2_000, noise_share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three tight blobs and ``noise_share`` of points spread evenly over a box 13 times as wide: truth -1."""
    rng = np.random.default_rng(seed)
    n_noise = round(noise_share * n)
    truth = np.r_[rng.integers(0, 3, n - n_noise), np.full(n_noise, NOISE)]
    X = np.where(truth[:, None] == NOISE, rng.uniform(-60, 70, (n, 2)), CENTERS[truth] + rng.normal(0, 0.6, (n, 2)))
    return X, truth


def test_noise_share_matches_the_planted_noise_and_warns() -> None:
    X, truth = blobs_and_noise()
    model = HdbscanSegmenter(min_cluster_size=100, min_samples=20).fit(X)
    assert model.n_clusters_ == 3
    # planted 20 %; the few background points that land inside a blob are rightly part of it
    assert model.noise_share_ == pytest.approx(0.2, abs=0.02)
    assert np.mean((model.labels_ == NOISE) == (truth == NOISE)) > 0.98
    assert model.hdbscan_noise_share_ == model.noise_share_
    blob = truth != NOISE
    assert adjusted_rand_score(truth[blob], model.labels_[blob]) == 1.0
    assert re.search(r"left (19|20|21)% of customers unassigned", model.noise_warning())
    assert "assign_noise=True" in model.noise_warning() and "--assign-noise" in model.noise_warning()


def test_small_noise_share_is_no_warning() -> None:
    X, _ = blobs_and_noise(noise_share=0.05)
    model = HdbscanSegmenter(min_cluster_size=100, min_samples=20).fit(X)
    assert model.noise_share_ <= NOISE_WARNING_SHARE
    assert model.noise_warning() == ""


def test_assign_noise_places_noise_in_the_nearest_segment() -> None:
    X, _ = blobs_and_noise()
    kept = HdbscanSegmenter(min_cluster_size=100, min_samples=20).fit(X)
    assigned = HdbscanSegmenter(min_cluster_size=100, min_samples=20, assign_noise=True).fit(X)
    assert (assigned.labels_ != NOISE).all() and assigned.noise_share_ == 0.0
    assert assigned.hdbscan_noise_share_ == kept.noise_share_
    assert assigned.noise_warning() == ""
    was_noise = kept.labels_ == NOISE
    np.testing.assert_array_equal(assigned.labels_[~was_noise], kept.labels_[~was_noise])
    # a noise point goes to the segment of the nearest assigned customer (brute force here) ...
    members = X[~was_noise]
    nearest = np.argmin(((X[was_noise, None, :] - members[None]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_array_equal(assigned.labels_[was_noise], kept.labels_[~was_noise][nearest])
    # ... which for round blobs is nearly always the blob of the nearest centre
    centres = np.vstack([X[kept.labels_ == s].mean(axis=0) for s in range(3)])
    nearest_centre = np.argmin(((X[was_noise, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(assigned.labels_[was_noise] == nearest_centre) > 0.9
    assert (assigned.probabilities_[was_noise] == 0).all()  # placed, not a dense member


def test_predict_assigns_new_far_customers_only_with_assign_noise() -> None:
    X, _ = blobs_and_noise()
    far = np.array([[90.0, -80.0], [-80.0, 90.0]])  # nearest blobs: (10, 0) and (0, 10)
    kept = HdbscanSegmenter(min_cluster_size=100, min_samples=20).fit(X)
    assigned = HdbscanSegmenter(min_cluster_size=100, min_samples=20, assign_noise=True).fit(X)
    assert (kept.predict(far) == NOISE).all()
    blob_of = {tuple(c): kept.predict(c[None] + 0.01)[0] for c in CENTERS}
    assert assigned.predict(far).tolist() == [blob_of[(10.0, 0.0)], blob_of[(0.0, 10.0)]]


def test_assign_noise_on_the_sample_path() -> None:
    X, truth = blobs_and_noise(n=3_000)
    model = HdbscanSegmenter(min_cluster_size=50, min_samples=10, max_samples=1_000, assign_noise=True).fit(X)
    assert model.sampled_ and (model.labels_ != NOISE).all()
    assert model.hdbscan_noise_share_ > 0.1
    blob = truth != NOISE
    assert adjusted_rand_score(truth[blob], model.labels_[blob]) > 0.99


# --- the command line -----------------------------------------------------------------------------------------------


def feature_table(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """Three kinds of customer in the default features, and 25 % scattered between and around them."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, n)
    scattered = rng.random(n) < 0.25
    centre = np.array([[10, 20, 3000, 150, 400], [200, 1, 40, 40, 250], [60, 5, 500, 100, 300]])[kind]
    values = np.where(
        scattered[:, None],
        rng.uniform([1, 1, 10, 10, 10], [400, 40, 9000, 400, 700], (n, 5)),
        centre * rng.uniform(0.9, 1.1, (n, 5)),
    )
    columns = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"]
    return pd.DataFrame(values, columns=columns, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@pytest.fixture
def features_file(tmp_path) -> str:
    path = tmp_path / "features.parquet"
    feature_table().to_parquet(path)
    return str(path)


def test_cli_hdbscan_warns_about_noise_and_assigns_it_on_request(features_file, tmp_path, capsys) -> None:
    out = tmp_path / "segments.parquet"
    assert main(["-q", "cluster", features_file, "--method", "hdbscan", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: HDBSCAN left \d+% of customers unassigned .*--assign-noise\) \(\d+% of revenue\)", err)
    assert (pd.read_parquet(out)["segment"] == NOISE).mean() > NOISE_WARNING_SHARE
    assert main(["-q", "cluster", features_file, "--method", "hdbscan", "--assign-noise", "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (pd.read_parquet(out)["segment"] != NOISE).all()


def test_cli_default_k_is_the_recommended_one(features_file, tmp_path, capsys) -> None:
    assert main(["-q", "choose-k", features_file]) == 0
    recommended = int(re.search(r"recommended k=(\d+)", capsys.readouterr().out)[1])
    X = FeaturePreprocessor().fit_transform(pd.read_parquet(features_file))
    assert recommended == choose_k(X).recommended
    out = tmp_path / "segments.parquet"
    for method in ("kmeans", "hierarchical"):
        assert main(["-q", "cluster", features_file, "--method", method, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert f"k = {recommended} (--k auto, as `segment choose-k` recommends): k={recommended}: chosen by" in printed
        assert pd.read_parquet(out)["segment"].nunique() == recommended


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--method", "kmeans", "--assign-noise"], "--assign-noise is for --method hdbscan"),
        (["--method", "hdbscan", "--k", "4"], "hdbscan finds the number of segments itself"),
        (["--method", "kmeans", "--k", "bic"], "--k bic is for gmm"),
        (["--method", "kmeans", "--k", "one"], "give a whole number of at least 2, auto, or bic"),
    ],
)
def test_cli_k_and_noise_options_misused_are_one_line_errors(features_file, tmp_path, capsys, argv, message) -> None:
    assert main(["-q", "cluster", features_file, *argv, "--out", str(tmp_path / "s.parquet")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# --- the Segments page ----------------------------------------------------------------------------------------------


def test_segments_page_warns_about_a_large_noise_share_and_places_noise_on_request() -> None:
    app = new_app()
    open_segments(app)
    app.segmented_control(key="seg_method").set_value("hdbscan").run()
    assert_clean_run(app)
    noise = float(metrics(app)["Unassigned (noise share)"].rstrip("%"))
    warned = any("fit no segment and are *Unassigned*" in w.value for w in app.warning)
    assert warned == (noise > 100 * NOISE_WARNING_SHARE)
    assert ("Unassigned" in profiles(app)) == (noise > 0)
    app.checkbox(key="seg_assign_noise").check().run()
    assert_clean_run(app)
    assert "Unassigned" not in profiles(app)
    assert float(metrics(app)["Unassigned (noise share)"].rstrip("%")) == noise  # HDBSCAN's own share, still shown
    assert any("were placed in the nearest segment" in c.value for c in app.caption)
    assert not any("fit no segment and are" in w.value for w in app.warning)
