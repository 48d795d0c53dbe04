"""The longest-first order of test files (tests/file_seconds.py): the table names real files, and the order keeps
each file's tests together and in their own order."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.file_seconds import FILE_SECONDS, longest_first

TESTS = Path(__file__).parent


def test_every_timed_file_exists() -> None:
    assert [name for name in FILE_SECONDS if not (TESTS / name).is_file()] == []


def test_longest_files_first_then_most_tests_each_files_tests_in_order() -> None:
    slow, slower = sorted(FILE_SECONDS, key=FILE_SECONDS.get)[:2]
    names = ["test_unlisted_a.py", slow, "test_unlisted_b.py", slower, slow, "test_unlisted_b.py"]
    items = [SimpleNamespace(fspath=TESTS / name, nodeid=f"{name}::{i}") for i, name in enumerate(names)]
    longest_first(items)
    assert [item.nodeid for item in items] == [
        f"{slower}::3",
        f"{slow}::1",
        f"{slow}::4",
        "test_unlisted_b.py::2",
        "test_unlisted_b.py::5",
        "test_unlisted_a.py::0",
    ]
