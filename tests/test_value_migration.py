"""How predicted lifetime value moved with the customers between two snapshots: the library's table (known answer)
and the History page's section on the sample (figures equal to the workflow's own CLV at each date)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.migration import GONE, NEW, value_moves
from segmentation.workflow import Analysis
from tests.app_helpers import HISTORY, SAMPLE, assert_clean_run, chart, new_app, segmented


def test_value_moves_sums_each_move_and_keeps_the_totals() -> None:
    before = pd.Series({"a": "Loyal", "b": "Loyal", "c": "New", "d": "Loyal"})
    after = pd.Series({"a": "At risk", "b": "Loyal", "c": "Loyal", "e": "New"})
    value_before = pd.Series({"a": 100.0, "b": 50.0, "c": 10.0, "d": 30.0})
    value_after = pd.Series({"a": 20.0, "b": 60.0, "c": 40.0, "e": 5.0})
    moves = value_moves(before, after, value_before, value_after).set_index(["source", "target"])
    assert moves.loc[("Loyal", "At risk")].tolist() == [1, 100.0, 20.0, -80.0]
    assert moves.loc[("Loyal", GONE)].tolist() == [1, 30.0, 0.0, -30.0]
    assert moves.loc[(NEW, "New")].tolist() == [1, 0.0, 5.0, 5.0]
    assert moves.loc[("New", "Loyal"), "change"] == 30.0
    assert moves["value_before"].sum() == value_before.sum() and moves["value_after"].sum() == value_after.sum()
    assert moves.index[0] == ("Loyal", "At risk")  # the largest loss first


@pytest.mark.slow
def test_history_page_shows_how_predicted_value_moved() -> None:
    app: AppTest = new_app()
    segmented(app)
    app.switch_page(HISTORY).run()
    assert_clean_run(app)
    app.button(key="history_value").click().run()
    assert_clean_run(app)
    before, after = app.selectbox(key="history_from").value, app.selectbox(key="history_to").value
    said = next(m.value for m in app.markdown if m.value.startswith("Predicted 365-day lifetime value"))
    totals = [float(re.sub(r"[^\d.]", "", t)) for t in re.findall(r"\*\*([^*]+)\*\*", said)]
    workflow = Analysis(SAMPLE)
    expected = [workflow.customer_value(d, 365, 0.10)["clv"].sum() for d in (before, after)]
    assert totals == pytest.approx(expected, abs=0.01)
    bars = chart(app, "Change in predicted lifetime value")["data"][0]
    assert bars["type"] == "bar" and len(bars["y"]) >= 2
    assert isinstance(before, date) and before < after
