"""The CRM import shapes: each CRM's documented import rules as data (docs/export.md lists them with sources).

The identifier column and its header, multi-value separators, tag rules, text limits, and the file size and
row limits beyond which an export is split into parts. No pandas here: ``segment --help`` lists the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

VALUE_EXPORT: dict[str, int] = {"predicted_clv": 2, "churn_probability": 4, "p_alive": 4}
"""The value columns (from ``segment value``) and their decimals: plain numbers with a '.' decimal point and no
thousands separator, as the number fields of every shape take them; probabilities from 0 to 1."""

EXPORT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "email",
    "segment",
    "segment_name",
    "probability",
    "rfm_segment",
    "r_score",
    "f_score",
    "m_score",
    "recency_days",
    "frequency",
    "monetary",
    "predicted_clv",
    "churn_probability",
    "p_alive",
    "top_products",
    "top_product_names",
    "run_id",
    "run_date",
)


@dataclass(frozen=True)
class CrmShape:
    name: str
    headers: dict[str, str]
    """Export column -> the header this CRM expects (columns not listed are left out)."""
    requires_email: bool = False
    max_rows: int | None = None
    max_bytes: int | None = None
    list_separator: str = ";"
    tag_header: str | None = None
    text_limit_bytes: int | None = None
    source: str = ""


def _headers(style: str) -> dict[str, str]:
    names = {
        "customer_id": "Customer ID",
        "email": "Email",
        "segment": "Segment ID",
        "segment_name": "Segment",
        "probability": "Segment Probability",
        "rfm_segment": "RFM Segment",
        "r_score": "R Score",
        "f_score": "F Score",
        "m_score": "M Score",
        "recency_days": "Days Since Last Order",
        "frequency": "Orders",
        "monetary": "Net Revenue",
        "predicted_clv": "Predicted CLV",
        "churn_probability": "Churn Probability",
        "p_alive": "Probability Alive",
        "top_products": "Recommended Products",
        "top_product_names": "Recommended Product Names",
        "run_id": "Segmentation Run",
        "run_date": "Segmentation Date",
    }
    if style == "salesforce":  # custom fields are API names ending in __c; Customer_ID__c is an External ID
        return {k: "Email" if k == "email" else v.replace(" ", "_") + "__c" for k, v in names.items()}
    return names


SHAPES: dict[str, CrmShape] = {
    "generic": CrmShape("generic", {c: c for c in EXPORT_COLUMNS}, source="RFC 4180"),
    "hubspot": CrmShape(
        "hubspot",
        _headers("hubspot"),
        max_rows=1_048_576,
        max_bytes=512 * 1024**2,
        source="https://knowledge.hubspot.com/import-and-export/set-up-your-import-file",
    ),
    "salesforce": CrmShape(
        "salesforce",
        _headers("salesforce"),
        max_rows=50_000,
        max_bytes=100 * 1024**2,
        source="https://help.salesforce.com/s/articleView?id=sf.faq_import_general.htm",
    ),
    "mailchimp": CrmShape(
        "mailchimp",
        {**{k: v.upper().replace(" ", "_") for k, v in _headers("mailchimp").items()}, "email": "Email Address"},
        requires_email=True,
        tag_header="Tags",
        text_limit_bytes=255,
        list_separator=", ",
        source="https://mailchimp.com/help/format-guidelines-for-your-import-file/",
    ),
    "klaviyo": CrmShape(
        "klaviyo",
        _headers("klaviyo"),
        requires_email=True,
        max_bytes=50 * 1024**2,
        source="https://help.klaviyo.com/hc/en-us/articles/115005078967",
    ),
}
