"""Cancel in a real Chromium: a long computation stops soon after Cancel is pressed, the page says it was cancelled,
shows no partial result and stays usable; what was computed before is still there. The training is cancelled on
the page the cancelled evaluation left."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import TIMEOUT_MS, open_page, settled, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.one_tab,
]
CANCEL_WITHIN_S = 30
"""From pressing Cancel to the page saying so; the progress updates (each model, epoch or iteration) are the only
points where Streamlit can stop the run, so this bounds the longest step between two of them."""


def test_cancelling_the_evaluation_stops_it_and_keeps_the_page_usable(page: Page) -> None:
    open_page(page, "Recommend", page.get_by_text("Top products per segment"))
    settled(page, page.get_by_text("Recommended to"))  # the default model has trained: the page is idle
    lists_before = page.get_by_text("Top products per segment")

    page.get_by_role("tab", name="How good is each model?").click()
    page.get_by_role("button", name="Evaluate the quick models").click()
    page.mouse.move(0, 0)  # the button's help tooltip would stay over the Cancel button drawn in its place
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible(timeout=TIMEOUT_MS)
    # mid-way: the progress bar, with the time so far, has moved on to a model's own iterations (ALS, then BPR's
    # epochs: the quick evaluation takes about 4 s on the sample, the first iterations come after about 1 s)
    expect(page.get_by_text(re.compile(r"Evaluating \(\d+ s.*\): .+: "))).to_be_visible(timeout=TIMEOUT_MS)
    pressed = time.monotonic()
    cancel.click()
    expect(page.get_by_text(re.compile(r"^Cancelled"))).to_be_visible(timeout=CANCEL_WITHIN_S * 1000)
    settled(page, page.get_by_role("button", name="Evaluate the quick models"), timeout=CANCEL_WITHIN_S * 1000)
    elapsed = time.monotonic() - pressed
    assert elapsed < CANCEL_WITHIN_S, f"the evaluation stopped {elapsed:.0f} s after Cancel"
    expect(page.get_by_text(re.compile(r"^Best for "))).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Evaluating"))).to_have_count(0)
    shot(page, "cancel-01-evaluation-cancelled")

    # still usable, and the lists computed before the evaluation are still shown
    page.get_by_role("tab", name="By segment").click()
    settled(page, lists_before, page.get_by_text("Recommended to"))
    page.get_by_role("tab", name="By customer").click()
    settled(page, page.get_by_text("Top products for one customer"))


def test_cancelling_a_training_goes_back_to_the_model_trained_before(page: Page) -> None:
    open_page(page, "Recommend")  # the page the evaluation's test left, or a fresh one when run alone
    page.get_by_role("tab", name="By segment").click()
    settled(page, page.get_by_text("Top products per segment"), page.get_by_text("Recommended to"))
    page.get_by_role("radio", name="GRU sequence").click()
    cancel = page.get_by_role("button", name="Cancel")
    expect(page.get_by_text(re.compile(r"Training GRU sequence \(\d+ s.*\): epoch"))).to_be_visible(timeout=TIMEOUT_MS)
    pressed = time.monotonic()
    cancel.click()
    expect(page.get_by_text("Training GRU sequence cancelled; back to EASE.")).to_be_visible(
        timeout=CANCEL_WITHIN_S * 1000
    )
    settled(
        page, page.get_by_text("item-to-item weights learned in closed form (EASE)"), timeout=CANCEL_WITHIN_S * 1000
    )
    assert time.monotonic() - pressed < CANCEL_WITHIN_S
    expect(page.get_by_role("radio", name="EASE")).to_be_checked()  # the default model, trained first
    expect(page.get_by_test_id("stDownloadButton").filter(has_text="All segment lists")).to_be_visible()
    shot(page, "cancel-02-training-cancelled")
