"""Test files in groups, longest first, so that the two ``pytest -n 2 --dist loadgroup`` workers finish together.

xdist's ``loadgroup`` hands out whole groups (the ``xdist_group`` mark :func:`longest_first` gives every test): one
per file, as ``loadfile`` would, except that the Spark files form one group, so one worker starts one JVM for them
all (two JVMs at once, each with ``local[2]``, fought over the two cores and each warmed up its own compiler). By
default xdist hands out the groups with the most tests first (``--loadscope-reorder``); the one-test browser and
Spark files, minutes each, then came last and one worker ran them while the other was idle. With
``--no-loadscope-reorder`` (pyproject's ``addopts``) it hands them out in collection order, which
:func:`longest_first` makes longest-processing-time-first (Graham 1969: within 4/3 of the best split).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

FILE_SECONDS: dict[str, float] = {
    "test_spark_engine.py": 180,
    "test_browser_value.py": 82,
    "test_app_segments.py": 56,
    "test_spark_clustering.py": 55,
    "test_browser_recommend.py": 50,
    "test_spark_run.py": 49,
    "test_browser_explain_export.py": 48,
    "test_value_cli.py": 48,
    "test_recommend_quick.py": 47,
    "test_browser_segments.py": 45,
    "test_browser_cancel.py": 39,
    "test_currency_browser.py": 36,
    "test_real_data_segments.py": 35,
    "test_spark_recommend.py": 34,
    "test_browser_sessions.py": 28,
    "test_store_crash.py": 27,
    "test_app_value.py": 27,
    "test_privacy_uploads.py": 27,
    "test_browser.py": 21,
    "test_value_migration.py": 18,
    "test_browser_upload_limit.py": 17,
    "test_cli.py": 16,
    "test_online_retail.py": 16,
}
"""Seconds of each file's tests in a fresh-clone CI run of 2026-12-02 16:55 UTC on a quiet machine (``--junitxml``;
each file's tests on one worker, the Spark files together on one; pytest 683 s in all); test_spark_engine.py and
test_spark_clustering.py as estimated after that run cut them (the corpus files' features compared for four
files, not thirteen; fewer MLlib fits). A file not listed took less than 15 s."""


def group(name: str) -> str:
    """The xdist group of the test file ``name``: ``spark`` for the files that start a Spark session, else itself."""
    return "spark" if name.startswith("test_spark_") else name


def longest_first(items: list[pytest.Item]) -> None:
    """Mark each of ``items`` with its file's :func:`group` and reorder them in place: groups by the sum of their
    files' :data:`FILE_SECONDS`, longest first, then the unlisted files as xdist would order them (most tests
    first: a file of many short tests can still be long); each file's tests stay together and in their order."""
    groups = [group(Path(str(item.fspath)).name) for item in items]
    seconds: Counter[str] = Counter()
    for name, value in FILE_SECONDS.items():
        seconds[group(name)] += value
    tests = Counter(groups)
    order = {id(item): (-seconds[g], -tests[g], g) for item, g in zip(items, groups, strict=True)}
    for item, g in zip(items, groups, strict=True):
        item.add_marker(pytest.mark.xdist_group(g))
    items.sort(key=lambda item: order[id(item)])
