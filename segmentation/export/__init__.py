"""Segments to CRM-ready files: the shapes, safe CSV writing, manifests."""

from segmentation.export.crm import SHAPES, CrmShape, ExportResult, customer_emails, export_segments, export_table
from segmentation.export.safe_csv import neutralise, write_csv_atomic

__all__ = [
    "SHAPES",
    "CrmShape",
    "ExportResult",
    "customer_emails",
    "export_segments",
    "export_table",
    "neutralise",
    "write_csv_atomic",
]
