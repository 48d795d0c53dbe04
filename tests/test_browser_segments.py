"""The Segments page in a real Chromium on the sample: pick a method, change k, rename, see charts and cards follow."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import ROWS_KEPT, SCATTER, chart, open_page, settled, shot, title

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]

TALL = {"width": 1440, "height": 5200}  # the page scrolls inside its own container: a tall window shows it all


def test_choose_method_change_k_and_rename(page: Page, app_url: str) -> None:
    page.set_viewport_size(TALL)
    page.goto(app_url)
    settled(page, page.get_by_text(ROWS_KEPT))

    started = time.perf_counter()
    legend = chart(page, SCATTER).locator("g.legend g.traces")
    open_page(page, "Segments", legend, title(page, "Silhouette: higher is better"))
    first_render = time.perf_counter() - started
    cards = page.get_by_role("textbox", name="Rename")
    k = int(page.get_by_role("slider", name=re.compile("Number of segments")).input_value())
    expect(cards).to_have_count(k)
    expect(legend).to_have_count(k)
    shot(page, "segments-01-kmeans-recommended-k")

    page.get_by_role("radio", name="Gaussian mixture").click()
    settled(page, title(page, "How sure each assignment is"), page.get_by_text("Sure assignments"))
    shot(page, "segments-02-gmm")

    slider = page.get_by_role("slider", name=re.compile("Number of segments"))
    slider.focus()
    started = time.perf_counter()
    for _ in range(k - 4):
        page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("4")
    expect(cards).to_have_count(4)  # the new state; let its run finish, then check that it held
    settled(page, legend.nth(3))
    expect(cards).to_have_count(4)
    expect(legend).to_have_count(4)
    change_k = time.perf_counter() - started
    shot(page, "segments-03-gmm-k4")

    cards.first.fill("Dormant bargain hunters")
    cards.first.press("Enter")
    settled(page, chart(page, SCATTER).locator("g.legend").get_by_text("Dormant bargain hunters"))
    shot(page, "segments-04-renamed")

    page.get_by_role("radio", name="HDBSCAN").click()
    settled(page, page.get_by_text("Unassigned (noise share)"))
    shot(page, "segments-05-hdbscan")
    print(f"Segments page: first render {first_render:.1f} s, k change {change_k:.1f} s")
