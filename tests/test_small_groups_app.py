"""Small-group protection in the app, run headless with AppTest on a shop with a planted 4-customer segment: the
Segments, Explain and Value pages name it in a warning and leave the 10-customer segment alone; the Customers page
names the RFM segments its own table shows below k; the fairness panel names a 3-customer country whose count it
blanks; and the session's export folder is held for the session."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_helpers import SEGMENTS, assert_clean_run, csv_bytes, new_app, profiles, upload
from ui import uploads

CUSTOMERS_PAGE = "ui/customers_page.py"
EXPLAIN = "ui/explain_page.py"
VALUE = "ui/value_page.py"
HISTORY = "ui/history_page.py"
LAST = date(2024, 12, 20)


def planted_rows() -> list[str]:
    """60 regular customers (6 small orders a month apart; 40 ordered within the last month, 20 stopped over three
    months ago), 10 big spenders (20 large orders over the
    year) and 4 customers with one tiny order two and a half years ago."""
    rows = []

    def order(customer: str, day: date, quantity: int, price: float) -> None:
        n = len(rows) + 1
        rows.append(
            f"{n},{day:%Y-%m-%d} 10:00,{customer},SKU{n % 7},Item {n % 7},Home,{quantity},{price:.2f},"
            f"United Kingdom,web,{customer.lower()}@example.com"
        )

    for i in range(60):
        for j in range(6):
            order(f"R{i:02d}", LAST - timedelta(days=i % 20 + 30 * j + 100 * (i < 20)), 4 + i % 3, 5.0)
    for i in range(10):
        for j in range(20):
            order(f"B{i:02d}", LAST - timedelta(days=i + 17 * j), 50 + i, 10.0)
    for i in range(4):
        order(f"T{i:02d}", date(2022, 6, 1) + timedelta(days=i), 1, 5.0)
    return rows


def warnings(at: AppTest) -> list[str]:
    """The warnings shown, as read (the pages escape Markdown with backslashes)."""
    return [re.sub(r"\\(.)", r"\1", w.value) for w in at.warning]


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = upload(new_app(), "planted.csv", csv_bytes(planted_rows()))
    at.switch_page(SEGMENTS).run()
    at.slider(key="seg_k").set_value(3).run()
    assert_clean_run(at)
    return at


def small_warning(at: AppTest) -> str:
    found = [w for w in warnings(at) if "fewer than 10 customers" in w]
    assert len(found) == 1, warnings(at)
    return found[0]


def test_segments_page_names_the_4_customer_segment(app: AppTest) -> None:
    app.switch_page(SEGMENTS).run()
    assert len(profiles(app)) == 3
    warning = small_warning(app)
    assert "(4 customers) has fewer than 10 customers" in warning and "(10 customers)" not in warning
    assert "profiles download leaves them blank" in warning
    tiny = [name for name in profiles(app) if f"“{name}”" in warning]
    assert len(tiny) == 1  # the warning names exactly one of the three segments shown


def test_explain_page_names_it_beside_the_segment_profiles(app: AppTest) -> None:
    app.switch_page(EXPLAIN).run()
    assert_clean_run(app)
    warning = small_warning(app)
    assert "(4 customers) has fewer than 10 customers" in warning and "(10 customers)" not in warning


def test_history_page_names_the_segment_and_its_small_moves(app: AppTest) -> None:
    app.switch_page(SEGMENTS).run()
    tiny = next(name for name in profiles(app) if f"“{name}” (4 customers)" in small_warning(app))
    app.switch_page(HISTORY).run()
    assert_clean_run(app)
    assert f"“{tiny}” (4 customers) has fewer than 10 customers" in small_warning(app)
    moves = [c for c in (re.sub(r"\\(.)", r"\1", c.value) for c in app.caption) if c.startswith("Move")]
    assert len(moves) == 1, moves
    assert f"“{tiny} → {tiny}” (4 customers)" in moves[0]


@pytest.mark.slow
def test_value_page_names_it_beside_the_churn_risk_per_segment(app: AppTest) -> None:
    app.switch_page(VALUE).run()
    if any(button.key == "value_estimate" for button in app.button):  # not estimated by this server yet
        app.button(key="value_estimate").click().run()
    assert_clean_run(app)
    warning = small_warning(app)
    assert "(4 customers) has fewer than 10 customers" in warning and "(10 customers)" not in warning
    assert "keep them out of reports you share" in warning


def test_customers_page_names_the_small_rfm_segments_of_its_table(app: AppTest) -> None:
    app.switch_page(CUSTOMERS_PAGE).run()
    assert_clean_run(app)
    table = app.dataframe[0].value
    sizes = dict(zip(table["segment"], table["customers"], strict=True))
    small = {s: n for s, n in sizes.items() if n < 10}
    assert small and any(n >= 10 for n in sizes.values())  # the planted shop has both
    found = [w for w in warnings(app) if "RFM segment" in w]
    assert len(found) == 1, warnings(app)
    for segment, n in sizes.items():
        named = f"“{segment}” ({n} customer" in found[0]
        assert named == (segment in small), (segment, n, found[0])


def saved_run_with_a_tiny_segment() -> None:
    import pandas as pd

    from ui import history_page

    profiles = pd.DataFrame(
        {
            "name": ["Loyal", "Tiny", "Edge"],
            "customers": [50, 3, 10],
            "share": [50 / 63, 3 / 63, 10 / 63],
            "revenue_share": [0.5, 0.1, 0.4],
            "median_monetary": [100.0, 900.0, 40.0],
        },
        index=pd.Index([0, 1, 2], name="segment"),
    )
    info = {"source": "shop.csv", "method": "kmeans", "n_segments": 3, "n_customers": 63, "as_of": None, "config": {}}
    history_page.show_saved_run("r1", info, pd.DataFrame({"segment": [0]}, index=["c1"]), profiles)


def test_history_page_names_the_tiny_segment_of_a_saved_run() -> None:
    at = AppTest.from_function(saved_run_with_a_tiny_segment, default_timeout=60).run()
    assert_clean_run(at)
    assert warnings(at) == [
        "Segment “Tiny” (3 customers) has fewer than 10 customers: its figures could single out a person, so the "
        "profiles download leaves them blank; keep them out of reports you share."
    ]
    assert sorted(at.dataframe[0].value["customers"]) == [3, 10, 50]  # the analyst's own view keeps them
    shown = at.dataframe[0]
    assert sorted(shown.value["revenue_share"]) == [10.0, 40.0, 50.0]  # percent, shown with one decimal
    config = json.loads(shown.proto.columns)
    assert {config[c]["type_config"]["format"] for c in ("share", "revenue_share")} == {"%.1f%%"}


def fairness_with_a_tiny_country() -> None:
    import numpy as np
    import pandas as pd

    from tests.frames import random_transactions
    from ui import fairness_panel

    transactions = random_transactions(0, n_customers=400)
    transactions.loc[transactions["customer_id"].isin(transactions["customer_id"].unique()[:3]), "country"] = "IS"
    customers = transactions["customer_id"].unique()
    segments = pd.Series(np.random.default_rng(0).integers(0, 3, len(customers)), index=customers)
    fairness_panel.show(transactions, segments, key="tiny-country")


def test_fairness_panel_names_the_tiny_country_it_blanks() -> None:
    at = AppTest.from_function(fairness_with_a_tiny_country, default_timeout=120).run()
    assert_clean_run(at)
    groups = at.dataframe[0].value
    assert groups.loc["IS", "suppressed"] and pd.isna(groups.loc["IS", "customers"])
    assert not groups.loc[["UK", "FR"], "suppressed"].any() and groups.loc[["UK", "FR"], "customers"].min() >= 10
    captions = [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]
    assert (
        "Country group “IS” has fewer than 10 customers: its figures could single out a person, so the table "
        "leaves the counts blank and no rate is compared." in captions
    ), captions


def test_the_session_holds_its_export_folder(app: AppTest) -> None:
    folder = Path(app.session_state["export_folder"])
    holders = [session for session, folders in uploads._held.items() if folder in folders]
    assert len(holders) == 1
    (folder / "segments").mkdir(parents=True)
    (folder / "segments" / "generic_segments.csv").write_text("customer_id\nR00\n")
    gone = uploads.release(holders[0])  # the session ends: its upload and its exports go
    # its upload and its exports (AppTest sessions of one test process may share an id, so possibly more)
    assert folder in gone and len(gone) >= 2 and not any(path.exists() for path in gone)
