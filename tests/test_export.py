"""CRM export shapes against their import rules, injection, atomic writes, manifests, round trips."""

from __future__ import annotations

import csv
import json
import os
from datetime import date

import pandas as pd
import pytest

from segmentation.errors import ConfigError, InputError
from segmentation.export import SHAPES, export_segments, export_table, neutralise, safe_csv, write_csv_atomic

INJECTION = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=cmd|' /C calc'!A0"]


def table(n: int = 6, emails: bool = True) -> pd.DataFrame:
    assignments = pd.DataFrame(
        {
            "segment": [i % 3 for i in range(n)],
            "segment_name": ["Recent high spenders", "Lapsed, one-timers", "New"] * (n // 3),
            "probability": [0.9] * n,
        },
        index=pd.Index([f"{i:05d}" for i in range(n)], name="customer_id"),
    )
    rfm = pd.DataFrame(
        {
            "rfm_segment": "Champions",
            "r_score": 5,
            "f_score": 4,
            "m_score": 3,
            "recency_days": 3.5,
            "frequency": 7,
            "monetary": -5.25,
        },
        index=assignments.index,
    )
    email = pd.Series([f"c{i}@example.com" for i in range(n)], index=assignments.index) if emails else None
    recs = pd.Series([["22633", "85123A"]] * n, index=assignments.index)
    return export_table(assignments, rfm, email, recs, run_id="run-1", run_date=date(2024, 3, 1))


def read(path) -> list[list[str]]:
    raw = path.read_bytes()
    raw.decode("utf-8")  # UTF-8 or this raises
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize(
    ("crm", "identifier"),
    [("hubspot", "Email"), ("salesforce", "Email"), ("mailchimp", "Email Address"), ("klaviyo", "Email")],
)
def test_each_crm_gets_its_identifier_header_first_and_iso_dates(crm, identifier, tmp_path) -> None:
    result = export_segments(table(), crm, tmp_path)
    rows = read(result.files[0])
    assert rows[0][0] == identifier
    assert len(rows) == 7
    date_header = SHAPES[crm].headers["run_date"]
    assert rows[1][rows[0].index(date_header)] == "2024-03-01"
    assert (
        rows[0][rows[0].index(SHAPES[crm].headers["customer_id"])]
        and rows[1][rows[0].index(SHAPES[crm].headers["customer_id"])] == "00000"
    )


def test_salesforce_uses_custom_field_api_names_and_semicolon_lists(tmp_path) -> None:
    rows = read(export_segments(table(), "salesforce", tmp_path).files[0])
    header = rows[0]
    assert "Customer_ID__c" in header and "Segment__c" in header
    assert rows[1][header.index("Recommended_Products__c")] == "22633;85123A"


def test_mailchimp_tags_and_text_limit(tmp_path) -> None:
    frame = table()
    frame.loc[0, "top_products"] = "x" * 400
    rows = read(export_segments(frame, "mailchimp", tmp_path).files[0])
    header = rows[0]
    tags = rows[2][header.index("Tags")]
    assert tags == "Lapsed  one-timers, Champions"  # a comma inside a tag would split it
    assert all(len(cell.encode()) <= 255 for row in rows for cell in row)


def test_crms_that_need_email_refuse_without_and_others_fall_back_to_customer_id(tmp_path) -> None:
    with pytest.raises(InputError, match="need an email"):
        export_segments(table(emails=False), "klaviyo", tmp_path)
    result = export_segments(table(emails=False), "hubspot", tmp_path)
    assert read(result.files[0])[0][0] == "Customer ID"
    assert any("external id" in w for w in result.warnings)


def test_customers_without_email_are_left_out_with_a_warning(tmp_path) -> None:
    frame = table()
    frame.loc[1, "email"] = None
    result = export_segments(frame, "mailchimp", tmp_path)
    assert result.rows == 5 and "1 customers without an email" in result.warnings[0]


def test_split_when_a_limit_would_be_exceeded(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(
        SHAPES, "salesforce", SHAPES["salesforce"].__class__(**{**SHAPES["salesforce"].__dict__, "max_rows": 4})
    )
    result = export_segments(table(9), "salesforce", tmp_path)
    assert [f.name for f in result.files] == [f"salesforce_segments_part{i}.csv" for i in (1, 2, 3)]
    assert [len(read(f)) - 1 for f in result.files] == [4, 4, 1]
    small = SHAPES["klaviyo"].__class__(**{**SHAPES["klaviyo"].__dict__, "max_bytes": 600})
    monkeypatch.setitem(SHAPES, "klaviyo", small)
    parts = export_segments(table(30), "klaviyo", tmp_path / "k").files
    assert len(parts) > 1 and all(f.stat().st_size <= 600 for f in parts)
    assert sum(len(read(f)) - 1 for f in parts) == 30


def test_manifest_describes_the_export(tmp_path) -> None:
    result = export_segments(table(), "hubspot", tmp_path, segments=[0, 2], run={"method": "kmeans", "k": 3})
    manifest = json.loads(result.manifest.read_text())
    assert manifest["rows"] == 4 and manifest["segments"] == [0, 2]
    assert manifest["run"] == {"method": "kmeans", "k": 3}
    assert manifest["as_of"] == "2024-03-01"
    assert manifest["files"][0]["rows"] == 4 and len(manifest["files"][0]["sha256"]) == 64


def test_segmentation_date_is_the_as_of_date_of_the_features(tmp_path) -> None:
    frame = table()
    assignments = frame.set_index("customer_id")[["segment", "segment_name"]]
    rfm = frame.set_index("customer_id")[["rfm_segment", "r_score", "f_score", "m_score", "recency_days"]]
    rfm = rfm.assign(frequency=1, monetary=1.0)
    rfm.attrs["as_of"] = "2011-09-01"
    assert set(export_table(assignments, rfm)["run_date"]) == {"2011-09-01"}  # not today's date
    assignments.attrs["as_of"] = "2011-09-01"
    exported = export_segments(export_table(assignments), "hubspot", tmp_path)
    assert {row[-1] for row in read(exported.files[0])[1:]} == {"2011-09-01"}
    assert json.loads(exported.manifest.read_text())["as_of"] == "2011-09-01"
    assignments.attrs.clear()
    with pytest.raises(ConfigError, match="as-of date"):
        export_table(assignments)


def test_round_trip_generic_csv_and_parquet(tmp_path) -> None:
    frame = table()
    back = pd.read_csv(export_segments(frame, "generic", tmp_path).files[0], dtype={"customer_id": str})
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert back["monetary"].tolist() == frame["monetary"].tolist()  # -5.25 stays a number
    assert back["segment_name"].tolist() == frame["segment_name"].tolist()
    parquet = pd.read_parquet(export_segments(frame, "generic", tmp_path, fmt="parquet").files[0])
    assert parquet["customer_id"].tolist() == frame["customer_id"].tolist()


@pytest.mark.parametrize("payload", INJECTION)
def test_formula_injection_is_neutralised_in_text_columns(payload, tmp_path) -> None:
    frame = table()
    frame.loc[0, "segment_name"] = payload
    frame.loc[1, "customer_id"] = payload
    path = export_segments(frame, "generic", tmp_path).files[0]
    rows = read(path)
    header = rows[0]
    assert rows[1][header.index("segment_name")] == "'" + payload
    assert rows[2][header.index("customer_id")] == "'" + payload
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_neutralise_leaves_ordinary_text_alone() -> None:
    assert neutralise("Champions") == "Champions" and neutralise(3) == 3 and neutralise("-") == "'-"


def test_typed_columns_are_validated_not_escaped(tmp_path) -> None:
    frame = table()
    frame["monetary"] = frame["monetary"].astype(object)
    frame.loc[2, "monetary"] = "=1+1"
    with pytest.raises(InputError, match="not a finite number"):
        export_segments(frame, "generic", tmp_path)
    frame = table()
    frame.loc[3, "email"] = "not-an-email"
    with pytest.raises(InputError, match="not an email address"):
        export_segments(frame, "hubspot", tmp_path)


def test_phone_numbers_must_be_e164() -> None:
    frame = pd.DataFrame({"phone": ["+442071234567", "020 7123 4567"]}, index=["a", "b"])
    with pytest.raises(InputError, match=r"E\.164"):
        safe_csv.check_typed(frame, phones=["phone"])


def test_rfc4180_quoting_and_crlf(tmp_path) -> None:
    path = tmp_path / "q.csv"
    write_csv_atomic(pd.DataFrame({"a": ['say "hi", ok', "two\nlines"]}), path, ["a"])
    raw = path.read_bytes()
    assert raw == b'a\r\n"say ""hi"", ok"\r\n"two\nlines"\r\n'


def test_a_crash_while_writing_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous export\n")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safe_csv.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_csv_atomic(pd.DataFrame({"a": range(1000)}), path, [])
    assert path.read_text() == "previous export\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_unknown_crm_and_format(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown CRM"):
        export_segments(table(), "marketo", tmp_path)
    with pytest.raises(ConfigError, match="csv or parquet"):
        export_segments(table(), "generic", tmp_path, fmt="xlsx")


def value_table(index: pd.Index) -> pd.DataFrame:
    """A `segment value` table for the first four customers of :func:`table` (the last two have none)."""
    return pd.DataFrame(
        {"clv": [1234.5678, 0.004, 99.0, 5.5], "churn_probability": [0.12346, 0.9, 0.5, 0.0], "p_alive": 0.75},
        index=index[:4],
    )


@pytest.mark.parametrize(
    ("crm", "headers"),
    [
        ("hubspot", ("Predicted CLV", "Churn Probability", "Probability Alive")),
        ("klaviyo", ("Predicted CLV", "Churn Probability", "Probability Alive")),
        ("salesforce", ("Predicted_CLV__c", "Churn_Probability__c", "Probability_Alive__c")),
        ("mailchimp", ("PREDICTED_CLV", "CHURN_PROBABILITY", "PROBABILITY_ALIVE")),
        ("generic", ("predicted_clv", "churn_probability", "p_alive")),
    ],
)
def test_value_columns_are_plain_numbers_in_each_crm(crm, headers, tmp_path) -> None:
    base = table()
    with_value = export_table(
        base.set_index("customer_id")[["segment", "segment_name"]],
        run_date=date(2024, 3, 1),
        value=value_table(pd.Index(base["customer_id"])),
        emails=pd.Series(base["email"].to_numpy(), index=base["customer_id"]),
    )
    rows = read(export_segments(with_value, crm, tmp_path).files[0])
    header = rows[0]
    clv, churn, alive = (header.index(h) for h in headers)
    assert [row[clv] for row in rows[1:]] == ["1234.57", "0.0", "99.0", "5.5", "", ""]
    assert [row[churn] for row in rows[1:]] == ["0.1235", "0.9", "0.5", "0.0", "", ""]  # 0-1, never "12%"
    assert [row[alive] for row in rows[1:5]] == ["0.75"] * 4


def test_a_value_table_without_its_columns_is_refused(tmp_path) -> None:
    base = table().set_index("customer_id")
    no_churn = value_table(base.index).drop(columns="churn_probability")
    with pytest.raises(InputError, match=r"no churn_probability column.*--churn-days above 0"):
        export_table(base[["segment", "segment_name"]], run_date=date(2024, 3, 1), value=no_churn)
    broken = value_table(base.index).assign(clv=[1.0, float("inf"), 2.0, 3.0])
    frame = export_table(base[["segment", "segment_name"]], run_date=date(2024, 3, 1), value=broken)
    with pytest.raises(InputError, match="export column 'predicted_clv', customer '00001'"):
        export_segments(frame, "generic", tmp_path)


def test_recommended_products_have_names_in_a_column_of_their_own(tmp_path) -> None:
    base = table()
    recs = pd.Series([["22633", "85123A", "X1"]] * 6, index=pd.Index(base["customer_id"], name="customer_id"))
    names = pd.Series({"22633": "HAND WARMER", "85123A": "WHITE HANGING HEART", "X1": ""})
    assignments = base.set_index("customer_id")[["segment", "segment_name"]]
    exported = export_table(assignments, None, None, recs, run_date=date(2024, 3, 1), product_names=names)
    rows = read(export_segments(exported, "hubspot", tmp_path).files[0])
    header = rows[0]
    ids, named = header.index("Recommended Products"), header.index("Recommended Product Names")
    assert rows[1][ids] == "22633;85123A;X1"
    assert rows[1][named] == "HAND WARMER;WHITE HANGING HEART;X1"  # a product without a description: its id
