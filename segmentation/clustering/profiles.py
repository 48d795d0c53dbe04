"""Segment profiles (size, revenue share, medians vs overall) and readable names that are true of them.

A name is an optional adjective ("New", "Recent", "Lapsed") and a noun ("high spenders", "one-timers"). Every
word claims something about the segment's median customer against the whole customer base and is used only
where that claim holds. Segments that would share a name get the trait that tells them apart
("Small-basket buyers (higher frequency)"). :func:`name_contradictions` checks names against the features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.clustering.base import NOISE
from segmentation.features.rfm import RFM_SEGMENT_RULES

PROFILE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "return_rate",
    "distinct_products",
)
CLEAR = 0.25
"""A segment's median differs from the base's when the robust z-score (median - base median) / base IQR is at
least this large: a quarter of the typical spread."""
NEW_TENURE_DAYS = 90
RECENT_DAYS = 45
LAPSED_DAYS = 180
_LOW_R_RFM = frozenset(rule.name for rule in RFM_SEGMENT_RULES if rule.r[1] <= 2)
_HIGH_R_RFM = frozenset(rule.name for rule in RFM_SEGMENT_RULES if rule.r[0] >= 4)


@dataclass(frozen=True)
class Word:
    """A word of a segment name and its claim about the segment's median ``feature``.

    The median is clearly above (``high``) or below the base median (robust z-score beyond :data:`CLEAR`) and,
    with a ``limit``, at least (``high``) or at most that value, because "recent" also means recent in days.
    ``rfm_against`` lists the named RFM segments that must not be the segment's most common one.
    """

    text: str
    feature: str
    high: bool
    limit: float | None = None
    rfm_against: frozenset[str] = frozenset()

    def holds(self, median: float, z: float) -> bool:
        if not (np.isfinite(median) and np.isfinite(z)):
            return False
        clear = z >= CLEAR if self.high else z <= -CLEAR
        within = self.limit is None or (median >= self.limit if self.high else median <= self.limit)
        return bool(clear and within)


ADJECTIVES: tuple[Word, ...] = (
    Word("New", "tenure_days", high=False, limit=NEW_TENURE_DAYS, rfm_against=_LOW_R_RFM),
    Word("Recent", "recency_days", high=False, limit=RECENT_DAYS, rfm_against=_LOW_R_RFM),
    Word("Lapsed", "recency_days", high=True, limit=LAPSED_DAYS, rfm_against=_HIGH_R_RFM),
)
"""First that holds wins."""
NOUNS: tuple[Word, ...] = (
    Word("frequent buyers", "frequency", high=True),
    Word("one-timers", "frequency", high=False, limit=1),
    Word("occasional buyers", "frequency", high=False),
    Word("high spenders", "monetary", high=True),
    Word("low spenders", "monetary", high=False),
    Word("big-basket buyers", "avg_order_value", high=True),
    Word("small-basket buyers", "avg_order_value", high=False),
    Word("returners", "return_rate", high=True),
    Word("keepers", "return_rate", high=False),
    Word("explorers", "distinct_products", high=True),
    Word("narrow buyers", "distinct_products", high=False),
)
"""The noun is the true one of the largest weighted |z|; for equal |z| the earlier (more specific) one."""
PLAIN_NOUN = "customers"
_NAMING_WEIGHT = {"return_rate": 0.3}
"""Returns are rare, so their z-scores are large for small differences: they name a segment only when extreme."""
_COMPARED: dict[str, tuple[str, str, str, str, str]] = {
    "recency_days": ("more", "less", "most", "least", "recent"),
    "frequency": ("lower", "higher", "lowest", "highest", "frequency"),
    "monetary": ("lower", "higher", "lowest", "highest", "spend"),
    "avg_order_value": ("smaller", "bigger", "smallest", "biggest", "orders"),
    "tenure_days": ("shorter", "longer", "shortest", "longest", "tenure"),
    "return_rate": ("fewer", "more", "fewest", "most", "returns"),
    "distinct_products": ("fewer", "more", "fewest", "most", "products"),
}
"""How twins are told apart by a feature, from its low values up: lower, higher, lowest, highest, and the noun."""


def _medians_and_z(features: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per segment, the median of each profile feature and its robust z-score against the whole base."""
    columns = [c for c in PROFILE_FEATURES if c in features.columns]
    data = features[columns].astype(float)
    spread = (data.quantile(0.75) - data.quantile(0.25)).replace(0, np.nan).fillna(data.std()).replace(0, 1.0)
    medians = data.groupby(labels).median()
    return medians, (medians - data.median()) / spread


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, rfm_segment: pd.Series | None = None) -> pd.DataFrame:
    """One row per segment: customers, share, revenue share, medians and robust z-scores of key features.

    The z-score is (segment median - overall median) / overall IQR, so it reads "how many typical spreads
    away from the typical customer". ``rfm_segment`` adds the most common named RFM segment.
    """
    medians, z = _medians_and_z(features, labels)
    profile = pd.DataFrame({"customers": pd.Series(labels).groupby(labels).size()})
    profile["share"] = profile["customers"] / len(features)
    revenue = features["monetary"].clip(lower=0).groupby(labels).sum()
    profile["revenue_share"] = revenue / revenue.sum()
    for column in medians.columns:
        profile[f"median_{column}"] = medians[column]
        profile[f"z_{column}"] = z[column]
    if rfm_segment is not None:
        profile["top_rfm_segment"] = _top_rfm(rfm_segment, labels)
    profile.index.name = "segment"
    return profile


def _top_rfm(rfm_segment: pd.Series, labels: np.ndarray) -> pd.Series:
    return rfm_segment.groupby(labels).agg(lambda s: s.value_counts().index[0])


def name_segments(profile: pd.DataFrame) -> dict[int, str]:
    """A readable, unique name per segment ("Recent high spenders", "Lapsed one-timers") that is true of it.

    The adjective is the first of New (median tenure <= 90 days), Recent (median recency <= 45 days) and
    Lapsed (median recency >= 180 days) that also holds against the base (clearly below / above its median)
    and does not contradict the segment's most common RFM segment. The noun is the true one of the largest
    |z| among frequency, spend, order value, returns and product range. Segments left with the same name get
    the trait where they differ most, relative to the base spread: "(higher frequency)" / "(lower frequency)".
    """
    names: dict[int, str] = {}
    for segment, row in profile.iterrows():
        if segment == NOISE:
            names[segment] = "Unassigned"
            continue
        adjective = next((w.text for w in ADJECTIVES if _true_of(w, row)), "")
        true_nouns = [w for w in NOUNS if _true_of(w, row)]
        noun = max(
            true_nouns, key=lambda w: abs(row[f"z_{w.feature}"]) * _NAMING_WEIGHT.get(w.feature, 1.0), default=None
        )
        word = noun.text if noun else PLAIN_NOUN
        names[segment] = f"{adjective} {word}" if adjective else word[0].upper() + word[1:]
    return _tell_twins_apart(names, profile)


def _true_of(word: Word, row: pd.Series) -> bool:
    median, z = row.get(f"median_{word.feature}", np.nan), row.get(f"z_{word.feature}", np.nan)
    return word.holds(median, z) and row.get("top_rfm_segment") not in word.rfm_against


def rank_words(feature: str, n: int) -> list[str]:
    """How ``n`` segments that share a name are told apart by ``feature``, from its lowest median up."""
    lower, higher, lowest, highest, noun = _COMPARED[feature]
    if n == 2:
        return [f"{lower} {noun}", f"{higher} {noun}"]
    return [f"{lowest} {noun}", *(f"{_ordinal(i)} {lowest} {noun}" for i in range(2, n)), f"{highest} {noun}"]


def _ordinal(i: int) -> str:
    return f"{i}{'nd' if i == 2 else 'rd' if i == 3 else 'th'}"


def _tell_twins_apart(names: dict[int, str], profile: pd.DataFrame) -> dict[int, str]:
    out = dict(names)
    for name in set(names.values()):
        twins = [s for s, n in names.items() if n == name]
        if len(twins) < 2:
            continue
        feature = _distinguishing_feature(profile.loc[twins])
        if feature is None:  # equal medians everywhere: nothing true tells them apart but their number
            out.update({s: f"{name} (segment {s})" for s in twins})
            continue
        ascending = profile.loc[twins, f"median_{feature}"].sort_values().index
        out.update({s: f"{name} ({w})" for s, w in zip(ascending, rank_words(feature, len(twins)), strict=True)})
    return out


def _distinguishing_feature(twins: pd.DataFrame) -> str | None:
    """The feature whose medians differ most across ``twins`` in base spreads (z), all medians distinct."""
    spans = {}
    for feature in _COMPARED:
        if f"z_{feature}" not in twins:
            continue
        medians, z = twins[f"median_{feature}"], twins[f"z_{feature}"]
        if medians.notna().all() and medians.nunique() == len(twins):
            spans[feature] = float(z.max() - z.min())
    return max(spans, key=spans.get) if spans else None


def name_words(name: str) -> list[Word]:
    """The words of :data:`ADJECTIVES` and :data:`NOUNS` a segment name is made of ("Recent high spenders (higher
    frequency)": Recent, high spenders); none for a name of the analyst's own."""
    base = re.fullmatch(r"(.*?)(?: \((.*)\))?", name).group(1)
    adjective, _, rest = base.partition(" ")
    words = [w for w in ADJECTIVES if w.text == adjective]
    noun = (rest if words else base).lower()
    return words + [w for w in NOUNS if w.text == noun]


def name_contradictions(
    features: pd.DataFrame, labels: np.ndarray, names: dict[int, str], rfm_segment: pd.Series | None = None
) -> list[str]:
    """Every word of every segment name that is not true of the segment, computed afresh from the features.

    Checks the adjectives and nouns of :data:`ADJECTIVES` and :data:`NOUNS` (median against the base, limits,
    most common RFM segment when ``rfm_segment`` is given), that no two segments share a name, and that the
    trait in brackets of segments sharing a base name orders them truly ("(higher frequency)" has the higher
    median frequency). Words it does not know (an analyst's own names) are not checked. Empty: all true.
    """
    medians, z = _medians_and_z(features, labels)
    top_rfm = _top_rfm(rfm_segment, labels) if rfm_segment is not None else None
    problems = []
    named = {s: n for s, n in names.items() if s != NOISE}
    for name in {n for n in named.values() if list(named.values()).count(n) > 1}:
        problems.append(f"segments {sorted(s for s, n in named.items() if n == name)} are all named {name!r}")
    bases = {s: re.fullmatch(r"(.*?)(?: \((.*)\))?", n).groups() for s, n in named.items()}
    for segment, (base, _) in bases.items():
        for word in name_words(base):
            median, score = medians.loc[segment].get(word.feature, np.nan), z.loc[segment].get(word.feature, np.nan)
            if not word.holds(median, score):
                problems.append(
                    f"segment {segment} {named[segment]!r}: {word.text!r} is not true: median {word.feature} "
                    f"{median:.4g} (z {score:+.2f} against the base)"
                )
            if top_rfm is not None and top_rfm[segment] in word.rfm_against:
                problems.append(
                    f"segment {segment} {named[segment]!r}: {word.text!r} contradicts its most common RFM segment "
                    f"{top_rfm[segment]!r}"
                )
    problems += _twin_contradictions(bases, medians, named)
    return problems


def _twin_contradictions(
    bases: dict[int, tuple[str, str | None]], medians: pd.DataFrame, named: dict[int, str]
) -> list[str]:
    problems = []
    for base in {b for b, _ in bases.values()}:
        twins = [s for s, (b, _) in bases.items() if b == base]
        for segment in twins:
            trait = bases[segment][1]
            if len(twins) > 1 and trait is None:
                problems.append(f"segment {segment} {named[segment]!r} does not say how it differs from {twins}")
            if trait is None or trait == f"segment {segment}":
                continue
            candidates = [f for f in _COMPARED if trait in rank_words(f, max(len(twins), 2))]
            if len(twins) < 2 or not candidates or candidates[0] not in medians:
                problems.append(f"segment {segment} {named[segment]!r}: ({trait}) compares it with no twin")
                continue
            feature = candidates[0]
            values = medians.loc[twins, feature]
            position = int((values < values[segment]).sum())
            if (values == values[segment]).sum() > 1 or rank_words(feature, len(twins))[position] != trait:
                problems.append(
                    f"segment {segment} {named[segment]!r}: ({trait}) is not true: median {feature} "
                    f"{values[segment]:.4g} against {values.drop(segment).round(4).tolist()}"
                )
    return problems


def top_values(transactions: pd.DataFrame, assignments: pd.Series, column: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` values of ``column`` (e.g. product, country) with most revenue in each segment."""
    tx = transactions[["customer_id", column, "amount"]].copy()
    tx["segment"] = tx["customer_id"].map(assignments)
    revenue = tx.dropna(subset=["segment"]).groupby(["segment", column])["amount"].sum().reset_index()
    revenue = revenue.sort_values(["segment", "amount"], ascending=[True, False])
    return revenue.groupby("segment").head(n).reset_index(drop=True)


def segment_top_lists(
    transactions: pa.Table, assignments: pd.Series, as_of: date | None = None, n: int = 3
) -> dict[str, dict[int, list[str]]]:
    """Per segment, the ``n`` products and countries with most revenue: ``{"product": {segment: [...]}, ...}``.

    Only transactions strictly before ``as_of`` count (the features' window: ``None`` keeps all); ``assignments``
    maps customer id -> segment. A product is named by its description when there is one. Columns the data lack,
    or leave empty, are left out.
    """
    if as_of is not None:
        start = pa.scalar(datetime.combine(as_of, datetime.min.time()), type=transactions.schema.field("ts").type)
        transactions = transactions.filter(pc.less(transactions["ts"], start))
    present = set(transactions.column_names)
    tx = transactions.select(
        [c for c in ("customer_id", "product_id", "description", "country", "amount") if c in present]
    ).to_pandas()
    tx["product"] = tx["description"].fillna(tx["product_id"]) if "description" in tx else tx["product_id"]
    lists: dict[str, dict[int, list[str]]] = {}
    for column in ("product", "country"):
        if column in tx and tx[column].notna().any():
            top = top_values(tx, assignments, column, n)
            lists[column] = {int(s): group[column].astype(str).tolist() for s, group in top.groupby("segment")}
    return lists
