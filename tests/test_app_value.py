"""The Value page, run headless with AppTest: the estimate on the sample (value, P(alive), churn per segment, the
valuable-and-at-risk audience and its download, one customer's reasons), the backtest and the model comparison,
and a file too small for a churn model shown as an error, never a traceback."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.value import rfm_summary
from tests.app_helpers import (
    CLEAN_ROWS,
    SAMPLE,
    assert_clean_run,
    chart,
    csv_bytes,
    frame,
    metrics,
    new_app,
    plotly_titles,
    segmented,
    upload,
)

VALUE = "ui/value_page.py"
DATA = "ui/data_page.py"
AS_OF = "2024-01-01"
"""The sample's default as-of date: the day after its last order."""


def estimated(at: AppTest) -> AppTest:
    """Press Estimate on the Value page and wait for the fits (no button once this server has estimated them)."""
    at.switch_page(VALUE).run()
    assert_clean_run(at)
    if any(button.key == "value_estimate" for button in at.button):
        at.button(key="value_estimate").click().run()
        assert_clean_run(at)
    return at


def test_a_second_analyst_sees_the_estimate_without_waiting(app: AppTest) -> None:
    app.run()
    estimated(app)
    later = new_app()
    later.run()
    later.switch_page(VALUE).run()
    assert_clean_run(later)
    assert not any(button.key == "value_estimate" for button in later.button)
    assert any(m.label.startswith("Expected to stop") for m in later.metric)


@pytest.fixture(scope="module")
def sample_customers() -> int:
    from segmentation.pipeline import load_transactions

    return len(rfm_summary(load_transactions(SAMPLE).transactions, AS_OF))


def test_nothing_is_fitted_until_asked_and_a_small_file_is_a_readable_error(app: AppTest) -> None:
    app.run()
    app.radio(key="source").set_value("Upload a file").run()  # nothing loaded
    app.switch_page(VALUE).run()
    assert any("No data is loaded yet" in i.value for i in app.info)
    app.switch_page(DATA)
    upload(app, "tiny.csv", csv_bytes(CLEAN_ROWS))
    app.switch_page(VALUE).run()
    assert_clean_run(app)
    assert not app.get("plotly_chart")  # nothing fitted before the button
    assert any("compiles the models" in c.value for c in app.caption)
    app.button(key="value_estimate").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("the churn model learns from the customers before 2024-01-04" in e.value for e in app.error)


@pytest.mark.slow
def test_value_churn_audience_and_reasons_on_the_sample(
    app: AppTest, downloads: dict[str, bytes], sample_customers: int
) -> None:
    estimated(segmented(app))
    titles = plotly_titles(app)
    assert "Predicted CLV over 365 days" in titles
    assert chart(app, "Predicted CLV over 365 days")["layout"]["title"]["subtitle"]["text"].endswith(
        f"in total, {sample_customers:,} customers"
    )
    assert "P(alive) by days since the last order and repeat orders" in titles
    assert metrics(app)["Customers"] == f"{sample_customers:,}"

    risk = frame(app, "clv_at_risk")  # one row per segment of the Segments page
    assert risk["customers"].sum() <= sample_customers and len(risk) >= 2
    assert risk["churn_probability"].between(0, 1).all() and risk["clv_at_risk"].is_monotonic_decreasing
    assert "Churn risk per segment" in titles

    audience = pd.read_csv(io.BytesIO(downloads["sample_transactions_valuable_at_risk.csv"]), dtype={0: str})
    assert (audience["churn_probability"] >= 0.5).all() and audience["value_at_risk"].is_monotonic_decreasing
    assert any(f"**{len(audience):,} customers** in the top 20% by CLV" in c.value for c in app.caption)

    app.slider(key="value_top").set_value(100).run()
    app.slider(key="value_min_churn").set_value(0).run()
    assert_clean_run(app)
    everyone = pd.read_csv(io.BytesIO(downloads["sample_transactions_valuable_at_risk.csv"]), dtype={0: str})
    assert len(everyone) == sample_customers  # top 100% with any churn risk: every customer

    customer = app.selectbox(key="value_customer")
    first = everyone.set_index("customer_id").loc[customer.value]
    assert first["value_at_risk"] == pytest.approx(everyone["value_at_risk"].max(), rel=1e-3)
    assert metrics(app)["Churn probability"] == f"{first['churn_probability']:.1%}"
    assert any("churn risk" in t.value for t in app.text)
    assert f"Why customer {customer.value} is at risk" in plotly_titles(app)


@pytest.mark.slow
def test_backtest_and_model_comparison(app: AppTest) -> None:
    app.run()
    estimated(app)
    default = app.date_input(key="value_backtest_cutoff").value
    app.date_input(key="value_backtest_cutoff").set_value(date(2023, 12, 1)).run()  # no 180-day holdout after it
    app.button(key="value_backtest").click().run()
    assert not app.exception and any("the data must run to 2024-05-29" in e.value for e in app.error)
    assert app.button(key="value_compare")  # the section below still shows
    app.date_input(key="value_backtest_cutoff").set_value(default).run()
    assert_clean_run(app)
    assert any(t.startswith("Orders per customer in the 180-day holdout") for t in plotly_titles(app))
    table = frame(app, "spearman")
    assert list(table["target"]) == ["orders", "orders", "revenue", "revenue"]
    said = next(m.value for m in app.markdown if m.value.startswith("Orders: the model"))
    assert "Revenue: the model" in said and "naive baseline" in said

    app.button(key="value_compare").click().run()
    assert_clean_run(app)
    compared = frame(app, "auroc")
    assert "LightGBM (calibrated)" in set(compared["model"]) and compared["auroc"].between(0, 1).all()
