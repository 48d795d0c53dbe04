"""Explain, Export and History in a real Chromium on the sample: a customer's waterfall, a CRM file, the Sankey.
The three pages are visited in one session segmented once, as an analyst would (a session per test segmented the
sample three times)."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_helpers import TRAINING_MS, chart, open_page, settled, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.one_tab,
]


def test_explain_a_customer(page: Page) -> None:
    started = time.perf_counter()
    importance = chart(page, "Feature importance per segment").locator("g.barlayer")
    faithful = page.get_by_text("How faithful are the surrogates?")
    open_page(page, "Explain", faithful, importance, timeout=TRAINING_MS)  # it trains both surrogates
    first_render = time.perf_counter() - started
    settled(page, page.get_by_text("Drivers", exact=True))
    shot(page, "explain-01-segments-and-importance")

    picker = page.get_by_test_id("stSelectbox").filter(has_text="Customer")
    picker.locator("input").click()
    page.keyboard.type("C0006")
    option = page.get_by_role("option").first
    customer = re.search(r"C\d+", option.inner_text())[0]
    option.click()
    waterfall = chart(page, "Why this customer is in").locator("g.waterfalllayer")
    settled(page, page.get_by_text(f"Customer {customer} is in"), waterfall)
    shot(page, "explain-02-customer-waterfall")

    page.get_by_role("radio", name="CatBoost").click()
    settled(page, page.get_by_text(re.compile("according to CatBoost")), waterfall)
    shot(page, "explain-03-catboost")
    print(f"Explain page: first render (both surrogates trained) {first_render:.1f} s")


def test_export_for_a_crm_and_download(page: Page, tmp_path: Path) -> None:
    open_page(page, "Export")
    page.get_by_role("radio", name="Mailchimp").click()
    settled(
        page,
        page.get_by_text("Email Address", exact=True),  # the preview's first header
        page.get_by_text(re.compile(r"customers in 1 file: mailchimp_segments\.csv")),
    )
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


def test_history_shows_the_sankey(page: Page) -> None:
    sankey = page.get_by_test_id("stPlotlyChart").filter(has=page.locator("g.sankey")).locator("g.sankey-node")
    open_page(
        page,
        "History",
        chart(page, "Customers per segment over time").locator("g.legend g.traces"),
        sankey,
        page.get_by_text(re.compile(r"[\d,]+ customers were in")),
    )
    shot(page, "history-01-migration")
