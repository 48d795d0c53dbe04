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


TEST_CONF = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
"""The tests' jobs are small and short: the JVM's quick compiler only and one garbage-collector thread cut a run of
six corpus files from 64 to 52 s alone, and more beside the other test worker (the optimising compiler's threads
compete for the same two cores). Runs of the product keep the JVM's defaults, made for long jobs."""


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PySpark is missing: CI installs '.[dev,spark]' (make install)")
        pytest.skip("PySpark not installed (pip install '.[spark]')")
    from segmentation.spark import spark_session

    session = spark_session("local[2]", TEST_CONF)
    yield session
    session.stop()
