"""The Spark engine: the same ingest rules, feature SQL and segment models, run on a Spark cluster.

Optional (``pip install '.[spark]'``); nothing here imports PySpark until a function that needs it runs.
The names load lazily (see :mod:`segmentation.lazy`).
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "session": ("DEFAULT_MASTER", "spark_session"),
        "ingest": ("SparkIngest", "load_transactions_spark"),
        "features": ("SparkFeatures", "compute_features_spark", "spark_feature_sql"),
    },
)
