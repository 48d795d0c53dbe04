"""Start or reuse the Spark session every Spark step runs in.

``local[2]`` (two cores on this machine) by default; a cluster is the same call with its master URL
(``spark://host:7077``, ``yarn``, ``k8s://...``) or, under ``spark-submit``, with the master that spark-submit set.
Timestamps are read and written in UTC so they mean what DuckDB's time-zone-less ``TIMESTAMP`` means.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
DEFAULT_CONF: dict[str, str] = {
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.javaCharsets": "true",  # CSV in any Java charset (cp1252 exports), as the DuckDB reader
}
"""Small driver memory (the machine is shared) and few shuffle partitions; a cluster overrides them with ``conf``."""


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The active session, or a new one on ``master`` (default ``local[2]``) with :data:`DEFAULT_CONF` and ``conf``.

    ``master=None`` under ``spark-submit`` keeps the master spark-submit gave; options already fixed by a running
    session (driver memory) take effect only in a new one.
    """
    from pyspark.sql import SparkSession

    from segmentation.errors import ConfigError

    builder = SparkSession.builder.appName("customer-segmentation")
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:  # set by spark-submit, which already chose a master
        builder = builder.master(master or DEFAULT_MASTER)
    if (master or DEFAULT_MASTER).startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers run this interpreter and its packages
    for key, value in {**DEFAULT_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # Py4J/JVM start-up errors carry no common type
        raise ConfigError(
            f"cannot start Spark on {master or DEFAULT_MASTER!r}: {str(exc).splitlines()[0]}",
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark
