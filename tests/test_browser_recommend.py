"""Recommend in a real Chromium on the sample: a segment's products, a customer's list, training with progress, churn
risk and the evaluation table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.test_app import SAMPLE
from tests.test_browser import app_url, browser, page, settled, shot  # noqa: F401  (fixtures: the server and Chromium)
from tests.test_browser_explain_export import open_page, segmented

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not SAMPLE.is_file(), reason="data/sample_transactions.csv.gz has not been generated"),
]
TRAINING_MS = 240_000  # the GRU trains for about 20 s on an idle 2-core machine; the suite's other worker slows it


def test_recommend_for_a_segment_and_a_customer(page: Page, app_url: str) -> None:  # noqa: F811
    segmented(page, app_url)
    open_page(page, "Recommend")
    expect(page.get_by_text("Top products per segment")).to_be_visible()
    expect(page.get_by_text("Recommended to").first).to_be_visible()
    settled(page)

    picker = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Segment", exact=True))
    picker.locator("input").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    second = options.nth(1).inner_text()
    options.nth(1).click()
    expect(picker.get_by_role("combobox")).to_have_value(second)
    settled(page)
    shot(page, "recommend-01-segment")

    page.get_by_role("tab", name="By customer").click()
    expect(page.get_by_text("Top products for one customer")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Orders")).to_be_visible()
    settled(page)
    shot(page, "recommend-02-customer")

    page.get_by_role("radio", name="GRU sequence").click()
    expect(page.get_by_text(re.compile(r"Training GRU sequence"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"recurrent network")).first).to_be_visible(timeout=TRAINING_MS)
    expect(page.get_by_test_id("stProgress")).to_have_count(0, timeout=TRAINING_MS)
    expect(page.get_by_text("Making the segment lists…")).to_have_count(0, timeout=TRAINING_MS)
    settled(page)
    shot(page, "recommend-03-gru")

    page.get_by_role("tab", name="Churn risk").click()
    page.get_by_role("button", name="Estimate churn risk").click()
    expect(page.get_by_test_id("stDownloadButton").filter(has_text="Churn risk per customer")).to_be_visible(
        timeout=TRAINING_MS
    )
    settled(page)
    shot(page, "recommend-04-churn")

    page.get_by_role("tab", name="How good is each model?").click()
    page.get_by_role("button", name="Evaluate all models").click()
    expect(page.get_by_text(re.compile(r"Best by NDCG@10 at this cutoff"))).to_be_visible(timeout=TRAINING_MS)
    settled(page)
    shot(page, "recommend-05-evaluation")
    assert not page.get_by_test_id("stException").count()
