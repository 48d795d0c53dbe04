"""The longest-first order of test files (tests/file_seconds.py): the table names real files, and the order keeps
each file's tests together and in their own order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.file_seconds import FILE_SECONDS, group, longest_first

TESTS = Path(__file__).parent


class Item:
    """What :func:`longest_first` reads of a collected test, and the group marks it adds."""

    def __init__(self, fspath: Path, nodeid: str) -> None:
        self.fspath, self.nodeid, self.groups = fspath, nodeid, []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        assert mark.name == "xdist_group"
        self.groups.append(mark.args[0])


def test_every_timed_file_exists() -> None:
    assert [name for name in FILE_SECONDS if not (TESTS / name).is_file()] == []


def test_longest_files_first_then_most_tests_each_files_tests_in_order() -> None:
    by_seconds = sorted(FILE_SECONDS, key=FILE_SECONDS.get)
    slow = by_seconds[0]
    slower = next(name for name in by_seconds if FILE_SECONDS[name] > FILE_SECONDS[slow])
    names = ["test_unlisted_a.py", slow, "test_unlisted_b.py", slower, slow, "test_unlisted_b.py"]
    items = [Item(TESTS / name, f"{name}::{i}") for i, name in enumerate(names)]
    longest_first(items)
    assert all(item.groups == [group(Path(item.fspath).name)] for item in items)
    assert [item.nodeid for item in items] == [
        f"{slower}::3",
        f"{slow}::1",
        f"{slow}::4",
        "test_unlisted_b.py::2",
        "test_unlisted_b.py::5",
        "test_unlisted_a.py::0",
    ]


def test_the_spark_files_are_one_group_run_where_their_total_says() -> None:
    """One worker runs every Spark file in one JVM; the group goes where the sum of its files' seconds puts it."""
    spark = [name for name in FILE_SECONDS if name.startswith("test_spark_")]
    longest = max((n for n in FILE_SECONDS if not n.startswith("test_spark_")), key=FILE_SECONDS.get)
    names = [longest, *spark, "test_unlisted_a.py"]
    items = [Item(TESTS / name, f"{name}::{i}") for i, name in enumerate(names)]
    longest_first(items)
    assert {g for item in items[: len(spark)] for g in item.groups} == {"spark"}
    assert [item.nodeid for item in items[: len(spark)]] == [f"{name}::{i + 1}" for i, name in enumerate(spark)]
    assert [item.groups for item in items[len(spark) :]] == [[longest], ["test_unlisted_a.py"]]


def test_xdist_sends_a_group_to_one_worker(request: pytest.FixtureRequest) -> None:
    """Under ``--dist loadgroup`` xdist names a test by its group (``...@group``) and sends each name's tests to one
    worker; with pytest 9.2 the name stayed without it and every file's tests were spread over both workers."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("the groups are pytest-xdist's: this runs under make test (-n 2 --dist loadgroup)")
    assert request.node.nodeid.endswith(f"@{group(Path(__file__).name)}")
