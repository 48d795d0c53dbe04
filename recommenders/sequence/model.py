"""Next-basket recommender over each customer's sequence of orders (GRU or causal self-attention).

Training: every order step of a customer predicts the products of the step after it, with cross-entropy
against the next basket normalised to sum to 1 (a multi-label target as a distribution), under a softmax over
the whole catalogue, or, for catalogues over ``2 * negatives`` products, a sampled softmax (each query's own
products exact, the rest estimated from drawn products: ``NextBasketNet.training_loss``). Scoring: the state
after the customer's latest order ranks every product.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.sequence.batches import Batch, scoring_batch, training_batch
from recommenders.sequence.network import NextBasketNet
from segmentation.errors import ConfigError, InputError, ModelError
from segmentation.progress import Progress

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: attention positions max_len + 1, optional churn head
SCORE_BATCH = 256
PREPARATION = 0.05
"""Share of a fit's progress given to building the training batches (the epochs get the rest)."""
DEFAULTS = {
    # A smaller model on the CPU, so a fit on Online Retail takes about a minute on 2 cores.
    "cpu": {"dim": 64, "max_len": 30, "epochs": 20, "batch_size": 64},
    "cuda": {"dim": 128, "max_len": 50, "epochs": 40, "batch_size": 128},
}
DEFAULT_LAYERS = {"gru": 1, "attention": 2}


class SequenceRecommender(Recommender):
    """Next-basket model; ``encoder`` is ``"gru"`` or ``"attention"`` (SASRec-style, causal).

    Arguments left as ``None`` take the device's default (``DEFAULTS``; layers: 1 GRU, 2 attention blocks).
    With ``churn_days`` a churn head learns, next to the next basket (its loss weighted ``churn_weight``), the
    probability of no order within ``churn_days``: :meth:`churn_probability`. With ``category_days`` a
    category head learns the probability of buying from each product category within ``category_days``
    (:meth:`category_probability`; the interactions need categories). With ``explore_head_weight`` an explore
    head learns, next to the next basket (its loss weighted so), to rank the products *new* to the customer: its
    target is the next basket's new products and the products bought so far are left out of its softmax;
    :meth:`score_new`, and so every list without past products, uses it. With ``recent_half_life`` (days) a
    training query counts 0.5 ** (days from the order it predicts to the end of the data / half-life) times, so
    the latest buying habits weigh most (the weights' mean is 1). ``negatives``: products drawn per batch
    for the sampled softmax of catalogues over twice that size (None: always the exact softmax).
    It trains on CUDA when present (mixed precision there), else on the CPU, and is deterministic for a
    ``random_state`` on the CPU. ``save``/``load`` write and read a portable artifact.
    """

    reason = "likely in your next order"

    def __init__(
        self,
        encoder: str = "gru",
        dim: int | None = None,
        layers: int | None = None,
        heads: int = 2,
        dropout: float = 0.2,
        max_len: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        repeat_features: bool = True,
        negatives: int | None = 2048,
        churn_days: float | None = None,
        churn_weight: float = 0.5,
        category_days: float | None = None,
        category_weight: float = 0.5,
        explore_head_weight: float | None = None,
        recent_half_life: float | None = None,
        random_state: int = 0,
        device: str | None = None,
    ):
        self.encoder = encoder
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.dropout = dropout
        self.max_len = max_len
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.repeat_features = repeat_features
        self.negatives = negatives
        self.churn_days = churn_days
        self.churn_weight = churn_weight
        self.category_days = category_days
        self.category_weight = category_weight
        self.explore_head_weight = explore_head_weight
        self.recent_half_life = recent_half_life
        self.random_state = random_state
        self.device = device

    def _resolved(self, device: torch.device) -> dict[str, Any]:
        """Every hyperparameter with the device defaults filled in."""
        params = self.get_params(deep=False)
        defaults = {**DEFAULTS[device.type if device.type == "cuda" else "cpu"], "layers": DEFAULT_LAYERS[self.encoder]}
        resolved = {k: defaults[k] if v is None and k in defaults else v for k, v in params.items()}
        resolved["device"] = device.type
        return resolved

    def _network(self, n_items: int) -> NextBasketNet:
        c = self.config_
        return NextBasketNet(
            n_items,
            c["dim"],
            c["encoder"],
            c["layers"],
            c["heads"],
            c["dropout"],
            c["max_len"],
            c["repeat_features"],
            churn_head=c["churn_days"] is not None,
            categories=len(self.categories_),
            explore_head=c.get("explore_head_weight") is not None,
        )

    def _categories(self, interactions: Interactions) -> sp.csr_matrix | None:
        """With ``category_days``: set ``categories_`` (the category names, the head's columns) and return each
        order step's categories (steps x categories, binary); else no categories and None."""
        self.categories_ = pd.Index([], dtype=str, name="category")
        if self.config_["category_days"] is None:
            return None
        if interactions.categories is None or interactions.categories.isna().all():
            raise InputError(
                "the category head needs each product's category, and these transactions have none",
                fix="map a category column (--map category=COLUMN) or fit without category_days",
            )
        codes, names = pd.factorize(interactions.categories, sort=True)
        self.categories_ = pd.Index(names.astype(str), name="category")
        has = np.flatnonzero(codes >= 0)
        item_category = sp.csr_matrix(
            (np.ones(len(has), np.float32), (has, codes[has])), shape=(interactions.n_items, len(names))
        )
        return ((interactions.steps @ item_category) > 0).astype(np.float32).tocsr()

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device_.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        self.device_ = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.config_ = self._resolved(self.device_)
        c = self.config_
        if c["recent_half_life"] is not None and c["recent_half_life"] <= 0:
            raise ConfigError(f"recent_half_life must be > 0 days or None, not {c['recent_half_life']}")
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        step_categories = self._categories(interactions)
        self.network_ = self._network(interactions.n_items).to(self.device_)
        if self.network_.explore is not None:
            # the explore head starts from the log share of order steps holding each product: popularity is the
            # first thing it must learn, and a zero start leaves it there after a few epochs on a large catalogue
            in_steps = interactions.in_steps
            prior = np.log((in_steps + 1) / (in_steps.sum() + interactions.n_items))
            with torch.no_grad():
                self.network_.explore_bias.copy_(torch.from_numpy(prior.astype(np.float32)))
        optimiser = torch.optim.AdamW(self.network_.parameters(), lr=c["learning_rate"], weight_decay=c["weight_decay"])
        # Customers with a next order to predict (with a churn or category head, every customer: one order is
        # a question too), sorted by length so a batch pads little; the batches are built once and visited in a
        # new random order every epoch.
        heads = c["churn_days"] is not None or c["category_days"] is not None
        rows = np.flatnonzero(interactions.n_orders >= (1 if heads else 2))
        rows = rows[np.argsort(interactions.n_orders[rows], kind="stable")]
        starts = range(0, len(rows), c["batch_size"])
        batches = []
        for i, s in enumerate(starts):
            if i % max(len(starts) // 10, 1) == 0:
                progress(PREPARATION * (i + 1) / len(starts), f"preparing training batch {i + 1} of {len(starts)}")
            batches.append(
                training_batch(
                    interactions,
                    rows[s : s + c["batch_size"]],
                    c["max_len"],
                    self.device_,
                    c["churn_days"],
                    rng,
                    c["category_days"],
                    step_categories,
                )
            )
        recency = self._recency(batches)
        # sampling fewer than half the catalogue's products saves little: then the exact softmax
        sampled = c["negatives"] is not None and interactions.n_items > 2 * c["negatives"]
        self.loss_curve_ = []
        self.network_.train()
        for epoch in range(c["epochs"]):
            total, count = 0.0, 0
            for b in rng.permutation(len(batches)):
                batch = batches[b]
                with self._autocast():
                    h = self.network_.hidden(batch.baskets, batch.shape)
                    if len(batch.query):
                        drawn = None
                        if sampled:
                            drawn = torch.from_numpy(rng.choice(interactions.n_items, c["negatives"], replace=False))
                            drawn = drawn.to(self.device_)
                        recent = None if recency is None else recency[b]
                        loss = self.network_.training_loss(h[:, :-1], batch.query, batch.own, drawn, recent)
                        if c["explore_head_weight"] is not None:
                            explore = self.network_.explore_loss(h[:, :-1], batch.query, batch.own, drawn, recent)
                            loss = loss + c["explore_head_weight"] * explore
                    else:  # customers with one order: churn or category questions only
                        loss = h.sum() * 0
                    if batch.churn is not None and len(batch.churn.label):
                        states = h.flatten(0, 1)[batch.churn.position]
                        churn = self.network_.churn_logit(states, batch.churn.elapsed_days).float()
                        loss = loss + c["churn_weight"] * nn.functional.binary_cross_entropy_with_logits(
                            churn, batch.churn.label
                        )
                    if batch.category is not None and len(batch.category.label):
                        states = h.flatten(0, 1)[batch.category.position]
                        logits = self.network_.category_logits(states, batch.category.elapsed_days).float()
                        loss = loss + c["category_weight"] * nn.functional.binary_cross_entropy_with_logits(
                            logits, batch.category.label
                        )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * batch.shape[0]
                count += batch.shape[0]
            self.loss_curve_.append(total / max(count, 1))
            log.debug("epoch %d: loss %.4f", epoch + 1, self.loss_curve_[-1])
            done = PREPARATION + (1 - PREPARATION) * (epoch + 1) / c["epochs"]
            progress(done, f"epoch {epoch + 1} of {c['epochs']}, loss {self.loss_curve_[-1]:.3f}")
        self.network_.eval()
        self.items_ = interactions.items

    def _recency(self, batches: list[Batch]) -> list[torch.Tensor] | None:
        """With ``recent_half_life``, each batch's query weights: 0.5 ** (days from the order the query predicts
        to the end of the data / half-life), divided by their mean over every query, so the loss keeps its scale
        and a batch of old orders moves the network less than one of recent orders (None without)."""
        half_life = self.config_.get("recent_half_life")
        if half_life is None:
            return None
        weights = [0.5 ** (batch.query_age.double() / half_life) for batch in batches]
        mean = float(torch.cat(weights).mean()) if batches else 1.0
        return [(w / mean).float() if mean > 0 else torch.ones_like(w).float() for w in weights]

    def _latest_states(self, rows: np.ndarray) -> Iterator[tuple[slice, Batch, torch.Tensor]]:
        """Per scoring batch of customer ``rows``: its slice of ``rows``, the batch and the states after each
        customer's latest order. Call inside ``torch.inference_mode()``."""
        for s in range(0, len(rows), SCORE_BATCH):
            batch = scoring_batch(self.interactions, rows[s : s + SCORE_BATCH], self.config_["max_len"], self.device_)
            with self._autocast():
                h = self.network_.hidden(batch.baskets, batch.shape)
            yield slice(s, s + SCORE_BATCH), batch, h[torch.arange(len(h), device=h.device), batch.lengths - 1]

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self._scores(rows, lambda batch, latest: self.network_.logits(latest, batch.repeat))

    def score_new(self, rows: np.ndarray) -> np.ndarray:
        """With an explore head (``explore_head_weight``), its scores, trained to rank the products new to the
        customer; else :meth:`score`."""
        if self.network_.explore is None:
            return self.score(rows)
        return self._scores(rows, lambda _, latest: self.network_.explore_logits(latest))

    def _scores(self, rows: np.ndarray, head: Callable[[Batch, torch.Tensor], torch.Tensor]) -> np.ndarray:
        """(len(rows), products) scores of a ``head`` of the scoring batch and the states after each customer's
        latest order."""
        out = np.empty((len(rows), self.interactions.n_items), dtype=np.float32)
        with torch.inference_mode():
            for part, batch, latest in self._latest_states(rows):
                with self._autocast():
                    out[part] = head(batch, latest).float().cpu().numpy()
        return out

    def _per_customer(self, customers: list[str] | pd.Index, width: int) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """Customer ids, their rows of the known ones, and a NaN-filled (customers, width) array to fill."""
        ids = pd.Index(list(customers), dtype=str)
        rows = self.interactions.rows(ids)
        return ids, rows, np.full((len(ids), width), np.nan, dtype=np.float32)

    def customer_embeddings(self, customers: list[str] | pd.Index) -> pd.DataFrame:
        """The state after each customer's latest order (one row per customer, NaN without purchases): a
        summary of their order sequence that can join the features a segmentation clusters on."""
        ids, rows, out = self._per_customer(customers, self.config_["dim"])
        known = np.flatnonzero(rows >= 0)
        with torch.inference_mode():
            for part, _, latest in self._latest_states(rows[known]):
                out[known[part]] = latest.float().cpu().numpy()
        return pd.DataFrame(out, index=ids, columns=[f"sequence_{i}" for i in range(out.shape[1])])

    def churn_probability(self, customers: list[str] | pd.Index, as_of: str | pd.Timestamp | None = None) -> pd.Series:
        """Probability that each customer places no order within ``churn_days`` from ``as_of`` (default: the end of
        the purchase histories), given their orders and the days since their latest one; NaN for a customer
        without purchases. Needs a model fitted with ``churn_days``."""
        if self.network_.churn is None:
            raise ModelError("this model has no churn head: fit it with churn_days set, e.g. churn_days=90")
        ids, out = self._head_probabilities(customers, as_of, 1, self.network_.churn_logit)
        return pd.Series(out[:, 0].astype(float), index=ids, name="churn_probability")

    def category_probability(
        self, customers: list[str] | pd.Index, as_of: str | pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Probability that each customer buys from each category (columns: ``categories_``) within
        ``category_days`` from ``as_of`` (default: the end of the purchase histories); NaN rows for customers
        without purchases. Needs a model fitted with ``category_days``."""
        if self.network_.category is None:
            raise ModelError("this model has no category head: fit it with category_days set, e.g. category_days=90")
        ids, out = self._head_probabilities(customers, as_of, len(self.categories_), self.network_.category_logits)
        return pd.DataFrame(out.astype(float), index=ids, columns=self.categories_)

    def _head_probabilities(
        self,
        customers: list[str] | pd.Index,
        as_of: str | pd.Timestamp | None,
        width: int,
        logits: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> tuple[pd.Index, np.ndarray]:
        """Customer ids and the sigmoid of a head's ``logits`` (state after the latest order, days since it) for
        each, ``width`` columns; NaN rows for customers without purchases."""
        ids, rows, out = self._per_customer(customers, width)
        known = np.flatnonzero(rows >= 0)
        elapsed = self._elapsed(rows[known], as_of)
        with torch.inference_mode():
            for part, _, latest in self._latest_states(rows[known]):
                with self._autocast():
                    values = logits(latest, elapsed[part].to(self.device_))
                out[known[part]] = torch.sigmoid(values.float()).cpu().numpy().reshape(-1, width)
        return ids, out

    def _elapsed(self, rows: np.ndarray, as_of: str | pd.Timestamp | None) -> torch.Tensor:
        """Days from each customer row's latest order to ``as_of`` (default: the end of the histories), at least 0."""
        data = self.interactions
        now = pd.Timestamp(as_of if as_of is not None else data.end).to_datetime64()
        last = data.step_time[data.step_ptr[rows + 1] - 1]
        return torch.from_numpy(np.maximum((now - last) / np.timedelta64(1, "D"), 0.0).astype(np.float32))

    def _item_similarity(self, col: int) -> np.ndarray:
        weights = self.network_.item.weight.detach().float().cpu()
        unit = torch.nn.functional.normalize(weights, dim=1)
        return (unit @ unit[col]).numpy()

    def attach(self, interactions: Interactions) -> Self:
        """Score from these purchase histories from now on (e.g. newer ones, or after :meth:`load`); they must
        be built on the model's catalogue: ``Interactions.from_transactions(tx, items=model.items_)``."""
        if not interactions.items.equals(self.items_):
            raise InputError(
                "the interactions' products differ from the model's catalogue; build them with "
                "Interactions.from_transactions(transactions, items=model.items_)"
            )
        self._use_history(interactions)
        return self

    def save(self, path: str | Path) -> None:
        """Write weights, catalogue and configuration to ``path`` (a ``torch.save`` file of plain types)."""
        torch.save(
            {
                "format_version": FORMAT_VERSION,
                "config": self.config_,
                "items": [str(i) for i in self.items_],
                "categories": [str(c) for c in self.categories_],
                "state_dict": {k: v.detach().cpu() for k, v in self.network_.state_dict().items()},
                "loss_curve": self.loss_curve_,
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path, interactions: Interactions | None = None) -> SequenceRecommender:
        """Read an artifact written by :meth:`save` onto the CPU; ``interactions`` to score from (see
        :meth:`attach`), else attach them later."""
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}: artifact format {blob.get('format_version')}, expected {FORMAT_VERSION}")
        config = blob["config"]
        model = cls(**{k: v for k, v in config.items() if k != "device"})
        model.set_params(device="cpu")
        model.device_ = torch.device("cpu")
        model.config_ = {**config, "device": "cpu"}
        model.items_ = pd.Index(blob["items"], dtype=str, name="product_id")
        model.loss_curve_ = blob["loss_curve"]
        model.categories_ = pd.Index(blob.get("categories", []), dtype=str, name="category")
        model.network_ = model._network(len(model.items_))
        model.network_.load_state_dict(blob["state_dict"])
        model.network_.eval()
        return model.attach(interactions) if interactions is not None else model
