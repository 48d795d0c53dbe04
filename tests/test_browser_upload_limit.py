"""The upload limit in a real Chromium: a small gzip file that expands past the limit is refused on the Data page
from its size alone, with the limit and the command-line alternative, and the page stays usable."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from segmentation.limits import MAX_UPLOAD_MB
from tests.browser_helpers import ROWS_KEPT, settled, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def expanding_file(path: Path, mb: int) -> Path:
    """A gzip CSV whose text is ``mb`` MB: a header and the same line over and over (it compresses ~1000:1)."""
    line = b"C1,1,2024-01-01,P1,1,1.00\n"
    block = line * ((1 << 20) // len(line))
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(b"customer_id,order_id,order_date,sku,quantity,unit_price\n")
        for _ in range(mb):
            out.write(block)
    return path


def test_an_upload_that_expands_past_the_limit_is_refused_before_reading(page: Page, app_url: str, tmp_path) -> None:
    big = expanding_file(tmp_path / "huge.csv.gz", MAX_UPLOAD_MB + 20)
    page.goto(app_url)
    settled(page, page.get_by_text(ROWS_KEPT))
    page.get_by_test_id("stRadio").get_by_text("Upload a file").click()
    settled(page, page.get_by_text("Upload an export with one row per order line"))
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(big)
    refusal = page.get_by_test_id("stAlertContentError")
    settled(page, refusal)
    text = refusal.get_by_test_id("stMarkdownContainer").inner_text()
    assert text.startswith(f"huge.csv.gz: {big.stat().st_size / 2**20:,.1f} MB, which expands to more than the ")
    assert f"{MAX_UPLOAD_MB:,} MB this app reads from an upload" in text
    assert "segment validate FILE" in text and "segment run CONFIG" in text
    expect(page.get_by_text(ROWS_KEPT)).to_have_count(0)  # nothing was read
    shot(page, "upload-limit-01-refused")

    page.get_by_test_id("stRadio").get_by_text("Use the sample data").click()
    settled(page, page.get_by_text(ROWS_KEPT))
