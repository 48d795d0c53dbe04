"""Customer features: SQL definitions, the DuckDB engine, RFM scores and named RFM segments."""

from segmentation.features.definitions import CATEGORICAL, FEATURES, NUMERIC, FeatureDef, features_markdown
from segmentation.features.engine import compute_features, default_as_of
from segmentation.features.rfm import RFM_SEGMENT_RULES, RfmSegmentRule, rfm_scores, rfm_segments, rfm_table

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "NUMERIC",
    "RFM_SEGMENT_RULES",
    "FeatureDef",
    "RfmSegmentRule",
    "compute_features",
    "default_as_of",
    "features_markdown",
    "rfm_scores",
    "rfm_segments",
    "rfm_table",
]
