"""The Streamlit pages, run headless with AppTest: sample, upload with planted dirt, bad uploads."""

from __future__ import annotations

import hashlib

from streamlit.testing.v1 import AppTest

from tests.app_helpers import (
    CLEAN_ROWS,
    CUSTOMERS,
    HEADER,
    assert_clean_run,
    csv_bytes,
    frame,
    metrics,
    plotly_titles,
    upload,
)

PLANTED = {
    "missing_customer_id": "1009,2024-04-03 10:00,,SKU1,Mug,Kitchen,1,5.00,United Kingdom,web,",
    "return_netted": "C1010,2024-04-05 09:00,C001,SKU1,Mug,Kitchen,-1,5.00,United Kingdom,web,a@example.com",
    "exact_duplicate": CLEAN_ROWS[2],
    "non_product_code": "1011,2024-04-06 11:00,C003,POST,Postage,,1,15.00,United Kingdom,app,c@example.com",
}


def test_sample_shows_cleaning_report_and_kpis(app: AppTest) -> None:
    app.run()
    assert_clean_run(app)
    shown = metrics(app)
    assert {"Revenue", "Customers", "Orders", "Products", "First day", "Rows removed"} <= set(shown)
    assert int(shown["Rows read"].replace(",", "")) > int(shown["Rows kept"].replace(",", "")) > 0
    assert not frame(app, "Reason").empty
    assert "Revenue by month" in plotly_titles(app)
    assert "Rows removed or changed, by reason" in plotly_titles(app)


def test_sample_customers_page_shows_rfm_segments(app: AppTest) -> None:
    app.run()
    app.switch_page("ui/customers_page.py").run()
    assert_clean_run(app)
    segments = frame(app, "customer_share")
    assert len(segments) >= 3
    assert segments["customers"].sum() == len(frame(app, "rfm_segment"))
    assert {"Customers per segment", "Share of customers and of revenue"} <= set(plotly_titles(app))


def test_upload_reports_planted_dirt_on_both_pages(app: AppTest) -> None:
    upload(app, "shop.csv", csv_bytes(CLEAN_ROWS + list(PLANTED.values())))
    assert_clean_run(app)
    summary = frame(app, "Reason")
    shown = dict(zip(summary["Reason"], summary["Rows"], strict=True))
    assert shown == {reason.replace("_", " ").capitalize(): 1 for reason in PLANTED}
    assert metrics(app)["Rows read"] == str(len(CLEAN_ROWS) + len(PLANTED))
    assert metrics(app)["Rows removed"] == "3"
    assert metrics(app)["Rows changed"] == "1"
    assert metrics(app)["Customers"] == str(CUSTOMERS)

    app.switch_page("ui/customers_page.py").run()
    assert_clean_run(app)
    table = frame(app, "rfm_segment")
    assert sorted(table.index) == [f"C00{i}" for i in range(1, CUSTOMERS + 1)]
    assert frame(app, "customer_share")["customers"].sum() == CUSTOMERS
    assert table.loc["C001", "monetary"] == 2 * 5.0 + 20.0 - 5.0  # two purchases, one netted return


def test_customer_table_filters(app: AppTest) -> None:
    upload(app, "shop.csv", csv_bytes(CLEAN_ROWS))
    app.switch_page("ui/customers_page.py").run()
    app.text_input(key="customer_search").input("c00").run()
    assert len(frame(app, "rfm_segment")) == CUSTOMERS
    app.text_input(key="customer_search").input("c001").run()
    assert list(frame(app, "rfm_segment").index) == ["C001"]
    segment = frame(app, "rfm_segment")["rfm_segment"].iloc[0]
    app.text_input(key="customer_search").input("").run()
    app.multiselect(key="segment_filter").set_value([segment]).run()
    assert set(frame(app, "rfm_segment")["rfm_segment"]) == {segment}
    assert_clean_run(app)


def test_missing_quantity_column_is_a_readable_error(app: AppTest) -> None:
    header = HEADER.replace(",quantity", "")
    rows = [",".join(r.split(",")[:6] + r.split(",")[7:]) for r in CLEAN_ROWS]
    upload(app, "no_quantity.csv", csv_bytes(rows, header))
    assert not app.exception
    assert any("quantity" in e.value and "no_quantity.csv" in e.value for e in app.error)
    assert not app.metric


def test_unreadable_quantities_show_the_validation_errors(app: AppTest) -> None:
    rows = [",".join([*r.split(",")[:6], "lots", *r.split(",")[7:]]) for r in CLEAN_ROWS]
    upload(app, "text_quantity.csv", csv_bytes(rows))
    assert not app.exception
    assert any("'quantity'" in e.value and "'lots'" in e.value for e in app.error)


def test_mapping_editor_fixes_an_unknown_header(app: AppTest) -> None:
    content = csv_bytes(CLEAN_ROWS, HEADER.replace("customer_id", "buyer_ref"))
    upload(app, "renamed.csv", content)
    assert any("customer_id" in e.value for e in app.error)
    key = f"map_{hashlib.sha256(content).hexdigest()[:16]}_customer_id"
    app.selectbox(key=key).set_value("buyer_ref").run()
    assert_clean_run(app)
    assert metrics(app)["Customers"] == str(CUSTOMERS)


def test_customers_page_without_data_links_back(app: AppTest) -> None:
    app.run()
    app.radio(key="source").set_value("Upload a file").run()
    app.switch_page("ui/customers_page.py").run()
    assert not app.exception
    assert any("No data is loaded" in i.value for i in app.info)
    assert app.get("page_link")
