"""RFM quantile scores and the standard named RFM segments.

Scores are quantile bins of the *average* rank, so equal values always get equal scores (frequency has
heavy ties: every one-order customer gets the same F score, even if that leaves a score unused).
Higher is better for all three: recent, frequent, high-spending customers score ``bins``.

Named segments follow the widely used R x FM grid (FM = (F + M) / 2 rounded half up), first matching
rule wins; pass your own rules to override.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError


@dataclass(frozen=True)
class RfmSegmentRule:
    """Customers with R score in ``r`` and FM score in ``fm`` (inclusive ranges on a 1-5 scale)."""

    name: str
    r: tuple[int, int]
    fm: tuple[int, int]
    action: str = ""


RFM_SEGMENT_RULES: tuple[RfmSegmentRule, ...] = (
    RfmSegmentRule("Champions", (5, 5), (4, 5), "Reward; early access; ask for reviews"),
    RfmSegmentRule("Loyal", (3, 4), (4, 5), "Upsell higher-value products; loyalty programme"),
    RfmSegmentRule("Potential Loyalist", (4, 5), (2, 3), "Membership offers; recommend related products"),
    RfmSegmentRule("New", (5, 5), (1, 1), "Onboarding; build the relationship early"),
    RfmSegmentRule("Promising", (4, 4), (1, 1), "Brand awareness; free trials"),
    RfmSegmentRule("Need Attention", (3, 3), (3, 3), "Limited-time offers based on past purchases"),
    RfmSegmentRule("About to Sleep", (3, 3), (1, 2), "Share popular products; reactivation discount"),
    RfmSegmentRule("Can't Lose Them", (1, 2), (5, 5), "Win back with new products; talk to them"),
    RfmSegmentRule("At Risk", (1, 2), (3, 4), "Personalised emails; renewals; helpful resources"),
    RfmSegmentRule("Lost", (1, 1), (1, 1), "Ignore or revive with a strong offer"),
    RfmSegmentRule("Hibernating", (1, 2), (1, 2), "Offer other relevant products and special discounts"),
)


def quantile_score(values: pd.Series, bins: int = 5, higher_is_better: bool = True) -> pd.Series:
    """Score 1..``bins`` by average-rank quantile; ties share a score; missing values score 1."""
    ranked = (values if higher_is_better else -values).rank(method="average", pct=True)
    scores = np.ceil(ranked.to_numpy(dtype=float, na_value=np.nan) * bins)
    return pd.Series(np.clip(np.nan_to_num(scores, nan=1), 1, bins).astype(np.int8), index=values.index)


def rfm_scores(features: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score`` and ``rfm_code`` (e.g. ``"545"``) per customer."""
    if bins < 2:
        raise ConfigError("RFM needs at least 2 bins")
    scores = pd.DataFrame(
        {
            "r_score": quantile_score(features["recency_days"], bins, higher_is_better=False),
            "f_score": quantile_score(features["frequency"], bins),
            "m_score": quantile_score(features["monetary"], bins),
        },
        index=features.index,
    )
    scores["rfm_code"] = scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)
    return scores


def rfm_segments(
    scores: pd.DataFrame, rules: tuple[RfmSegmentRule, ...] = RFM_SEGMENT_RULES, bins: int = 5
) -> pd.Series:
    """The named segment of each customer; scores on another scale than 1-5 are rescaled first."""
    r = _to_five(scores["r_score"].to_numpy(), bins)
    fm = _to_five(np.floor((scores["f_score"].to_numpy() + scores["m_score"].to_numpy()) / 2 + 0.5), bins)
    names = np.full(len(scores), "Unclassified", dtype=object)
    assigned = np.zeros(len(scores), dtype=bool)
    for rule in rules:
        hit = ~assigned & (r >= rule.r[0]) & (r <= rule.r[1]) & (fm >= rule.fm[0]) & (fm <= rule.fm[1])
        names[hit] = rule.name
        assigned |= hit
    return pd.Series(names, index=scores.index, name="rfm_segment")


def rfm_table(
    features: pd.DataFrame, bins: int = 5, rules: tuple[RfmSegmentRule, ...] = RFM_SEGMENT_RULES
) -> pd.DataFrame:
    """Recency, frequency, monetary, their scores, the code and the named segment per customer."""
    scores = rfm_scores(features, bins)
    table = features[["recency_days", "frequency", "monetary"]].join(scores)
    table["rfm_segment"] = rfm_segments(scores, rules, bins)
    return table


def _to_five(scores: np.ndarray, bins: int) -> np.ndarray:
    return scores if bins == 5 else np.ceil(scores * 5 / bins)
