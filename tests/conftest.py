"""Shared fixtures: the corpus folder, the real Online Retail file, small transaction frames and AppTest downloads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "data"
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    """The real UCI Online Retail file; under CI a missing file fails instead of skipping."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{ONLINE_RETAIL} is missing: CI must provide ../shared/data/online_retail.csv.gz")
        pytest.skip(f"{ONLINE_RETAIL} not present")
    return ONLINE_RETAIL


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write rows (first one the header) as a CSV file and return its path."""

    def write(rows: list[list[object]], name: str = "tx.csv", sep: str = ",") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(sep.join(str(v) for v in row) for row in rows) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """File name -> content of every download button a run offers with its data (AppTest cannot click them)."""
    files: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(self: MediaFileManager, data: bytes | str, mimetype: str, coordinates: str, file_name=None, **kw) -> str:
        if file_name and isinstance(data, bytes):
            files[file_name] = data
        return original(self, data, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", add)
    yield files
