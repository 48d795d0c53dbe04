"""SHAP values plus the expected value equal the surrogate's raw output (log-odds), per segment and customer.

This is what makes a waterfall chart true: if the values were reshaped wrongly (CatBoost's come as
(rows, classes, features + 1) and are transposed by hand) the sums would no longer match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.explain import MODELS, SegmentSurrogate, explain, surrogate_inputs
from segmentation.features import compute_features
from segmentation.pipeline import load_transactions


@pytest.fixture(scope="module")
def customers(sample_path) -> pd.DataFrame:
    """Real rows: the feature table of the tracked sample (categorical country and channel included)."""
    return surrogate_inputs(compute_features(load_transactions(sample_path).transactions))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("n_segments", [2, 4])
def test_shap_values_add_up_to_the_log_odds(customers, model, n_segments) -> None:
    rng = np.random.default_rng(n_segments)
    score = customers["recency_days"].rank(pct=True) + 0.3 * rng.random(len(customers))
    labels = pd.qcut(score, n_segments, labels=False).to_numpy()
    surrogate = SegmentSurrogate(model, n_estimators=40, cv=2).fit(customers, labels)
    explanation = explain(surrogate, customers, labels, sample_size=300)
    total = explanation.values.sum(axis=1) + explanation.base_values  # (rows, segments)
    raw = surrogate.decision_function(explanation.data)
    if n_segments == 2:  # one log-odds output: segment 1's, and its negative for segment 0
        raw = np.column_stack([-raw, raw])
    assert total.shape == (300, n_segments)
    np.testing.assert_allclose(total, raw, rtol=1e-5, atol=1e-5)
    # and the log-odds are the model's probabilities, so the chart explains what the model predicts
    probabilities = surrogate.predict_proba(explanation.data)
    if n_segments > 2:
        softmax = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(softmax, probabilities, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(1 / (1 + np.exp(-raw[:, 1])), probabilities[:, 1], rtol=1e-5, atol=1e-6)


def test_one_customers_waterfall_ends_at_the_model_output(customers) -> None:
    labels = pd.qcut(customers["monetary"].rank(method="first"), 3, labels=False).to_numpy()
    surrogate = SegmentSurrogate("lightgbm", n_estimators=40, cv=2).fit(customers, labels)
    customer = customers.index[7]
    table = explain(surrogate, customers.loc[[customer]], labels[[7]], sample_size=None).customer(customer)
    segment = labels[7]
    expected = surrogate.decision_function(customers.loc[[customer]])[0, list(surrogate.classes_).index(segment)]
    assert table.attrs["base_value"] + table["shap"].sum() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("n_segments", [2, 4])
def test_lightgbm_values_are_shaps_own(customers, n_segments) -> None:
    """The library calls LightGBM's TreeSHAP directly; shap's TreeExplainer (the field's reference) agrees."""
    import shap

    labels = pd.qcut(customers["monetary"].rank(method="first"), n_segments, labels=False).to_numpy()
    surrogate = SegmentSurrogate("lightgbm", n_estimators=40, cv=2).fit(customers, labels)
    explanation = explain(surrogate, customers, labels, sample_size=200)
    reference = shap.TreeExplainer(surrogate.model_)(surrogate.model_input(explanation.data))
    values, base = np.asarray(reference.values), np.asarray(reference.base_values)
    if n_segments == 2:  # shap gives segment 1's log-odds only
        values, base = np.stack([-values, values], axis=2), np.stack([-base, base], axis=1)
    np.testing.assert_allclose(explanation.values, values, atol=1e-9)
    np.testing.assert_allclose(explanation.base_values, base, atol=1e-9)
