"""Plain-language drivers per segment, agreement between surrogates, and a feature-selection aid."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from segmentation.explain.shap_values import Explanation
from segmentation.features.definitions import FEATURES

_UNITS = {f.name: f.unit for f in FEATURES}
_SPOKEN_UNITS = {"days", "orders", "products", "units"}


UNDEFINED_MEANING = {
    "interpurchase_mean_days": "no repeat purchase",
    "interpurchase_std_days": "fewer than three orders",
    "return_rate": "no gross revenue",
    "spend_trend": "no spend in the last two trend windows",
    "category_entropy": "no product category",
    "morning_share": "no time of day in the data",
    "evening_share": "no time of day in the data",
}
"""What a missing value of a feature means: the features are NULL for a reason, never a number."""
MOSTLY_UNDEFINED = 0.75
"""Share of a segment's customers without a value above which the driver is "undefined" rather than a bound."""
SOME_UNDEFINED = 0.1
"""Share without a value from which a bound on the defined values adds "or <undefined meaning>"."""
NEGLIGIBLE = 0.01
"""Share of a segment's strongest mean |SHAP| below which a feature is not called a driver."""


def undefined_meaning(feature: str) -> str:
    """What it says about a customer that ``feature`` has no value, e.g. "no repeat purchase"."""
    return UNDEFINED_MEANING.get(feature, f"no {feature}")


def _describe(feature: str, op: str, value: float) -> str:
    unit = _UNITS.get(feature, "")
    number = f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{feature} {op} {number}" + (f" {unit}" if unit in _SPOKEN_UNITS else "")


def _numeric_driver(values: pd.Series, shap: pd.Series, members: np.ndarray) -> dict:
    """Direction, threshold and phrase of a numeric feature; customers without a value are said so, never NaN.

    The bound is built on the members that have a value: the 25th (high values push in) or 75th (low values push
    in) percentile, so with the members that have none ("or no repeat purchase") it holds for three quarters of
    the segment. Mostly undefined in the segment: the driver is that it is undefined.
    """
    feature = str(values.name)
    numeric = values.astype(float)
    valid = numeric.notna().to_numpy()
    inside = numeric[members & valid]
    undefined_share = 1.0 - len(inside) / max(int(members.sum()), 1)
    if undefined_share >= MOSTLY_UNDEFINED:
        phrase = f"{undefined_meaning(feature)} ({feature} undefined)"
        return {"direction": "undefined", "threshold": np.nan, "undefined_share": undefined_share, "phrase": phrase}
    corr = np.corrcoef(numeric[valid], shap[valid])[0, 1] if valid.sum() > 2 else 0.0
    high = bool(np.nan_to_num(corr) >= 0)
    threshold = float(inside.quantile(0.25 if high else 0.75))
    phrase = _describe(feature, ">=" if high else "<=", threshold)
    if undefined_share >= SOME_UNDEFINED:
        phrase += f" or {undefined_meaning(feature)}"
    return {
        "direction": "high" if high else "low",
        "threshold": threshold,
        "undefined_share": undefined_share,
        "phrase": phrase,
    }


def segment_drivers(explanation: Explanation, names: dict[int, str] | None = None, top: int = 3) -> pd.DataFrame:
    """The ``top`` features that push customers into each segment, with direction, threshold and a sentence.

    Direction comes from the sign of the correlation between a feature's value and its SHAP push, over the
    customers that have a value; the threshold is the 25th (high values push in) or 75th (low values push in)
    percentile among members with a value, so the sentence holds for three quarters of the segment. A feature
    undefined for most of the segment (one order: no interval between orders) reads as what that means
    (direction ``undefined``, no threshold); ``undefined_share`` is the segment's share without a value.
    Categorical features name their most pushing value. A feature whose mean |SHAP| is below ``NEGLIGIBLE`` of
    the segment's strongest is no driver (the model barely uses it, so the sign of its pushes is noise) and is
    left out, so a segment can have fewer than ``top`` drivers.
    """
    importance = explanation.global_importance()
    rows = []
    for segment in explanation.segments:
        members = (explanation.labels == segment).to_numpy()
        phrases = []
        ranked = importance[int(segment)].sort_values(ascending=False)
        used = ranked[ranked >= NEGLIGIBLE * ranked.iloc[0]]
        for rank, feature in enumerate(used.index[:top], start=1):
            dep = explanation.dependence(int(segment), feature)
            if pd.api.types.is_numeric_dtype(dep["value"]):
                driver = _numeric_driver(dep["value"].rename(feature), dep["shap"], members)
            else:
                best = dep[members].groupby("value", observed=True)["shap"].mean().sort_values(ascending=False)
                phrase = f"{feature} = {best.index[0]}" if len(best) else feature
                driver = {"direction": "category", "threshold": np.nan, "undefined_share": 0.0, "phrase": phrase}
            phrases.append(driver["phrase"])
            rows.append(
                {
                    "segment": int(segment),
                    "rank": rank,
                    "feature": feature,
                    **driver,
                    "importance": float(importance.loc[feature, int(segment)]),
                }
            )
        name = (names or {}).get(int(segment), f"segment {segment}")
        sentence = f"{', '.join(phrases[:-1])} and {phrases[-1]}" if len(phrases) > 1 else phrases[0]
        for row in rows[-len(phrases) :]:
            row["sentence"] = f"{sentence} push customers into {name}"
    return pd.DataFrame(rows)


def driver_contradictions(drivers: pd.DataFrame, names: dict[int, str]) -> list[str]:
    """Every driver that says the opposite of its segment's name: "Recent high spenders" with the driver
    "monetary <= 739" (low net revenue pushes customers in). The name's words are those the naming uses
    (:func:`segmentation.clustering.profiles.name_words`); an analyst's own names are not checked. Empty: the
    names and the drivers agree."""
    from segmentation.clustering.profiles import name_words

    problems = []
    for row in drivers.itertuples(index=False):
        name = names.get(int(row.segment), "")
        for word in name_words(name):
            if (
                row.feature == word.feature
                and row.direction in ("high", "low")
                and (row.direction == "high") != word.high
            ):
                problems.append(
                    f"segment {row.segment} {name!r}: {word.text!r} says {row.feature} is "
                    f"{'high' if word.high else 'low'}, its driver reads {row.phrase!r}"
                )
    return problems


def importance_agreement(a: Explanation, b: Explanation) -> pd.Series:
    """Spearman rank correlation of the two explanations' feature importances, per segment and overall."""
    ia, ib = a.global_importance(), b.global_importance().reindex(a.global_importance().index)
    out = {int(s): float(spearmanr(ia[s], ib[s]).statistic) for s in ia.columns}
    out["overall"] = float(spearmanr(ia.mean(axis=1), ib.mean(axis=1)).statistic)
    return pd.Series(out, name="spearman")


def rank_features(X: pd.DataFrame, labels: np.ndarray, random_state: int = 0) -> pd.DataFrame:
    """LightGBM gain importance and recursive feature elimination rank (1 = kept last) per feature.

    Use it to refine the clustering feature set: features ranked low add little to telling segments apart.
    """
    from lightgbm import LGBMClassifier
    from sklearn.feature_selection import RFE

    def model() -> LGBMClassifier:
        return LGBMClassifier(
            n_estimators=60, num_leaves=15, random_state=random_state, n_jobs=1, verbose=-1, importance_type="gain"
        )

    gain = model().fit(X, labels).feature_importances_
    rfe = RFE(model(), n_features_to_select=1, step=1).fit(X, labels)
    table = pd.DataFrame({"gain": gain / gain.sum(), "rfe_rank": rfe.ranking_}, index=X.columns)
    return table.sort_values(["rfe_rank", "gain"], ascending=[True, False])
