"""How much data the app reads from one upload: the one number behind ``server.maxUploadSize`` and the Data page.

The limit comes from the Data page's measured memory (docs/benchmarks.md, "Large uploads"): a 532 MB CSV of 5.0M
lines peaks at 2.8 GiB and keeps 1.6 GiB per session (the upload and the cached clean table). At 500 MB, five
sessions loading at once plus the four cached files fit a 24 GiB machine with about 7 GiB to spare for the other
pages. The limit is on the data as read: a compressed file (gzip, Parquet, Excel) counts at its expanded size,
since that is what the reader holds (Parquet: its rows at the measured CSV's bytes per line). Larger files go
through the command line, which reads the file from disk and serves one analyst.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import PurePath
from typing import BinaryIO

import pyarrow.parquet as pq

from segmentation.errors import InputError

MAX_UPLOAD_MB = 500
"""Largest upload in MB (2**20 bytes); ``.streamlit/config.toml`` sets ``server.maxUploadSize`` to the same."""
CLI_FIX = "check it with `segment validate FILE` and segment it with `segment run CONFIG` on the command line instead"
CSV_BYTES_PER_ROW = 111
"""Bytes per line of the measured CSV (557,301,137 bytes, 5,002,693 lines): a Parquet file counts as its rows
written as that CSV."""
_BLOCK = 1 << 20


def check_upload(name: str, data: BinaryIO, limit_mb: int = MAX_UPLOAD_MB) -> None:
    """Refuse ``data`` (an uploaded file called ``name``) when it, or what it expands to, is over ``limit_mb``.

    Only sizes are read: the gzip stream is decompressed block by block and dropped, and stops once past the limit;
    Parquet rows and Excel sizes come from their metadata. The stream is left at its start.
    """
    limit = limit_mb * 2**20
    try:
        size = data.seek(0, 2)
        expanded = size
        if size <= limit:
            data.seek(0)
            expanded = _expanded_size(PurePath(name).suffix.lower(), data, limit)
    finally:
        data.seek(0)
    if max(size, expanded) > limit:
        what = f"{size / 2**20:,.1f} MB" + (", which expands to" if size <= limit else ",")
        raise InputError(f"{what} more than the {limit_mb:,} MB this app reads from an upload", where=name, fix=CLI_FIX)


def _expanded_size(suffix: str, data: BinaryIO, limit: int) -> int:
    """Bytes ``data`` expands to when read (its own size for plain text), counting only up to just past ``limit``."""
    try:
        if suffix == ".gz":
            total = 0
            with gzip.GzipFile(fileobj=data) as stream:
                while total <= limit and (block := stream.read(_BLOCK)):
                    total += len(block)
            return total
        if suffix == ".parquet":  # encoded sizes say little (a repeated value costs nothing): count rows instead
            return pq.ParquetFile(data).metadata.num_rows * CSV_BYTES_PER_ROW
        if suffix == ".xlsx":
            with zipfile.ZipFile(data) as book:
                return sum(info.file_size for info in book.infolist())
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError):
        return 0  # not what its name says: the reader reports that with its own message
    return data.seek(0, 2)
