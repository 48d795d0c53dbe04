"""One callback type for progress of long steps: the CLI prints it, the app draws a bar."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
"""Called with the fraction done (0..1) and a short description of the current step."""


def no_progress(fraction: float, message: str) -> None:
    """Default callback: report nothing."""
