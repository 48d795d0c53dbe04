"""Small-group protection for aggregate outputs: a group of fewer than k customers is suppressed, so a summary,
chart or aggregate export cannot single out one customer (k-anonymity of the released counts).

Per-customer exports for a CRM are not aggregates and are not affected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError

K_ANONYMITY = 10
"""Default smallest group that an aggregate may show."""
SUPPRESSED = "suppressed"


def suppress_small_groups(
    frame: pd.DataFrame, count_column: str, k: int = K_ANONYMITY, columns: list[str] | None = None
) -> pd.DataFrame:
    """A copy of ``frame`` with a boolean ``suppressed`` column; in the rows whose ``count_column`` is below ``k``
    the count and the ``columns`` (default: every numeric column) are blanked (NaN).

    ``frame.attrs["suppressed"]`` says in one sentence how many groups were suppressed, for a caption or warning.
    """
    if count_column not in frame.columns:
        raise ConfigError(f"no column {count_column!r} to count group sizes; columns are {list(frame.columns)}")
    if k < 1:
        raise ConfigError(f"k = {k}: the smallest group shown must be at least 1 customer")
    out = frame.copy()
    small = out[count_column].to_numpy() < k
    blank = columns if columns is not None else [c for c in out.columns if _is_number(out[c])]
    for column in {count_column, *blank}:
        out[column] = out[column].astype(float)
        out.loc[small, column] = np.nan
    out[SUPPRESSED] = small
    out.attrs["suppressed"] = (
        f"{int(small.sum())} group(s) of fewer than {k} customers suppressed, so no one can be singled out"
        if small.any()
        else ""
    )
    return out


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
