"""Which source column holds which canonical field: inferred from headers and content, editable."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segmentation.errors import InputError
from segmentation.ingest.validation import Issue

REQUIRED: tuple[str, ...] = ("customer_id", "order_id", "ts", "product_id", "quantity")
PRICE_FIELDS: tuple[str, ...] = ("unit_price", "amount")
"""At least one of these is required: the other is derived (amount = quantity x unit price)."""
OPTIONAL: tuple[str, ...] = ("description", "category", "country", "channel", "email")
FIELDS: tuple[str, ...] = REQUIRED + PRICE_FIELDS + OPTIONAL

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
}

_DATE_LIKE = re.compile(r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})")


def normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical field -> source column. Build with :func:`infer_mapping`, edit with :meth:`with_changes`."""

    columns: dict[str, str]

    def __post_init__(self) -> None:
        unknown = set(self.columns) - set(FIELDS)
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)} in the column mapping; known: {', '.join(FIELDS)}")

    def get(self, field: str) -> str | None:
        return self.columns.get(field)

    def with_changes(self, changes: dict[str, str | None]) -> ColumnMapping:
        """A copy with fields set to other source columns (``None`` or ``""`` unsets a field)."""
        merged = dict(self.columns)
        for key, value in changes.items():
            if value:
                merged = {k: v for k, v in merged.items() if v != value}  # one source column, one field
                merged[key] = value
            else:
                merged.pop(key, None)
        return ColumnMapping(merged)

    def problems(self, available: list[str]) -> list[Issue]:
        """Errors for mapped columns that do not exist and for required fields left unmapped."""
        issues = [
            Issue(
                "error",
                "unknown_column",
                f"column {column!r} mapped to {field} does not exist",
                column=column,
                fix=f"choose one of: {', '.join(available)}",
            )
            for field, column in self.columns.items()
            if column not in available
        ]
        missing = [f for f in REQUIRED if f not in self.columns]
        if not any(f in self.columns for f in PRICE_FIELDS):
            missing.append("unit_price or amount")
        if missing:
            issues.append(
                Issue(
                    "error",
                    "missing_column",
                    f"required column(s) not found: {', '.join(missing)} (columns in the file: {', '.join(available)})",
                    fix="map them in the column mapping (app) or with --map FIELD=COLUMN (CLI)",
                )
            )
        return issues


def infer_mapping(table: pa.Table, overrides: dict[str, str | None] | None = None) -> ColumnMapping:
    """Match headers against :data:`SYNONYMS`; fall back on content for an unmatched timestamp.

    ``overrides`` (field -> column) win over inference; a field overridden with ``None`` or ``""`` stays
    unmapped (e.g. to ignore a country column).
    """
    overrides = overrides or {}
    columns = [c for c in table.column_names if c != "source_row"]
    mapping: dict[str, str] = {field: column for field, column in overrides.items() if column}
    taken = set(mapping.values())
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise_header(col), col)
    for field in FIELDS:
        if field in overrides:
            continue
        for synonym in SYNONYMS[field]:
            col = by_norm.get(synonym)
            if col is not None and col not in taken:
                mapping[field] = col
                taken.add(col)
                break
    if "ts" not in overrides:
        for col in columns:
            if col not in taken and _looks_like_dates(table.column(col)):
                mapping["ts"] = col
                taken.add(col)
                break
    return ColumnMapping(mapping)


def _looks_like_dates(column: pa.ChunkedArray) -> bool:
    sample = column.slice(0, 200)
    if not pa.types.is_string(sample.type) and not pa.types.is_large_string(sample.type):
        return pa.types.is_timestamp(sample.type) or pa.types.is_date(sample.type)
    values = [v for v in pc.drop_null(sample).to_pylist() if v]
    return bool(values) and sum(bool(_DATE_LIKE.match(v)) for v in values) >= 0.9 * len(values)
