"""How numbers, money, percentages and counts read on the pages, in exports and in CLI messages.

One place, so a tile, a table and a message never disagree: thousands separators everywhere, amounts with their
currency (symbol and minor unit from ISO 4217 via Babel's CLDR data: GBP 2 decimals, JPY 0, KWD 3), one decimal
for every percentage, and words that agree with their count ("1 order", "2 orders").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pandas as pd
from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
    parse_pattern,
)

LOCALE = "en"
"""The dashboard speaks English: comma thousands separator, point decimal, the symbol before the amount."""
MISSING = "–"
"""What an undefined value (NaN, None) reads as."""
PERCENT_DECIMALS = 1
"""Every percentage has one decimal: "54.0%" next to "11.6%", never "54 %" next to "11.61 %"."""
DEFAULT_MINOR_UNIT = 2
"""Decimals of an amount whose currency is not known."""
SYMBOLS: dict[str, str] = {
    "£": "GBP",
    "€": "EUR",
    "$": "USD",
    "US$": "USD",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "R$": "BRL",
    "zł": "PLN",
}
"""Currency symbols written in files and the ISO 4217 code each most often stands for ("$" alone: US dollar)."""


def currency_code(text: str | None) -> str | None:
    """The ISO 4217 code ``text`` names (a code in any case, or a symbol of :data:`SYMBOLS`), else ``None``."""
    if text is None:
        return None
    text = str(text).strip()
    if text in SYMBOLS:
        return SYMBOLS[text]
    code = text.upper()
    return code if len(code) == 3 and code in _iso_codes() else None


@cache
def _iso_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def minor_unit(currency: str | None) -> int:
    """Decimals of the currency's minor unit (GBP 2, JPY 0, KWD 3); :data:`DEFAULT_MINOR_UNIT` when unknown."""
    return get_currency_precision(currency) if currency else DEFAULT_MINOR_UNIT


def currency_symbol(currency: str | None) -> str:
    """The symbol an amount is written with ("£", "$", "CHF"); empty when the currency is not known."""
    return get_currency_symbol(currency, LOCALE) if currency else ""


def _missing(value: float | None) -> bool:
    return value is None or bool(pd.isna(value))


@cache
def _pattern(text: str) -> NumberPattern:
    """A parsed number pattern: Babel parses the pattern text on every call otherwise (4x the time of applying it,
    which a chart's hover text of 5,000 values feels)."""
    return parse_pattern(text)


@cache
def _locale() -> Locale:
    return Locale.parse(LOCALE)


def number(value: float | None, decimals: int = 0) -> str:
    """A count or measure with thousands separators: 2679 -> "2,679"; ``decimals`` fixed digits after the point."""
    if _missing(value):
        return MISSING
    return _pattern("#,##0" + ("." + "0" * decimals if decimals else "")).apply(value, _locale())


def money(value: float | None, currency: str | None) -> str:
    """An amount in its currency's minor unit: "£4,310.00", "¥1,235"; without a currency "4,310.00"."""
    if _missing(value):
        return MISSING
    if not currency:
        return number(value, DEFAULT_MINOR_UNIT)
    return format_currency(value, currency, locale=LOCALE)


def compact_money(value: float | None, currency: str | None) -> str:
    """An amount for a KPI tile: "£8.29M", "€12.5K"; under a thousand in full ("£950.00")."""
    if _missing(value):
        return MISSING
    if abs(value) < 1_000:
        return money(value, currency)
    if not currency:
        return format_compact_decimal(value, locale=LOCALE, fraction_digits=2)
    return format_compact_currency(value, currency, locale=LOCALE, fraction_digits=2)


def percent(share: float | None) -> str:
    """A share (0.5432) as a percentage with :data:`PERCENT_DECIMALS` decimals: "54.3%"."""
    if _missing(share):
        return MISSING
    return _pattern("#,##0." + "0" * PERCENT_DECIMALS + "%").apply(share, _locale())


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The count with the word that agrees with it: "1 order", "2,679 orders", "1 empty value"."""
    word = singular if count == 1 else plural_form or singular + "s"
    return f"{number(count)} {word}"


def round_money(frame: pd.DataFrame, columns: Iterable[str], currency: str | None) -> pd.DataFrame:
    """A copy of ``frame`` with the money ``columns`` rounded to the currency's minor unit (4310.000000000002 ->
    4310.0), for CSV downloads; columns not in the frame are left alone."""
    decimals = minor_unit(currency)
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c].round(decimals) for c in present})
