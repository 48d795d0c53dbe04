"""A repeat/explore mixture: each customer's own purchase frequencies for what they buy again, the sequence model
for the rest.

Next-basket studies find that most of a basket's accuracy comes from repeat purchases, which a personal,
time-decayed frequency vector ranks as well as any network, while a network trained on the order sequences
brings in the products that are new to the customer (Li et al. 2023, "A next basket recommendation reality
check"; Ariannezhad et al. 2022, ReCANet, whose repeat and explore parts are mixed in the same spirit). Here the
two scores, each scaled to [0, 1] per customer, are mixed with one weight, ``repeat_weight``: a hyperparameter
tuned on the validation window like every other (:mod:`recommenders.tuning`), never on the test period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.tifu import frequency_vectors
from segmentation.errors import ConfigError
from segmentation.progress import Progress

if TYPE_CHECKING:
    from recommenders.sequence.model import SequenceRecommender

REPEAT_SHARE_OF_FIT = 0.05
"""The share of the progress bar the frequency vectors take (the sequence model takes the rest)."""


_last_fit: list[tuple[tuple[str, int | None, int], SequenceRecommender]] = []
"""The latest sequence model fitted here, with its settings: at most one (it holds its interactions)."""


def _sequence(
    interactions: Interactions, encoder: str, epochs: int | None, random_state: int, progress: Progress
) -> SequenceRecommender:
    """The sequence model fitted on ``interactions``, reused when the previous call had the same interactions
    (the same object) and settings: tuning the mixture's weight and decays (:mod:`recommenders.tuning`) then
    trains the network once, not once per trial. Fitting is deterministic for a given ``random_state`` on one
    device, so reuse changes no result."""
    from recommenders.sequence.model import SequenceRecommender

    settings = (encoder, epochs, random_state)
    if _last_fit and _last_fit[0][0] == settings and _last_fit[0][1].interactions is interactions:
        progress(1.0, "fitted before on the same purchases")
        return _last_fit[0][1]
    model = SequenceRecommender(encoder, epochs=epochs, random_state=random_state).fit(interactions, progress)
    _last_fit[:] = [(settings, model)]
    return model


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Each row mapped linearly onto [0, 1] (a constant row becomes 0), so two models' scores can be mixed."""
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.zeros_like(scores), where=span > 0)


class RepeatExploreRecommender(Recommender):
    """``repeat_weight`` x the customer's own time-decayed purchase frequencies (TIFU-KNN's personal vectors:
    ``group_size``, ``within_decay``, ``group_decay``) + (1 - ``repeat_weight``) x the sequence model's scores
    (``encoder``, ``epochs``, ``random_state`` as in :class:`recommenders.sequence.model.SequenceRecommender`).

    With ``repeat_weight`` = 1 it is a buy-again list, with 0 the sequence model alone. A list of products new to
    the customer holds the sequence model's ranking (the repeat part is zero outside the customer's past).
    """

    reason = "fits your own buying pattern"

    def __init__(
        self,
        repeat_weight: float = 0.2,
        group_size: int = 7,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        encoder: str = "gru",
        epochs: int | None = None,
        random_state: int = 0,
    ):
        self.repeat_weight = repeat_weight
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.encoder = encoder
        self.epochs = epochs
        self.random_state = random_state

    def _fit(self, interactions: Interactions, progress: Progress) -> None:
        if not 0.0 <= self.repeat_weight <= 1.0 or self.group_size < 1:
            raise ConfigError(
                f"the repeat/explore mixture needs 0 <= repeat_weight <= 1 and group_size >= 1, not {self.get_params()}"
            )
        self.vectors_ = frequency_vectors(interactions, self.group_size, self.within_decay, self.group_decay)
        progress(REPEAT_SHARE_OF_FIT, "personal item frequencies")
        self.sequence_ = _sequence(
            interactions,
            self.encoder,
            self.epochs,
            self.random_state,
            lambda done, step: progress(REPEAT_SHARE_OF_FIT + (1 - REPEAT_SHARE_OF_FIT) * done, f"sequence: {step}"),
        )

    def score(self, rows: np.ndarray) -> np.ndarray:
        repeat = _scaled(self.vectors_[rows].toarray().astype(np.float32))
        explore = _scaled(np.asarray(self.sequence_.score(rows), dtype=np.float32))
        return (self.repeat_weight * repeat + (1.0 - self.repeat_weight) * explore).astype(np.float32)
