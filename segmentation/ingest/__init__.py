"""Readers and sniffing, column mapping, validation, cleaning and its report."""

from segmentation.ingest.clean import REASONS, CleaningReport, clean_transactions
from segmentation.ingest.mapping import FIELDS, OPTIONAL, REQUIRED, ColumnMapping, infer_mapping
from segmentation.ingest.parse import to_canonical
from segmentation.ingest.reader import RawTable, read_raw
from segmentation.ingest.validation import Issue, ValidationFailed, ValidationReport

__all__ = [
    "FIELDS",
    "OPTIONAL",
    "REASONS",
    "REQUIRED",
    "CleaningReport",
    "ColumnMapping",
    "Issue",
    "RawTable",
    "ValidationFailed",
    "ValidationReport",
    "clean_transactions",
    "infer_mapping",
    "read_raw",
    "to_canonical",
]
