"""A repeat/explore mixture: TIFU-KNN's time-decayed purchase frequencies for what customers buy again, the
sequence model for the order in which they buy.

Next-basket studies find that most of a basket's accuracy comes from repeat purchases, which personal,
time-decayed frequency vectors rank as well as any network (TIFU-KNN, Hu et al. 2020; Li et al. 2023, "A next
basket recommendation reality check"), while a network trained on the order sequences knows what tends to come
next (Ariannezhad et al. 2022, ReCANet, mixes repeat and explore parts in the same spirit). Here the two scores,
each scaled to [0, 1] per customer, are mixed with one weight, ``repeat_weight``: a hyperparameter tuned with
TIFU-KNN's own on the validation window like every other (:mod:`recommenders.tuning`), never on the test period.
Measured on Online Retail in docs/recommenders.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.tifu import TIFUKNNRecommender
from segmentation.errors import ConfigError
from segmentation.progress import Progress

if TYPE_CHECKING:
    from recommenders.sequence.model import SequenceRecommender

REPEAT_SHARE_OF_FIT = 0.05
"""The share of the progress bar TIFU-KNN takes (the sequence model takes the rest)."""


KEPT_FITS = 4
"""Sequence models kept for reuse: enough for the seeds of one evaluation (three by default) and one more."""
_fits: list[tuple[tuple[str, int | None, int], SequenceRecommender]] = []
"""The latest sequence models fitted here, newest last, with their settings (each holds its interactions)."""


def _sequence(
    interactions: Interactions, encoder: str, epochs: int | None, random_state: int, progress: Progress
) -> SequenceRecommender:
    """The sequence model fitted on ``interactions``, reused when one of the last :data:`KEPT_FITS` calls had the
    same interactions (the same object) and settings: tuning the mixture's weight and TIFU-KNN's parameters
    (:mod:`recommenders.tuning`) then trains the network once, not once per trial, and so does testing each
    protocol's parameters over the same seeds. Fitting is deterministic for a given ``random_state`` on one
    device, so reuse changes no result."""
    from recommenders.sequence.model import SequenceRecommender

    settings = (encoder, epochs, random_state)
    for kept_settings, model in _fits:
        if kept_settings == settings and model.interactions is interactions:
            progress(1.0, "fitted before on the same purchases")
            return model
    model = SequenceRecommender(encoder, epochs=epochs, random_state=random_state).fit(interactions, progress)
    _fits[:] = [*_fits[-(KEPT_FITS - 1) :], (settings, model)]
    return model


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Each row mapped linearly onto [0, 1] (a constant row becomes 0), so two models' scores can be mixed."""
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.zeros_like(scores), where=span > 0)


class RepeatExploreRecommender(Recommender):
    """``repeat_weight`` x TIFU-KNN's scores (``group_size``, ``within_decay``, ``group_decay``, ``neighbours``,
    ``alpha`` as in :class:`recommenders.tifu.TIFUKNNRecommender`) + (1 - ``repeat_weight``) x the sequence model's
    (``encoder``, ``epochs``, ``random_state`` as in :class:`recommenders.sequence.model.SequenceRecommender`).

    With ``repeat_weight`` = 1 it is TIFU-KNN, with 0 the sequence model alone.
    """

    reason = "fits your own buying pattern"

    def __init__(
        self,
        repeat_weight: float = 0.5,
        group_size: int = 7,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        neighbours: int = 300,
        alpha: float = 0.7,
        encoder: str = "gru",
        epochs: int | None = None,
        random_state: int = 0,
    ):
        self.repeat_weight = repeat_weight
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.neighbours = neighbours
        self.alpha = alpha
        self.encoder = encoder
        self.epochs = epochs
        self.random_state = random_state

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        if not 0.0 <= self.repeat_weight <= 1.0:
            raise ConfigError(f"the repeat/explore mixture needs 0 <= repeat_weight <= 1, not {self.repeat_weight}")
        self.repeat_ = TIFUKNNRecommender(
            self.group_size, self.within_decay, self.group_decay, self.neighbours, self.alpha
        ).fit(interactions)
        progress(REPEAT_SHARE_OF_FIT, "TIFU-KNN")
        self.sequence_ = _sequence(
            interactions,
            self.encoder,
            self.epochs,
            self.random_state,
            lambda done, step: progress(REPEAT_SHARE_OF_FIT + (1 - REPEAT_SHARE_OF_FIT) * done, f"sequence: {step}"),
        )

    def score(self, rows: np.ndarray) -> np.ndarray:
        repeat = _scaled(np.asarray(self.repeat_.score(rows), dtype=np.float32))
        explore = _scaled(np.asarray(self.sequence_.score(rows), dtype=np.float32))
        return (self.repeat_weight * repeat + (1.0 - self.repeat_weight) * explore).astype(np.float32)
