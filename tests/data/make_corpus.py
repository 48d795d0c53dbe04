"""Write the bad-input corpus next to this file: ``python tests/data/make_corpus.py``.

Each file is a small transactions export with one thing wrong or unusual; tests/test_ingest_corpus.py
says what each must parse to or which error it must raise.
"""

from pathlib import Path

HERE = Path(__file__).parent
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
ROWS = [
    ["536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850", "United Kingdom"],
    ["536365", "71053", "WHITE METAL LANTERN", "6", "2010-12-01 08:26:00", "3.39", "17850", "United Kingdom"],
    ["536366", "22633", "CAFÉ HAND WARMER £", "6", "2010-12-13 08:28:00", "1.85", "01234", "France"],
    ["C536379", "85123A", "WHITE HANGING HEART", "-1", "2010-12-14 09:41:00", "2.55", "17850", "United Kingdom"],
    ["536380", "POST", "POSTAGE", "1", "2010-12-15 09:41:00", "18.00", "12583", "France"],
    ["536381", "22633", "CAFÉ HAND WARMER £", "6", "2010-12-16 10:00:00", "1.85", "", "United Kingdom"],
]


def csv_text(rows, header=HEADER, sep=",") -> str:
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


def with_dates(fmt) -> list[list[str]]:
    out = []
    for row in ROWS:
        y, m, d = row[4][:10].split("-")
        out.append([*row[:4], fmt(y, m, d) + row[4][10:16], *row[5:]])
    return out


def main() -> None:
    files: dict[str, bytes] = {
        "cp1252.csv": csv_text(ROWS).encode("cp1252"),
        "utf8_bom.csv": b"\xef\xbb\xbf" + csv_text(ROWS).encode("utf-8"),
        "semicolon_decimal_comma.csv": csv_text(
            [[*r[:5], r[5].replace(".", ","), *r[6:]] for r in with_dates(lambda y, m, d: f"{d}.{m}.{y}")], sep=";"
        ).encode("utf-8"),
        "tab.tsv": csv_text(ROWS, sep="\t").encode("utf-8"),
        "pipe.txt": csv_text(ROWS, sep="|").encode("utf-8"),
        "dayfirst.csv": csv_text(with_dates(lambda y, m, d: f"{d}/{m}/{y}")).encode(),
        "monthfirst.csv": csv_text(with_dates(lambda y, m, d: f"{m}/{d}/{y}")).encode(),
        "mixed_date_order.csv": csv_text(
            with_dates(lambda y, m, d: f"{d}/{m}/{y}")[:3] + with_dates(lambda y, m, d: f"{m}/{d}/{y}")[3:]
        ).encode(),
        "ambiguous_dates.csv": csv_text(
            [[*r[:4], f"0{i + 1}/0{i % 3 + 1}/2011 10:00", *r[5:]] for i, r in enumerate(ROWS)]
        ).encode(),
        "missing_quantity.csv": csv_text([r[:3] + r[4:] for r in ROWS], HEADER[:3] + HEADER[4:]).encode(),
        "empty.csv": b"",
        "header_only.csv": (",".join(HEADER) + "\n").encode(),
        "duplicated_headers.csv": csv_text([[*r, r[2]] for r in ROWS], [*HEADER, "Description"]).encode(),
        "binary_junk.csv": bytes(range(256)) * 8,
        "formula_cells.csv": csv_text(
            [
                [*r[:2], f, *r[3:]]
                for r, f in zip(
                    ROWS, ['"=HYPERLINK(""http://x"")"', "+1+2", "-3", "@SUM(A1)", '"=1+2"', "\tTAB"], strict=True
                )
            ]
        ).encode(),
        "unparseable_values.csv": csv_text(
            [ROWS[0], [*ROWS[1][:3], "six", *ROWS[1][4:]], [*ROWS[2][:4], "not a date", *ROWS[2][5:]], *ROWS[3:]]
        ).encode(),
        "german_headers.csv": csv_text(
            [[r[6], r[0], r[4], r[1], r[3], r[5].replace(".", ","), r[2]] for r in ROWS],
            ["Kundennummer", "Rechnungsnummer", "Datum", "Artikelnummer", "Menge", "Einzelpreis", "Bezeichnung"],
            sep=";",
        ).encode("utf-8"),
        "online_retail_ii_headers.csv": csv_text(
            ROWS, ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
        ).encode(),
        "null_tokens.csv": csv_text(
            [[*r[:6], " NULL " if not r[6] else r[6], "NA" if i == 2 else r[7]] for i, r in enumerate(ROWS)]
        ).encode(),
        "mixed_iso_dayfirst.csv": csv_text(
            [
                iso if i % 2 == 0 else dmy
                for i, (iso, dmy) in enumerate(zip(ROWS, with_dates(lambda y, m, d: f"{d}/{m}/{y}"), strict=True))
            ]
        ).encode(),
        "whitespace_only.csv": b"  \n\t\r\n   \n",
        "thousands_separators.csv": csv_text(
            [[*r[:5], '"1,234.50"' if i == 0 else r[5], *r[6:]] for i, r in enumerate(ROWS)]
        ).encode(),
    }
    for name, content in files.items():
        (HERE / name).write_bytes(content)


if __name__ == "__main__":
    main()
