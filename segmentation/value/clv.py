"""Customer lifetime value: BG/NBD for future purchases and P(alive), Gamma-Gamma for spend per order.

Both are fitted by maximum a posteriori with flat priors (= maximum likelihood, the estimates the literature
reports) through pymc-marketing's CLV module, which is imported on first fit: ``import segmentation.value``
loads neither pymc nor pytensor. Times are in days (see :mod:`segmentation.value.summary`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation.errors import InputError, ModelError, NotFittedError
from segmentation.value.summary import require_columns, rfm_summary

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")


def _check_is_fitted(model: object) -> None:
    if not hasattr(model, "params_"):
        raise NotFittedError(f"{type(model).__name__} is not fitted yet: call fit(summary) first")


def _frame(summary: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``summary``'s ``columns`` with a ``customer_id`` column, as pymc-marketing wants them."""
    require_columns(
        summary, columns, "customer summary", "build it with segmentation.value.rfm_summary(transactions, as_of)"
    )
    frame = summary[list(columns)].astype(float).reset_index(drop=True)
    bad = ~np.isfinite(frame.to_numpy()).all(axis=1) | (frame.to_numpy() < 0).any(axis=1)
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} customer(s) with a negative or missing value",
            where=f"customer summary rows {', '.join(map(str, np.flatnonzero(bad)[:5]))}",
            fix="frequency, recency, T and monetary_value must be non-negative numbers",
        )
    return frame.assign(customer_id=np.arange(len(frame)))


def _flat_priors(names: tuple[str, ...]) -> dict[str, Any]:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _map_fit(model: Any, data: pd.DataFrame, names: tuple[str, ...]) -> dict[str, float]:
    """Fit ``model`` by MAP on ``data``; its parameters as floats, refusing a fit that did not converge."""
    model.fit(data=data, method="map", progressbar=False)
    params = {name: float(model.fit_result[name].values.ravel()[0]) for name in names}
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise ModelError(f"{type(model).__name__} did not converge: {params}")
    return params


def _values(result: Any) -> np.ndarray:
    """One value per customer from a pymc-marketing (chain, draw, customer_id) array of a MAP fit."""
    return np.asarray(result.values, dtype=float).reshape(-1)


class BetaGeo:
    """BG/NBD (Fader, Hardie and Lee 2005): how many orders a customer places in a horizon, and P(alive).

    ``fit`` and the predictions take a customer summary with frequency, recency and T (days).
    ``predict`` is the expected number of orders in the next ``horizon_days``.
    """

    def __init__(self, horizon_days: float = 365.0) -> None:
        self.horizon_days = horizon_days

    def fit(self, summary: pd.DataFrame) -> BetaGeo:
        from pymc_marketing.clv import BetaGeoModel

        data = _frame(summary, ("frequency", "recency", "T"))
        if (data["recency"] > data["T"]).any():
            raise InputError("recency exceeds T", where="customer summary", fix="recompute the summary at one date")
        if (data["frequency"] > 0).sum() < 2:
            raise ModelError("BG/NBD needs at least two customers with a repeat order to fit")
        self.model_ = BetaGeoModel(model_config=_flat_priors(BGNBD_PARAMS))
        self.params_ = _map_fit(self.model_, data, BGNBD_PARAMS)
        return self

    def expected_purchases(self, summary: pd.DataFrame, days: float) -> np.ndarray:
        """Expected orders of each customer in the next ``days`` days."""
        _check_is_fitted(self)
        data = _frame(summary, ("frequency", "recency", "T"))
        return _values(self.model_.expected_purchases(data=data, future_t=float(days)))

    def probability_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """P(the customer has not dropped out) at the end of their summary period."""
        _check_is_fitted(self)
        return _values(self.model_.expected_probability_alive(data=_frame(summary, ("frequency", "recency", "T"))))

    def probability_no_purchase(self, summary: pd.DataFrame, days: float) -> np.ndarray:
        """P(no order in the next ``days`` days): dropped out, or alive and not buying.

        An alive customer's rate given the history is Gamma(r + x, alpha + T), so P(no order | alive) is
        ((alpha + T) / (alpha + T + days)) ** (r + x). Not pymc-marketing's ``expected_probability_no_purchase``:
        in 0.19.2 it keeps the dropout term for customers without a repeat order (0.93 instead of 0.84 on
        simulated data, see tests/test_value_clv.py).
        """
        alive = self.probability_alive(summary)
        r, alpha = self.params_["r"], self.params_["alpha"]
        x, T = summary["frequency"].to_numpy(dtype=float), summary["T"].to_numpy(dtype=float)
        return 1.0 - alive + alive * ((alpha + T) / (alpha + T + days)) ** (r + x)

    def predict(self, summary: pd.DataFrame) -> np.ndarray:
        return self.expected_purchases(summary, self.horizon_days)


class GammaGamma:
    """Gamma-Gamma spend model (Fader, Hardie and Lee 2005b): the expected value of a customer's future orders.

    Fitted on the customers with a repeat order (their mean repeat-order value, ``monetary_value``); ``predict``
    shrinks each customer's mean towards the population mean, the more the fewer orders they have.
    """

    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        from pymc_marketing.clv import GammaGammaModel

        data = _frame(summary, ("frequency", "monetary_value"))
        data = data.loc[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
        if len(data) < 2:
            raise ModelError("Gamma-Gamma needs at least two customers with a repeat order to fit")
        self.model_ = GammaGammaModel(model_config=_flat_priors(GAMMA_GAMMA_PARAMS))
        self.params_ = _map_fit(self.model_, data.assign(customer_id=np.arange(len(data))), GAMMA_GAMMA_PARAMS)
        return self

    def predict(self, summary: pd.DataFrame) -> np.ndarray:
        """Expected value of each customer's future orders."""
        _check_is_fitted(self)
        return _values(self.model_.expected_customer_spend(data=_frame(summary, ("frequency", "monetary_value"))))


class CustomerValue:
    """BG/NBD + Gamma-Gamma: expected orders, P(alive), spend per order and discounted value over a horizon.

    ``discount_rate`` is annual; the horizon is cut into ``step_days`` steps and the revenue expected in each is
    discounted to today from the end of the step.
    """

    def __init__(self, horizon_days: float = 365.0, discount_rate: float = 0.10, step_days: float = 30.0) -> None:
        self.horizon_days = horizon_days
        self.discount_rate = discount_rate
        self.step_days = step_days

    def fit(self, summary: pd.DataFrame) -> CustomerValue:
        if self.horizon_days <= 0 or self.step_days <= 0 or self.discount_rate <= -1:
            raise InputError(
                "horizon and step must be positive days and the discount rate above -100%",
                where=f"horizon_days={self.horizon_days}, step_days={self.step_days}, discount_rate={self.discount_rate}",
                fix="e.g. horizon_days=365, discount_rate=0.1",
            )
        self.purchases_ = BetaGeo(self.horizon_days).fit(summary)
        self.spend_ = GammaGamma().fit(summary)
        self.params_ = {**self.purchases_.params_, **self.spend_.params_}
        return self

    def predict(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Per customer of ``summary``: p_alive, expected_orders, expected_spend (per order), expected_revenue
        (undiscounted) and clv (discounted), in the order of ``summary``."""
        _check_is_fitted(self)
        steps = np.append(np.arange(self.step_days, self.horizon_days, self.step_days), self.horizon_days)
        cumulative = np.column_stack([self.purchases_.expected_purchases(summary, t) for t in steps])
        per_step = np.diff(cumulative, axis=1, prepend=0.0)
        discount = (1.0 + self.discount_rate) ** (-steps / 365.0)
        spend = self.spend_.predict(summary)
        return pd.DataFrame(
            {
                "p_alive": self.purchases_.probability_alive(summary),
                "expected_orders": cumulative[:, -1],
                "expected_spend": spend,
                "expected_revenue": cumulative[:, -1] * spend,
                "clv": (per_step * discount).sum(axis=1) * spend,
            },
            index=summary.index,
        )


def customer_value(
    transactions: pa.Table | pd.DataFrame,
    as_of: str | pd.Timestamp,
    horizon_days: float = 365.0,
    discount_rate: float = 0.10,
) -> pd.DataFrame:
    """Lifetime value of every customer with an order before ``as_of``, highest first.

    The summary columns (frequency, recency, T, monetary_value, revenue) followed by the predictions of
    :class:`CustomerValue` fitted on the same customers.
    """
    summary = rfm_summary(transactions, as_of)
    predicted = CustomerValue(horizon_days, discount_rate).fit(summary).predict(summary)
    return summary.join(predicted).sort_values("clv", ascending=False)
