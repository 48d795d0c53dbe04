"""Which source column holds which canonical field: inferred from headers and content, editable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from segmentation.errors import InputError
from segmentation.ingest.validation import Issue

REQUIRED: tuple[str, ...] = ("customer_id", "ts")
"""Always required. Besides these: an amount, or a quantity and a unit price (see :func:`missing_fields`)."""
PRICE_FIELDS: tuple[str, ...] = ("unit_price", "amount")
"""At least one of these is required: the other is derived (amount = quantity x unit price)."""
OPTIONAL: tuple[str, ...] = ("description", "category", "country", "channel", "email")
FILE_WIDE: tuple[str, ...] = ("currency",)
"""Optional fields read once for the whole file and not kept per row: the currency the amounts are in."""
FIELDS: tuple[str, ...] = (
    "customer_id",
    "order_id",
    "ts",
    "product_id",
    "quantity",
    *PRICE_FIELDS,
    *OPTIONAL,
    *FILE_WIDE,
)
"""Every canonical field. ``order_id``, ``product_id`` and ``quantity`` may be left unmapped: without an order
id an order is a customer's purchase day, without a product id the product steps are off, without a quantity
(when an amount is given) each line counts as one unit."""
FIELD_LABELS: dict[str, str] = {
    "customer_id": "customer id",
    "order_id": "order id",
    "ts": "order date",
    "product_id": "product id",
    "quantity": "quantity",
    "unit_price": "unit price",
    "amount": "line amount",
    "description": "product name",
    "category": "category",
    "country": "country",
    "channel": "channel",
    "email": "email",
    "currency": "currency",
}
"""How messages name each field: the analyst's words, not the internal names."""

# Header synonyms after normalisation (lower case, letters and digits only). English first, then the UCI
# Online Retail (I and II) headers, then German, French, Spanish, Dutch, Italian and Portuguese ones.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customerid",
        "customer",
        "customerno",
        "customernumber",
        "customercode",
        "custid",
        "clientid",
        "client",
        "clientnumber",
        "userid",
        "memberid",
        "accountid",
        "buyerid",
        "kundennummer",
        "kundenid",
        "kunde",
        "kundennr",
        "numeroclient",
        "idclient",
        "idcliente",
        "cliente",
        "clienteid",
        "codcliente",
        "klantnummer",
        "klantid",
        "klant",
        "codicecliente",
    ),
    "order_id": (
        "invoiceno",
        "invoice",
        "invoiceid",
        "invoicenumber",
        "orderid",
        "order",
        "orderno",
        "ordernumber",
        "transactionid",
        "transaction",
        "receiptid",
        "receipt",
        "basketid",
        "bestellnummer",
        "bestellung",
        "rechnungsnummer",
        "rechnung",
        "numerocommande",
        "commande",
        "facture",
        "numerofacture",
        "pedido",
        "numeropedido",
        "idpedido",
        "factura",
        "numerofactura",
        "bestelling",
        "bestelnummer",
        "ordine",
        "fattura",
        "numeroordine",
    ),
    "ts": (
        "invoicedate",
        "orderdate",
        "timestamp",
        "datetime",
        "date",
        "transactiondate",
        "purchasedate",
        "orderdatetime",
        "createdat",
        "time",
        "datum",
        "bestelldatum",
        "rechnungsdatum",
        "datecommande",
        "datefacture",
        "fecha",
        "fechapedido",
        "fechafactura",
        "besteldatum",
        "data",
        "dataordine",
    ),
    "product_id": (
        "stockcode",
        "sku",
        "productid",
        "productcode",
        "product",
        "itemid",
        "itemcode",
        "item",
        "articleid",
        "articleno",
        "article",
        "artikelnummer",
        "artikelnr",
        "artikel",
        "produktid",
        "reference",
        "refproduit",
        "codeproduit",
        "produit",
        "articulo",
        "codigoproducto",
        "producto",
        "artikelcode",
        "codiceprodotto",
        "prodotto",
        "ean",
        "upc",
    ),
    "quantity": (
        "quantity",
        "qty",
        "units",
        "quantityordered",
        "menge",
        "anzahl",
        "stueck",
        "quantite",
        "cantidad",
        "aantal",
        "quantita",
        "quantidade",
        "pieces",
    ),
    "unit_price": (
        "unitprice",
        "price",
        "priceeach",
        "itemprice",
        "unitcost",
        "preis",
        "einzelpreis",
        "stueckpreis",
        "prixunitaire",
        "prix",
        "preciounitario",
        "precio",
        "prijs",
        "stukprijs",
        "prezzo",
        "prezzounitario",
        "preco",
    ),
    "amount": (
        "amount",
        "lineamount",
        "linetotal",
        "totalprice",
        "total",
        "revenue",
        "sales",
        "netamount",
        "betrag",
        "umsatz",
        "gesamtpreis",
        "montant",
        "montanttotal",
        "importe",
        "bedrag",
        "importo",
        "valor",
    ),
    "description": (
        "description",
        "productname",
        "itemname",
        "productdescription",
        "name",
        "title",
        "beschreibung",
        "bezeichnung",
        "artikelbezeichnung",
        "produktname",
        "libelle",
        "designation",
        "descripcion",
        "nombreproducto",
        "omschrijving",
        "descrizione",
        "descricao",
    ),
    "category": (
        "category",
        "productcategory",
        "department",
        "kategorie",
        "warengruppe",
        "categorie",
        "categoria",
    ),
    "country": ("country", "countrycode", "land", "pays", "pais", "paese", "nation"),
    "channel": ("channel", "saleschannel", "orderchannel", "kanal", "vertriebskanal", "canal", "canale"),
    "email": ("email", "emailaddress", "mail", "customeremail", "courriel", "correo", "correoelectronico"),
    "currency": ("currency", "currencycode", "curr", "waehrung", "whrung", "devise", "moneda", "valuta", "moeda"),
}

_COPY = re.compile(r"(.+)\.\d+")
"""How the reader names the second and later copies of a repeated header: ``quantity.1``."""
_DATE_LIKE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))"
)
"""A date: year first or last with separators, or compact ``YYYYMMDD`` (19970101)."""
DESCRIBED: dict[str, re.Pattern[str]] = {
    "quantity": re.compile(r"^(number|num|count|no|n)[\W_]*(of[\W_]*)?[a-z]+s$"),
    "amount": re.compile(r"(^|[\W_])(amount|value|sales|revenue|spend|total)([\W_]|$)"),
}
"""Headers that describe a field in words rather than name it (``number_of_cds``, ``dollar_value``): matched only
when no header is a synonym of the field, and only on columns of numbers."""
_NUMBER = re.compile(r"^\s*-?\d+([.,]\d+)?\s*$")


def normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def missing_fields(columns: Mapping[str, str | None]) -> list[str]:
    """Required fields that ``columns`` (field -> column) leaves unmapped.

    Quantity and unit price are needed only without a line amount: with one, a line without a quantity
    counts as one unit and the unit price is derived.
    """
    needed = REQUIRED if columns.get("amount") else (*REQUIRED, "quantity", "unit_price")
    return [f for f in needed if not columns.get(f)]


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical field -> source column. Build with :func:`infer_mapping`, edit with :meth:`with_changes`."""

    columns: dict[str, str]
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Fields left unmapped because several columns with the same header and different values fit them."""

    def __post_init__(self) -> None:
        unknown = (set(self.columns) | set(self.ambiguous)) - set(FIELDS)
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)} in the column mapping; known: {', '.join(FIELDS)}")

    def get(self, field: str) -> str | None:
        return self.columns.get(field)

    def with_changes(self, changes: dict[str, str | None]) -> ColumnMapping:
        """A copy with fields set to other source columns (``None`` or ``""`` unsets a field).

        A change is explicit, so it may point a field at a column another field already uses (an order id
        taken from the date column keeps the date column as the order date).
        """
        merged = dict(self.columns)
        for key, value in changes.items():
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        return ColumnMapping(merged, {f: c for f, c in self.ambiguous.items() if f not in changes})

    def problems(self, available: list[str]) -> list[Issue]:
        """Errors for mapped columns that do not exist, ambiguous headers and required fields left unmapped."""
        issues = [
            Issue(
                "error",
                "unknown_column",
                f"column {column!r} mapped to the {FIELD_LABELS[field]} does not exist",
                column=column,
                fix=f"choose one of: {', '.join(available)}",
            )
            for field, column in self.columns.items()
            if column not in available
        ]
        issues += [_ambiguity(field, candidates, available) for field, candidates in self.ambiguous.items()]
        issues += [_shared(column, fields) for column, fields in self._fields_by_column().items() if len(fields) > 1]
        # an ambiguous field has its own message above
        missing = missing_fields({**self.columns, **{f: c[0] for f, c in self.ambiguous.items()}})
        if missing:
            names = ", ".join(FIELD_LABELS[f] for f in missing)
            if {"quantity", "unit_price"} & set(missing):
                names += " (or a line amount)"
            issues.append(
                Issue(
                    "error",
                    "missing_column",
                    f"required column(s) not found: {names} (columns in the file: {', '.join(available)})",
                    fix="map them in the column mapping (app) or with "
                    + " ".join(f"--map {f}=COLUMN" for f in missing)
                    + " (CLI)",
                )
            )
        return issues

    def _fields_by_column(self) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for key, column in self.columns.items():
            fields.setdefault(column, []).append(key)
        return fields


def _ambiguity(field: str, candidates: tuple[str, ...], available: list[str]) -> Issue:
    """Several same-named columns with different values fit ``field``: which one is meant is the user's call."""
    positions = [str(available.index(c) + 1) for c in candidates]
    headers = sorted({_header(c, available) for c in candidates})
    named = f"named {headers[0]!r}" if len(headers) == 1 else f"headed {' / '.join(map(repr, headers))}"
    label = FIELD_LABELS[field]
    optional = field in OPTIONAL or field in FILE_WIDE
    message = (
        f"columns {', '.join(positions[:-1])} and {positions[-1]} are {'both' if len(candidates) == 2 else 'all'} "
        f"{named} and hold different values, so which one is the {label} is not clear"
    )
    return Issue(
        "warning" if optional else "error",
        "ambiguous_column",
        message + (f" The {label} is left unmapped." if optional else ""),
        fix=f"choose the {label} in the column mapping (app) or with "
        + " or ".join(f"--map {field}={c!r}" for c in candidates)
        + " (CLI)",
    )


def _shared(column: str, fields: list[str]) -> Issue:
    labels = [FIELD_LABELS[f] for f in fields]
    return Issue(
        "warning",
        "shared_column",
        f"one column feeds {', '.join(labels[:-1])} and {labels[-1]}, as the column mapping says",
        column=column,
    )


def infer_mapping(table: pa.Table, overrides: Mapping[str, str | None] | None = None) -> ColumnMapping:
    """Match headers against :data:`SYNONYMS`, then the unmatched quantity and amount against :data:`DESCRIBED`;
    fall back on content for an unmatched timestamp.

    ``overrides`` (field -> column) win over inference; a field overridden with ``None`` or ``""`` stays
    unmapped (e.g. to ignore a country column). Inference gives each column at most one field; an override
    may reuse a column inference also chose (``order_id`` = the date column keeps it as the order date).
    Columns with the same header (``quantity`` and the reader's ``quantity.1``, or ``Qty``/``qty``) that
    fit a field are used when their values are equal, else the field is left unmapped and recorded in
    :attr:`ColumnMapping.ambiguous`: never one of them picked silently.
    """
    overrides = overrides or {}
    columns = [c for c in table.column_names if c != "source_row"]
    mapping: dict[str, str] = {f: column for f, column in overrides.items() if column}
    ambiguous: dict[str, tuple[str, ...]] = {}
    taken: set[str] = set()
    by_norm: dict[str, list[str]] = {}
    for col in columns:
        by_norm.setdefault(normalise_header(_header(col, columns)), []).append(col)
    for key in FIELDS:
        if key in mapping:
            continue
        for synonym in SYNONYMS[key]:
            found = [c for c in by_norm.get(synonym, ()) if c not in taken]
            if not found:
                continue
            if any(not table.column(found[0]).equals(table.column(c)) for c in found[1:]):
                ambiguous[key] = tuple(found)
                taken.update(found)
            elif key not in overrides:
                mapping[key] = found[0]  # copies with equal values: the first one
                taken.update(found)
            break
    for key, described in DESCRIBED.items():
        if key in mapping or key in ambiguous or key in overrides:
            continue
        for col in columns:
            if col not in taken and described.search(col.strip().lower()) and _looks_like_numbers(table.column(col)):
                mapping[key] = col
                taken.add(col)
                break
    if "ts" not in overrides and "ts" not in mapping and "ts" not in ambiguous:
        for col in columns:
            if col not in taken and _looks_like_dates(table.column(col)):
                mapping["ts"] = col
                break
    return ColumnMapping(mapping, ambiguous)


def _header(column: str, columns: list[str]) -> str:
    """The header as written in the file: the reader names a repeated header's copies ``name.1``, ``name.2``."""
    copy = _COPY.fullmatch(column)
    return copy.group(1) if copy and copy.group(1) in columns else column


def _looks_like_numbers(column: pa.ChunkedArray) -> bool:
    sample = column.slice(0, 200)
    if not pa.types.is_string(sample.type) and not pa.types.is_large_string(sample.type):
        return pa.types.is_integer(sample.type) or pa.types.is_floating(sample.type)
    values = [v for v in pc.drop_null(sample).to_pylist() if v]
    return bool(values) and all(_NUMBER.match(v) for v in values)


def _looks_like_dates(column: pa.ChunkedArray) -> bool:
    sample = column.slice(0, 200)
    if not pa.types.is_string(sample.type) and not pa.types.is_large_string(sample.type):
        return pa.types.is_timestamp(sample.type) or pa.types.is_date(sample.type)
    values = [v for v in pc.drop_null(sample).to_pylist() if v]
    return bool(values) and sum(bool(_DATE_LIKE.match(v)) for v in values) >= 0.9 * len(values)
