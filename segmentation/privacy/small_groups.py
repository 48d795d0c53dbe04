"""Small-group protection for aggregate outputs: a group of fewer than k customers is suppressed, so a summary,
chart or aggregate export cannot single out one customer (k-anonymity of the released counts).

Per-customer exports for a CRM are not aggregates and are not affected.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from segmentation.config import PrivacyConfig
from segmentation.errors import ConfigError

K_ANONYMITY = PrivacyConfig().min_group_size
"""Default smallest group that an aggregate may show (``privacy.min_group_size`` of the config)."""
SUPPRESSED = "suppressed"


def suppress_small_groups(
    frame: pd.DataFrame, count_column: str, k: int = K_ANONYMITY, columns: list[str] | None = None
) -> pd.DataFrame:
    """A copy of ``frame`` with a boolean ``suppressed`` column; in the rows whose ``count_column`` is below ``k``
    the count and the ``columns`` (default: every numeric column) are blanked (NaN; text columns: empty).

    ``frame.attrs["suppressed"]`` says in one sentence how many groups were suppressed, for a caption or warning.
    """
    if count_column not in frame.columns:
        raise ConfigError(f"no column {count_column!r} to count group sizes; columns are {list(frame.columns)}")
    _check_k(k)
    out = frame.copy()
    small = out[count_column].to_numpy() < k
    blank = columns if columns is not None else [c for c in out.columns if _is_number(out[c])]
    for column in {count_column, *blank}:
        if _is_number(out[column]):
            out[column] = out[column].astype(float)
            out.loc[small, column] = np.nan
        else:
            out[column] = out[column].astype(object)
            out.loc[small, column] = None
    out[SUPPRESSED] = small
    out.attrs["suppressed"] = (
        f"{int(small.sum())} group(s) of fewer than {k} customers suppressed, so no one can be singled out"
        if small.any()
        else ""
    )
    return out


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def small_groups(sizes: pd.Series, k: int = K_ANONYMITY) -> pd.Series:
    """The groups of ``sizes`` (group -> customers) with fewer than ``k`` customers, smallest first; a size that
    is already blank (NaN, as :func:`suppress_small_groups` leaves it) counts as small, an empty group does not
    (it singles out no one)."""
    _check_k(k)
    sizes = pd.Series(sizes, dtype=float)
    return sizes[sizes.isna() | ((sizes > 0) & (sizes < k))].sort_values(na_position="first")


def small_group_warning(
    sizes: pd.Series,
    k: int = K_ANONYMITY,
    names: Mapping[object, str] | None = None,
    what: str = "segment",
    consequence: str = "downloads and shared reports leave them blank",
    most: int = 8,
) -> str:
    """One sentence naming the groups of fewer than ``k`` customers, for the app to show beside an aggregate that
    still shows them ("" when there is none): the analyst may see their own customers, a report must not single
    one out. ``names`` maps a group to the name shown (default: the group itself); ``what`` names a group; past
    ``most`` groups the rest are counted, not named."""
    small = small_groups(sizes, k)
    if small.empty:
        return ""
    listed = [
        f"“{names.get(group, group) if names else group}”"
        + ("" if np.isnan(size) else f" ({int(size):,} customer{'s' * (int(size) != 1)})")
        for group, size in small.items()
    ]
    if len(listed) > most:
        listed = [*listed[:most], f"{len(listed) - most} more"]
    one = len(listed) == 1
    groups = listed[0] if one else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return (
        f"{what[:1].upper()}{what[1:]}{'' if one else 's'} {groups} {'has' if one else 'have'} fewer than {k} "
        f"customers: {'its' if one else 'their'} figures could single out a person, so {consequence}."
    )


def _check_k(k: int) -> None:
    if k < 1:
        raise ConfigError(f"k = {k}: the smallest group shown must be at least 1 customer")


def shareable_profiles(profiles: pd.DataFrame, k: int = K_ANONYMITY) -> pd.DataFrame:
    """Segment profiles (``SegmentationModel.profiles_``) as an aggregate to download or share: every figure of a
    segment of fewer than ``k`` customers is blank, its name kept and its row flagged ``suppressed``."""
    return suppress_small_groups(profiles, "customers", k, columns=[c for c in profiles.columns if c != "name"])
