"""The one error hierarchy of both libraries (`segmentation`, `recommenders`): each message says what is wrong,
where, and what to do. The app and the CLI catch :class:`SegmentationError`, never bare `ValueError`."""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class for every error the library raises on purpose."""


class InputError(SegmentationError, ValueError):
    """The input file or its content cannot be used as given.

    ``where`` names the file, column and rows; ``fix`` tells the user what to do. Also a ``ValueError`` (a value
    of the right type that cannot be used), so code written for scikit-learn-style estimators catches it too.
    """

    def __init__(self, problem: str, *, where: str = "", fix: str = "") -> None:
        self.problem = problem
        self.where = where
        self.fix = fix
        text = f"{where}: {problem}" if where else problem
        if fix:  # one sentence each, as the validation report writes them
            text = f"{text.rstrip('.')}. Fix: {fix}"
        super().__init__(text)


class ConfigError(SegmentationError):
    """A configuration value is invalid."""


class NotFittedError(SegmentationError, ValueError, AttributeError):
    """An estimator was used before ``fit``.

    Also a ``ValueError`` and an ``AttributeError``, like scikit-learn's own ``NotFittedError``, so code written
    for scikit-learn estimators catches it too.
    """


class ModelError(SegmentationError):
    """A model cannot do what was asked of it: an artifact of another format, a head it was not trained with,
    or training data that cannot fit it (e.g. a single segment to tell apart)."""
