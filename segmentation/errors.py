"""Exception types of the library: each message says what is wrong, where, and what to do."""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class for every error the library raises on purpose."""


class InputError(SegmentationError):
    """The input file or its content cannot be used as given.

    ``where`` names the file, column and rows; ``fix`` tells the user what to do.
    """

    def __init__(self, problem: str, *, where: str = "", fix: str = "") -> None:
        self.problem = problem
        self.where = where
        self.fix = fix
        parts = [f"{where}: {problem}" if where else problem]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class ConfigError(SegmentationError):
    """A configuration value is invalid."""
