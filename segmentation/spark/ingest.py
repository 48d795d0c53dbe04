"""Read, parse and clean transactions on Spark with the DuckDB rules themselves, run on the executors.

Nothing is written twice: each Spark partition is handed, as Arrow, to the same
:func:`~segmentation.ingest.to_canonical` and :func:`~segmentation.ingest.clean_transactions` the embedded
engine runs. What must be decided for the whole file is decided once on the driver and passed to every partition:

- format, header, mapping, decimal separator and date order from the file's first 256 KiB (DuckDB: from samples
  and, for the date order, every value; set ``read.date_order`` and ``read.decimal`` to remove the difference);
- the outlier threshold from every row (Spark's exact ``percentile``, DuckDB's ``quantile_cont``).

Cleaning needs each customer's rows together (duplicates and returns are matched within a customer), so the
canonical rows are hash-partitioned by customer first; the cleaning report counts are then those of DuckDB.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from segmentation.config import CleaningPolicy, Config, ReadOptions
from segmentation.errors import InputError
from segmentation.ingest import (
    REASONS,
    CleaningReport,
    ColumnMapping,
    RawTable,
    ValidationReport,
    clean_transactions,
    infer_mapping,
    read_raw,
    to_canonical,
)
from segmentation.ingest.reader import ROW_COLUMN, SNIFF_BYTES, FileFormat

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

PARQUET_SUFFIXES = (".parquet", ".pq")
SAMPLE_ROWS = 20_000
BEFORE_OUTLIERS = tuple(REASONS)[: tuple(REASONS).index("extreme_outlier")]
"""Reasons the policy checks before the outlier rule: a row removed for one of them is never an outlier."""
BatchFunction = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]
"""What ``mapInArrow`` runs on each partition."""
CHANGED = tuple(r for r, (action, _) in REASONS.items() if action == "changed")


@dataclass
class SparkIngest:
    """Clean transactions held by Spark, the mapping used, the validation report of the sample and the cleaning
    counts of every row; :meth:`cleaning_report` collects the affected rows on the driver when wanted."""

    transactions: DataFrame
    mapping: ColumnMapping
    validation: ValidationReport
    rows_in: int
    rows_kept: int
    counts: dict[str, int]
    affected: DataFrame
    """One row per removed or changed input row, as in :attr:`CleaningReport.affected_rows`."""
    outlier_threshold: float | None

    def cleaning_report(self) -> CleaningReport:
        """The DuckDB-shaped report, its affected rows collected on the driver (small files)."""
        affected = self.affected.orderBy(ROW_COLUMN).toArrow()
        return CleaningReport(self.rows_in, self.rows_kept, self.counts, affected, self.outlier_threshold)


def load_transactions_spark(spark: SparkSession, path: str, config: Config | None = None) -> SparkIngest:
    """Read ``path`` (CSV, CSV.gz, a Parquet file or folder; local or any URI Spark reads), map, parse and clean it.

    Raises :class:`~segmentation.ingest.ValidationFailed` when the sample fails validation, as DuckDB does.
    """
    from pyspark.sql import functions as F

    config = config or Config()
    sample, quoted = _sample(spark, path, config.read)
    mapping = infer_mapping(sample.table, config.mapping)
    canonical_sample, validation = to_canonical(sample, mapping, config.read)
    validation.raise_for_errors()
    options = _whole_file_options(config.read, validation)
    raw, validation.rows_read = _with_row_numbers(_read(spark, path, sample, quoted))
    validation.warn(
        "validated_on_sample",
        f"values were checked on the first {sample.table.num_rows:,} rows; the cleaning report counts every row",
    )
    parse = _partition_parser(sample, mapping, options)
    # parsed once (the threshold and the cleaning both read it), released once the cleaning result is cached
    canonical = raw.mapInArrow(parse, _spark_schema(canonical_sample)).repartition("customer_id").cache()
    threshold = _outlier_threshold(canonical, config.cleaning)
    cleaner = _partition_cleaner(config.cleaning, threshold)
    marked = canonical.mapInArrow(cleaner, _spark_schema(_marked_schema(canonical_sample))).cache()
    counts = dict(marked.where(F.col("reason").isNotNull()).groupBy("reason").count().collect())
    canonical.unpersist()
    kept = F.col("reason").isNull() | F.col("reason").isin(*CHANGED)
    transactions = marked.where(kept).drop("reason")
    rows_kept = validation.rows_read - sum(n for r, n in counts.items() if r not in CHANGED)
    action = F.when(F.col("reason").isin(*CHANGED), "changed").otherwise("removed").alias("action")
    affected = marked.where(F.col("reason").isNotNull()).select(
        ROW_COLUMN, "reason", action, *(c for c in marked.columns if c not in (ROW_COLUMN, "reason", "is_return"))
    )
    ordered = {r: counts[r] for r in REASONS if r in counts}
    return SparkIngest(transactions, mapping, validation, validation.rows_read, rows_kept, ordered, affected, threshold)


def _is_parquet(path: str) -> bool:
    local = Path(path.removeprefix("file://"))
    return path.lower().endswith(PARQUET_SUFFIXES) or local.is_dir()


def _sample(spark: SparkSession, path: str, options: ReadOptions) -> tuple[RawTable, bool]:
    """The first rows as the DuckDB reader sees them (format, header, text columns, row numbers), and whether
    the CSV quotes values (then values may hold line breaks, which Spark reads only without splitting a file)."""
    if _is_parquet(path):
        table = spark.read.parquet(path).limit(SAMPLE_ROWS).toArrow()
        rows = pa.array(range(2, table.num_rows + 2), pa.int64())
        return RawTable(table.append_column(ROW_COLUMN, rows), Path(path).name, FileFormat("parquet")), False
    head = _head_bytes(spark, path)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / Path(path).name.removesuffix(".gz")
        copy.write_bytes(head[: head.rfind(b"\n") + 1] or head)  # whole lines only
        sample = read_raw(copy, options)
    return replace(sample, source=Path(path).name), b'"' in head


def _head_bytes(spark: SparkSession, path: str) -> bytes:
    local = Path(path.removeprefix("file://"))
    if "://" not in path or path.startswith("file://"):
        if not local.is_file():
            raise InputError("file not found", where=path, fix="check the path")
        with open(local, "rb") as fh:
            gzipped = fh.read(2) == b"\x1f\x8b"
        with (gzip.open if gzipped else open)(local, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    # a remote URI: Spark reads (and decompresses) the first lines; they are decoded as UTF-8 on the way
    lines = [row.value for row in spark.read.text(path).limit(2_000).collect()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _whole_file_options(options: ReadOptions, validation: ValidationReport) -> ReadOptions:
    """The sample's decimal separator and date order, fixed for every partition."""
    date_format = str(validation.detected.get("date_format", ""))
    order = options.date_order
    if order == "auto":
        order = "monthfirst" if "(monthfirst)" in date_format else "dayfirst"
    return replace(options, decimal=validation.detected["decimal"], date_order=order)


def _read(spark: SparkSession, path: str, sample: RawTable, quoted: bool) -> DataFrame:
    """The whole input as Spark reads it: CSV as text columns, Parquet as typed. Columns are named by position
    (``_c0``, ...): headers such as ``Description.1`` would read as field access in Spark; the parser renames them
    back to the sample's header."""
    from pyspark.sql.types import StringType, StructField, StructType

    if sample.format.kind == "parquet":
        frame = spark.read.parquet(path)
        return frame.toDF(*_positional(len(frame.columns)))
    fmt = sample.format
    schema = StructType([StructField(c, StringType()) for c in _positional(len(sample.columns))])
    return (
        spark.read.schema(schema)
        .option("header", True)
        .option("sep", fmt.delimiter)
        .option("encoding", fmt.encoding)
        .option("quote", '"')
        .option("escape", '"')
        .option("multiLine", quoted)
        .option("mode", "FAILFAST")
        .csv(path)
    )


def _with_row_numbers(frame: DataFrame) -> tuple[DataFrame, int]:
    """``frame`` with the reader's consecutive row numbers (header = row 1) in file order, and its row count.

    Spark's ids are (partition << 33) + position in the partition; each partition's first row number comes from
    the sizes of the partitions before it (one small pass, then a broadcast join).
    """
    from pyspark.sql import functions as F

    ids = frame.withColumns(
        {"_id": F.monotonically_increasing_id(), "_part": F.shiftright(F.monotonically_increasing_id(), 33)}
    )
    sizes = ids.groupBy("_part").count().orderBy("_part").collect()
    starts, start = [], 2
    for part, size in sizes:
        starts.append((part, start))
        start += size
    offsets = frame.sparkSession.createDataFrame(starts, "_part long, _start long")
    numbered = ids.join(F.broadcast(offsets), "_part")
    row = F.col("_start") + F.col("_id") - F.shiftleft(F.col("_part"), 33)
    return numbered.withColumn(ROW_COLUMN, row).drop("_id", "_part", "_start"), start - 2


def _spark_schema(table: pa.Table) -> StructType:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(table.schema, prefer_timestamp_ntz=False)


def _marked_schema(canonical: pa.Table) -> pa.Table:
    """Canonical columns (without ``invalid_fields``), ``is_return`` and the cleaning ``reason`` (NULL: kept)."""
    table = canonical.drop_columns(["invalid_fields"]).slice(0, 0)
    return table.append_column("is_return", pa.array([], pa.bool_())).append_column("reason", pa.array([], pa.string()))


def _positional(n: int) -> list[str]:
    return [f"_c{i}" for i in range(n)]


def _partition_parser(sample: RawTable, mapping: ColumnMapping, options: ReadOptions) -> BatchFunction:
    source, fmt, names = sample.source, sample.format, [*sample.columns, ROW_COLUMN]

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _partition_table(batches)
        if table is not None:
            raw = RawTable(table.rename_columns(names), source, fmt)
            canonical, _ = to_canonical(raw, mapping, options)
            yield from _utc(canonical).to_batches()

    return parse


def _partition_table(batches: Iterator[pa.RecordBatch]) -> pa.Table | None:
    """A partition's rows as one table; None for an empty partition."""
    batches = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(batches) if batches else None


def _utc(table: pa.Table) -> pa.Table:
    """Time-zone-less timestamps marked UTC, the session's zone, so Spark keeps their wall-clock value."""
    fields = [pa.field(f.name, pa.timestamp("us", "UTC")) if pa.types.is_timestamp(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields))


def _naive(table: pa.Table) -> pa.Table:
    fields = [pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields))


def _outlier_threshold(canonical: DataFrame, policy: CleaningPolicy) -> float | None:
    from pyspark.sql import functions as F

    if policy.outlier_factor is None:
        return None
    (quantile,) = (
        canonical.where(F.col("invalid_fields").isNull())
        .agg(F.percentile(F.abs("quantity"), F.lit(policy.outlier_quantile)))
        .first()
    )
    return None if quantile is None else float(quantile) * policy.outlier_factor


def _partition_cleaner(policy: CleaningPolicy, threshold: float | None) -> BatchFunction:
    def clean(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _partition_table(batches)
        if table is not None:
            yield from _utc(clean_partition(_naive(table), policy, threshold)).to_batches()

    return clean


def clean_partition(canonical: pa.Table, policy: CleaningPolicy, threshold: float | None) -> pa.Table:
    """Every row of ``canonical`` (all rows of its customers) with ``is_return`` and its cleaning ``reason``.

    :func:`~segmentation.ingest.clean_transactions` runs with the outlier rule off and the outliers of the whole
    file (``|quantity| > threshold``) are applied in the policy's order: rows that passed the earlier rules and
    are outliers are removed as such, and the returns are matched again without them, as DuckDB matches them.
    """
    import pyarrow.compute as pc

    no_outliers = replace(policy, outlier_factor=None)
    kept, report = clean_transactions(canonical, no_outliers)
    reasons = report.affected_rows.select([ROW_COLUMN, "reason"])
    if threshold is not None:
        earlier = pc.is_in(reasons["reason"], pa.array(BEFORE_OUTLIERS))
        removed_earlier = pc.filter(reasons[ROW_COLUMN], earlier)
        reached = canonical.filter(pc.invert(pc.is_in(canonical[ROW_COLUMN], removed_earlier)))
        outlier = pc.greater(pc.abs(reached["quantity"]), threshold)
        if pc.any(outlier).as_py():
            outliers = pc.filter(reached[ROW_COLUMN], outlier)
            kept, rematched = clean_transactions(reached.filter(pc.invert(outlier)), no_outliers)
            reasons = pa.concat_tables(
                [
                    reasons.filter(earlier),
                    pa.table({ROW_COLUMN: outliers, "reason": pa.array(["extreme_outlier"] * len(outliers))}),
                    rematched.affected_rows.select([ROW_COLUMN, "reason"]).cast(reasons.schema),
                ]
            )
    is_return = kept.select([ROW_COLUMN, "is_return"])
    marked = canonical.drop_columns(["invalid_fields"])
    marked = marked.join(is_return, ROW_COLUMN, join_type="left outer").join(
        reasons, ROW_COLUMN, join_type="left outer"
    )
    return marked.select([*canonical.drop_columns(["invalid_fields"]).column_names, "is_return", "reason"])
