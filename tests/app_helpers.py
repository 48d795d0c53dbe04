"""What the AppTest modules share: the app, its pages, a small clean shop file and readers of what a run shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_transactions.csv.gz"
"""The embedded sample, tracked in git: a test that needs it fails when it is missing (never skips)."""
SEGMENTS = "ui/segments_page.py"
EXPLAIN = "ui/explain_page.py"
RECOMMEND = "ui/recommend_page.py"
EXPORT = "ui/export_page.py"
HISTORY = "ui/history_page.py"

HEADER = "order_id,order_date,customer_id,sku,product_name,category,quantity,unit_price,country,channel,email"
CLEAN_ROWS = [
    "1001,2024-01-05 10:00,C001,SKU1,Mug,Kitchen,2,5.00,United Kingdom,web,a@example.com",
    "1002,2024-01-20 11:30,C002,SKU2,Plate,Kitchen,1,3.50,France,store,b@example.com",
    "1003,2024-02-02 09:15,C003,SKU3,Lamp,Lighting,1,20.00,United Kingdom,app,c@example.com",
    "1004,2024-02-14 16:00,C001,SKU3,Lamp,Lighting,1,20.00,United Kingdom,web,a@example.com",
    "1005,2024-03-01 12:00,C004,SKU4,Candle,Home,6,2.25,Germany,web,d@example.com",
    "1006,2024-03-09 13:45,C005,SKU1,Mug,Kitchen,3,5.00,United Kingdom,store,e@example.com",
    "1007,2024-03-20 10:10,C002,SKU4,Candle,Home,2,2.25,France,store,b@example.com",
    "1008,2024-04-02 17:05,C006,SKU2,Plate,Kitchen,4,3.50,United Kingdom,app,f@example.com",
]
CUSTOMERS = 6
"""Distinct customers in :data:`CLEAN_ROWS`."""


def new_app(timeout: float = 300) -> AppTest:
    """The whole app (all pages); ``timeout`` is the longest one run may take, not a wait."""
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)


def csv_bytes(rows: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.run()
    at.radio(key="source").set_value("Upload a file").run()
    at.file_uploader(key="upload").set_value((name, content, "text/csv"))
    return at.run()


def segmented(at: AppTest) -> AppTest:
    """Load the sample and show the Segments page once: the other pages use the segmentation it showed."""
    at.run()
    at.switch_page(SEGMENTS).run()
    assert_clean_run(at)
    return at


def open_segments(at: AppTest) -> AppTest:
    """Load the sample (the Data page) and open the Segments page."""
    at.run()
    return at.switch_page(SEGMENTS).run()


def profiles(at: AppTest) -> list[str]:
    """The segment names shown on the profile cards (each card has one rename box holding its name)."""
    return [box.value for box in at.text_input if str(box.key).startswith("segname_")]


def assert_clean_run(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def plotly_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def chart(at: AppTest, title: str) -> dict[str, Any]:
    """The spec of the first chart whose title starts with ``title``."""
    return next(
        spec
        for spec in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
        if spec["layout"]["title"]["text"].startswith(title)
    )


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The first table shown that has ``column`` (plain tables carry no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metrics(at: AppTest) -> dict[str, str]:
    """Metric label -> shown value (a later metric wins over an earlier one with the same label)."""
    return {m.label: m.value for m in at.metric}
