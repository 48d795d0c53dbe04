"""Two analysts at once on one server, each with a different file: every page of each session shows its own data."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser_helpers import (
    ROWS_KEPT,
    SCATTER,
    analyst_file,
    chart,
    customers_kpi,
    exported_customers,
    loaded,
    segment_sizes,
    settled,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMERS = (90, 140)  # one file per session; different counts, so data shown in the wrong session is caught


def test_two_sessions_each_see_their_own_upload(browser: Browser, app_url: str, tmp_path: Path) -> None:
    files = [analyst_file(tmp_path, n, seed) for seed, n in enumerate(CUSTOMERS)]
    contexts = [browser.new_context(viewport={"width": 1440, "height": 4200}) for _ in files]
    tabs = [context.new_page() for context in contexts]
    try:
        # every step acts in both sessions first and then waits for both, so the two scripts run at the same time
        for tab in tabs:
            tab.goto(app_url)
        for tab in tabs:
            settled(tab, tab.get_by_text(ROWS_KEPT))
            tab.get_by_test_id("stRadio").get_by_text("Upload a file").click()
        for tab, path in zip(tabs, files, strict=True):
            settled(tab, tab.get_by_text("Upload an export with one row per order line"))
            tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
        for tab, path in zip(tabs, files, strict=True):
            settled(tab, loaded(tab, path.name))
        assert [customers_kpi(tab) for tab in tabs] == list(CUSTOMERS)

        for tab in tabs:
            tab.get_by_test_id("stSidebarNav").get_by_text("Segments", exact=True).click()
        for tab, path in zip(tabs, files, strict=True):
            settled(tab, tab.get_by_text(f"similar customers in {path.name}"), chart(tab, SCATTER))
        assert [sum(segment_sizes(tab)) for tab in tabs] == list(CUSTOMERS)

        for tab in tabs:
            tab.get_by_test_id("stSidebarNav").get_by_text("Export", exact=True).click()
        for tab, path in zip(tabs, files, strict=True):
            settled(
                tab, tab.get_by_text(f"segments of {path.name} into your CRM"), tab.get_by_text(" customers in 1 file")
            )
        assert [exported_customers(tab) for tab in tabs] == list(CUSTOMERS)

        tabs[0].get_by_test_id("stSidebarNav").get_by_text("Data", exact=True).click()
        settled(tabs[0], loaded(tabs[0], files[0].name))  # still its own file after the other session's work
        assert customers_kpi(tabs[0]) == CUSTOMERS[0]
    finally:
        for context in contexts:
            context.close()
