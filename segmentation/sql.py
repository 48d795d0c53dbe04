"""Small helpers shared by every module that builds DuckDB SQL."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def quote(name: str) -> str:
    """A safely quoted SQL identifier (column names come from user files)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A safely quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def to_arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """Materialise a relation as one Arrow table (DuckDB may hand back a batch reader)."""
    result = relation.arrow()
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def fetch_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    """The single row of an aggregate query, fully consumed so the connection stays usable."""
    (row,) = con.execute(sql).fetchall()
    return row
