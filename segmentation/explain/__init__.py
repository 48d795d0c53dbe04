"""Why customers are in their segments: surrogate classifiers, SHAP, plain-language drivers.

The names load lazily (see :mod:`segmentation.lazy`): importing the package does not import shap, LightGBM,
CatBoost or scikit-learn.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "drivers": ("driver_contradictions", "importance_agreement", "rank_features", "segment_drivers"),
        "names": ("MODELS",),
        "sampling": ("stratified_sample",),
        "shap_values": ("Explanation", "explain"),
        "surrogate": ("SegmentSurrogate", "surrogate_inputs"),
    },
)
