"""The views on a value table, on hand-made tables with known answers: the valuable-and-at-risk audience, churn risk
per segment, and the Plotly charts of the Value page (built without Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import InputError
from segmentation.value import (
    calibration_chart,
    churn_push_chart,
    clv_histogram,
    p_alive_heatmap,
    segment_risk,
    segment_risk_chart,
    valuable_at_risk,
    value_risk_scatter,
)


@pytest.fixture
def table() -> pd.DataFrame:
    """Ten customers: CLV 10, 20, ..., 100; churn 0.0, 0.1, ..., 0.9 reversed for the first five."""
    frame = pd.DataFrame(
        {
            "clv": np.arange(10, 101, 10, dtype=float),
            "churn_probability": [0.9, 0.8, 0.7, 0.6, 0.5, 0.1, 0.2, 0.6, 0.9, 0.3],
            "p_alive": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
            "frequency": [0, 0, 1, 1, 2, 3, 5, 10, 25, 25],
            "T": [100.0] * 10,
            "recency": [95.0, 0.0, 80.0, 10.0, 99.0, 50.0, 90.0, 99.5, 99.0, 40.0],
        },
        index=pd.Index([f"C{i}" for i in range(10)], name="customer_id"),
    )
    return frame


def test_the_audience_is_the_top_clv_share_above_the_churn_threshold(table: pd.DataFrame) -> None:
    audience = valuable_at_risk(table, clv_quantile=0.7, min_churn=0.5)  # CLV >= 73 of 10..100: C7, C8, C9
    assert list(audience.index) == ["C8", "C7"]  # C9's churn 0.3 is below; 90 * 0.9 = 81 > 80 * 0.6 = 48
    assert audience["value_at_risk"].tolist() == pytest.approx([81.0, 48.0])
    assert len(valuable_at_risk(table, 0.0, 0.0)) == 10
    with pytest.raises(InputError, match="between 0 and 1"):
        valuable_at_risk(table, 80, 0.5)
    with pytest.raises(InputError, match="no churn_probability column"):
        valuable_at_risk(table.drop(columns="churn_probability"))


def test_risk_per_segment_sums_and_means(table: pd.DataFrame) -> None:
    segments = pd.Series(["A"] * 5 + ["B"] * 4, index=table.index[:9])  # C9 has no segment: left out
    risk = segment_risk(table, segments)
    a = table.iloc[:5]
    assert risk.loc["A", "customers"] == 5 and risk.loc["B", "customers"] == 4
    assert risk.loc["A", "churn_probability"] == pytest.approx(a["churn_probability"].mean())
    assert risk.loc["A", "expected_churners"] == pytest.approx(3.5)
    assert risk.loc["A", "clv_at_risk"] == pytest.approx((a["clv"] * a["churn_probability"]).sum())
    assert risk.loc["B", "clv"] == pytest.approx(60 + 70 + 80 + 90)
    assert list(risk.index) == ["B", "A"]  # most CLV at risk first: B 6 + 14 + 48 + 81 = 149 > A 86


def test_clv_histogram_titles_the_total(table: pd.DataFrame) -> None:
    figure = clv_histogram(table, 365)
    assert figure.layout.title.text == "Predicted CLV over 365 days"
    assert figure.layout.title.subtitle.text == "550.00 in total, 10 customers"
    assert clv_histogram(table, 365, "GBP").layout.title.subtitle.text == "£550.00 in total, 10 customers"
    assert list(figure.data[0].x) == table["clv"].tolist() and figure.layout.yaxis.type == "log"


def test_p_alive_heatmap_cells_are_the_means_of_their_customers(table: pd.DataFrame) -> None:
    figure = p_alive_heatmap(table)
    heat = figure.data[0]
    z = pd.DataFrame(heat.z, index=heat.y, columns=heat.x)
    counts = pd.DataFrame(heat.customdata, index=heat.y, columns=heat.x)
    # days since the last order = T - recency: C0 5, C1 100, C2 20, C3 90, C4 1, ... C8 1, C9 60
    assert z.loc["0", "0-29 days"] == pytest.approx(0.1) and z.loc["0", "90-179 days"] == pytest.approx(0.2)
    assert z.loc["20+ orders", "0-29 days"] == pytest.approx(0.9) and z.loc["20+ orders", "60-89 days"] == 1.0
    assert z.loc["10-19 orders", "0-29 days"] == pytest.approx(0.8)
    assert counts.to_numpy().sum() == 10 and np.isnan(z.loc["2", "365+ days"])  # an empty cell stays empty
    assert (heat.zmin, heat.zmax) == (0, 1)
    assert figure.layout.xaxis.type == figure.layout.yaxis.type == "category"  # "0", "1" are bands, not numbers


def test_the_calibration_chart_keeps_the_7_plus_group_on_its_axis() -> None:
    groups = pd.DataFrame(
        {"customers": [5] * 8, "actual_orders": np.arange(8.0), "predicted_orders": np.arange(8.0) + 0.5},
        index=[*map(str, range(7)), "7+"],
    )
    figure = calibration_chart(groups, 180)
    assert list(figure.data[0].x) == [*map(str, range(7)), "7+"] and figure.layout.xaxis.type == "category"
    assert figure.layout.title.text == "Orders per customer in the 180-day holdout, actual vs predicted"


def test_value_risk_scatter_marks_the_audience(table: pd.DataFrame) -> None:
    figure = value_risk_scatter(table, min_clv=80, min_churn=0.5)
    others, chosen = figure.data
    assert list(chosen.text) == ["C7", "C8"] and len(others.x) == 8
    assert figure.layout.title.text.startswith("Valuable and at risk: 2 customers")
    shape = figure.layout.shapes[0]
    assert (shape.x0, shape.y0, shape.y1) == (80, 0.5, 1)


def test_segment_chart_and_one_customers_pushes(table: pd.DataFrame) -> None:
    risk = segment_risk(table, pd.Series(["A"] * 5 + ["B"] * 5, index=table.index))
    bars = segment_risk_chart(risk).data[0]
    assert list(bars.x) == list(risk.index) and list(bars.y) == risk["churn_probability"].tolist()
    pushes = pd.Series({"recency_days": 1.2, "frequency": -0.4, "monetary": 0.1, "tenure_days": -2.0}, name="C1")
    figure = churn_push_chart(pushes, top=3)
    bar = figure.data[0]
    assert list(bar.y) == ["frequency", "recency_days", "tenure_days"]  # the 3 largest |push|, largest at the top
    assert list(bar.marker.color) == ["#16a34a", "#dc2626", "#16a34a"]
    assert figure.layout.title.text == "Why customer C1 is at risk"
