"""Build the feature query from :data:`~segmentation.features.definitions.FEATURES` for one SQL dialect.

The query reads a table ``transactions`` (clean canonical transactions) and returns one row per customer
with a purchase before the as-of date. The same text runs on DuckDB here; the Spark dialect differs only
in the words of :data:`DIALECTS`.
"""

from __future__ import annotations

from datetime import date

from segmentation.config import FeatureConfig
from segmentation.features.definitions import FEATURES, Source

DIALECTS: dict[str, dict[str, str]] = {
    # day of week numbering differs: DuckDB 0 = Sunday, Spark 1 = Sunday
    "duckdb": {
        "weekday": "dayofweek(ts)",
        "weekend": "0, 6",
        "epoch": "epoch({})",
        "timestamp": "TIMESTAMP '{}'",
        "struct": "row",
    },
    "spark": {
        "weekday": "dayofweek(ts)",
        "weekend": "1, 7",
        "epoch": "unix_timestamp({})",
        "timestamp": "TIMESTAMP '{}'",
        "struct": "struct",
    },
}

SOURCES_SQL = """
lines AS (
    SELECT customer_id, order_id, ts, product_id, quantity, amount, is_return, category, country, channel,
           ({epoch_as_of} - {epoch_ts}) / 86400.0 AS age_days
    FROM transactions
    WHERE ts < {as_of} AND customer_id IS NOT NULL
),
purchase_items AS (
    -- purchase lines aggregated once per (customer, order, product): orders and products both start here
    SELECT customer_id, order_id, product_id, min(ts) AS ts, sum(amount) AS amount, sum(quantity) AS quantity,
           count(*) AS lines, min(age_days) AS age_days
    FROM lines WHERE NOT is_return
    GROUP BY customer_id, order_id, product_id
),
orders AS (
    SELECT customer_id, order_id, ts, revenue, n_products, items, age_days,
           ({epoch_ts} - {epoch_prev}) / 86400.0 AS gap_days
    FROM (
        SELECT customer_id, order_id, min(ts) AS ts, sum(amount) AS revenue,
               count(*) AS n_products, sum(quantity) AS items, min(age_days) AS age_days,
               lag(min(ts)) OVER (PARTITION BY customer_id ORDER BY min(ts), order_id) AS prev_ts
        FROM purchase_items
        GROUP BY customer_id, order_id
    ) o
),
products AS (
    SELECT customer_id, product_id, sum(lines) AS lines, count(*) AS orders,
           sum(sum(lines)) OVER (PARTITION BY customer_id) AS total_lines
    FROM purchase_items
    GROUP BY customer_id, product_id
),
categories AS (
    SELECT customer_id, category, count(*) AS lines,
           sum(count(*)) OVER (PARTITION BY customer_id) AS total_lines
    FROM lines WHERE NOT is_return AND category IS NOT NULL
    GROUP BY customer_id, category
),
countries AS (
    SELECT customer_id, country AS value, count(*) AS n FROM lines WHERE country IS NOT NULL GROUP BY ALL
),
channels AS (
    SELECT customer_id, channel AS value, count(*) AS n FROM lines WHERE channel IS NOT NULL GROUP BY ALL
)"""


def feature_sql(as_of: date, config: FeatureConfig, dialect: str = "duckdb") -> str:
    """The whole feature query for ``as_of``."""
    words = DIALECTS[dialect]
    as_of_sql = words["timestamp"].format(as_of.isoformat())
    fill = {
        "half_life": repr(float(config.half_life_days)),
        "window": repr(float(config.trend_window_days)),
        "weekday": words["weekday"],
        "weekend": words["weekend"],
        "struct": words["struct"],
    }
    sources = SOURCES_SQL.format(
        as_of=as_of_sql,
        epoch_as_of=words["epoch"].format(as_of_sql),
        epoch_ts=words["epoch"].format("ts"),
        epoch_prev=words["epoch"].format("prev_ts"),
    )
    by_source: dict[Source, list[str]] = {}
    for feature in FEATURES:
        by_source.setdefault(feature.source, []).append(f"{feature.expr.format(**fill)} AS {feature.name}")
    aggregates = [
        f"agg_{source} AS (SELECT customer_id, {', '.join(exprs)} FROM {source} GROUP BY customer_id)"
        for source, exprs in by_source.items()
        if source != "derived"
    ]
    joins = "\n".join(
        f"LEFT JOIN agg_{source} USING (customer_id)" for source in by_source if source not in ("orders", "derived")
    )
    columns = [f.name if f.source != "derived" else f"{f.expr.format(**fill)} AS {f.name}" for f in FEATURES]
    return (
        f"WITH {sources},\n" + ",\n".join(aggregates) + "\n"
        f"SELECT customer_id, {', '.join(columns)}\nFROM agg_orders\n{joins}\nORDER BY customer_id"
    )
