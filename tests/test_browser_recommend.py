"""Recommend in a real Chromium on the sample: a segment's products, a customer's list, training with progress, churn
risk from the Value page's model and the quick evaluation table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import TALL, TRAINING_MS, open_page, segmented, settled, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]


def test_recommend_for_a_segment_and_a_customer(page: Page, app_url: str) -> None:
    page.set_viewport_size(TALL)
    segmented(page, app_url)
    open_page(page, "Recommend", page.get_by_text("Top products per segment"), page.get_by_text("Recommended to"))
    settled(page, page.get_by_text("Recommended to"))  # the default model has trained: the page is idle

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
    settled(
        page,
        page.get_by_text("Top products for one customer"),
        page.get_by_test_id("stMetric").filter(has_text="Orders"),
    )
    shot(page, "recommend-02-customer")

    page.get_by_role("radio", name="GRU sequence").click()
    settled(page, page.get_by_text(re.compile(r"recurrent network")), timeout=TRAINING_MS)
    shot(page, "recommend-03-gru")

    page.get_by_role("tab", name="Churn risk").click()
    # before it starts: the caption and the estimate, once the tab's run has settled (under load it can take
    # longer than expect's own 5 s)
    settled(
        page,
        page.get_by_text(re.compile(r"The churn model of the Value page")),
        page.get_by_text(re.compile(r"^Usually .+ on this file\.$")),
    )
    page.get_by_role("button", name="Estimate churn risk").click()
    settled(
        page, page.get_by_test_id("stDownloadButton").filter(has_text="Churn risk per customer"), timeout=TRAINING_MS
    )
    shot(page, "recommend-04-churn")

    page.get_by_role("tab", name="How good is each model?").click()
    expect(page.get_by_text(re.compile(r"The full evaluation, with the sequence models too"))).to_be_visible()
    page.get_by_role("button", name="Evaluate the quick models").click()
    settled(page, page.get_by_text(re.compile(r"Best for products new to the customer")), timeout=TRAINING_MS)
    shot(page, "recommend-05-evaluation")
