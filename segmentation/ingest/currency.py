"""Which currency the amounts are in: as the analyst set it, else as the file says.

The file says it in a currency column (``GBP``, ``£``) or in the prices themselves (``£3.50``, ``3,50 €``,
``USD 12``). The code goes into ``detected["currency"]`` of the validation report (``None``: not known), and
where it came from into ``detected["currency_source"]``; money is then written in it everywhere.
Amounts in several currencies are added up as they are: a warning says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from segmentation.formatting import currency_code, number
from segmentation.ingest.validation import ValidationReport

_SYMBOL = re.compile(r"US\$|R\$|zł|[£€$¥₹₩₽₺]")
_CODE = re.compile(r"(?:^|[\s\d.,-])([A-Z]{3})(?=$|[\s\d.,-])")
STRIPPED = "R\\$|US\\$|[\\s\u00a0£$€¥₹₩₽₺]|zł|^[A-Z]{1,3}|[A-Z]{3}$"
"""What a number's text may carry around its digits (symbols, a leading or trailing ISO code, ``R$``), as the
regular expression number parsing removes before reading the digits."""


def currency_in_text(values: Iterable[str] | Mapping[str, int]) -> Counter[str]:
    """How many of ``values`` carry each currency, by a symbol (``£3.50``) or an ISO code (``USD 12``); a mapping
    gives each value's count (each distinct text is looked at once)."""
    found: Counter[str] = Counter()
    for value, n in Counter(values).items():
        symbol = _SYMBOL.search(value)
        code = _CODE.search(value)
        currency = currency_code(symbol.group(0)) if symbol else currency_code(code.group(1)) if code else None
        if currency:
            found[currency] += n
    return found


def detect_currency(
    report: ValidationReport,
    given: str | None,
    column: str | None,
    column_values: Iterable[tuple[str, int]],
    price_text: Iterable[str] | Mapping[str, int],
) -> None:
    """Record the currency in ``report.detected`` and warn where the file is unclear about it.

    ``given``: the analyst's choice (wins); ``column``/``column_values``: the mapped currency column and its
    distinct values with their row counts; ``price_text``: a sample of the price and amount texts.
    """
    if column:
        found: Counter[str] = Counter()
        unknown: list[str] = []
        for value, rows in column_values:
            code = currency_code(value)
            if code:
                found[code] += rows
            else:
                unknown.append(value)
        source = f"column {column!r}"
        if not found:
            report.warn(
                "unknown_currency",
                "no value is a currency code or symbol, so the currency is not known",
                column=column,
                examples=tuple(unknown[:5]),
                fix="set the currency on the Data page (app) or with --currency CODE (CLI)",
            )
    else:
        found, source = currency_in_text(price_text), "the prices"
    if len(found) > 1:
        counts = ", ".join(f"{code} {number(rows)}" for code, rows in found.most_common())
        report.warn(
            "several_currencies",
            f"amounts in several currencies ({counts} {'rows' if column else 'values seen'}) are added up as they "
            f"are; money is shown in {found.most_common(1)[0][0]}",
            column=column,
            fix="convert the amounts to one currency, or split the file by currency",
        )
    detected = found.most_common(1)[0][0] if found else None
    chosen = currency_code(given)
    if chosen and detected and chosen != detected:
        report.warn(
            "currency_differs",
            f"the currency was set to {chosen} but {source} {'says' if column else 'say'} {detected}; "
            f"amounts are shown in {chosen}",
            column=column,
            fix="check which currency the amounts are in",
        )
    report.detected["currency"] = chosen or detected
    report.detected["currency_source"] = "set" if chosen else source if detected else None
