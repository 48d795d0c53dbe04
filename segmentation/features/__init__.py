"""Customer features: SQL definitions, the DuckDB engine, RFM scores and named RFM segments.

The names load lazily (see :mod:`segmentation.lazy`): the definitions are known without importing DuckDB.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "definitions": ("CATEGORICAL", "FEATURES", "NUMERIC", "FeatureDef", "feature_label", "features_markdown"),
        "engine": ("compute_features", "default_as_of"),
        "rfm": ("RFM_SEGMENT_RULES", "RfmSegmentRule", "rfm_scores", "rfm_segments", "rfm_table"),
    },
)
