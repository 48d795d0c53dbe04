"""Privacy and fairness (docs/privacy.md): pseudonymous ids, erasure, small-group protection, fairness report.

The names load lazily (see :mod:`segmentation.lazy`): fairlearn and plotly are imported when first used.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "pseudonym": ("KEY_ENV", "KEY_FILE_ENV", "Pseudonymizer"),
        "erasure": ("ErasureReport", "erase_customers", "erase_from_exports"),
        "small_groups": ("K_ANONYMITY", "suppress_small_groups"),
        "sensitive": ("SENSITIVE_FEATURES", "without_sensitive"),
        "fairness": (
            "FOUR_FIFTHS",
            "FairnessReport",
            "classifier_fairness",
            "exposure_by_group",
            "fairness_report",
            "segment_classifier_fairness",
            "segment_composition",
        ),
        "plotting": ("fairness_chart", "sections"),
        "audit": ("attribute_groups", "churn_predictions", "fairness_audit", "surrogate_predictions"),
    },
)
