"""Explain, Export and History in a real Chromium on the sample: a customer's waterfall, a CRM file, the Sankey."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

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
TALL = {"width": 1440, "height": 4200}  # the page scrolls inside its own container: a tall window shows it all


def open_page(tab: Page, title: str) -> None:
    tab.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(tab.get_by_role("heading", name=title, exact=True)).to_be_visible()


def segmented(tab: Page, app_url: str) -> None:  # noqa: F811
    """Load the sample and open the Segments page once: the other pages use the segmentation it shows."""
    tab.set_viewport_size(TALL)
    tab.goto(app_url)
    expect(tab.get_by_text(re.compile(r"[\d,]+ of [\d,]+ rows kept"))).to_be_visible()
    open_page(tab, "Segments")
    expect(chart(tab, SCATTER).locator("g.legend g.traces").first).to_be_visible()
    settled(tab)


def test_explain_a_customer(page: Page, app_url: str) -> None:  # noqa: F811
    segmented(page, app_url)
    started = time.perf_counter()
    open_page(page, "Explain")
    expect(page.get_by_text("How faithful are the surrogates?")).to_be_visible()
    expect(chart(page, "Feature importance per segment").locator("g.barlayer").first).to_be_visible()
    settled(page)
    first_render = time.perf_counter() - started
    cards = page.get_by_text("Drivers", exact=True)
    expect(cards.first).to_be_visible()
    shot(page, "explain-01-segments-and-importance")

    picker = page.get_by_test_id("stSelectbox").filter(has_text="Customer")
    picker.locator("input").click()
    page.keyboard.type("C0006")
    page.get_by_role("option").first.click()
    expect(chart(page, "Why this customer is in").locator("g.waterfalllayer")).to_be_visible()
    settled(page)
    shot(page, "explain-02-customer-waterfall")

    page.get_by_role("radio", name="CatBoost").click()
    expect(page.get_by_text(re.compile("according to CatBoost"))).to_be_visible()
    expect(chart(page, "Why this customer is in").locator("g.waterfalllayer")).to_be_visible()
    settled(page)
    shot(page, "explain-03-catboost")
    assert not page.get_by_test_id("stException").count()
    print(f"Explain page: first render (both surrogates trained) {first_render:.1f} s")


def test_export_for_a_crm_and_download(page: Page, app_url: str, tmp_path: Path) -> None:  # noqa: F811
    segmented(page, app_url)
    open_page(page, "Export")
    page.get_by_role("radio", name="Mailchimp").click()
    expect(page.get_by_text("Email Address", exact=True).first).to_be_visible()  # the preview's first header
    expect(page.get_by_text("mailchimp_segments.csv", exact=False).first).to_be_visible()
    settled(page)
    shown = page.get_by_text(re.compile(r"^[\d,]+ customers in 1 file")).inner_text()
    rows = int(shown.split()[0].replace(",", ""))
    shot(page, "export-01-mailchimp")

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="mailchimp_segments.csv").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with open(path, encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][0] == "Email Address" and "Tags" in lines[0]
    assert len(lines) - 1 == rows > 0
    assert all("@" in line[0] for line in lines[1:])

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="manifest").click()
    assert download.value.suggested_filename == "mailchimp_segments.manifest.json"
    assert not page.get_by_test_id("stException").count()


def test_history_shows_the_sankey(page: Page, app_url: str) -> None:  # noqa: F811
    segmented(page, app_url)
    open_page(page, "History")
    expect(chart(page, "Customers per segment over time").locator("g.legend g.traces").first).to_be_visible()
    sankey = page.get_by_test_id("stPlotlyChart").filter(has=page.locator("g.sankey"))
    expect(sankey.locator("g.sankey-node").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"[\d,]+ customers were in"))).to_be_visible()
    settled(page)
    shot(page, "history-01-migration")
    assert not page.get_by_test_id("stException").count()
