"""The Segments page in a real Chromium on the sample: pick a method, change k, rename, see charts and cards follow."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.test_app import SAMPLE
from tests.test_browser import app_url, browser, chart, page, settled, shot  # noqa: F401  (fixtures: the server and Chromium)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not SAMPLE.is_file(), reason="data/sample_transactions.csv.gz has not been generated"),
]

SCATTER = "Customers on a map of the chosen features"
TALL = {"width": 1440, "height": 5200}  # the page scrolls inside its own container: a tall window shows it all


def test_choose_method_change_k_and_rename(page: Page, app_url: str) -> None:  # noqa: F811
    page.set_viewport_size(TALL)
    page.goto(app_url)
    expect(page.get_by_text(re.compile(r"[\d,]+ of [\d,]+ rows kept"))).to_be_visible()

    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text("Segments").click()
    expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible()
    expect(chart(page, SCATTER).locator("g.legend g.traces").first).to_be_visible()
    settled(page)
    first_render = time.perf_counter() - started
    expect(page.locator("text.gtitle", has_text="Silhouette: higher is better")).to_be_visible()
    cards = page.get_by_role("textbox", name="Rename")
    k = int(page.get_by_role("slider", name=re.compile("Number of segments")).input_value())
    expect(cards).to_have_count(k)
    expect(chart(page, SCATTER).locator("g.legend g.traces")).to_have_count(k)
    shot(page, "segments-01-kmeans-recommended-k")

    page.get_by_role("radio", name="Gaussian mixture").click()
    expect(page.locator("text.gtitle", has_text="How sure each assignment is")).to_be_visible()
    expect(page.get_by_text("Sure assignments")).to_be_visible()
    settled(page)
    shot(page, "segments-02-gmm")

    slider = page.get_by_role("slider", name=re.compile("Number of segments"))
    slider.focus()
    started = time.perf_counter()
    for _ in range(k - 4):
        page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("4")
    expect(cards).to_have_count(4)
    expect(chart(page, SCATTER).locator("g.legend g.traces")).to_have_count(4)
    settled(page)
    change_k = time.perf_counter() - started
    shot(page, "segments-03-gmm-k4")

    cards.first.fill("Dormant bargain hunters")
    cards.first.press("Enter")
    expect(chart(page, SCATTER).locator("g.legend").get_by_text("Dormant bargain hunters")).to_be_visible()
    settled(page)
    shot(page, "segments-04-renamed")

    page.get_by_role("radio", name="HDBSCAN").click()
    expect(page.get_by_text("Unassigned (noise share)")).to_be_visible()
    settled(page)
    shot(page, "segments-05-hdbscan")
    assert not page.get_by_test_id("stException").count()
    print(f"Segments page: first render {first_render:.1f} s, k change {change_k:.1f} s")
