"""A repeat/explore mixture: TIFU-KNN's time-decayed purchase frequencies for what customers buy again, EASE's
item-to-item weights for products new to them, and the sequence model for the order in which they buy.

Next-basket studies find that most of a basket's accuracy comes from repeat purchases, which personal,
time-decayed frequency vectors rank as well as any network (TIFU-KNN, Hu et al. 2020; Li et al. 2023, "A next
basket recommendation reality check"), while products new to a customer are ranked best by collaborative
models (EASE, Steck 2019, beat ALS and item-kNN there on Online Retail) and a network trained on the order
sequences knows what tends to come next (Ariannezhad et al. 2022, ReCANet, mixes repeat and explore parts in the
same spirit). Here the three scores, each scaled to [0, 1] per customer, are added with three weights tuned with
the parts' own parameters on the validation window like every other hyperparameter (:mod:`recommenders.tuning`),
never on the test period. Measured on Online Retail in docs/recommenders.md.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.ease import EASERecommender
from recommenders.tifu import TIFUKNNRecommender
from segmentation.errors import ConfigError
from segmentation.progress import Progress, no_progress

REPEAT_SHARE_OF_FIT = 0.05
"""The share of the progress bar TIFU-KNN and EASE take (the sequence model takes the rest)."""


KEPT_FITS = 8
"""Fitted parts kept for reuse: the sequence models of one evaluation's seeds (three by default) and a few EASE
fits."""
_fits: list[tuple[Hashable, Recommender]] = []
"""The latest parts fitted here, newest last, with their settings (each holds its interactions)."""


def _reused(
    settings: Hashable, interactions: Interactions, make: Callable[[], Recommender], progress: Progress
) -> Recommender:
    """``make()`` fitted on ``interactions``, reused when one of the last :data:`KEPT_FITS` fits had the same
    interactions (the same object) and ``settings``: tuning the weights and TIFU-KNN's parameters
    (:mod:`recommenders.tuning`) then trains the network and inverts EASE's matrix once, not once per trial, and
    so does testing each protocol's parameters over the same seeds. The parts are deterministic for their
    settings on one device, so reuse changes no result."""
    for kept_settings, model in _fits:
        if kept_settings == settings and model.interactions is interactions:
            progress(1.0, "fitted before on the same purchases")
            return model
    model = make().fit(interactions, progress)
    _fits[:] = [*_fits[-(KEPT_FITS - 1) :], (settings, model)]
    return model


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Each row mapped linearly onto [0, 1] (a constant row becomes 0), so two models' scores can be mixed."""
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.zeros_like(scores), where=span > 0)


class RepeatExploreRecommender(Recommender):
    """``repeat_weight`` x TIFU-KNN's scores (``group_size``, ``within_decay``, ``group_decay``, ``neighbours``,
    ``alpha`` as in :class:`recommenders.tifu.TIFUKNNRecommender`) + ``explore_weight`` x EASE's (``l2`` and
    ``recent_days`` as in :class:`recommenders.ease.EASERecommender`) + ``sequence_weight`` x the sequence
    model's (``encoder``, ``epochs``, ``recent_half_life``, ``random_state`` as in
    :class:`recommenders.sequence.model.SequenceRecommender`), each scaled to [0, 1] per customer. A part with
    weight 0 is not fitted; a single non-zero weight gives that part's ranking.
    """

    reason = "fits your own buying pattern"

    def __init__(
        self,
        repeat_weight: float = 0.2,
        explore_weight: float = 0.2,
        sequence_weight: float = 0.6,
        group_size: int = 7,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        neighbours: int = 300,
        alpha: float = 0.7,
        l2: float = 300.0,
        recent_days: float | None = None,
        encoder: str = "gru",
        epochs: int | None = None,
        recent_half_life: float | None = None,
        random_state: int = 0,
    ):
        self.repeat_weight = repeat_weight
        self.explore_weight = explore_weight
        self.sequence_weight = sequence_weight
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.neighbours = neighbours
        self.alpha = alpha
        self.l2 = l2
        self.recent_days = recent_days
        self.encoder = encoder
        self.epochs = epochs
        self.recent_half_life = recent_half_life
        self.random_state = random_state

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        weights = (self.repeat_weight, self.explore_weight, self.sequence_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(
                "the repeat/explore mixture needs repeat_weight, explore_weight and sequence_weight >= 0 and at "
                f"least one above 0, not {weights}"
            )
        self.parts_: list[tuple[float, Recommender]] = []
        if self.repeat_weight > 0:
            tifu = TIFUKNNRecommender(self.group_size, self.within_decay, self.group_decay, self.neighbours, self.alpha)
            self.parts_.append((self.repeat_weight, tifu.fit(interactions)))
        if self.explore_weight > 0:
            ease = _reused(
                ("ease", self.l2, self.recent_days),
                interactions,
                lambda: EASERecommender(self.l2, recent_days=self.recent_days),
                no_progress,
            )
            self.parts_.append((self.explore_weight, ease))
        progress(REPEAT_SHARE_OF_FIT, "TIFU-KNN and EASE")
        if self.sequence_weight > 0:
            sequence = _reused(
                (self.encoder, self.epochs, self.recent_half_life, self.random_state),
                interactions,
                self._sequence_model,
                lambda done, step: progress(
                    REPEAT_SHARE_OF_FIT + (1 - REPEAT_SHARE_OF_FIT) * done, f"sequence: {step}"
                ),
            )
            self.parts_.append((self.sequence_weight, sequence))

    def _sequence_model(self) -> Recommender:
        from recommenders.sequence.model import SequenceRecommender

        return SequenceRecommender(
            self.encoder, epochs=self.epochs, recent_half_life=self.recent_half_life, random_state=self.random_state
        )

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self._mixed(rows, new_only=False)

    def score_new(self, rows: np.ndarray) -> np.ndarray:
        return self._mixed(rows, new_only=True)

    def _mixed(self, rows: np.ndarray, new_only: bool) -> np.ndarray:
        """The weighted sum of the parts' scaled scores (:meth:`Recommender.score_new`'s with ``new_only``)."""
        mixed = np.zeros((len(rows), self.interactions.n_items), np.float32)
        for weight, part in self.parts_:
            scores = part.score_new(rows) if new_only else part.score(rows)
            mixed += np.float32(weight) * _scaled(np.asarray(scores, dtype=np.float32))
        return mixed
