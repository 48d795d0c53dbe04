"""The fairness report from what the app and the CLI hold: clean transactions, a segmentation, recommendation lists
and the churn model of docs/value.md. The classifiers are judged on predictions they did not train on: the
surrogate by cross-validation, the churn model on the horizon after its cutoff."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from segmentation.config import FeatureConfig
from segmentation.errors import InputError
from segmentation.privacy.fairness import FOUR_FIFTHS, FairnessReport, fairness_report
from segmentation.privacy.sensitive import without_sensitive
from segmentation.privacy.small_groups import K_ANONYMITY
from segmentation.progress import Progress, no_progress

NOT_FEATURES = ("r_score", "f_score", "m_score", "rfm_code", "rfm_segment")


def attribute_groups(features: pd.DataFrame, attribute: str, customers: pd.DataFrame | None = None) -> pd.Series:
    """Each customer's value of ``attribute``: a column of the customer table ``customers`` (index customer id;
    age band, gender, region...) or of the feature table (country, channel)."""
    if customers is not None and attribute in customers.columns:
        values = customers[attribute].set_axis(customers.index.astype(str))
    elif attribute in features.columns:
        values = features[attribute]
    else:
        known = sorted(
            {"country", "channel"} & set(features.columns) | set(customers.columns if customers is not None else [])
        )
        raise InputError(
            f"no attribute {attribute!r} (known: {', '.join(known) or 'none'})",
            fix="map a country column, or give a customer table with a customer_id column and this one",
        )
    return values.reindex(features.index.astype(str)).rename(attribute)


def surrogate_predictions(
    features: pd.DataFrame,
    segments: pd.Series,
    model: str = "lightgbm",
    allow_sensitive: Iterable[str] = (),
    folds: int = 3,
    random_state: int = 0,
) -> tuple[pd.Series, pd.Series]:
    """Each customer's segment and the surrogate's cross-validated prediction of it (sensitive features left out
    unless allowed)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from segmentation.explain import SegmentSurrogate, surrogate_inputs

    common = features.index.intersection(segments.index)
    inputs = without_sensitive(features.loc[common].drop(columns=list(NOT_FEATURES), errors="ignore"), allow_sensitive)
    labels = segments.loc[common].to_numpy()
    predicted = cross_val_predict(
        SegmentSurrogate(model, cv=2, random_state=random_state),
        surrogate_inputs(inputs),
        labels,
        cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
    )
    return pd.Series(labels, index=common), pd.Series(predicted, index=common)


def churn_predictions(
    transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp, horizon_days: float = 90.0
) -> tuple[pd.Series, pd.Series]:
    """Whether each customer churned in [cutoff, cutoff + horizon) and whether the churn model, trained one
    horizon before the cutoff, predicted it (P >= 0.5)."""
    from segmentation.value.churn import ChurnClassifier, churn_data

    cutoff = pd.Timestamp(cutoff).normalize()
    train = churn_data(transactions, cutoff - pd.Timedelta(days=horizon_days), horizon_days)
    test = churn_data(transactions, cutoff, horizon_days)
    model = ChurnClassifier("lightgbm").fit(train.features, train.churned)
    return test.churned, pd.Series(model.predict(test.features), index=test.features.index)


def fairness_audit(
    transactions: pa.Table | pd.DataFrame,
    attribute: str,
    customers: pd.DataFrame | None = None,
    segments: pd.Series | None = None,
    recommendations: pd.DataFrame | None = None,
    churn_cutoff: str | pd.Timestamp | None = None,
    horizon_days: float = 90.0,
    surrogate: str | None = "lightgbm",
    allow_sensitive: Iterable[str] = (),
    threshold: float = FOUR_FIFTHS,
    item_column: str = "product_id",
    features: FeatureConfig | None = None,
    progress: Progress = no_progress,
    k: int = K_ANONYMITY,
) -> FairnessReport:
    """The fairness report of every part the inputs allow: composition and the surrogate (``segments``),
    exposure to each ``item_column`` value of ``recommendations`` (a product, an offer tier), the churn model
    (``churn_cutoff``). ``features`` are the settings the segments were made with (their as-of date above all):
    the surrogate learns the segments from the same feature values. Groups of fewer than ``k`` customers are
    suppressed in the report (``privacy.min_group_size``)."""
    from segmentation.features import compute_features

    progress(0.0, "features")
    table = compute_features(transactions, features)
    table.index = table.index.astype(str)
    groups = attribute_groups(table, attribute, customers)
    segment_classifiers, classifiers = {}, {}
    if segments is not None:
        segments = segments.set_axis(segments.index.astype(str))
    if segments is not None and surrogate:
        progress(0.2, f"cross-validating the {surrogate} surrogate")
        segment_classifiers[f"{surrogate} surrogate"] = surrogate_predictions(
            table, segments, surrogate, allow_sensitive
        )
    if churn_cutoff is not None:
        progress(0.6, "training the churn model")
        classifiers["churn model"] = churn_predictions(transactions, churn_cutoff, horizon_days)
    progress(0.9, "rates by group")
    report = fairness_report(
        groups,
        segments,
        recommendations,
        classifiers,
        segment_classifiers,
        threshold=threshold,
        item_column=item_column,
        k=k,
    )
    progress(1.0, f"{len(report.warnings)} warning(s)")
    return report
