"""Every customer feature, defined once, as SQL over one of four per-customer sources.

Sources (built in :mod:`segmentation.features.sql`, all restricted to transactions before the as-of date):

- ``lines``: kept transaction lines with ``age_days`` (days before the as-of date) and ``is_return``;
- ``orders``: one row per purchase order (lines that are not returns) with its ``ts``, ``revenue``,
  ``n_products``, ``items``, ``age_days``, ``gap_days`` (days since the customer's previous order);
- ``products``: one row per customer and product bought, with ``lines``, ``orders`` and ``total_lines``;
- ``categories``: one row per customer and category bought, with ``lines`` and ``total_lines``;
- ``countries``, ``channels``: one row per customer and value, with ``n`` lines;
- ``derived``: arithmetic on features of the other sources, referenced by name.

Expressions use functions that exist with the same meaning in DuckDB and Spark SQL, except the few
dialect words in braces (``{weekday}``, ``{weekend}``, ``{struct}``) that :mod:`segmentation.features.sql` fills in.
``{half_life}`` and ``{window}`` come from :class:`~segmentation.config.FeatureConfig`.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Literal

Source = Literal["lines", "orders", "products", "categories", "countries", "channels", "derived"]
Group = Literal["rfm", "statistical", "time-decayed", "behavioural", "cross", "context"]


@dataclass(frozen=True)
class FeatureDef:
    name: str
    source: Source
    expr: str
    group: Group
    description: str
    unit: str = ""
    _: KW_ONLY
    label: str
    """What the app, charts and exports call the feature: a few plain words."""


PURCHASE = "NOT is_return"
MOST_FREQUENT = "min_by(value, {struct}(-n, value))"
"""The value with the most lines, ties broken alphabetically, so the result never depends on row order."""

FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef(
        "recency_days",
        "lines",
        f"min(age_days) FILTER (WHERE {PURCHASE})",
        "rfm",
        "Days from the last purchase to the as-of date.",
        "days",
        label="Recency (days)",
    ),
    FeatureDef("frequency", "orders", "count(*)", "rfm", "Distinct purchase orders.", "orders", label="Orders"),
    FeatureDef(
        "monetary",
        "lines",
        "sum(amount)",
        "rfm",
        "Net revenue: purchases minus netted returns.",
        "currency",
        label="Net revenue",
    ),
    FeatureDef(
        "gross_revenue",
        "lines",
        f"sum(amount) FILTER (WHERE {PURCHASE})",
        "statistical",
        "Revenue of purchases before returns.",
        "currency",
        label="Gross revenue",
    ),
    FeatureDef(
        "returned_value",
        "lines",
        "coalesce(-sum(amount) FILTER (WHERE is_return), 0)",
        "statistical",
        "Value of returned lines (positive).",
        "currency",
        label="Returned value",
    ),
    FeatureDef(
        "tenure_days",
        "lines",
        f"max(age_days) FILTER (WHERE {PURCHASE})",
        "statistical",
        "Days from the first purchase to the as-of date.",
        "days",
        label="Tenure (days)",
    ),
    FeatureDef(
        "avg_order_value",
        "orders",
        "avg(revenue)",
        "statistical",
        "Mean revenue of a purchase order.",
        "currency",
        label="Average order value",
    ),
    FeatureDef(
        "basket_size",
        "orders",
        "avg(n_products)",
        "statistical",
        "Mean number of distinct products in a purchase order.",
        "products",
        label="Products per order",
    ),
    FeatureDef(
        "items_per_order",
        "orders",
        "avg(items)",
        "statistical",
        "Mean number of units in a purchase order.",
        "units",
        label="Units per order",
    ),
    FeatureDef(
        "distinct_products",
        "products",
        "count(*)",
        "statistical",
        "Distinct products ever bought.",
        "products",
        label="Distinct products",
    ),
    FeatureDef(
        "product_entropy",
        "products",
        "-sum((lines / total_lines) * ln(lines / total_lines))",
        "behavioural",
        "Shannon entropy (nats) of the customer's purchase lines over products: 0 = always the same "
        "product, higher = more varied.",
        "nats",
        label="Product variety",
    ),
    FeatureDef(
        "category_entropy",
        "categories",
        "-sum((lines / total_lines) * ln(lines / total_lines))",
        "behavioural",
        "Shannon entropy (nats) of purchase lines over product categories; NULL without a category column.",
        "nats",
        label="Category variety",
    ),
    FeatureDef(
        "repeat_product_share",
        "products",
        "avg(CASE WHEN orders >= 2 THEN 1.0 ELSE 0.0 END)",
        "behavioural",
        "Share of the distinct products bought in two or more orders.",
        "share",
        label="Repeat product share",
    ),
    FeatureDef(
        "interpurchase_mean_days",
        "orders",
        "avg(gap_days)",
        "behavioural",
        "Mean days between consecutive purchase orders; NULL with one order.",
        "days",
        label="Days between orders",
    ),
    FeatureDef(
        "interpurchase_std_days",
        "orders",
        "stddev_samp(gap_days)",
        "behavioural",
        "Sample standard deviation of the days between orders; NULL with fewer than three orders.",
        "days",
        label="Days between orders (spread)",
    ),
    FeatureDef(
        "decayed_spend",
        "lines",
        "sum(amount * power(0.5, age_days / {half_life}))",
        "time-decayed",
        "Net revenue with each line weighted 0.5^(age / half-life): recent spend counts more.",
        "currency",
        label="Recent-weighted spend",
    ),
    FeatureDef(
        "decayed_frequency",
        "orders",
        "sum(power(0.5, age_days / {half_life}))",
        "time-decayed",
        "Purchase orders weighted 0.5^(age / half-life).",
        "orders",
        label="Recent-weighted orders",
    ),
    FeatureDef(
        "spend_last_window",
        "orders",
        "coalesce(sum(revenue) FILTER (WHERE age_days <= {window}), 0)",
        "time-decayed",
        "Purchase revenue in the last trend window (default 90 days).",
        "currency",
        label="Spend, last window",
    ),
    FeatureDef(
        "spend_previous_window",
        "orders",
        "coalesce(sum(revenue) FILTER (WHERE age_days > {window} AND age_days <= 2 * {window}), 0)",
        "time-decayed",
        "Purchase revenue in the trend window before that.",
        "currency",
        label="Spend, previous window",
    ),
    FeatureDef(
        "weekend_share",
        "orders",
        "avg(CASE WHEN {weekday} IN ({weekend}) THEN 1.0 ELSE 0.0 END)",
        "context",
        "Share of purchase orders placed on Saturday or Sunday.",
        "share",
        label="Weekend orders",
    ),
    FeatureDef(
        "morning_share",
        "orders",
        "avg(CASE WHEN hour(ts) < 12 THEN 1.0 ELSE 0.0 END)",
        "context",
        "Share of purchase orders placed before noon; NULL when the timestamps carry no time of day "
        "(all 00:00:00: a file of dates only).",
        "share",
        label="Morning orders",
    ),
    FeatureDef(
        "evening_share",
        "orders",
        "avg(CASE WHEN hour(ts) >= 18 THEN 1.0 ELSE 0.0 END)",
        "context",
        "Share of purchase orders placed from 18:00; NULL when the timestamps carry no time of day.",
        "share",
        label="Evening orders",
    ),
    FeatureDef(
        "q4_share",
        "orders",
        "avg(CASE WHEN month(ts) >= 10 THEN 1.0 ELSE 0.0 END)",
        "context",
        "Share of purchase orders placed in October to December (seasonality).",
        "share",
        label="Q4 orders",
    ),
    FeatureDef(
        "country",
        "countries",
        MOST_FREQUENT,
        "context",
        "The customer's most frequent country over their lines (a tie: alphabetically first).",
        "",
        label="Country",
    ),
    FeatureDef(
        "channel",
        "channels",
        MOST_FREQUENT,
        "context",
        "The customer's most frequent sales channel (a tie: alphabetically first); NULL without a channel column.",
        "",
        label="Channel",
    ),
    FeatureDef(
        "return_rate",
        "derived",
        "returned_value / nullif(gross_revenue, 0)",
        "statistical",
        "Returned value as a share of gross revenue.",
        "share",
        label="Return rate",
    ),
    FeatureDef(
        "spend_trend",
        "derived",
        "(spend_last_window - spend_previous_window) / nullif(spend_last_window + spend_previous_window, 0)",
        "time-decayed",
        "Recent vs previous window spend, from -1 (stopped) to +1 (new); NULL when both are zero.",
        "ratio",
        label="Spend trend",
    ),
    FeatureDef(
        "orders_per_month",
        "derived",
        "frequency * 30.0 / greatest(tenure_days, 30.0)",
        "cross",
        "Purchase orders per 30 days of tenure (tenure floored at 30 days).",
        "orders/month",
        label="Orders per month",
    ),
    FeatureDef(
        "spend_per_month",
        "derived",
        "gross_revenue * 30.0 / greatest(tenure_days, 30.0)",
        "cross",
        "Gross revenue per 30 days of tenure (tenure floored at 30 days).",
        "currency/month",
        label="Spend per month",
    ),
)

CATEGORICAL: tuple[str, ...] = tuple(f.name for f in FEATURES if f.name in ("country", "channel"))
NUMERIC: tuple[str, ...] = tuple(f.name for f in FEATURES if f.name not in CATEGORICAL)
TIME_OF_DAY: tuple[str, ...] = ("morning_share", "evening_share")
"""Features that need the time of day: left out (NULL) when every timestamp is at midnight (dates only)."""
PRODUCT_BASED: tuple[str, ...] = ("basket_size", "distinct_products", "product_entropy", "repeat_product_share")
"""Features that need products: left out (NaN) when the file has no product column (orders have no products)."""


LABELS: dict[str, str] = {f.name: f.label for f in FEATURES}


def feature_label(name: str) -> str:
    """The feature's plain label; a column that is no feature (e.g. an RFM score) gets its name in words."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


def features_markdown() -> str:
    """The feature reference as Markdown; docs/features.md is this text (a test keeps them equal)."""
    lines = [
        "# Features",
        "",
        "One row per customer, computed from clean transactions strictly before the as-of date "
        "(`segmentation/features/definitions.py` is the single definition; this page is generated from it "
        "by `segment features --docs`). Sources: `lines` (transaction lines), `orders` (purchase orders), "
        "`products` (customer x product), `categories` (customer x category), `countries`/`channels` (customer x value), `derived` (arithmetic on other features).",
        "",
        "| feature | group | unit | source | definition | SQL |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in FEATURES:
        sql = f.expr.replace("|", "\\|")
        lines.append(f"| `{f.name}` | {f.group} | {f.unit} | {f.source} | {f.description} | `{sql}` |")
    return "\n".join(lines) + "\n"
