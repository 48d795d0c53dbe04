"""Lifetime value: the summary by hand, BG/NBD and Gamma-Gamma recover the parameters they simulate, their
predictions match what the simulation then does, and the value table is discounted as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln
from scipy.stats import chi2

from segmentation.errors import InputError, NotFittedError
from segmentation.value import (
    BetaGeo,
    CustomerValue,
    GammaGamma,
    customer_value,
    rfm_summary,
    simulate_bgnbd,
    simulate_spend,
    simulate_transactions,
)

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""BG/NBD estimates on the CDNOW sample, weeks (Fader, Hardie and Lee 2005): the simulation's truth here."""
CDNOW_SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}
"""Gamma-Gamma estimates on CDNOW (Fader, Hardie and Lee 2005b)."""


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """6,000 customers observed for 27 to 39 weeks (CDNOW's spread of T) and their next 39 weeks."""
    T = np.random.default_rng(7).uniform(27, 39, 6000)
    return simulate_bgnbd(6000, **CDNOW, T=T, future_days=39, seed=3)


@pytest.fixture(scope="module")
def fitted(simulated: pd.DataFrame) -> BetaGeo:
    return BetaGeo().fit(simulated)


def test_summary_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["007", "007", "007", "007", "042", "042"],
            "order_id": ["A", "A", "B", "C", "D", "E"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-01 10:05",
                    "2024-01-11 10:00",
                    "2024-01-21 10:00",
                    "2024-01-05 00:00",
                    "2024-02-05 00:00",
                ]
            ),
            "amount": [10.0, 5.0, 30.0, 50.0, 20.0, 99.0],
            "quantity": [1, 1, 1, 1, 1, 1],
            "is_return": [False] * 6,
        }
    )
    summary = rfm_summary(tx, "2024-01-31 10:00")
    assert list(summary.index) == ["007", "042"]  # zero-padded ids kept; 042's February order is after as-of
    assert summary.loc["007"].tolist() == [2, 20.0, 30.0, 40.0, 95.0]  # A's two lines are one order of 15
    assert summary.loc["042", "frequency"] == 0 and summary.loc["042", "monetary_value"] == 0.0
    # without an order column an order is a purchase day: A's two lines and B stay two orders
    assert rfm_summary(tx.drop(columns="order_id"), "2024-01-31")["frequency"].tolist() == [2, 0]


def test_summary_ignores_returns_and_refuses_missing_columns() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["1", "1", "1"],
            "order_id": ["A", "CA", "B"],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [10.0, -10.0, 20.0],
            "is_return": [False, True, False],
        }
    )
    assert rfm_summary(tx, "2024-02-01").loc["1", "frequency"] == 1
    with pytest.raises(InputError, match=r"missing column.*amount"):
        rfm_summary(tx.drop(columns="amount"), "2024-02-01")
    with pytest.raises(InputError, match="no order before"):
        rfm_summary(tx, "2023-01-01")
    with pytest.raises(InputError, match="'first of May' is not a date"):
        rfm_summary(tx, "first of May")


def _bgnbd_log_likelihood(summary: pd.DataFrame, r: float, alpha: float, a: float, b: float) -> float:
    """Equation (6) of Fader, Hardie and Lee (2005), written out independently of pymc-marketing."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    first = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive_or_not = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return float(np.sum(first - (r + x) * np.log(alpha + T) + np.log1p(alive_or_not)))


def test_bgnbd_recovers_the_parameters_it_simulates(simulated: pd.DataFrame, fitted: BetaGeo) -> None:
    # the fit is the maximum of the likelihood: no nearby point is better, and the truth is not
    best = _bgnbd_log_likelihood(simulated, **fitted.params_)
    for name in CDNOW:
        for step in (0.99, 1.01):
            assert _bgnbd_log_likelihood(simulated, **{**fitted.params_, name: fitted.params_[name] * step}) < best
    # the truth lies in the 99% likelihood-ratio confidence region (chi-square, 4 degrees of freedom)
    assert 2 * (best - _bgnbd_log_likelihood(simulated, **CDNOW)) < chi2.ppf(0.99, 4)
    # 6,000 customers: r and alpha within 10%; the dropout Beta's a and b are far less precise (measured over 4
    # seeds: a 0.60-0.73, b 1.89-2.30 against 0.793 and 2.426, each time with the truth inside the region above)
    for name, tolerance in {"r": 0.10, "alpha": 0.10, "a": 0.30, "b": 0.30}.items():
        assert fitted.params_[name] == pytest.approx(CDNOW[name], rel=tolerance), name


def test_bgnbd_predictions_match_what_the_simulation_does_next(simulated: pd.DataFrame, fitted: BetaGeo) -> None:
    predicted = fitted.expected_purchases(simulated, 39)
    assert predicted.sum() == pytest.approx(simulated["future"].sum(), rel=0.06)
    by_frequency = pd.DataFrame({"x": simulated["frequency"].clip(upper=4), "p": predicted, "f": simulated["future"]})
    means = by_frequency.groupby("x")[["p", "f"]].mean()
    np.testing.assert_allclose(means["p"], means["f"], rtol=0.15)
    alive = fitted.probability_alive(simulated)
    assert alive.mean() == pytest.approx(simulated["alive"].mean(), abs=0.03)
    assert np.all(alive[simulated["frequency"].to_numpy() == 0] == 1.0)  # nobody drops out before a repeat
    no_purchase = fitted.probability_no_purchase(simulated, 39)
    by_frequency["n"], by_frequency["none"] = no_purchase, simulated["future"] == 0
    means = by_frequency.groupby("x")[["n", "none"]].mean()
    np.testing.assert_allclose(means["n"], means["none"], atol=0.03)  # pymc-marketing 0.19.2's gives 0.93 for x=0


def test_gamma_gamma_recovers_the_mean_order_value() -> None:
    frequency = np.random.default_rng(0).integers(1, 8, 4000)
    summary = pd.DataFrame({"frequency": frequency, "monetary_value": simulate_spend(frequency, **CDNOW_SPEND)})
    model = GammaGamma().fit(summary)
    mean = lambda p, q, v: p * v / (q - 1)  # noqa: E731 - the population mean order value
    assert mean(**model.params_) == pytest.approx(mean(**CDNOW_SPEND), rel=0.05)
    assert model.params_["p"] == pytest.approx(CDNOW_SPEND["p"], rel=0.2)
    spend = model.predict(summary)
    # each prediction shrinks the customer's own mean towards the population mean
    assert np.all((spend - summary["monetary_value"]) * (mean(**model.params_) - summary["monetary_value"]) >= 0)


def test_unfitted_models_say_so() -> None:
    summary = pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0], "monetary_value": [1.0]})
    for model in (BetaGeo(), GammaGamma(), CustomerValue()):
        with pytest.raises(NotFittedError, match="not fitted"):
            model.predict(summary)


def test_customer_value_discounts_the_expected_revenue() -> None:
    tx = simulate_transactions(1500, "2023-01-01", 365, seed=1)
    value = customer_value(tx, "2024-01-01", horizon_days=365, discount_rate=0.10)
    assert (value.index.str.len() == 6).all()  # zero-padded ids kept as text
    assert value["clv"].is_monotonic_decreasing
    assert np.all(value["clv"] <= value["expected_revenue"] + 1e-9)
    # a year at 10%: value lies between the revenue discounted by the full year and undiscounted
    assert np.all(value["clv"] >= value["expected_revenue"] / 1.10 - 1e-9)
    summary = rfm_summary(tx, "2024-01-01")
    undiscounted = CustomerValue(365, discount_rate=0.0).fit(summary).predict(summary)
    np.testing.assert_allclose(undiscounted["clv"], undiscounted["expected_revenue"], rtol=1e-9)
    with pytest.raises(InputError, match="discount rate"):
        CustomerValue(365, discount_rate=-2).fit(summary)
