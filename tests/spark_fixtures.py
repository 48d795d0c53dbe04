"""A ``local[2]`` Spark session started once per test process (import the ``spark`` fixture into the module): the
JVM takes 20-40 s to start, so every Spark test module a worker runs shares it (``getOrCreate``), and it stops
when the test session ends.

Without PySpark the Spark tests skip on a developer machine and fail under CI (``CI=true``): never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PySpark is missing: CI installs '.[dev,spark]' (make install)")
        pytest.skip("PySpark not installed (pip install '.[spark]')")
    from segmentation.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
