"""The fairness section of the Explain page, headless: a segment planted on one country is a warning with the chart
outlining it; segments independent of country are a quiet success."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def panel(planted: bool) -> None:
    import numpy as np
    import pandas as pd

    from tests.frames import random_transactions
    from ui import fairness_panel

    transactions = random_transactions(0, n_customers=400)
    countries = transactions.groupby("customer_id")["country"].agg(lambda c: c.value_counts().index[0])
    rng = np.random.default_rng(0)
    segments = pd.Series(rng.integers(0, 3, len(countries)), index=countries.index)
    if planted:
        segments[countries == "FR"] = 0
    fairness_panel.show(transactions, segments, key=f"test-{planted}")


@pytest.mark.parametrize("planted", [True, False])
def test_panel_warns_only_about_a_planted_gap(planted: bool) -> None:
    at = AppTest.from_function(panel, kwargs={"planted": planted}, default_timeout=120).run()
    assert not at.exception
    assert at.selectbox(key="fairness_attribute").options == ["country"]  # channel is empty
    warnings = [w.value for w in at.warning]
    if planted:
        assert warnings and warnings[0].startswith("Segment 0 holds ") and "country = FR" in warnings[0]
    else:
        assert not warnings and at.success[0].value.startswith("No gap between the country groups")
    assert at.get("plotly_chart")
