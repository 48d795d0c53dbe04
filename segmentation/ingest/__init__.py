"""Readers and sniffing, column mapping, validation, cleaning and its report.

The names load lazily (see :mod:`segmentation.lazy`), like the other packages of the library.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "clean": ("REASONS", "CleaningReport", "clean_transactions"),
        "mapping": ("FIELDS", "OPTIONAL", "REQUIRED", "ColumnMapping", "infer_mapping"),
        "parse": ("to_canonical",),
        "reader": ("RawTable", "read_raw"),
        "validation": ("Issue", "ValidationFailed", "ValidationReport"),
    },
)
