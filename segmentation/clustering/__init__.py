"""Segmenters behind one interface, preprocessing, choice of k, comparison and 2-D projection."""

from __future__ import annotations

from segmentation.clustering.autoencoder import AutoencoderSegmenter
from segmentation.clustering.base import NOISE, Segmenter
from segmentation.clustering.compare import compare_methods
from segmentation.clustering.density import HdbscanSegmenter
from segmentation.clustering.gmm import GmmSegmenter
from segmentation.clustering.hierarchical import HierarchicalSegmenter
from segmentation.clustering.kmeans import KMeansSegmenter
from segmentation.clustering.model import METHODS, SegmentationModel, make_segmenter
from segmentation.clustering.preprocess import DEFAULT_FEATURES, FeaturePreprocessor
from segmentation.clustering.projection import project_2d
from segmentation.clustering.selection import KSelection, bootstrap_stability, choose_k, cluster_metrics

__all__ = [
    "DEFAULT_FEATURES",
    "METHODS",
    "NOISE",
    "AutoencoderSegmenter",
    "FeaturePreprocessor",
    "GmmSegmenter",
    "HdbscanSegmenter",
    "HierarchicalSegmenter",
    "KMeansSegmenter",
    "KSelection",
    "SegmentationModel",
    "Segmenter",
    "bootstrap_stability",
    "choose_k",
    "cluster_metrics",
    "compare_methods",
    "make_segmenter",
    "project_2d",
]
