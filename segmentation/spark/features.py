"""The customer feature table on Spark SQL, from the same query text as DuckDB.

:func:`segmentation.features.sql.feature_sql` writes the query for the ``spark`` dialect; one rule differs in the
*reading* of that text and is applied here: Spark parses ``1.0`` as an exact DECIMAL, DuckDB as a DOUBLE. Averages
of decimals are rounded to a few digits, so every unquoted decimal literal gets Spark's DOUBLE suffix (``1.0D``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from segmentation.config import FeatureConfig
from segmentation.errors import InputError
from segmentation.features.definitions import CATEGORICAL, PRODUCT_BASED, TIME_OF_DAY
from segmentation.features.sql import feature_sql

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

_DECIMAL_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.])")


def spark_feature_sql(as_of: date, config: FeatureConfig) -> str:
    """The feature query for Spark SQL: the ``spark`` dialect with decimal literals read as DOUBLE."""
    parts = feature_sql(as_of, config, "spark").split("'")
    # even pieces are outside quotes; quoted text (timestamps) is left as written
    return "'".join(_DECIMAL_LITERAL.sub(r"\1D", p) if i % 2 == 0 else p for i, p in enumerate(parts))


@dataclass
class SparkFeatures:
    """The features as a Spark DataFrame (one row per customer), the as-of date and what was left out."""

    frame: DataFrame
    as_of: date
    notes: list[str] = field(default_factory=list)

    def to_pandas(self) -> pd.DataFrame:
        """Collected on the driver like :func:`~segmentation.features.compute_features` returns it."""
        import numpy as np

        counts = [f.name for f in self.frame.schema.fields if f.dataType.typeName() == "long"]
        frame = self.frame.toPandas().set_index("customer_id")
        frame = frame.astype({c: np.float64 for c in frame.columns if c not in CATEGORICAL})
        # like DuckDB's result: counts stay integers unless a customer has none (NULL)
        frame = frame.astype({c: np.int64 for c in counts if not frame[c].isna().any()})
        frame.attrs["as_of"] = self.as_of.isoformat()
        frame.attrs["notes"] = list(self.notes)
        return frame


def default_as_of_spark(transactions: DataFrame) -> date:
    """The day after the last transaction, so every transaction counts."""
    from pyspark.sql import functions as F

    (last,) = transactions.agg(F.max("ts")).first()
    if last is None:
        raise InputError("there are no transactions to compute features from")
    return last.date() + timedelta(days=1)


def compute_features_spark(transactions: DataFrame, config: FeatureConfig | None = None) -> SparkFeatures:
    """Every feature of ``docs/features.md`` for clean transactions held by Spark (same rules as DuckDB).

    Time-of-day features are NULL for a file of dates only and product-based ones without products, as on DuckDB.
    """
    from pyspark.sql import functions as F

    config = config or FeatureConfig()
    as_of = config.as_of or default_as_of_spark(transactions)
    spark = transactions.sparkSession
    transactions.createOrReplaceTempView("transactions")
    frame = spark.sql(spark_feature_sql(as_of, config))
    before = transactions.where(F.col("ts") < F.lit(as_of.isoformat()).cast("timestamp"))
    timed, with_products, buyers = before.agg(
        F.bool_or(F.col("ts") != F.date_trunc("day", "ts")),
        F.count("product_id") > 0,
        F.count_distinct(F.when(~F.col("is_return"), F.col("customer_id"))),
    ).first()
    if not buyers:
        raise InputError(
            f"no customer has a purchase before the as-of date {as_of.isoformat()}",
            fix="choose a later as-of date",
        )
    notes = []
    for unsupported, columns, reason in (
        (not timed, TIME_OF_DAY, "every timestamp is at 00:00:00, so the data carry dates but no time of day"),
        (not with_products, PRODUCT_BASED, "the file has no product column (or every product id is empty)"),
    ):
        if unsupported:
            frame = frame.withColumns({c: F.lit(None).cast("double") for c in columns})
            notes.append(f"{', '.join(columns)} left out (NaN): {reason}")
            log.warning(notes[-1])
    return SparkFeatures(frame, as_of, notes)
