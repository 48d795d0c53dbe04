"""The next-basket network: order steps -> mean item embedding -> causal encoder -> scores of every product.

Item embeddings are shared by the input (a step is the mean embedding of its products) and the output layer
(SASRec-style weight tying). Optional *repeat features* add, per product, ``a(h) * log(1 + orders with it so
far) + b(h) * [in the latest step]`` to the logits, with ``a`` and ``b`` read from the customer's state
``h``: retail customers re-buy a lot, and a softmax over item embeddings alone learns that slowly.
An optional *churn head* reads ``h`` and the days since the step and gives the logit of "no order within the
horizon from now" (multi-task: its loss is added to the next-basket loss, weighted).
"""

from __future__ import annotations

import torch
from torch import nn

from recommenders.sequence.batches import PairList
from segmentation.errors import ConfigError

ENCODERS = ("gru", "attention")
YEAR_LOG = float(torch.log1p(torch.tensor(365.0)))
"""Scales log(1 + days) to about [0, 1] over a year."""


class GRUEncoder(nn.Module):
    """A GRU over the steps; the output at a step summarises the steps up to it."""

    def __init__(self, dim: int, layers: int, dropout: float):
        super().__init__()
        self.gru = nn.GRU(dim, dim, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class AttentionEncoder(nn.Module):
    """SASRec-style: learned positions, pre-norm transformer blocks with a causal mask."""

    def __init__(self, dim: int, layers: int, heads: int, dropout: float, max_len: int):
        super().__init__()
        self.position = nn.Embedding(max_len, dim)
        block = nn.TransformerEncoderLayer(
            dim, heads, 2 * dim, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        x = x + self.position(torch.arange(length, device=x.device))
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=x.device, dtype=x.dtype)
        return self.norm(self.blocks(x, mask=mask, is_causal=True))


class NextBasketNet(nn.Module):
    def __init__(
        self,
        n_items: int,
        dim: int,
        encoder: str,
        layers: int,
        heads: int,
        dropout: float,
        max_len: int,
        repeat_features: bool,
        churn_head: bool = False,
    ):
        super().__init__()
        if encoder not in ENCODERS:
            raise ConfigError(f"encoder must be one of {ENCODERS}, not {encoder!r}")
        self.item = nn.Embedding(n_items, dim)
        nn.init.normal_(self.item.weight, std=dim**-0.5)
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.dropout = nn.Dropout(dropout)
        self.encoder = (
            GRUEncoder(dim, layers, dropout)
            if encoder == "gru"
            else AttentionEncoder(dim, layers, heads, dropout, max_len + 1)  # training reads one step more
        )
        self.repeat = nn.Linear(dim, 2) if repeat_features else None
        self.churn = nn.Sequential(nn.Linear(dim + 1, dim), nn.GELU(), nn.Linear(dim, 1)) if churn_head else None

    def hidden(self, baskets: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        """(customers, steps, dim) states from the sparse (customers * steps, products) basket weights."""
        steps = torch.sparse.mm(baskets, self.item.weight).view(*shape, -1)
        return self.encoder(self.dropout(steps))

    def logits(self, h: torch.Tensor, repeat: PairList) -> torch.Tensor:
        """(positions, products) scores after the states ``h`` (positions, dim); ``repeat`` indexes its rows."""
        out = h @ self.item.weight.T + self.bias
        if self.repeat is None:
            return out
        coef = self.repeat(h)[repeat.position]
        extra = coef[:, 0] * repeat.value + coef[:, 1] * repeat.flag
        return out.index_put((repeat.position, repeat.item), extra.to(out.dtype), accumulate=True)

    def churn_logit(self, h: torch.Tensor, elapsed_days: torch.Tensor) -> torch.Tensor:
        """Logit of "no order within the horizon" for states ``h`` (n, dim) asked ``elapsed_days`` after their
        step."""
        elapsed = torch.log1p(elapsed_days.to(h.dtype))[:, None] / YEAR_LOG
        return self.churn(torch.cat([h, elapsed], dim=1)).squeeze(1)


def next_basket_loss(logits: torch.Tensor, target: PairList) -> torch.Tensor:
    """Mean over positions with a next step of the cross-entropy against the normalised next basket:
    logsumexp(logits) - sum_j w_j * logit_j (the weights w of a position sum to 1)."""
    logits = logits.float()
    picked = torch.zeros(len(logits), device=logits.device).index_add(
        0, target.position, target.value * logits[target.position, target.item]
    )
    has_next = torch.unique(target.position)
    return (torch.logsumexp(logits[has_next], dim=-1) - picked[has_next]).mean()
