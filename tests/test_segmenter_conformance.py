"""Every segmenter passes scikit-learn's estimator checks, and refuses misuse with the library's errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from segmentation.clustering.autoencoder import AutoencoderSegmenter
from segmentation.clustering.density import HdbscanSegmenter
from segmentation.clustering.gmm import GmmSegmenter
from segmentation.clustering.hierarchical import HierarchicalSegmenter
from segmentation.clustering.kmeans import KMeansSegmenter
from segmentation.errors import InputError, NotFittedError, SegmentationError

# small settings so the ~46 checks per estimator stay fast; every check runs (none is skipped)
SEGMENTERS = [
    KMeansSegmenter(n_clusters=3, n_init=1),
    GmmSegmenter(n_clusters=3, n_init=1),
    HierarchicalSegmenter(n_clusters=3),
    AutoencoderSegmenter(n_clusters=3, epochs=2, hidden=8, latent_dim=2),
    HdbscanSegmenter(min_cluster_size=5, min_samples=3),
]


@parametrize_with_checks(SEGMENTERS)
def test_scikit_learn_conformance(estimator, check) -> None:
    check(estimator)


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=lambda s: type(s).__name__)
def test_predict_before_fit_is_the_library_error(segmenter) -> None:
    with pytest.raises(NotFittedError, match="not fitted") as caught:
        segmenter.predict(np.zeros((4, 2)))
    assert isinstance(caught.value, SegmentationError)  # what the app and the CLI catch
    assert isinstance(caught.value, SklearnNotFittedError)  # what scikit-learn tools catch


@pytest.mark.parametrize("segmenter", SEGMENTERS[:-1], ids=lambda s: type(s).__name__)  # HDBSCAN finds its own k
def test_more_segments_than_customers_is_an_input_error(segmenter) -> None:
    with pytest.raises(InputError, match=r"2 customer\(s\) \(2 samples\) cannot form 3 segments"):
        segmenter.fit(np.array([[0.0, 1.0], [1.0, 0.0]]))


@pytest.mark.parametrize("segmenter", SEGMENTERS, ids=lambda s: type(s).__name__)
def test_missing_values_are_refused(segmenter) -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        segmenter.fit(X)
