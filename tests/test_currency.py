"""The currency of the amounts: from a currency column, from symbols or codes in the prices, or as the analyst sets it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.config import Config, ReadOptions
from segmentation.errors import ConfigError
from segmentation.ingest.currency import currency_in_text
from segmentation.pipeline import load_transactions

HEADER = ["customer", "order", "date", "sku", "qty", "price"]


def load(path, currency: str | None = None):
    result = load_transactions(path, Config(read=ReadOptions(currency=currency)))
    return (
        result.validation.detected,
        result.to_pandas()["amount"].tolist(),
        {w.code: w for w in result.validation.warnings},
    )


@pytest.mark.parametrize(
    ("prices", "sep", "currency", "amounts"),
    [
        (["£3.50", '"£1,234.50"'], ",", "GBP", [7.0, 1234.5]),
        (["3,50 €", "1.234,50 €"], ";", "EUR", [7.0, 1234.5]),  # comma decimals after a trailing symbol
        (["USD 12", "12.5 USD"], ",", "USD", [24.0, 12.5]),
        (["R$ 12,50", "R$ 1,00"], ";", "BRL", [25.0, 1.0]),
        (["¥1200", "¥35"], ",", "JPY", [2400.0, 35.0]),
    ],
)
def test_symbols_and_codes_in_the_prices_give_the_currency_and_the_amounts_still_read(
    write_csv, prices, sep, currency, amounts
) -> None:
    rows = [HEADER, [1, "A1", "2024-01-02", "P", 2, prices[0]], [2, "A2", "2024-01-03", "P", 1, prices[1]]]
    detected, read, warnings = load(write_csv(rows, sep=sep))
    assert (detected["currency"], detected["currency_source"]) == (currency, "the prices")
    assert read == amounts
    assert not warnings


def test_plain_numbers_leave_the_currency_unknown(write_csv) -> None:
    detected, _, _ = load(write_csv([HEADER, [1, "A1", "2024-01-02", "P", 2, "3.50"]]))
    assert (detected["currency"], detected["currency_source"]) == (None, None)


def test_a_currency_column_is_mapped_and_read(write_csv) -> None:
    rows = [[*HEADER, "Currency"], *([i, f"A{i}", "2024-01-02", "P", 1, "9.99", "gbp"] for i in range(3))]
    detected, _, warnings = load(write_csv(rows))
    assert detected["mapping"]["currency"] == "Currency"
    assert (detected["currency"], detected["currency_source"]) == ("GBP", "column 'Currency'")
    assert not warnings


def test_several_currencies_are_named_with_their_rows(write_csv) -> None:
    codes = ["EUR", "EUR", "€", "USD"]
    rows = [[*HEADER, "currency"], *([i, f"A{i}", "2024-01-02", "P", 1, "5.00", c] for i, c in enumerate(codes))]
    detected, _, warnings = load(write_csv(rows))
    assert detected["currency"] == "EUR"
    assert warnings["several_currencies"].message == (
        "amounts in several currencies (EUR 3, USD 1 rows) are added up as they are; money is shown in EUR"
    )


def test_a_currency_column_without_codes_is_a_warning_with_the_fix(write_csv) -> None:
    rows = [[*HEADER, "currency"], [1, "A1", "2024-01-02", "P", 1, "5.00", "pounds"]]
    detected, _, warnings = load(write_csv(rows))
    assert detected["currency"] is None
    issue = warnings["unknown_currency"]
    assert issue.examples == ("pounds",)
    assert "--currency CODE" in issue.fix and "Data page" in issue.fix


def test_the_analysts_currency_wins_and_a_disagreeing_file_is_named(write_csv) -> None:
    path = write_csv([HEADER, [1, "A1", "2024-01-02", "P", 2, "€3.50"]])
    detected, _, warnings = load(path, "gbp")
    assert (detected["currency"], detected["currency_source"]) == ("GBP", "set")
    assert warnings["currency_differs"].message == (
        "the currency was set to GBP but the prices say EUR; amounts are shown in GBP"
    )
    detected, _, warnings = load(write_csv([HEADER, [1, "A1", "2024-01-02", "P", 2, "3.50"]]), "JPY")
    assert (detected["currency"], detected["currency_source"]) == ("JPY", "set")
    assert not warnings


@pytest.mark.parametrize("bad", ["pounds", "£", "XYZ", "EU"])
def test_a_currency_that_is_not_an_iso_code_is_a_config_error(bad) -> None:
    with pytest.raises(ConfigError, match=r"is not an ISO 4217 code; write three letters such as GBP"):
        Config(read=ReadOptions(currency=bad))
    assert Config.from_dict({"read": {"currency": "EUR"}}).read.currency == "EUR"


def test_currency_in_text_counts_symbols_before_codes() -> None:
    found = currency_in_text(["£3", "3 GBP", "€ 2", "US$ 5", "$5", "12", "ABC 3", "MUG 3"])
    assert found == {"GBP": 2, "EUR": 1, "USD": 2}


def test_cli_validate_writes_money_in_the_currency_and_takes_currency_option(write_csv, capsys) -> None:
    from segmentation.cli import main

    path = write_csv([HEADER, [1, "A1", "2024-01-02", "P", 2, "£3.50"], [2, "A2", "2024-01-03", "P", 1, "£1"]])
    assert main(["-q", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tx.csv: 2 rows read, 2 kept" in out
    assert "2 customers, 2 orders, 1 product, " in out and out.rstrip().count("revenue £8.00") == 1
    assert main(["-q", "validate", str(path), "--currency", "EUR"]) == 0
    assert "revenue €8.00" in capsys.readouterr().out
    assert main(["-q", "validate", str(path), "--currency", "euro"]) == 2
    assert "is not an ISO 4217 code" in capsys.readouterr().err


MARKS = {"GBP": ["£"], "EUR": ["€", "EUR"], "USD": ["$", "US$", "USD"], "JPY": ["¥", "JPY"], "BRL": ["R$"]}


@st.composite
def priced_files(draw: st.DrawFn) -> tuple[str, str, list[float], str]:
    """CSV text whose prices carry one currency's mark, in either decimal style, before or after the number."""
    currency = draw(st.sampled_from(sorted(MARKS)))
    comma = draw(st.booleans())
    cents = draw(st.lists(st.integers(1, 999_999), min_size=1, max_size=8))
    lines = [";".join(HEADER)]
    for i, c in enumerate(cents):
        grouped = f"{c // 100:,}" if draw(st.booleans()) else str(c // 100)
        number = f"{grouped.replace(',', '.')},{c % 100:02d}" if comma else f"{grouped}.{c % 100:02d}"
        mark, space = draw(st.sampled_from(MARKS[currency])), draw(st.sampled_from(["", " "]))
        text = f"{mark}{space}{number}" if draw(st.booleans()) else f"{number}{space}{mark}"
        lines.append(";".join(["c1", f"A{i}", "2024-01-02", "P", "1", text]))
    return "\n".join(lines) + "\n", currency, [c / 100 for c in cents], "," if comma else "."


@settings(max_examples=20, deadline=None)
@given(case=priced_files())
def test_any_marked_price_reads_as_its_number_in_its_currency(case) -> None:
    text, currency, prices, decimal = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prices.csv"
        path.write_text(text, encoding="utf-8")
        result = load_transactions(path)
    assert result.validation.detected["currency"] == currency
    assert result.validation.detected["decimal"] == decimal or all(p == int(p) for p in prices)
    assert sorted(result.to_pandas()["amount"]) == pytest.approx(sorted(prices))
