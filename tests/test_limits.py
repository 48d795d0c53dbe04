"""The upload limit: one number for the server and the Data page; a file over it, or one that expands past it, is
refused from its size alone with a one-line message giving the limit and the command-line alternative."""

from __future__ import annotations

import gzip
import io
import tomllib
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.errors import InputError
from segmentation.limits import MAX_UPLOAD_MB, check_upload

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
HEADER = b"customer_id,order_id,order_date,sku,quantity,unit_price\n"


def csv_bytes(size: int) -> bytes:
    line = b"C1,1,2024-01-01,P1,1,1.00\n"
    return HEADER + line * (size // len(line))


def test_the_server_limit_is_the_library_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_a_file_within_the_limit_passes_and_is_left_at_its_start() -> None:
    data = io.BytesIO(csv_bytes(MB))
    data.seek(100)
    check_upload("tx.csv", data, limit_mb=2)
    assert data.tell() == 0


def test_a_larger_file_is_refused_with_the_limit_and_the_command_line() -> None:
    with pytest.raises(InputError) as caught:
        check_upload("big.csv", io.BytesIO(csv_bytes(3 * MB)), limit_mb=2)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("big.csv: 3.0 MB, more than the 2 MB this app reads from an upload")
    assert "`segment validate FILE`" in message and "`segment run CONFIG`" in message


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("bomb.csv.gz", lambda raw: gzip.compress(raw, compresslevel=1)),
        ("bomb.parquet", lambda raw: _parquet(raw)),
        ("bomb.xlsx", lambda raw: _zip(raw)),
    ],
)
def test_a_small_compressed_file_that_expands_past_the_limit_is_refused(name, make) -> None:
    packed = make(csv_bytes(5 * MB))
    assert len(packed) < 2 * MB  # the upload itself is within the limit
    with pytest.raises(InputError, match=r"MB, which expands to more than the 2 MB this app reads"):
        check_upload(name, io.BytesIO(packed), limit_mb=2)
    check_upload(name, io.BytesIO(packed), limit_mb=64)  # and passes when it fits (Parquet: 22 MB as CSV)


def test_a_broken_compressed_file_is_left_to_the_reader() -> None:
    check_upload("broken.csv.gz", io.BytesIO(b"\x1f\x8b not really gzip"), limit_mb=1)
    check_upload("broken.parquet", io.BytesIO(b"PAR1 nope"), limit_mb=1)


def _parquet(raw: bytes) -> bytes:
    lines = raw.decode().splitlines()
    table = pa.table({"line": lines})
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _zip(raw: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", raw)
    return out.getvalue()
