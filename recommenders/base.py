"""The one interface every recommender implements.

A model learns from :class:`~recommenders.data.Interactions` and scores every product of that catalogue for a
customer it has seen; ranking, excluding bought products, the fallback for unknown customers and the reasons
are done here once, for all models. Models are scikit-learn style estimators: hyperparameters are constructor
arguments (``get_params``/``set_params``/``sklearn.base.clone`` work), fitted state ends in ``_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recommenders.data import Interactions
from recommenders.reasons import explain
from segmentation.errors import InputError, NotFittedError
from segmentation.progress import Progress, no_progress

BATCH_CUSTOMERS = 1024
"""Customers scored at a time, so a dense (customers x products) block stays small."""
RECOMMENDATION_COLUMNS = ["customer_id", "product_id", "score", "rank", "reason"]


class Recommender(BaseEstimator, ABC):
    """Fit on interactions; recommend top-N products per customer; find similar products."""

    reason: ClassVar[str] = "popular overall"
    """What the model says when neither "bought again" nor "bought together with X" applies."""

    def fit(self, interactions: Interactions, progress: Progress = no_progress) -> Self:
        """Learn from ``interactions``; ``progress`` hears the fraction done (iterative models report each
        iteration or epoch)."""
        self._use_history(interactions)
        self._fit(interactions, progress)
        progress(1.0, "fitted")
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        """Learn the model's own state."""

    @abstractmethod
    def score(self, rows: np.ndarray) -> np.ndarray:
        """Scores (higher is better) of every product for customer rows of ``interactions_``:
        an array of shape (len(rows), n_items)."""

    def score_new(self, rows: np.ndarray) -> np.ndarray:
        """The scores to rank products *new* to each customer by (the caller removes their past products):
        :meth:`score` unless the model learns that job apart (the sequence model's explore head)."""
        return self.score(rows)

    def _use_history(self, interactions: Interactions) -> None:
        self.interactions_ = interactions

    @property
    def interactions(self) -> Interactions:
        """The purchase histories the model scores from (those it was fitted on)."""
        if not hasattr(self, "interactions_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(interactions) first")
        return self.interactions_

    def recommend(self, customers: Iterable[str], n: int = 10, exclude_bought: bool = False) -> pd.DataFrame:
        """Top ``n`` products per customer, best first: columns customer_id, product_id, score, rank, reason.

        A customer without purchases in ``interactions_`` gets the global popularity list (its reason says
        so). With ``exclude_bought`` the customer's past products are left out, so fewer than ``n`` rows come
        back when fewer products remain.
        """
        data = self.interactions
        ids = pd.Index(list(customers), dtype=str)
        rows = data.rows(ids)
        fallback = (data.popularity / max(data.popularity.max(), 1)).astype(np.float32)
        frames = []
        for start in range(0, len(ids), BATCH_CUSTOMERS):
            batch = rows[start : start + BATCH_CUSTOMERS]
            known = np.flatnonzero(batch >= 0)
            scores = np.broadcast_to(fallback, (len(batch), data.n_items)).copy()
            if len(known):
                score = self.score_new if exclude_bought else self.score
                scores[known] = score(batch[known])
                if exclude_bought:
                    bought = data.bought[batch[known]].tocoo()
                    scores[known[bought.row], bought.col] = -np.inf
            cols, top = top_n(scores, n)
            keep = np.isfinite(top)
            who = np.repeat(np.arange(len(batch)), cols.shape[1]).reshape(cols.shape)
            frames.append(
                pd.DataFrame(
                    {
                        "customer_id": ids[start + who[keep]],
                        "product_id": data.items[cols[keep]],
                        "score": top[keep].astype(float),
                        "rank": (np.arange(cols.shape[1]) + 1)[None, :].repeat(len(batch), 0)[keep],
                        "row": batch[who[keep]],
                        "col": cols[keep],
                    }
                )
            )
        if not frames:
            return pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
        out = pd.concat(frames, ignore_index=True)
        out["reason"] = explain(data, out["row"].to_numpy(), out["col"].to_numpy(), self.reason)
        return out[RECOMMENDATION_COLUMNS]

    def similar_items(self, product_id: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` products most similar to ``product_id`` in the model's own terms: product_id,
        description, score, rank."""
        data = self.interactions
        if product_id not in data.items:
            raise InputError(
                f"product {product_id!r} is not in the catalogue the model was fitted on",
                fix="pick a product the model has seen",
            )
        col = data.items.get_loc(product_id)
        sims = np.asarray(self._item_similarity(col), dtype=np.float32).copy()
        sims[col] = -np.inf
        cols, top = top_n(sims[None, :], n)
        cols, top = cols[0][np.isfinite(top[0])], top[0][np.isfinite(top[0])]
        return pd.DataFrame(
            {
                "product_id": data.items[cols],
                "description": data.descriptions.to_numpy()[cols],
                "score": top.astype(float),
                "rank": np.arange(len(cols)) + 1,
            }
        )

    def _item_similarity(self, col: int) -> np.ndarray:
        """Similarity of every product to product ``col``; by default, cosine of order co-occurrence
        ("bought together"). Models with their own item representation override it."""
        data = self.interactions
        in_orders = data.in_steps
        shared = np.asarray(data.together[col].todense()).ravel()
        return shared / np.sqrt(np.maximum(in_orders * in_orders[col], 1))


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of the ``n`` highest scores per row, best first (equal scores in column order)."""
    k = min(n, scores.shape[1])
    part = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    values = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(values, order, axis=1)
