"""The process's shared DuckDB database: connections to it keep their tables apart, and close cleanly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from segmentation.pipeline import load_transactions
from segmentation.sql import connect
from tests.frames import random_transactions


def test_connections_keep_their_registered_and_temp_tables_apart() -> None:
    with connect() as one, connect() as two:
        one.register("t", pa.table({"x": [1]}))
        two.register("t", pa.table({"x": [2, 3]}))
        one.execute("CREATE TEMP TABLE made AS SELECT 1 AS y")
        two.execute("CREATE TEMP TABLE made AS SELECT 2 AS y UNION ALL SELECT 3")  # no clash with one's
        assert one.sql("SELECT count(*) FROM t").fetchall() == [(1,)]
        assert two.sql("SELECT sum(y) FROM made").fetchall() == [(5,)]
    with connect() as three, pytest.raises(duckdb.CatalogException):
        three.sql("SELECT * FROM made").fetchall()  # closed with its connection


def test_files_loaded_in_threads_at_once_equal_the_same_files_loaded_one_by_one(tmp_path) -> None:
    """The app loads a file in a background thread while another session may load its own: each step's tables
    (the cleaning's duplicates and reasons among them) must stay its own in the shared database."""
    paths = []
    for seed in range(4):
        frame = random_transactions(seed)
        paths.append(tmp_path / f"tx{seed}.csv")
        pd.concat([frame, frame.head(3)]).to_csv(paths[-1], index=False)  # duplicates to find
    alone = [load_transactions(path) for path in paths]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(load_transactions, paths))
    for one, other in zip(alone, together, strict=True):
        assert other.transactions.equals(one.transactions)
        assert other.cleaning.counts == one.cleaning.counts
        assert other.cleaning.counts["exact_duplicate"] >= 3
        assert other.cleaning.affected_rows.equals(one.cleaning.affected_rows)
