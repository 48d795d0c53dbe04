"""Why customers are in their segments: surrogate classifiers, SHAP, plain-language drivers."""

from segmentation.explain.drivers import importance_agreement, rank_features, segment_drivers
from segmentation.explain.sampling import stratified_sample
from segmentation.explain.shap_values import Explanation, explain
from segmentation.explain.surrogate import MODELS, SegmentSurrogate, surrogate_inputs

__all__ = [
    "MODELS",
    "Explanation",
    "SegmentSurrogate",
    "explain",
    "importance_agreement",
    "rank_features",
    "segment_drivers",
    "stratified_sample",
    "surrogate_inputs",
]
