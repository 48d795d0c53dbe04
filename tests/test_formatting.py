"""Known answers of the one formatting module: numbers, money, compact money, percentages, plurals, rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.formatting import (
    MISSING,
    compact_money,
    currency_code,
    currency_symbol,
    minor_unit,
    money,
    number,
    percent,
    plural,
    round_money,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(2679, 0, "2,679"), (1_234_567, 0, "1,234,567"), (1234.567, 2, "1,234.57"), (-5, 0, "-5"), (0.5, 1, "0.5")],
)
def test_numbers_have_thousands_separators(value, decimals, expected) -> None:
    assert number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (4310.000000000002, "GBP", "£4,310.00"),  # the float noise of a summed column is gone
        (2083, "GBP", "£2,083.00"),
        (1234, "JPY", "¥1,234"),  # the yen has no minor unit
        (-3.5, "USD", "-$3.50"),
        (12.5, "EUR", "€12.50"),
        (3.5, None, "3.50"),  # currency unknown: the amount alone, two decimals
    ],
)
def test_money_is_written_in_its_currency_and_minor_unit(value, currency, expected) -> None:
    assert money(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (8_294_321.4, "GBP", "£8.29M"),
        (12_500, "EUR", "€12.5K"),
        (2_100_000_000, "USD", "$2.1B"),
        (950, "GBP", "£950.00"),  # below a thousand in full
        (8_294_321.4, None, "8.29M"),
    ],
)
def test_compact_money_for_kpi_tiles(value, currency, expected) -> None:
    assert compact_money(value, currency) == expected


def test_percentages_share_one_precision() -> None:
    assert [percent(s) for s in (0.54, 0.1161, 1.0, 0.0004)] == ["54.0%", "11.6%", "100.0%", "0.0%"]


def test_plurals_agree_with_the_count() -> None:
    assert plural(1, "order") == "1 order"
    assert plural(2, "order") == "2 orders"
    assert plural(0, "order") == "0 orders"
    assert plural(1454, "empty value") == "1,454 empty values"
    assert plural(3, "category", "categories") == "3 categories"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_undefined_values_read_as_a_dash(missing) -> None:
    assert number(missing) == money(missing, "GBP") == compact_money(missing, "GBP") == percent(missing) == MISSING


def test_currency_codes_from_symbols_and_codes() -> None:
    assert [currency_code(t) for t in ("£", "€", "$", "¥", " gbp ", "EUR", "R$")] == [
        "GBP",
        "EUR",
        "USD",
        "JPY",
        "GBP",
        "EUR",
        "BRL",
    ]
    assert currency_code("ABC") is None  # not an ISO 4217 code
    assert currency_code("pounds") is None
    assert currency_code(None) is None


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_unit("GBP"), minor_unit("JPY"), minor_unit("KWD"), minor_unit(None)) == (2, 0, 3, 2)
    assert (currency_symbol("GBP"), currency_symbol("EUR"), currency_symbol(None)) == ("£", "€", "")


def test_csv_money_columns_rounded_to_the_minor_unit() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "monetary": [4310.000000000002, 19.994], "orders": [7, 1]})
    gbp = round_money(frame, ["monetary", "not_there"], "GBP")
    assert gbp["monetary"].tolist() == [4310.0, 19.99]
    assert gbp["orders"].tolist() == [7, 1]
    assert round_money(frame, ["monetary"], "JPY")["monetary"].tolist() == [4310.0, 20.0]
    assert frame["monetary"].iloc[0] == 4310.000000000002  # the input is not changed
    assert gbp.to_csv(index=False).splitlines()[1] == "a,4310.0,7"
