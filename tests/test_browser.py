"""The dashboard in a real Chromium: upload through the file uploader, read the reports, see the segments."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_helpers import open_page, settled, shot, title, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def write_export(path: Path, customers: int = 120, seed: int = 7) -> Path:
    """A year of order lines of a small shop, with a guest order and a cancellation planted."""
    rng = random.Random(seed)
    products = [
        (f"SKU{i:03d}", f"Product {i}", rng.choice(["Kitchen", "Home", "Garden"]), 2 + i % 17) for i in range(40)
    ]
    lines = ["order_id,order_date,customer_id,sku,product_name,category,quantity,unit_price,country,channel"]
    start, order = datetime(2024, 1, 1), 5000
    for customer in range(customers):
        country = rng.choice(["United Kingdom"] * 6 + ["France", "Germany", "Spain"])
        for _ in range(1 + int(rng.expovariate(0.4))):
            order += 1
            day = start + timedelta(days=rng.randrange(365), minutes=rng.randrange(600, 1200))
            for sku, name, category, price in rng.sample(products, rng.randint(1, 4)):
                lines.append(
                    f"{order},{day:%Y-%m-%d %H:%M},K{customer:04d},{sku},{name},{category},"
                    f"{rng.randint(1, 6)},{price}.50,{country},{rng.choice(['web', 'app', 'store'])}"
                )
    first = lines[1].split(",")
    lines.append(f"{order + 1},2024-12-30 10:00,,SKU001,Product 1,Kitchen,1,3.50,United Kingdom,web")
    lines.append(",".join(["C" + first[0], "2024-12-31 09:00", *first[2:6], "-1", *first[7:]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_upload_clean_and_segment(page: Page, app_url: str, tmp_path: Path) -> None:
    page.goto(app_url)
    settled(page, page.get_by_role("heading", name="Data"), page.get_by_test_id("stAlert"))  # the sample, or why not
    shot(page, "01-data-start")

    upload(page, write_export(tmp_path / "shop_export.csv"))
    shot(page, "02-data-overview")

    page.get_by_role("tab", name="Cleaning report").click()
    settled(page, title(page, "Rows removed or changed, by reason"), page.get_by_test_id("stDownloadButton"))
    shot(page, "03-cleaning-report")

    open_page(page, "Customers", title(page, "Customers per segment"), page.locator("g.slice"))  # treemap tiles
    shot(page, "04-customers")

    open_page(page, "Data", page.get_by_text(re.compile(r"shop_export\.csv: [\d,]+ of [\d,]+ rows kept")))  # kept
    shot(page, "05-data-again")
