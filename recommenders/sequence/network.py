"""The next-basket network: order steps -> mean item embedding -> causal encoder -> scores of every product.

Item embeddings are shared by the input (a step is the mean embedding of its products) and the output layer
(SASRec-style weight tying). Optional *repeat features* add, per product, ``a(h) * log(1 + orders with it so
far) + b(h) * [in the latest step]`` to the logits, with ``a`` and ``b`` read from the customer's state
``h``: retail customers re-buy a lot, and a softmax over item embeddings alone learns that slowly.
An optional *churn head* reads ``h`` and the days since the step and gives the logit of "no order within the
horizon from now", an optional *category head* the logits of "buys from category C within the horizon from
now" (multi-task: their losses are added to the next-basket loss, weighted). An optional *explore head*
projects ``h`` and scores products with the shared item embeddings and a bias of its own, trained only on the
products new to the customer.
"""

from __future__ import annotations

import torch
from torch import nn

from recommenders.sequence.batches import OwnProducts, PairList
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
        categories: int = 0,
        explore_head: bool = False,
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
        self.category = (
            nn.Sequential(nn.Linear(dim + 1, dim), nn.GELU(), nn.Linear(dim, categories)) if categories else None
        )
        self.explore = nn.Linear(dim, dim) if explore_head else None
        self.explore_bias = nn.Parameter(torch.zeros(n_items)) if explore_head else None

    def hidden(self, baskets: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
        """(customers, steps, dim) states from the sparse (customers * steps, products) basket weights."""
        steps = torch.sparse.mm(baskets, self.item.weight).view(*shape, -1)
        return self.encoder(self.dropout(steps))

    def repeat_bonus(self, h: torch.Tensor, pairs: PairList) -> torch.Tensor:
        """The repeat features' addition to the score of each (customer, product) of ``pairs``."""
        if self.repeat is None:
            return torch.zeros(len(pairs.item), device=h.device, dtype=h.dtype)
        coef = self.repeat(h)[pairs.position]
        return coef[:, 0] * pairs.value + coef[:, 1] * pairs.flag

    def logits(self, h: torch.Tensor, repeat: PairList) -> torch.Tensor:
        """(customers, products) scores of the whole catalogue after the states ``h`` (customers, dim);
        ``repeat`` indexes its rows."""
        out = h @ self.item.weight.T + self.bias
        return out.index_put(
            (repeat.position, repeat.item), self.repeat_bonus(h, repeat).to(out.dtype), accumulate=True
        )

    def training_loss(
        self,
        h: torch.Tensor,
        query: torch.Tensor,
        own: OwnProducts,
        drawn: torch.Tensor | None = None,
        query_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean over the queries (each times its ``query_weight`` when given) of the cross-entropy against the
        normalised next basket, logsumexp(scores) - sum_j w_j * score_j, from the states ``h`` (customers, steps,
        dim) of the input positions.

        Without ``drawn``, the softmax runs over the whole catalogue. With ``drawn`` (products drawn uniformly
        without replacement, shared by the batch) it is a sampled softmax: each query's own products (its
        customer's, ``own``) are scored exactly, the rest of the catalogue through the drawn products that are
        not its own, whose exponentials are scaled by (products not its own) / (drawn not its own), an
        unbiased estimate of the rest's sum. Its cost grows with queries x (own products + drawn), not with the
        catalogue.
        """
        bonus = torch.zeros_like(own.value, dtype=h.dtype)
        if self.repeat is not None:
            coef = self.repeat(h.flatten(0, 1)[query])
            bonus = coef[:, :1] * own.value + coef[:, 1:] * own.flag
        return self._cross_entropy(h, self.bias, query, own, bonus, drawn, query_weight)

    def explore_loss(
        self,
        h: torch.Tensor,
        query: torch.Tensor,
        own: OwnProducts,
        drawn: torch.Tensor | None = None,
        query_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The explore head's loss: as :meth:`training_loss`, but the target is the next basket's products *new*
        to the customer (normalised) and the products bought so far are left out of the softmax, as they are
        left out of a cross-sell list. Queries whose next basket holds nothing new do not count (0 without any)."""
        bought = own.value > 0
        weight = own.weight.masked_fill(bought, 0.0)
        total = weight.sum(dim=1)
        keep = total > 0
        if not bool(keep.any()):
            return h.sum() * 0
        subset = OwnProducts(
            own.item, own.mask, own.customer[keep], own.value[keep], own.flag[keep], weight[keep] / total[keep, None]
        )
        hidden = torch.zeros_like(subset.value).masked_fill(bought[keep], float("-inf"))
        kept_weight = None if query_weight is None else query_weight[keep]
        return self._cross_entropy(self.explore(h), self.explore_bias, query[keep], subset, hidden, drawn, kept_weight)

    def _cross_entropy(
        self,
        h: torch.Tensor,
        bias: torch.Tensor,
        query: torch.Tensor,
        own: OwnProducts,
        bonus: torch.Tensor,
        drawn: torch.Tensor | None,
        query_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean over the queries (each times its ``query_weight`` when given) of logsumexp(scores) - sum_j w_j *
        score_j (w: ``own.weight``), with scores = state . item + bias, plus ``bonus`` on each query's own products
        (-inf leaves one out of the softmax); see :meth:`training_loss` for the exact and sampled softmax."""
        states = h.flatten(0, 1)[query]
        columns = own.item[own.customer]
        if drawn is None:
            logits = (states @ self.item.weight.T + bias).float().scatter_add(1, columns, bonus.float())
            scores, normaliser = logits.gather(1, columns), torch.logsumexp(logits, dim=1)
        else:
            weights = self.item.weight[own.item]
            scores = torch.bmm(h, weights.transpose(1, 2)).flatten(0, 1)[query]
            scores = (scores + bias[columns] + bonus).float()
            mask = own.mask[own.customer]
            rest = (states @ self.item.weight[drawn].T + bias[drawn]).float()
            column = torch.full((self.item.num_embeddings,), -1, dtype=torch.int64, device=h.device)
            column[drawn] = torch.arange(len(drawn), device=h.device)
            place = column[own.item]
            hit = (place >= 0) & own.mask
            drawn_own = torch.zeros(len(own.item), len(drawn), dtype=torch.bool, device=h.device)
            drawn_own[hit.nonzero(as_tuple=True)[0], place[hit]] = True
            rest = rest.masked_fill(drawn_own[own.customer], float("-inf"))
            n_own, n_hit = own.mask.sum(dim=1)[own.customer], hit.sum(dim=1)[own.customer]
            scale = torch.log((self.item.num_embeddings - n_own) / (len(drawn) - n_hit).clamp(min=1))
            normaliser = torch.logaddexp(
                torch.logsumexp(scores.masked_fill(~mask, float("-inf")), dim=1),
                torch.logsumexp(rest, dim=1) + scale,
            )
        # a product left out (score -inf) has weight 0, and 0 * -inf would be nan
        target = torch.where(own.weight > 0, own.weight * scores, torch.zeros_like(scores))
        losses = normaliser - target.sum(dim=1)
        return (losses if query_weight is None else losses * query_weight).mean()

    def explore_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(customers, products) explore-head scores after the states ``h`` (customers, dim): for ranking
        products new to the customer (their past products are the caller's to remove)."""
        return self.explore(h) @ self.item.weight.T + self.explore_bias

    def churn_logit(self, h: torch.Tensor, elapsed_days: torch.Tensor) -> torch.Tensor:
        """Logit of "no order within the horizon" for states ``h`` (n, dim) asked ``elapsed_days`` after their
        step."""
        return self.churn(_with_elapsed(h, elapsed_days)).squeeze(1)

    def category_logits(self, h: torch.Tensor, elapsed_days: torch.Tensor) -> torch.Tensor:
        """(n, categories) logits of "buys from the category within the horizon" for states ``h`` (n, dim) asked
        ``elapsed_days`` after their step."""
        return self.category(_with_elapsed(h, elapsed_days))


def _with_elapsed(h: torch.Tensor, elapsed_days: torch.Tensor) -> torch.Tensor:
    """The states with log(1 + days since their step), scaled to about [0, 1] over a year, as one more column."""
    elapsed = torch.log1p(elapsed_days.to(h.dtype))[:, None] / YEAR_LOG
    return torch.cat([h, elapsed], dim=1)
