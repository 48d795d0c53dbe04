"""Sensitive and proxy attributes: never a clustering or surrogate feature unless the user opts in.

Country is the one the feature table carries (a customer's most frequent country); age band, gender and region
come from a customer table when the user maps one. The default clustering features (RFM, order value, tenure)
hold none of them; the surrogates see every feature, so their inputs go through :func:`without_sensitive`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SENSITIVE_FEATURES: tuple[str, ...] = ("country", "region", "age_band", "gender")
"""Columns treated as sensitive or as a proxy for a protected characteristic (nationality, ethnicity, age, sex)."""


def without_sensitive(features: pd.DataFrame, allow: Iterable[str] = ()) -> pd.DataFrame:
    """``features`` without the sensitive columns, except those the user opted in with ``allow``."""
    allowed = set(allow)
    return features.drop(columns=[c for c in SENSITIVE_FEATURES if c in features.columns and c not in allowed])
