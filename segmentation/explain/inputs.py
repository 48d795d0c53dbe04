"""Which customer features the surrogates learn the segments from (the ``segment explain`` command and the
Explain page both ask here)."""

from __future__ import annotations

import pandas as pd

from segmentation.explain.surrogate import surrogate_inputs

RESTATED = ("rfm_code", "rfm_segment")
"""Columns of the customer table that restate recency, frequency and monetary value (as do the ``*_score`` ones)."""


def surrogate_features(table: pd.DataFrame) -> pd.DataFrame:
    """The customer table as the surrogates see it: every feature except the RFM scores, code and named segment
    (they restate recency, frequency and monetary value and would hide which of them matters), numeric columns
    as floats and categorical ones as categories. Sensitive attributes are the caller's choice:
    :func:`segmentation.privacy.sensitive.without_sensitive` first."""
    restated = [c for c in table.columns if c.endswith("_score") or c in RESTATED]
    return surrogate_inputs(table.drop(columns=restated))
