"""Fairness report: how segments, recommendations and classifiers treat the groups of a sensitive attribute.

Every rate by group comes from fairlearn's :class:`~fairlearn.metrics.MetricFrame`: segment composition (the share
of each group in each segment), recommendation exposure (the share of each group receiving each item), and for a
classifier the selection rate and error rates by group. A gap is flagged, with a sentence in plain words, when
the lowest rate is below ``threshold`` times the highest (the four-fifths rule, 0.8) and at least
``min_difference`` below it, or when an error rate differs by ``max_error_gap`` or more, and in both cases only
when the gap is beyond chance (:data:`SIGNIFICANCE`). Groups of fewer than ``min_group`` customers are listed but
not compared: their rates are too noisy to accuse anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError, InputError
from segmentation.privacy.small_groups import K_ANONYMITY, suppress_small_groups

FOUR_FIFTHS = 0.8
MIN_GROUP = 30
MIN_DIFFERENCE = 0.05
MAX_ERROR_GAP = 0.1
TOP_ITEMS = 20
"""Exposure is checked for the most recommended items only (a long tail of items given to a handful says little)."""
SIGNIFICANCE = 0.05
"""A gap is flagged only when Fisher's exact test rejects equal rates at this level, divided by the number of
gaps compared (Bonferroni): with many small groups the largest and smallest rate differ by chance alone."""
GAP_COLUMNS = [
    *("section", "item", "metric", "low_group", "high_group", "low", "high", "difference", "ratio", "p_value"),
    "flag",
]


@dataclass
class FairnessReport:
    """The tables by group, every compared gap, and the warnings in plain words."""

    attribute: str
    groups: pd.DataFrame
    """Customers per group (groups below k suppressed) and whether the group is large enough to compare."""
    composition: pd.DataFrame | None = None
    exposure: pd.DataFrame | None = None
    classifiers: dict[str, pd.DataFrame] = field(default_factory=dict)
    gaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GAP_COLUMNS))
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Gaps past the thresholds that the group sizes cannot tell from chance: worth a look, not a warning."""

    def to_text(self) -> str:
        """The report as the command line prints it: the tables, then the warnings (or that there are none)."""
        parts = [f"customers by {self.attribute}:\n{self.groups.to_string()}"]
        if self.composition is not None:
            parts.append(f"share of each group in each segment:\n{self.composition.round(3).to_string()}")
        if self.exposure is not None:
            parts.append(f"share of each group receiving each item:\n{self.exposure.round(3).to_string()}")
        parts += [f"{name}, by group:\n{table.round(3).to_string()}" for name, table in self.classifiers.items()]
        parts.append("\n".join(f"warning: {w}" for w in self.warnings) or "no gap between groups passes the thresholds")
        parts += ["\n".join(f"note: {n}" for n in self.notes)] if self.notes else []
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame | None) -> Any:
            return None if frame is None else frame.reset_index().to_dict(orient="records")

        return {
            "attribute": self.attribute,
            "groups": records(self.groups),
            "composition": records(self.composition),
            "exposure": records(self.exposure),
            "classifiers": {name: records(table) for name, table in self.classifiers.items()},
            "gaps": self.gaps.to_dict(orient="records"),
            "warnings": self.warnings,
            "notes": self.notes,
        }


def _groups(groups: pd.Series, attribute: str) -> pd.Series:
    if groups.isna().all():
        raise InputError(f"the attribute {attribute!r} is empty for every customer", fix="map a column that has values")
    return groups.astype("string").fillna("unknown").rename(attribute)


def _aligned(truth: pd.Series, predicted: pd.Series, groups: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Truth, prediction and group of the customers that have all three."""
    frame = pd.DataFrame({"truth": truth, "predicted": predicted}).join(groups.rename("group"), how="inner").dropna()
    return frame["truth"].to_numpy(), frame["predicted"].to_numpy(), frame["group"].rename(groups.name)


def _by_group(metrics: Any, y_true: Any, y_pred: Any, groups: pd.Series) -> Any:
    from fairlearn.metrics import MetricFrame

    return MetricFrame(metrics=metrics, y_true=np.asarray(y_true), y_pred=np.asarray(y_pred), sensitive_features=groups)


def _rate_gap(section: str, item: str, metric: str, rates: pd.Series, sizes: pd.Series) -> dict[str, Any]:
    """The lowest and highest rate of ``rates`` (each over ``sizes`` customers), their gap, and Fisher's exact
    test of it (are the two groups' rates different beyond chance?)."""
    from scipy.stats import fisher_exact

    low, high = rates.idxmin(), rates.idxmax()
    ratio = rates[low] / rates[high] if rates[high] > 0 else 1.0
    hits = [round(rates[g] * sizes[g]) for g in (low, high)]
    p_value = fisher_exact([[hits[0], sizes[low] - hits[0]], [hits[1], sizes[high] - hits[1]]]).pvalue
    return {
        "section": section,
        "item": item,
        "metric": metric,
        "low_group": low,
        "high_group": high,
        "low": float(rates[low]),
        "high": float(rates[high]),
        "difference": float(rates[high] - rates[low]),
        "ratio": float(ratio),
        "p_value": float(p_value),
    }


def segment_composition(segments: pd.Series, groups: pd.Series) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Share of each group's customers in each segment (groups x segments) and the gap of each segment."""
    from fairlearn.metrics import selection_rate

    table, gaps, sizes = {}, [], groups.value_counts()
    for segment in sorted(segments.unique(), key=str):
        frame = _by_group(selection_rate, np.ones(len(segments)), segments.to_numpy() == segment, groups)
        table[segment] = frame.by_group
        gaps.append(_rate_gap("composition", str(segment), "share of the group in the segment", frame.by_group, sizes))
    return pd.DataFrame(table), gaps


def exposure_by_group(
    recommendations: pd.DataFrame, groups: pd.Series, item_column: str = "product_id", top: int = TOP_ITEMS
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Share of each group's customers receiving each of the ``top`` most recommended items (groups x items).

    ``recommendations`` has one row per (``customer_id``, item); ``groups`` covers every customer who could have
    received one, so a customer with no list counts as not exposed.
    """
    from fairlearn.metrics import selection_rate

    for column in ("customer_id", item_column):
        if column not in recommendations.columns:
            raise InputError(f"no {column} column", where="recommendations", fix="use the lists of `segment recommend`")
    pairs = recommendations[["customer_id", item_column]].astype(str).drop_duplicates()
    items = pairs[item_column].value_counts().index[:top]
    table, gaps, sizes = {}, [], groups.value_counts()
    for item in items:
        exposed = groups.index.astype(str).isin(pairs.loc[pairs[item_column] == item, "customer_id"])
        frame = _by_group(selection_rate, np.ones(len(groups)), exposed, groups)
        table[item] = frame.by_group
        gaps.append(_rate_gap("exposure", item, "share of the group receiving it", frame.by_group, sizes))
    return pd.DataFrame(table, index=pd.Index(sorted(groups.unique()), name=groups.name)), gaps


def classifier_fairness(
    name: str, y_true: Any, y_pred: Any, groups: pd.Series
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Selection rate, false positive and false negative rates and error rate by group of a binary classifier."""
    from fairlearn.metrics import count, false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import zero_one_loss

    def positives(truth: np.ndarray, predicted: np.ndarray) -> int:
        return int(np.sum(truth))

    metrics = {
        "customers": count,
        "positives": positives,
        "selection_rate": selection_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "error_rate": zero_one_loss,
    }
    frame = _by_group(metrics, np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool), groups)
    table = frame.by_group
    over = {
        "selection_rate": table["customers"],
        "false_positive_rate": table["customers"] - table["positives"],
        "false_negative_rate": table["positives"],
        "error_rate": table["customers"],
    }
    return table, [_rate_gap("classifier", name, metric, table[metric], sizes) for metric, sizes in over.items()]


def segment_classifier_fairness(
    name: str, segments: Any, predicted: Any, groups: pd.Series
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """A multi-class classifier of segments (the surrogate) as one binary classifier per segment (one vs rest)."""
    segments, predicted = np.asarray(segments), np.asarray(predicted)
    tables, gaps = [], []
    for segment in sorted(np.unique(segments), key=str):
        table, found = classifier_fairness(
            f"{name}, segment {segment}", segments == segment, predicted == segment, groups
        )
        tables.append(table.assign(segment=segment).set_index("segment", append=True))
        gaps.extend(found)
    return pd.concat(tables), gaps


def fairness_report(
    groups: pd.Series,
    segments: pd.Series | None = None,
    recommendations: pd.DataFrame | None = None,
    classifiers: dict[str, tuple[Any, Any]] | None = None,
    segment_classifiers: dict[str, tuple[Any, Any]] | None = None,
    threshold: float = FOUR_FIFTHS,
    min_difference: float = MIN_DIFFERENCE,
    max_error_gap: float = MAX_ERROR_GAP,
    min_group: int = MIN_GROUP,
    significance: float = SIGNIFICANCE,
    k: int = K_ANONYMITY,
    item_column: str = "product_id",
) -> FairnessReport:
    """The report for the customers of ``groups`` (index ``customer_id``, values the attribute, named after it).

    ``segments`` (same index) gives the composition; ``recommendations`` the exposure; ``classifiers`` maps a
    binary classifier's name to its (truth, prediction), two Series indexed by customer; ``segment_classifiers``
    the same for classifiers of segments (the surrogate), compared one segment against the rest. Customers
    missing from a part are left out of it.
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold {threshold}: a ratio of rates between 0 and 1 (the four-fifths rule is 0.8)")
    attribute = str(groups.name or "group")
    groups = _groups(groups, attribute)
    sizes = groups.value_counts().rename("customers").to_frame()
    sizes.index.name = attribute
    sizes["compared"] = sizes["customers"] >= min_group
    report = FairnessReport(attribute, suppress_small_groups(sizes, "customers", k))
    compared = sizes.index[sizes["compared"]]
    if len(compared) < 2:
        report.warnings.append(
            f"fewer than two groups of {attribute} have {min_group} customers or more: nothing to compare"
        )
        return report
    groups = groups[groups.isin(compared)]
    found: list[dict[str, Any]] = []
    if segments is not None:
        labels, _, within = _aligned(segments, segments, groups)
        report.composition, gaps = segment_composition(pd.Series(labels, index=within.index), within)
        found += gaps
    if recommendations is not None:
        report.exposure, gaps = exposure_by_group(recommendations, groups, item_column)
        found += gaps
    for name, (truth, predicted) in (classifiers or {}).items():
        report.classifiers[name], gaps = classifier_fairness(name, *_aligned(truth, predicted, groups))
        found += gaps
    for name, (truth, predicted) in (segment_classifiers or {}).items():
        report.classifiers[name], gaps = segment_classifier_fairness(name, *_aligned(truth, predicted, groups))
        found += gaps
    gaps = pd.DataFrame(found, columns=GAP_COLUMNS[:-1])
    error = gaps["metric"].str.endswith("error_rate") | gaps["metric"].str.endswith("negative_rate")
    error |= gaps["metric"].str.endswith("positive_rate")
    beyond_chance = gaps["p_value"] < significance / max(len(gaps), 1)
    past = np.where(
        error,
        gaps["difference"] >= max_error_gap,
        (gaps["ratio"] < threshold) & (gaps["difference"] >= min_difference),
    )
    gaps["flag"] = beyond_chance & past
    report.gaps = gaps
    report.warnings += [_sentence(row, attribute, threshold) for row in gaps[gaps["flag"]].itertuples()]
    report.notes = [
        f"{_sentence(row, attribute, threshold)[:-1]}; with these group sizes it may be chance (p = {row.p_value:.2g})."
        for row in gaps[past & ~beyond_chance].itertuples()
    ]
    return report


def _sentence(gap: Any, attribute: str, threshold: float) -> str:
    low, high = f"{attribute} = {gap.low_group}", f"{attribute} = {gap.high_group}"
    rates = f"{gap.low:.0%} of customers with {low} against {gap.high:.0%} with {high}"
    rule = f"a ratio of {gap.ratio:.2f}, below the {threshold:.0%} rule"
    if gap.section == "composition":
        return f"Segment {gap.item} holds {rates} ({rule})."
    if gap.section == "exposure":
        return f"{gap.item} is recommended to {rates} ({rule})."
    if gap.metric == "selection_rate":
        return f"{gap.item} selects {rates} ({rule})."
    what = gap.metric.replace("_", " ")
    return (
        f"{gap.item}: {what} {gap.high:.0%} for {high} against {gap.low:.0%} for {low} "
        f"({gap.difference * 100:.0f} percentage points apart)."
    )
