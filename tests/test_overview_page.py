"""The Data page's overview in AppTest: the currency shown and settable, money in it, partial months marked."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app_helpers import CLEAN_ROWS, HEADER, assert_clean_run, chart, csv_bytes, metrics, upload


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_file_in_euros_shows_euros_and_its_partial_months(app: AppTest) -> None:
    rows = []
    for row in CLEAN_ROWS:  # semicolons, decimal commas and a trailing euro sign: "5,00 €"
        cells = row.split(",")
        cells[7] = cells[7].replace(".", ",") + " €"
        rows.append(";".join(cells))
    upload(app, "shop.csv", csv_bytes(rows, HEADER.replace(",", ";")))
    assert_clean_run(app)
    assert "**Currency** EUR (from the prices)" in captions(app)
    shown = metrics(app)
    assert shown["Revenue"].startswith("€") and shown["Average order"].startswith("€")
    assert "in Euro (EUR)" in captions(app)
    revenue = chart(app, "Revenue by month")
    names = [trace.get("name") for trace in revenue["data"]]
    assert "Partial month" in names  # 5 January to 2 April 2024: both ends are partial
    assert revenue["layout"]["yaxis"]["tickprefix"] == "€"
    assert "January 2024 has data for 27 of 31 days; April 2024 has data for 2 of 30 days" in captions(app)


def test_the_analyst_sets_the_currency_the_sample_does_not_state(app: AppTest) -> None:
    app.run()
    assert_clean_run(app)
    assert "**Currency** not stated in the file" in captions(app)
    assert "does not say its currency" in captions(app)
    assert not metrics(app)["Revenue"].startswith("£")
    app.selectbox(key="opt_currency").set_value("GBP").run()
    assert_clean_run(app)
    assert "**Currency** GBP (set by you)" in captions(app)
    revenue = metrics(app)["Revenue"]
    assert revenue.startswith("£") and revenue[-1] in "KMB"  # compact: "£1.23M"
    assert "," in metrics(app)["Rows kept"]  # thousands separators


def test_a_currency_column_is_mapped_and_its_minor_unit_used(app: AppTest) -> None:
    rows = [f"{row},JPY" for row in CLEAN_ROWS]
    upload(app, "tokyo.csv", csv_bytes(rows, HEADER + ",currency"))
    assert_clean_run(app)
    assert "**Currency** JPY (from column 'currency')" in captions(app)
    mapped = next(k for k in keys(app) if k.startswith("map_") and k.endswith("_currency"))
    assert app.selectbox(key=mapped).value == "currency"
    average = metrics(app)["Average order"]
    assert average.startswith("¥") and "." not in average  # the yen has no minor unit


def keys(at: AppTest) -> list[str]:
    return [str(box.key) for box in at.selectbox if box.key]
