"""Next-basket recommender over each customer's sequence of orders (GRU or causal self-attention).

Training: every order step of a customer predicts the products of the step after it, with a full softmax
over the catalogue and cross-entropy against the next basket normalised to sum to 1 (a multi-label target
as a distribution). Scoring: the state after the customer's latest order ranks every product.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import torch

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.sequence.batches import scoring_batch, training_batch
from recommenders.sequence.network import NextBasketNet, next_basket_loss
from segmentation.progress import Progress

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SCORE_BATCH = 256
DEFAULTS = {
    # A smaller model on the CPU, so a fit on Online Retail takes about a minute on 2 cores.
    "cpu": {"dim": 64, "max_len": 30, "epochs": 20, "batch_size": 64},
    "cuda": {"dim": 128, "max_len": 50, "epochs": 40, "batch_size": 128},
}
DEFAULT_LAYERS = {"gru": 1, "attention": 2}


class SequenceRecommender(Recommender):
    """Next-basket model; ``encoder`` is ``"gru"`` or ``"attention"`` (SASRec-style, causal).

    Arguments left as ``None`` take the device's default (``DEFAULTS``; layers: 1 GRU, 2 attention blocks).
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
            n_items, c["dim"], c["encoder"], c["layers"], c["heads"], c["dropout"], c["max_len"], c["repeat_features"]
        )

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device_.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        self.device_ = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.config_ = self._resolved(self.device_)
        c = self.config_
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        self.network_ = self._network(interactions.n_items).to(self.device_)
        optimiser = torch.optim.AdamW(self.network_.parameters(), lr=c["learning_rate"], weight_decay=c["weight_decay"])
        # Customers with a next order to predict, sorted by length so a batch pads little; the batches are
        # built once and visited in a new random order every epoch.
        rows = np.flatnonzero(interactions.n_orders >= 2)
        rows = rows[np.argsort(interactions.n_orders[rows], kind="stable")]
        batches = [
            training_batch(interactions, rows[s : s + c["batch_size"]], c["max_len"], self.device_)
            for s in range(0, len(rows), c["batch_size"])
        ]
        self.loss_curve_ = []
        self.network_.train()
        for epoch in range(c["epochs"]):
            total, count = 0.0, 0
            for b in rng.permutation(len(batches)):
                batch = batches[b]
                with self._autocast():
                    h = self.network_.hidden(batch.baskets, batch.shape)
                    loss = next_basket_loss(self.network_.logits(h.flatten(0, 1), batch.repeat), batch.target)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * batch.shape[0]
                count += batch.shape[0]
            self.loss_curve_.append(total / max(count, 1))
            log.debug("epoch %d: loss %.4f", epoch + 1, self.loss_curve_[-1])
            progress((epoch + 1) / c["epochs"], f"epoch {epoch + 1} of {c['epochs']}, loss {self.loss_curve_[-1]:.3f}")
        self.network_.eval()
        self.items_ = interactions.items

    def score(self, rows: np.ndarray) -> np.ndarray:
        data = self.interactions
        out = np.empty((len(rows), data.n_items), dtype=np.float32)
        with torch.inference_mode(), self._autocast():
            for s in range(0, len(rows), SCORE_BATCH):
                batch = scoring_batch(data, rows[s : s + SCORE_BATCH], self.config_["max_len"], self.device_)
                h = self.network_.hidden(batch.baskets, batch.shape)
                latest = h[torch.arange(len(h), device=h.device), batch.lengths - 1]
                logits = self.network_.logits(latest, batch.repeat)
                out[s : s + SCORE_BATCH] = logits.float().cpu().numpy()
        return out

    def _item_similarity(self, col: int) -> np.ndarray:
        weights = self.network_.item.weight.detach().float().cpu()
        unit = torch.nn.functional.normalize(weights, dim=1)
        return (unit @ unit[col]).numpy()

    def attach(self, interactions: Interactions) -> Self:
        """Score from these purchase histories from now on (e.g. newer ones, or after :meth:`load`); they must
        be built on the model's catalogue: ``Interactions.from_transactions(tx, items=model.items_)``."""
        if not interactions.items.equals(self.items_):
            raise ValueError(
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
            raise ValueError(f"{path}: artifact format {blob.get('format_version')}, expected {FORMAT_VERSION}")
        config = blob["config"]
        model = cls(**{k: v for k, v in config.items() if k != "device"})
        model.set_params(device="cpu")
        model.device_ = torch.device("cpu")
        model.config_ = {**config, "device": "cpu"}
        model.items_ = pd.Index(blob["items"], dtype=str, name="product_id")
        model.loss_curve_ = blob["loss_curve"]
        model.network_ = model._network(len(model.items_))
        model.network_.load_state_dict(blob["state_dict"])
        model.network_.eval()
        return model.attach(interactions) if interactions is not None else model
