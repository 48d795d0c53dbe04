"""``segment run CONFIG --engine spark``: the whole pipeline on Spark, outputs as Parquet, the run in the store.

The steps are those of the DuckDB run (ingest and cleaning, features, RFM, segments, saved run) with the Spark
versions of ingest, features and clustering, plus every customer's SHAP values (a LightGBM surrogate fitted on a
stratified sample, applied on the executors) and, when the data have products, every customer's top-10 products
from ALS (``implicit`` on the driver, or MLlib above :data:`~segmentation.spark.recommend.DRIVER_MAX_LINES`),
scored on the executors. The per-customer tables are written by Spark as Parquet folders under
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

OUTPUTS = ("features", "segments", "shap", "recommendations", "cleaning_affected")
"""The Parquet folders a Spark run writes (``recommendations`` only for data with products)."""
TOP_N = 10
"""Products in each customer's list."""


@dataclass
class SparkRunResult:
    run_id: str
    skipped: bool
    """True when this exact run (same data, same config, same engine) was already in the store."""
    files: list[Path] = field(default_factory=list)
    n_customers: int = 0
    n_segments: int = 0


def run_spark(
    config: Config, master: str | None = None, progress: Progress = no_progress, factorisation: str = "auto"
) -> SparkRunResult:
    """Run ``config`` on Spark (``master``: a cluster URL; default the session's or ``local[2]``).

    ``factorisation``: ``auto``, ``implicit`` or ``mllib``, the ALS the lists come from
    (:func:`~segmentation.spark.recommend.choose_factorisation`). Idempotent like the DuckDB run: the run id
    hashes the data, the config, the engine and the factorisation.
    """
    from segmentation.features import rfm_table
    from segmentation.spark.clustering import segment_spark
    from segmentation.spark.explain import explain_spark
    from segmentation.spark.features import compute_features_spark
    from segmentation.spark.ingest import load_transactions_spark
    from segmentation.spark.recommend import has_products, recommend_all
    from segmentation.spark.session import spark_session
    from segmentation.store import RunStore, run_id_for

    if not config.input:
        raise ConfigError("the config names no input file; add `input: path/to/transactions.csv`")
    spark = spark_session(master)
    fingerprint = data_fingerprint(spark, config.input)
    settings = {**config.to_dict(), "engine": "spark", "factorisation": factorisation}
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
    segmentation.assignments = segmentation.assignments.cache()  # written, explained and collected
    progress(0.7, "fitting the explanation surrogate on a sample")
    explanation = explain_spark(features.frame, segmentation.assignments, seed=config.clustering.random_state)
    out = Path(config.export.out_dir) / run_id
    fidelity = explanation.surrogate.fidelity_["macro_f1"]
    progress(0.8, f"surrogate macro-F1 {fidelity:.3f}; writing Parquet (SHAP of every customer) to {out}")
    tables = {
        "features": features.frame,
        "segments": segmentation.assignments,
        "shap": explanation.values,
        "cleaning_affected": ingest.affected,
    }
    if has_products(ingest.transactions):
        progress(0.85, f"top {TOP_N} products of every customer")
        seed = config.clustering.random_state
        tables["recommendations"] = recommend_all(ingest.transactions, TOP_N, factorisation=factorisation, seed=seed)
    for name, table in tables.items():
        table.write.mode("overwrite").parquet(str(out / name))
    assignments = segmentation.assignments.toPandas().set_index("customer_id").reindex(frame.index)
    model = segmentation.model
    store.save(
        run_id, settings, assignments, model.profiles_, model, config.input, fingerprint, features.as_of.isoformat()
    )
    progress(1.0, f"run {run_id} saved in {config.store}")
    files = [out / name for name in OUTPUTS if name in tables]
    return SparkRunResult(run_id, False, files, len(frame), model.segmenter_.n_clusters_)


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
