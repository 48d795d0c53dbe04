"""Segments to CRM-ready files: the shapes, safe CSV writing, manifests.

The names load lazily (see :mod:`segmentation.lazy`): the CRM shapes are known without importing pandas.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "crm": ("ExportResult", "customer_emails", "export_segments", "export_table"),
        "safe_csv": ("neutralise", "write_csv_atomic"),
        "shapes": ("SHAPES", "CrmShape"),
    },
)
