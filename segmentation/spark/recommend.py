"""Recommendations at scale: every customer's top-N list scored on the executors, and Spark MLlib ALS as the
factorisation when the interaction matrix does not fit the driver.

Two paths give lists with the same columns as :meth:`recommenders.base.Recommender.recommend` (``customer_id``,
``product_id``, ``score``, ``rank``, ``reason``):

- a model fitted on the driver (the ALS of :mod:`recommenders.mf`, the sequence model, any
  :class:`~recommenders.base.Recommender`) is broadcast and each partition of customers calls its own
  ``recommend``: the lists are the driver's, computed where the customers are;
- above :data:`DRIVER_MAX_LINES` purchase lines (or when asked) the (customer, product) order counts are built
  on Spark and factorised by MLlib's implicit-feedback ALS (Hu, Koren, Volinsky 2008, as ``implicit``); the
  product factors (a few MiB) are broadcast and each partition scores its customers' factors against them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError, InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from recommenders.base import Recommender

DRIVER_MAX_LINES = 10_000_000
"""Purchase lines up to which the interactions are built and factorised on the driver (``implicit``'s ALS):
the collected lines (about 190 bytes each in pandas) and building :class:`~recommenders.data.Interactions`
(a peak of about 360 bytes per line) need about 5.5 GiB of driver memory for 10 million lines (measured on the
embedded sample, docs/scale.md). Above it, MLlib ALS."""
LINE_COLUMNS = ("customer_id", "order_id", "ts", "product_id", "description", "quantity", "amount", "is_return")
"""What :meth:`~recommenders.data.Interactions.from_transactions` reads of the lines: all the driver collects."""
FACTORISATIONS = ("auto", "implicit", "mllib")
SCHEMA = "customer_id string, product_id string, score double, rank int, reason string"
"""The lists' columns, as :data:`recommenders.base.RECOMMENDATION_COLUMNS`."""


def recommend_spark(customers: DataFrame, model: Recommender, n: int = 10, exclude_bought: bool = False) -> DataFrame:
    """The top ``n`` of the fitted ``model`` for every ``customer_id`` of ``customers``, scored on the executors
    with the broadcast model (its own ``recommend``: same lists, reasons and cold-start fallback)."""
    shared = customers.sparkSession.sparkContext.broadcast(model)

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in frames:
            yield _plain_text(shared.value.recommend(batch["customer_id"].astype(str), n, exclude_bought))

    return customers.select("customer_id").mapInPandas(score, SCHEMA)


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as NumPy object arrays: pandas' Arrow-backed strings of several chunks (lists of more than
    :data:`recommenders.base.BATCH_CUSTOMERS` customers) do not go back to Arrow in ``mapInPandas``."""
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].to_numpy(dtype=object) for c in text})


def purchase_pairs(transactions: DataFrame) -> DataFrame:
    """``customer_id``, ``product_id``, ``orders``: the order steps (an order, or orders with the same first
    timestamp) in which the customer bought the product, as :attr:`recommenders.data.Interactions.orders`."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sales = transactions.where(~F.col("is_return") & (F.col("quantity") > 0) & F.col("product_id").isNotNull())
    step = F.min("ts").over(Window.partitionBy("customer_id", "order_id"))
    steps = sales.select("customer_id", "product_id", step.alias("step_ts"))
    return steps.groupBy("customer_id", "product_id").agg(F.count_distinct("step_ts").alias("orders"))


@dataclass
class MllibALS:
    """Implicit-feedback ALS fitted by Spark MLlib: product factors on the driver, customer factors on Spark."""

    items: pd.Index
    """Product ids, in the order of ``item_factors``' rows."""
    item_factors: np.ndarray
    popularity: np.ndarray
    """Customers who bought each product: the list of a customer the model has not seen."""
    user_factors: DataFrame
    """``customer_id``, ``factors`` (array of floats)."""
    reason: str = "customers like you bought it"


def fit_mllib_als(
    pairs: DataFrame,
    factors: int = 64,
    regularization: float = 0.1,
    iterations: int = 15,
    alpha: float = 10.0,
    seed: int = 0,
) -> MllibALS:
    """MLlib ALS with implicit preferences on ``pairs`` (:func:`purchase_pairs`): confidence ``1 + alpha * orders``
    as :class:`recommenders.mf.ALSRecommender`'s ``count`` weighting, with its defaults. MLlib scales
    ``regularization`` by each customer's and product's number of pairs (ALS-WR); on the embedded sample 0.01,
    0.05 and 0.1 gave the same cross-sell NDCG@10 (0.096-0.098) as ``implicit``'s ALS (0.097)."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    items = _index(pairs, "product_id", "item")
    users = _index(pairs, "customer_id", "user")
    ratings = pairs.join(F.broadcast(items), "product_id").join(users, "customer_id")
    ratings = ratings.select("user", "item", F.col("orders").cast("float").alias("orders")).cache()
    als = ALS(
        rank=factors,
        regParam=regularization,
        maxIter=iterations,
        alpha=alpha,
        implicitPrefs=True,
        userCol="user",
        itemCol="item",
        ratingCol="orders",
        seed=seed,
        coldStartStrategy="drop",
    )
    fitted = als.fit(ratings)
    catalogue = items.toPandas().sort_values("item")
    learnt = fitted.itemFactors.toPandas().set_index("id").reindex(catalogue["item"])
    popularity = ratings.groupBy("item").count().toPandas().set_index("item")["count"]
    user_factors = fitted.userFactors.join(users, F.col("id") == F.col("user")).select("customer_id", "features")
    return MllibALS(
        items=pd.Index(catalogue["product_id"].to_numpy(), dtype=str, name="product_id"),
        item_factors=np.vstack(learnt["features"].to_numpy()).astype(np.float32),
        popularity=popularity.reindex(catalogue["item"], fill_value=0).to_numpy(),
        user_factors=user_factors.withColumnRenamed("features", "factors").cache(),
    )


def _index(pairs: DataFrame, column: str, name: str) -> DataFrame:
    """Distinct values of ``column`` numbered 0, 1, ... in sorted order (MLlib's ALS wants integer ids), without
    the driver. Sorted, so that a recomputation numbers them the same (``distinct`` alone has no fixed order, and
    the numbers join the learnt factors back to the ids)."""
    values = pairs.select(column).distinct().orderBy(column)
    numbered = values.rdd.map(lambda row: row[0]).zipWithIndex()
    return numbered.toDF([column, name]).selectExpr(column, f"CAST({name} AS INT) AS {name}").cache()


def recommend_mllib(
    model: MllibALS, pairs: DataFrame, customers: DataFrame, n: int = 10, exclude_bought: bool = False
) -> DataFrame:
    """The top ``n`` products of ``model`` for every ``customer_id`` of ``customers``, scored on the executors.

    As :meth:`Recommender.recommend`: the scores are dot products of the factors, a customer without purchases
    gets the popularity list ("popular overall (no purchase history)"), a product bought before says "bought
    again", and ``exclude_bought`` leaves the customer's past products out. The "bought together with X" reason
    needs the product pairs of every order on one machine and is not given here.
    """
    from pyspark.sql import functions as F

    from recommenders.base import top_n
    from recommenders.reasons import BOUGHT_AGAIN, NO_HISTORY

    items = model.items
    shared = customers.sparkSession.sparkContext.broadcast((items, model.item_factors, model.popularity))
    bought = pairs.groupBy("customer_id").agg(F.collect_list("product_id").alias("bought"))
    who = (
        customers.select("customer_id")
        .join(model.user_factors, "customer_id", "left")
        .join(bought, "customer_id", "left")
    )
    reason = model.reason

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        catalogue, item_factors, popularity = shared.value
        fallback = (popularity / max(popularity.max(), 1)).astype(np.float32)
        for batch in frames:
            known = batch["factors"].notna().to_numpy()
            scores = np.broadcast_to(fallback, (len(batch), len(catalogue))).copy()
            if known.any():
                users = np.vstack(batch.loc[known, "factors"].to_numpy()).astype(np.float32)
                scores[known] = users @ item_factors.T
            history = np.zeros(scores.shape, dtype=bool)
            for row, products in enumerate(batch["bought"]):
                if products is not None and len(products):
                    cols = catalogue.get_indexer(pd.Index(products, dtype=str))
                    history[row, cols[cols >= 0]] = True
            if exclude_bought:
                scores[history & known[:, None]] = -np.inf
            cols, top = top_n(scores, n)
            keep = np.isfinite(top)
            rows = np.repeat(np.arange(len(batch)), cols.shape[1]).reshape(cols.shape)[keep]
            picked = cols[keep]
            reasons = np.where(history[rows, picked], BOUGHT_AGAIN, reason)
            lists = pd.DataFrame(
                {
                    "customer_id": batch["customer_id"].to_numpy()[rows],
                    "product_id": catalogue[picked],
                    "score": top[keep].astype(float),
                    "rank": np.tile(np.arange(1, cols.shape[1] + 1), (len(batch), 1))[keep].astype(np.int32),
                    "reason": np.where(known[rows], reasons, NO_HISTORY),
                }
            )
            yield _plain_text(lists)

    return who.mapInPandas(score, SCHEMA)


def choose_factorisation(transactions: DataFrame, factorisation: str = "auto") -> str:
    """``implicit`` (the interactions built and factorised on the driver) or ``mllib``: ``auto`` takes MLlib above
    :data:`DRIVER_MAX_LINES` purchase lines."""
    from pyspark.sql import functions as F

    if factorisation not in FACTORISATIONS:
        raise ConfigError(f"factorisation must be one of {', '.join(FACTORISATIONS)}, not {factorisation!r}")
    if factorisation != "auto":
        return factorisation
    lines = transactions.where(~F.col("is_return") & (F.col("quantity") > 0)).count()
    return "mllib" if lines > DRIVER_MAX_LINES else "implicit"


def has_products(transactions: DataFrame) -> bool:
    """Whether any line names a product (a file without a product column has none to recommend)."""
    from pyspark.sql import functions as F

    return transactions.where(F.col("product_id").isNotNull()).limit(1).count() > 0


def recommend_all(
    transactions: DataFrame, n: int = 10, exclude_bought: bool = False, factorisation: str = "auto", seed: int = 0
) -> DataFrame:
    """Every customer's top ``n`` from ALS, fitted on the driver (``implicit``) or by MLlib (see
    :func:`choose_factorisation`), scored on the executors."""
    if not has_products(transactions):
        raise InputError(
            "no line names a product: there is nothing to recommend", where="product_id", fix="map a product column"
        )
    customers = transactions.select("customer_id").distinct()
    if choose_factorisation(transactions, factorisation) == "mllib":
        pairs = purchase_pairs(transactions).cache()
        return recommend_mllib(fit_mllib_als(pairs, seed=seed), pairs, customers, n, exclude_bought)
    from recommenders.data import Interactions
    from recommenders.mf import ALSRecommender

    interactions = Interactions.from_transactions(transactions.select(*LINE_COLUMNS).toPandas())
    model = ALSRecommender(random_state=seed).fit(interactions)
    return recommend_spark(customers, model, n, exclude_bought)
