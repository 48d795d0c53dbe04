"""Why a customer is at risk of churning, in plain language: the features that push their probability up most.

The pushes are exact TreeSHAP values of the LightGBM churn model in log-odds (LightGBM's ``pred_contrib``, no
shap import); the isotonic calibration on top is monotone, so it changes no ranking and no sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.explain.drivers import _describe, undefined_meaning
from segmentation.value.churn import ChurnClassifier


def churn_contributions(model: ChurnClassifier, features: pd.DataFrame) -> pd.DataFrame:
    """Per customer and feature, the push towards churning in log-odds; the row sums plus ``attrs["base"]``
    equal the booster's raw score."""
    booster = model.booster_
    inputs = model._inputs(features)
    contrib = booster.predict(inputs, pred_contrib=True)
    frame = pd.DataFrame(contrib[:, :-1], index=features.index, columns=model.feature_names_in_)
    frame.attrs["base"] = contrib[:, -1]
    return frame


def _phrase(feature: str, value: float) -> str:
    if pd.isna(value):
        return f"{undefined_meaning(feature)} ({feature} undefined)"
    return _describe(feature, "=", value + 0.0)  # + 0.0: -0.0 reads as 0


def churn_reasons(model: ChurnClassifier, features: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Per customer: churn probability, the ``top`` features raising it most (only pushes above 0) and a
    sentence, e.g. "recency_days = 140 days, frequency = 1 orders and spend_trend = -1 raise the churn risk"."""
    contributions = churn_contributions(model, features)
    values = contributions.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    rows = []
    for i, customer in enumerate(features.index):
        raising = [contributions.columns[j] for j in order[i] if values[i, j] > 0]
        phrases = [_phrase(f, features.at[customer, f]) for f in raising]
        if not phrases:
            sentence = "no feature raises the churn risk above the average customer's"
        else:
            listed = f"{', '.join(phrases[:-1])} and {phrases[-1]}" if len(phrases) > 1 else phrases[0]
            sentence = f"{listed} raise{'s' if len(phrases) == 1 else ''} the churn risk"
        rows.append({"reasons": raising, "sentence": sentence})
    table = pd.DataFrame(rows, index=features.index)
    table.insert(0, "churn_probability", model.predict_proba(features)[:, 1])
    return table
