"""Segmenters behind one interface, preprocessing, choice of k, comparison and 2-D projection.

The names load lazily (see :mod:`segmentation.lazy`): importing the package does not import torch or
scikit-learn.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "autoencoder": ("AutoencoderSegmenter",),
        "base": ("NOISE", "Segmenter"),
        "compare": ("compare_methods",),
        "density": ("HdbscanSegmenter",),
        "gmm": ("GmmSegmenter",),
        "hierarchical": ("HierarchicalSegmenter",),
        "kmeans": ("KMeansSegmenter",),
        "model": ("METHODS", "SegmentationModel", "make_segmenter"),
        "names": ("METHOD_NAMES",),
        "preprocess": ("DEFAULT_FEATURES", "FeaturePreprocessor"),
        "projection": ("project_2d",),
        "selection": ("KSelection", "bootstrap_stability", "choose_k", "cluster_metrics"),
    },
)
