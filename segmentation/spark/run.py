"""``segment run CONFIG --engine spark``: the whole pipeline on Spark, outputs as Parquet, the run in the store.

The steps are those of the DuckDB run (ingest and cleaning, features, RFM, segments, saved run) with the Spark
versions of ingest, features and clustering. The per-customer tables are written by Spark as Parquet folders under
``export.out_dir/<run id>/``; the run store (a DuckDB file on the driver) gets the assignments, profiles and model
like any run, so the app opens it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation.config import Config
from segmentation.errors import ConfigError
from segmentation.progress import Progress, no_progress

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

OUTPUTS = ("features", "segments", "cleaning_affected")
"""The Parquet folders a Spark run writes."""


@dataclass
class SparkRunResult:
    run_id: str
    skipped: bool
    """True when this exact run (same data, same config, same engine) was already in the store."""
    files: list[Path] = field(default_factory=list)
    n_customers: int = 0
    n_segments: int = 0


def run_spark(config: Config, master: str | None = None, progress: Progress = no_progress) -> SparkRunResult:
    """Run ``config`` on Spark (``master``: a cluster URL; default the session's or ``local[2]``).

    Idempotent like the DuckDB run: the run id hashes the data, the config and the engine.
    """
    from segmentation.features import rfm_table
    from segmentation.spark.clustering import segment_spark
    from segmentation.spark.features import compute_features_spark
    from segmentation.spark.ingest import load_transactions_spark
    from segmentation.spark.session import spark_session
    from segmentation.store import RunStore, run_id_for

    if not config.input:
        raise ConfigError("the config names no input file; add `input: path/to/transactions.csv`")
    spark = spark_session(master)
    fingerprint = data_fingerprint(spark, config.input)
    settings = {**config.to_dict(), "engine": "spark"}
    run_id = run_id_for(settings, fingerprint)
    store = RunStore(config.store)
    if store.exists(run_id):
        progress(1.0, f"run {run_id} is already saved in {config.store}; nothing to do")
        return SparkRunResult(run_id, skipped=True)
    progress(0.0, f"reading and cleaning {config.input} on Spark ({spark.sparkContext.master})")
    ingest = load_transactions_spark(spark, config.input, config)
    progress(0.4, f"{ingest.rows_kept:,} of {ingest.rows_in:,} rows kept; features")
    features = compute_features_spark(ingest.transactions, config.features)
    features.frame = features.frame.cache()  # collected, segmented and written: computed once
    frame = features.to_pandas()
    rfm = rfm_table(frame, config.features.rfm_bins)
    progress(0.6, f"segmenting {len(frame):,} customers with {config.clustering.method}")
    segmentation = segment_spark(features.frame, frame, config.clustering, rfm["rfm_segment"])
    out = Path(config.export.out_dir) / run_id
    progress(0.8, f"writing Parquet to {out}")
    tables = {"features": features.frame, "segments": segmentation.assignments, "cleaning_affected": ingest.affected}
    for name, table in tables.items():
        table.write.mode("overwrite").parquet(str(out / name))
    assignments = segmentation.assignments.toPandas().set_index("customer_id").reindex(frame.index)
    model = segmentation.model
    store.save(
        run_id, settings, assignments, model.profiles_, model, config.input, fingerprint, features.as_of.isoformat()
    )
    progress(1.0, f"run {run_id} saved in {config.store}")
    return SparkRunResult(run_id, False, [out / name for name in OUTPUTS], len(frame), model.segmenter_.n_clusters_)


def data_fingerprint(spark: SparkSession, path: str) -> str:
    """A local file's SHA-256 (as the DuckDB run), or for a remote URI or folder a hash of each file's path, size
    and modification time as the cluster's file system reports them (reading terabytes to hash them is no option)."""
    from segmentation.store import file_fingerprint

    local = Path(path.removeprefix("file://"))
    if "://" not in path.replace("file://", "") and local.is_file():
        return file_fingerprint(local)
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    files = fs.listFiles(hadoop_path, True)
    digest = hashlib.sha256()
    while files.hasNext():
        status = files.next()
        digest.update(f"{status.getPath()}|{status.getLen()}|{status.getModificationTime()}\n".encode())
    return digest.hexdigest()
