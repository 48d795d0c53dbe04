"""The Data page in Chromium on real-looking files: the currency shown and set, money tiles not cut, partial months."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import TIMEOUT_MS, settled, shot, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDTHS = (1280, 1920)


def format_line(page: Page) -> str:
    return page.get_by_test_id("stCaptionContainer").filter(has_text="Format").first.inner_text()


def tile(page: Page, label: str) -> str:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue").first.inner_text()


def assert_tiles_not_cut(page: Page, name: str) -> None:
    """At each width, every KPI value fits its tile (no ellipsis), screenshot kept."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 2400})
        settled(page)
        cut = page.get_by_test_id("stMetricValue").evaluate_all(
            "els => els.filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))"
            ".map(e => e.innerText)"
        )
        assert not cut, f"cut at {width} px: {cut}"
        shot(page, f"currency-{name}-{width}")


def choose_currency(page: Page, code: str) -> None:
    options = page.get_by_test_id("stExpander").filter(has_text="Reading and cleaning options")
    options.locator("summary").click()
    # the combobox itself, as the analyst clicks it (a click on the widget's middle could fall beside it)
    options.get_by_test_id("stSelectbox").filter(has_text="Currency").locator("input").click()
    page.get_by_role("option").filter(has_text=f"{code} ·").first.click()


def test_online_retail_revenue_in_pounds_once_the_analyst_sets_them(
    page: Page, app_url: str, online_retail_path
) -> None:
    page.goto(app_url)
    settled(page, page.get_by_role("heading", name="Data"))
    upload(page, online_retail_path)
    assert "Currency not stated in the file" in format_line(page)
    assert not tile(page, "Revenue").startswith("£")
    choose_currency(page, "GBP")
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="Currency GBP (set by you)")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    settled(page, page.get_by_text("December 2011 has data for 9 of 31 days"))
    assert tile(page, "Revenue").startswith("£") and tile(page, "Revenue").endswith("M")  # compact: "£8.30M"
    assert tile(page, "Average order").startswith("£")
    assert "," in tile(page, "Customers")
    assert_tiles_not_cut(page, "online-retail")


def euro_file(folder: Path) -> Path:
    """A synthetic shop of another currency and date range: semicolons, "3,50 €" prices, mid-March to mid-February."""
    from segmentation.synthetic import SyntheticSpec, write_sample

    plain = folder / "plain.csv"
    write_sample(plain, SyntheticSpec(n_customers=400, n_products=60, start="2023-03-15", end="2024-02-10", seed=3))
    frame = pd.read_csv(plain, dtype=str)
    frame["unit_price"] = frame["unit_price"].map(lambda p: f"{float(p):.2f}".replace(".", ",") + " €")
    path = folder / "boutique_paris.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def test_a_euro_file_shows_euros_and_both_partial_months(page: Page, app_url: str, tmp_path: Path) -> None:
    page.goto(app_url)
    settled(page, page.get_by_role("heading", name="Data"))
    upload(page, euro_file(tmp_path))
    assert "Currency EUR (from the prices)" in format_line(page)
    assert tile(page, "Revenue").startswith("€")
    settled(page, page.get_by_text("March 2023 has data for 17 of 31 days; February 2024 has data for 10 of 29 days"))
    assert_tiles_not_cut(page, "euro-file")
