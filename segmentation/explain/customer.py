"""One customer's explanation: what pushes them into their own segment, and how sure the surrogate is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.explain.shap_values import Explanation, explain
from segmentation.explain.surrogate import SegmentSurrogate


def explain_customer(
    surrogate: SegmentSurrogate, explanation: Explanation, X: pd.DataFrame, labels: np.ndarray, customer_id: str
) -> tuple[pd.DataFrame, float, dict[int, float]]:
    """The feature pushes of customer ``customer_id`` towards their own segment (largest first, as
    :meth:`Explanation.customer`), the base value, and the surrogate's probability of every segment.

    ``explanation`` holds a sample of the rows of ``X`` (``labels`` aligned with ``X``); a customer outside it is
    explained on their own row, so any customer can be asked about.
    """
    if customer_id not in explanation.data.index:
        row = X.index.get_loc(customer_id)
        explanation = explain(surrogate, X.loc[[customer_id]], labels[[row]], sample_size=None)
    pushes = explanation.customer(customer_id)
    proba = surrogate.predict_proba(X.loc[[customer_id]])[0]
    return (
        pushes,
        float(pushes.attrs["base_value"]),
        {int(c): float(p) for c, p in zip(surrogate.classes_, proba, strict=True)},
    )
