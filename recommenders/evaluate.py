"""Offline evaluation on a global temporal split with full-catalogue ranking, under three protocols.

Every model is fitted on the orders before the cutoff and ranks the *whole* training catalogue for every
customer who bought before the cutoff and again after it (no sampled negatives). Three protocols answer three
questions, for every model:

- **all items** ("what will they buy?"): the relevant set is every catalogue product the customer bought from
  the cutoff on; also split into *repeat* products (bought before the cutoff) and *new* ones.
- **cross-sell** ("what should we offer that they have not bought yet?"): the customer's past products are
  removed from the ranking and the relevant set is the products new to the customer. Customers who bought
  nothing new are not scored.
- **next-basket** ("what is in their next order?"): the relevant set is the first order after the cutoff, also
  split into its repeat and explore (new to the customer) products, as in Li et al. 2023, "A next basket
  recommendation reality check"; ``repeat share@n`` is the share of the list's places that hold products the
  customer bought before (their "repetition ratio").

Models with a ``random_state`` run once per seed; the table gives the mean and the standard deviation.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from recommenders.base import BATCH_CUSTOMERS, Recommender, top_n
from recommenders.data import Interactions, purchases, temporal_split
from segmentation.errors import InputError
from segmentation.progress import Progress, no_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class EvaluationSplit:
    """Training interactions and, for each evaluated customer row, the products bought after the cutoff."""

    interactions: Interactions
    rows: np.ndarray
    truth: sp.csr_matrix
    next_truth: sp.csr_matrix
    """Products of each evaluated customer's first order after the cutoff (an order step, as in training)."""
    cutoff: pd.Timestamp
    cold_customers: int
    """Customers who bought after the cutoff but never before: no model can personalise for them; not scored."""
    unseen_share: float
    """Share of test (customer, product) pairs whose product is not in the training catalogue: left out."""

    @classmethod
    def from_transactions(cls, transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp) -> EvaluationSplit:
        train, test = temporal_split(transactions, cutoff)
        interactions = Interactions.from_transactions(train)
        lines = purchases(test)
        first = lines.loc[lines["step_ts"] == lines.groupby("customer_id")["step_ts"].transform("min")]
        test = lines[["customer_id", "product_id"]].drop_duplicates()
        row = interactions.rows(test["customer_id"])
        col = interactions.items.get_indexer(test["product_id"])
        cold = test.loc[row < 0, "customer_id"].nunique()
        pairs = (row >= 0) & (col >= 0)
        rows = np.unique(row[pairs])
        unseen = float((col < 0).mean()) if len(col) else 0.0
        log.info("evaluation split at %s: %d customers scored, %d cold", cutoff, len(rows), cold)
        return cls(
            interactions,
            rows,
            _truth(interactions, rows, test),
            _truth(interactions, rows, first),
            pd.Timestamp(cutoff),
            cold,
            unseen,
        )

    @property
    def history(self) -> sp.csr_matrix:
        """Products each evaluated customer bought before the cutoff."""
        return self.interactions.bought[self.rows]

    @property
    def repeat_truth(self) -> sp.csr_matrix:
        """Relevant products the customer had bought before the cutoff."""
        return self.truth.multiply(self.history).tocsr()

    @property
    def new_truth(self) -> sp.csr_matrix:
        """Relevant products new to the customer: the cross-sell truth."""
        return (self.truth - self.repeat_truth).tocsr()


def _truth(interactions: Interactions, rows: np.ndarray, pairs: pd.DataFrame) -> sp.csr_matrix:
    """Binary (len(rows), products): the (customer_id, product_id) ``pairs`` of the customers at ``rows``;
    other customers and products outside the catalogue are left out."""
    customer = interactions.rows(pairs["customer_id"])
    row = np.minimum(np.searchsorted(rows, customer), max(len(rows) - 1, 0))
    col = interactions.items.get_indexer(pairs["product_id"])
    keep = (col >= 0) & (rows[row] == customer) if len(rows) else np.zeros(len(col), dtype=bool)
    truth = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (row[keep], col[keep])), shape=(len(rows), interactions.n_items)
    )
    truth.data[:] = 1.0  # a product on two lines of one order counts once
    return truth


def ranking_metrics(top: np.ndarray, truth: sp.csr_matrix, n: int = 10, recall_at: int = 20) -> dict[str, float]:
    """Mean HR@n, NDCG@n, Recall@recall_at and MAP@n of ranked lists ``top`` (customers x columns, best first)
    against the binary ``truth`` (customers x products). Customers with nothing relevant are skipped.

    - HR@n: 1 when at least one of the first n is relevant.
    - NDCG@n: sum of 1/log2(rank + 1) over relevant ranks, divided by its best value min(|relevant|, n) allows.
    - Recall@k: relevant products in the first k, divided by |relevant|.
    - MAP@n: mean over customers of sum_k precision@k * rel_k / min(|relevant|, n).
    """
    sizes = np.asarray(truth.sum(axis=1)).ravel()
    has = sizes > 0
    top, truth, sizes = top[has], truth[has], sizes[has]
    if not len(top):
        return {f"hr@{n}": np.nan, f"ndcg@{n}": np.nan, f"recall@{recall_at}": np.nan, f"map@{n}": np.nan}
    owner = np.repeat(np.arange(len(top)), np.diff(truth.indptr))
    width = truth.shape[1]
    hits = np.isin(np.arange(len(top))[:, None] * width + top, owner * width + truth.indices)
    # a catalogue smaller than the list: the missing places are misses
    hits = np.pad(hits, ((0, 0), (0, max(0, max(n, recall_at) - hits.shape[1]))))
    first = hits[:, :n]
    discount = 1.0 / np.log2(np.arange(2, n + 2))
    ideal = np.cumsum(discount)[np.minimum(sizes, n).astype(int) - 1]
    precision = np.cumsum(first, axis=1) / np.arange(1, n + 1)
    return {
        f"hr@{n}": float(first.any(axis=1).mean()),
        f"ndcg@{n}": float(((first @ discount) / ideal).mean()),
        f"recall@{recall_at}": float((hits[:, :recall_at].sum(axis=1) / sizes).mean()),
        f"map@{n}": float(((precision * first).sum(axis=1) / np.minimum(sizes, n)).mean()),
    }


def ranked_lists(model: Recommender, rows: np.ndarray, k: int, new_only: bool = False) -> np.ndarray:
    """The ``k`` best product columns per customer row of the fitted ``model``, best first; with ``new_only``
    (cross-sell) without the products each customer bought before."""
    blocks = []
    for start in range(0, len(rows), BATCH_CUSTOMERS):
        batch = rows[start : start + BATCH_CUSTOMERS]
        scores = np.array((model.score_new if new_only else model.score)(batch), dtype=np.float32)
        if new_only:
            bought = model.interactions.bought[batch].tocoo()
            scores[bought.row, bought.col] = -np.inf
        blocks.append(top_n(scores, k)[0])
    return np.vstack(blocks) if blocks else np.empty((0, k), dtype=np.int64)


def protocol_metrics(
    split: EvaluationSplit, top: np.ndarray, top_new: np.ndarray, n: int = 10, recall_at: int = 20
) -> dict[str, float]:
    """The three protocols' metrics from the unmasked lists ``top`` and the lists without past products
    ``top_new`` (customers x columns, best first, rows as ``split.rows``).

    All items: HR, NDCG, Recall, MAP, NDCG and Recall on the repeat and new parts, coverage, repeat share.
    Cross-sell (``cross-sell ...``) and next-basket (``next-basket ...``): HR, NDCG, Recall; next-basket
    NDCG and Recall on its repeat and explore parts too.
    """
    history = split.history
    result = ranking_metrics(top, split.truth, n, recall_at)
    result |= _parts(top, split.truth, history, ("repeat", "new"), n, recall_at)
    result[f"coverage@{n}"] = len(np.unique(top[:, :n])) / split.interactions.n_items
    result[f"repeat share@{n}"] = _repeat_share(top[:, :n], history)
    for name, lists, truth in (("cross-sell", top_new, split.new_truth), ("next-basket", top, split.next_truth)):
        scores = ranking_metrics(lists, truth, n, recall_at)
        result |= {f"{name} {metric}": value for metric, value in scores.items() if not metric.startswith("map")}
    parts = _parts(top, split.next_truth, history, ("repeat", "explore"), n, recall_at)
    result |= {f"next-basket {metric}": value for metric, value in parts.items()}
    result[f"cross-sell coverage@{n}"] = len(np.unique(top_new[:, :n])) / split.interactions.n_items
    return result


def _parts(
    top: np.ndarray, truth: sp.csr_matrix, history: sp.csr_matrix, names: tuple[str, str], n: int, recall_at: int
) -> dict[str, float]:
    """NDCG@n and Recall@recall_at against the part of ``truth`` in ``history`` and the part outside it, each
    over the customers who have such products."""
    repeat = truth.multiply(history).tocsr()
    out = {}
    for part, part_truth in zip(names, (repeat, (truth - repeat).tocsr()), strict=True):
        scores = ranking_metrics(top, part_truth, n, recall_at)
        out |= {f"{name} {part}": value for name, value in scores.items() if not name.startswith(("hr", "map"))}
    return out


def _repeat_share(top: np.ndarray, history: sp.csr_matrix) -> float:
    """Share of the places of the lists ``top`` that hold a product the customer bought before."""
    if not top.size:
        return float("nan")
    owner = np.repeat(np.arange(len(top)), np.diff(history.indptr))
    width = history.shape[1]
    return float(np.isin(np.arange(len(top))[:, None] * width + top, owner * width + history.indices).mean())


def evaluate(
    model: Recommender, split: EvaluationSplit, n: int = 10, recall_at: int = 20, progress: Progress = no_progress
) -> dict[str, float]:
    """Fit ``model`` on the split's training interactions and score it under the three protocols
    (:func:`protocol_metrics`), with the fit seconds. ``progress`` hears the fit."""
    start = time.perf_counter()
    model.fit(split.interactions, progress)
    train_s = time.perf_counter() - start
    progress(1.0, f"ranking the catalogue for {len(split.rows):,} customers")
    k = max(n, recall_at)
    top = ranked_lists(model, split.rows, k)
    top_new = ranked_lists(model, split.rows, k, new_only=True)
    return protocol_metrics(split, top, top_new, n, recall_at) | {"train_s": train_s}


def _seeded(model: Recommender, seeds: Iterable[int]) -> list[tuple[int | None, Recommender]]:
    """One fresh copy per seed for a model with a ``random_state``, a single copy otherwise."""
    if "random_state" not in model.get_params(deep=False):
        return [(None, clone(model))]
    return [(seed, clone(model).set_params(random_state=seed)) for seed in seeds]


def evaluate_runs(
    split: EvaluationSplit,
    models: Mapping[str, Recommender],
    n: int = 10,
    seeds: Iterable[int] = (0, 1, 2),
    recall_at: int = 20,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """One row per (model, seed): every metric of :func:`evaluate`; ``progress`` hears each fit."""
    rows = []
    seeds = tuple(seeds)
    runs = [(name, seed, copy) for name, model in models.items() for seed, copy in _seeded(model, seeds)]
    for i, (name, seed, copy) in enumerate(runs):
        label = name if seed is None else f"{name}, seed {seed}"
        progress(i / len(runs), label)
        # each epoch or iteration reports too: the app can only stop a run at a progress update
        step_progress = functools.partial(part_progress, progress, i / len(runs), 1 / len(runs), label)
        result = evaluate(copy, split, n, recall_at, step_progress)
        log.info("%s seed %s: %s", name, seed, result)
        rows.append({"model": name, "seed": seed, **result})
    progress(1.0, "evaluated")
    return pd.DataFrame(rows)


def part_progress(progress: Progress, start: float, share: float, label: str, done: float, step: str) -> None:
    """``progress`` for one part of a longer job: ``done`` of this part is ``start + done * share`` of the whole."""
    progress(start + done * share, f"{label}: {step}")


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean of every metric per model (in first-seen order), its standard deviation over seeds as
    ``<metric> std`` (0 for a deterministic model) and the number of runs."""
    metrics = [c for c in runs.columns if c not in ("model", "seed")]
    grouped = runs.groupby("model", sort=False)[metrics]
    spread = grouped.std(ddof=0).add_suffix(" std")
    out = grouped.mean().join(spread)
    out["runs"] = grouped.size()
    return out[[c for m in metrics for c in (m, f"{m} std")] + ["runs"]]


HEADLINE = [
    "ndcg@10",
    "ndcg@10 std",
    "cross-sell ndcg@10",
    "cross-sell ndcg@10 std",
    "next-basket ndcg@10",
    "next-basket ndcg@10 std",
    "next-basket ndcg@10 repeat",
    "next-basket ndcg@10 explore",
    "repeat share@10",
    "train_s",
]
"""The columns that compare models under the three protocols at a glance (``tune_s`` too, when tuned)."""


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The :data:`HEADLINE` columns of a results table (of :func:`evaluate_models` or a tuned evaluation)."""
    return table[[c for c in [*HEADLINE, "tune_s"] if c in table.columns]]


def evaluate_models(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    models: Mapping[str, Recommender],
    n: int = 10,
    seeds: Iterable[int] = (0, 1, 2),
    recall_at: int = 20,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Split ``transactions`` at ``cutoff``, evaluate every model (stochastic ones once per seed) under the three
    protocols and return one row per model: mean and spread of every metric of :func:`protocol_metrics` and the
    fit seconds."""
    progress(0.0, f"splitting the orders at {pd.Timestamp(cutoff):%Y-%m-%d}")
    split = EvaluationSplit.from_transactions(transactions, cutoff)
    return summarise(evaluate_runs(split, models, n, seeds, recall_at, progress))


def _horizon_split(
    transactions: pa.Table | pd.DataFrame, cutoff: pd.Timestamp, horizon_days: float, measured: str
) -> tuple[pd.DataFrame, pd.DataFrame, Interactions]:
    """The orders before ``cutoff``, the purchase lines from it on and the interactions of the former; refuses data
    that stops before ``cutoff`` + ``horizon_days`` (``measured``: what the horizon's outcome is, for the message)."""
    train, test = temporal_split(transactions, cutoff)
    test = purchases(test)
    end = cutoff + pd.Timedelta(days=horizon_days)
    if test.empty or pd.Timestamp(test["ts"].max()) < end - pd.Timedelta(days=7):
        raise InputError(
            f"the data must run to {end:%Y-%m-%d} (cutoff + {horizon_days:g} days) to measure {measured}",
            fix="choose an earlier cutoff or a shorter horizon",
        )
    return train, test, Interactions.from_transactions(train)


def _seeded_scores(
    models: Mapping[str, Recommender],
    seeds: Iterable[int],
    interactions: Interactions,
    predict: Callable[[Recommender], np.ndarray],
    progress: Progress,
) -> dict[tuple[str, int | None], np.ndarray]:
    """``predict`` of each model fitted on ``interactions`` once per seed (once if it has no seed), keyed by
    (name, seed); ``progress`` hears every fit."""
    fits = [(name, seed, copy) for name, model in models.items() for seed, copy in _seeded(model, seeds)]
    scores = {}
    for i, (name, seed, copy) in enumerate(fits):
        label = name if seed is None else f"{name}, seed {seed}"
        step = functools.partial(part_progress, progress, i / len(fits), 1 / len(fits), label)
        scores[(name, seed)] = predict(copy.fit(interactions, step))
    return scores


def churn_evaluation(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    horizon_days: float,
    models: Mapping[str, Recommender],
    seeds: Iterable[int] = (0, 1, 2),
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """AUROC of each model's ``churn_probability`` as of ``cutoff`` against what happened: a customer who bought
    before the cutoff has churned when they place no order in [cutoff, cutoff + horizon_days).

    Models are fitted on the orders before the cutoff, once per seed. Two baselines: *recency* scores each
    customer by the days since their latest order; *RFM logistic* is a logistic regression on log recency,
    orders and revenue, trained one horizon earlier (features as of cutoff - horizon, labels from the horizon
    up to the cutoff), so it sees nothing after the cutoff either. One row per model: AUROC mean and spread,
    runs, the churn rate and the number of customers. ``progress`` hears every fit (each epoch).
    """
    cutoff, horizon = pd.Timestamp(cutoff), pd.Timedelta(days=horizon_days)
    train, test, interactions = _horizon_split(transactions, cutoff, horizon_days, "churn")
    churned = _churned(interactions, test, cutoff + horizon)
    features = _rfm(interactions, cutoff)
    earlier_train, earlier_test = temporal_split(train, cutoff - horizon)
    earlier = Interactions.from_transactions(earlier_train)
    rfm_model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        _rfm(earlier, cutoff - horizon), _churned(earlier, purchases(earlier_test), cutoff)
    )
    customers = interactions.customers
    scores = {("recency", None): features[:, 0], ("RFM logistic", None): rfm_model.predict_proba(features)[:, 1]}
    scores |= _seeded_scores(
        models, seeds, interactions, lambda m: m.churn_probability(customers, as_of=cutoff).to_numpy(), progress
    )
    progress(1.0, "churn evaluated")
    runs = pd.DataFrame(
        [
            {"model": name, "seed": seed, "auroc": roc_auc_score(churned, score)}
            for (name, seed), score in scores.items()
        ]
    )
    table = summarise(runs)
    table["churn_rate"] = float(churned.mean())
    table["customers"] = len(customers)
    return table


def category_evaluation(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    horizon_days: float,
    models: Mapping[str, Recommender],
    seeds: Iterable[int] = (0, 1, 2),
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """AUROC of each model's ``category_probability`` as of ``cutoff`` against what happened: a customer who
    bought before the cutoff bought from category C when they have a purchase line in C in
    [cutoff, cutoff + horizon_days).

    Models are fitted on the orders before the cutoff, once per seed. The baseline, *frequency*, scores each
    customer by the share of their past purchase lines in C; *frequency + RFM logistic* is, per category, a
    logistic regression on that share, log recency, orders and revenue, trained one horizon earlier (as the
    churn evaluation's RFM baseline), so that a model knowing who is still active has an equal. Per category the
    AUROC over customers (categories where both outcomes occur), then their mean: one row per model with the mean
    (``auroc``), its spread over seeds, the runs, the number of categories and customers and the share of
    (customer, category) pairs bought.
    """
    cutoff, horizon = pd.Timestamp(cutoff), pd.Timedelta(days=horizon_days)
    train, test, interactions = _horizon_split(transactions, cutoff, horizon_days, "category purchases")
    if interactions.categories is None:
        raise InputError(
            "the transactions have no product categories", fix="map a category column with --map category=COLUMN"
        )
    customers = interactions.customers
    names = pd.Index(sorted(interactions.categories.dropna().unique()), dtype=str, name="category")

    def per_customer(lines: pd.DataFrame, normalize: bool | str, index: pd.Index = customers) -> np.ndarray:
        lines = lines.dropna(subset=["category"])
        table = pd.crosstab(lines["customer_id"].astype(str), lines["category"].astype(str), normalize=normalize)
        return table.reindex(index=index, columns=names, fill_value=0).to_numpy()

    truth = per_customer(test.loc[test["ts"] < cutoff + horizon], False) > 0
    judged = [c for c in range(len(names)) if 0 < truth[:, c].sum() < len(customers)]
    share = per_customer(purchases(train), "index")
    # one horizon earlier: features as of cutoff - horizon, labels from then up to the cutoff
    earlier_train, earlier_test = temporal_split(train, cutoff - horizon)
    earlier = Interactions.from_transactions(earlier_train)
    earlier_truth = per_customer(purchases(earlier_test), False, earlier.customers) > 0
    earlier_share = per_customer(purchases(earlier_train), "index", earlier.customers)
    earlier_rfm, rfm = _rfm(earlier, cutoff - horizon), _rfm(interactions, cutoff)
    logistic = share.copy()
    for c in (c for c in judged if 0 < earlier_truth[:, c].sum() < len(earlier.customers)):
        fitted = make_pipeline(StandardScaler(), LogisticRegression()).fit(
            np.column_stack([earlier_share[:, c], earlier_rfm]), earlier_truth[:, c]
        )
        logistic[:, c] = fitted.predict_proba(np.column_stack([share[:, c], rfm]))[:, 1]
    scores = {("frequency", None): share, ("frequency + RFM logistic", None): logistic}
    scores |= _seeded_scores(
        models,
        seeds,
        interactions,
        lambda m: m.category_probability(customers, as_of=cutoff).reindex(columns=names).to_numpy(),
        progress,
    )
    progress(1.0, "category purchases evaluated")
    runs = pd.DataFrame(
        [
            {
                "model": name,
                "seed": seed,
                "auroc": float(np.mean([roc_auc_score(truth[:, c], score[:, c]) for c in judged])),
            }
            for (name, seed), score in scores.items()
        ]
    )
    table = summarise(runs)
    table["categories"] = len(judged)
    table["customers"] = len(customers)
    table["bought_share"] = float(truth.mean())
    return table


def _churned(interactions: Interactions, later: pd.DataFrame, until: pd.Timestamp) -> np.ndarray:
    """Per customer of ``interactions``: no purchase in ``later`` before ``until``."""
    return ~interactions.customers.isin(later.loc[later["ts"] < until, "customer_id"].astype(str).unique())


def _rfm(interactions: Interactions, as_of: pd.Timestamp) -> np.ndarray:
    """(customers, 3): log days since the latest order as of ``as_of``, log orders, log revenue."""
    last = interactions.step_time[interactions.step_ptr[1:] - 1]
    days = (as_of.to_datetime64() - last) / np.timedelta64(1, "D")
    revenue = np.asarray(interactions.revenue.sum(axis=1)).ravel()
    return np.log1p(np.column_stack([np.maximum(days, 0), interactions.n_orders, revenue]))


def standard_models() -> dict[str, Recommender]:
    """The models every evaluation compares: the baselines, both factorisations, TIFU-KNN, both sequence
    encoders and the repeat/explore mixture of the GRU."""
    from recommenders.mixture import RepeatExploreRecommender
    from recommenders.sequence.model import SequenceRecommender

    return _models_without_sequences() | {
        "gru": SequenceRecommender(encoder="gru"),
        "attention": SequenceRecommender(encoder="attention"),
        "repeat_explore": RepeatExploreRecommender(),
    }


def quick_models() -> dict[str, Recommender]:
    """The models of :data:`recommenders.names.QUICK_MODELS` (the app's quick evaluation); torch is not imported."""
    from recommenders.names import QUICK_MODELS

    models = _models_without_sequences()
    return {name: models[name] for name in QUICK_MODELS}


def _models_without_sequences() -> dict[str, Recommender]:
    from recommenders.baselines import (
        BuyAgainRecommender,
        ItemKNNRecommender,
        PopularityRecommender,
        RecentPopularityRecommender,
    )
    from recommenders.ease import EASERecommender
    from recommenders.mf import ALSRecommender, BPRRecommender
    from recommenders.tifu import TIFUKNNRecommender

    return {
        "popularity": PopularityRecommender(),
        "recent_popularity": RecentPopularityRecommender(),
        "buy_again": BuyAgainRecommender(),
        "itemknn": ItemKNNRecommender(),
        "als": ALSRecommender(),
        "bpr": BPRRecommender(),
        "ease": EASERecommender(),
        "tifu_knn": TIFUKNNRecommender(),
    }
