"""The Value page in a real Chromium on an uploaded file: the estimate with its steps and Cancel, the charts, the
audience download, one customer's reasons and the backtest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import TRAINING_MS, analyst_file, chart, number, open_page, settled, shot, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TALL = {"width": 1440, "height": 5200}  # the page scrolls inside its own container: a tall window shows it all


def test_value_page_on_an_uploaded_file(page: Page, app_url: str, tmp_path: Path) -> None:
    page.set_viewport_size(TALL)
    path = analyst_file(tmp_path, customers=600, seed=3)
    page.goto(app_url)
    upload(page, path)
    open_page(page, "Value", page.get_by_role("button", name="Estimate value and churn"))
    expect(page.get_by_text(re.compile("compiles the models"))).to_be_visible()

    # Cancel during the value model's fit: the page says so, shows no result and offers the button again
    page.get_by_role("button", name="Estimate value and churn").click()
    expect(page.get_by_text(re.compile("Step 2 of 2"))).to_be_visible(timeout=TRAINING_MS)
    page.get_by_role("button", name="Cancel").click()
    settled(page, page.get_by_text(re.compile("^Cancelled")), timeout=TRAINING_MS)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(0)
    shot(page, "value-00-cancelled")

    page.get_by_role("button", name="Estimate value and churn").click()
    clv = chart(page, "Predicted CLV over 365 days")
    settled(page, clv, chart(page, "P(alive) by days since the last order"), timeout=TRAINING_MS)
    expect(page.get_by_text(re.compile(r"Estimated [\d,]+ customers \(\d+ s\)"))).to_be_visible()
    title = clv.locator("text.gtitle-subtitle").text_content()  # the total under the title
    tile = page.get_by_test_id("stMetric").filter(has=page.get_by_text("Customers", exact=True))
    customers = number(tile.get_by_test_id("stMetricValue").inner_text())
    assert f"{customers:,} customers" in title and 0 < customers <= 600
    expect(page.get_by_test_id("stDownloadButton").filter(has_text="Download this audience")).to_be_visible()
    expect(chart(page, "Why customer")).to_be_visible()
    expect(page.get_by_text("There is no segmentation yet")).to_be_visible()  # nothing segmented in this session
    shot(page, "value-01-estimate")

    page.get_by_role("button", name="Run the backtest").click()
    settled(page, chart(page, "Orders per customer in the 180-day holdout"), timeout=TRAINING_MS)
    shot(page, "value-02-backtest")
