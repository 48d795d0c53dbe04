"""Erasure: after `segment erase`, nothing of the customer remains in the run store file (its bytes included), the
fitted models or the CRM exports; other customers are untouched and the manifests match their files again."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from segmentation.cli import main
from segmentation.privacy import Pseudonymizer, erase_customers
from segmentation.store import RunStore

GONE, GONE_EMAIL = "CUST-0007", "cust0007@example.com"
N_CUSTOMERS = 40


def write_transactions(path: Path) -> Path:
    """A small file with emails: customers CUST-0000... with 1-5 orders each."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(N_CUSTOMERS):
        for o in range(int(rng.integers(1, 6))):
            day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
            for line in range(int(rng.integers(1, 4))):
                rows.append(
                    {
                        "CustomerID": f"CUST-{c:04d}",
                        "InvoiceNo": f"{c}-{o}",
                        "InvoiceDate": day.strftime("%Y-%m-%d"),
                        "StockCode": f"P{line + int(rng.integers(0, 9))}",
                        "Quantity": int(rng.integers(1, 6)),
                        "UnitPrice": float(rng.choice([1.5, 4.25, 12.0])),
                        "Email": f"cust{c:04d}@example.com",
                    }
                )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run_twice(tmp_path: Path) -> None:
    """Two saved runs of the same file (3 and 2 segments), exported for HubSpot (CSV) and generic (Parquet)."""
    source = write_transactions(tmp_path / "tx.csv")
    for k, crm, fmt in ((3, "hubspot", "csv"), (2, "generic", "parquet")):
        config = {
            "input": str(source),
            "clustering": {"method": "kmeans", "params": {"n_clusters": k}},
            "export": {"crm": crm, "out_dir": f"out_{crm}", "format": fmt},
            "store": "runs.duckdb",
        }
        (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
        assert main(["-q", "run", "run.yaml"]) == 0


def every_byte(folder: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "tx.csv"]


def test_segment_erase_leaves_nothing_of_the_customer(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGMENT_PSEUDONYM_KEY", raising=False)
    run_twice(tmp_path)
    (tmp_path / "out_hubspot" / "notes.csv").write_text(f"customer,note\n{GONE},called\n")  # no manifest lists it
    before = every_byte(tmp_path)
    assert any(GONE.encode() in data for path, data in before if path.name == "runs.duckdb")
    assert any(GONE_EMAIL.encode() in data for path, data in before if path.suffix == ".csv")
    capsys.readouterr()

    assert main(["-q", "erase", GONE, "--store", "runs.duckdb", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    store = RunStore(tmp_path / "runs.duckdb")
    runs = store.runs()
    assert len(runs) == 2 and set(report["store_rows"]) == set(runs["run_id"])
    assert set(report["store_rows"].values()) == {1} and sorted(report["store_models"]) == sorted(runs["run_id"])
    assert (runs["n_customers"] == N_CUSTOMERS - 1).all()
    for run_id in runs["run_id"]:
        saved = store.load(run_id)
        assert GONE not in saved.assignments.index and len(saved.assignments) == N_CUSTOMERS - 1
        assert saved.model is None
    con = duckdb.connect(str(tmp_path / "runs.duckdb"), read_only=True)
    for table in ("runs", "assignments", "profiles", "artifacts", "meta"):
        for row in con.execute(f"SELECT * FROM {table}").fetchall():
            assert GONE not in repr(row) and GONE not in repr([pickle.loads(v) for v in row if isinstance(v, bytes)])
    con.close()
    for path, data in every_byte(tmp_path):
        if path.name != "notes.csv":
            assert GONE.encode() not in data and GONE_EMAIL.encode() not in data, path
    assert report["unlisted"] == [str(Path("out_hubspot") / "notes.csv")]
    assert report["removed"] == 4 and len(report["export_rows"]) == 2

    hubspot = pd.read_csv(tmp_path / "out_hubspot" / "hubspot_segments.csv", dtype=str)
    assert len(hubspot) == N_CUSTOMERS - 1 and GONE_EMAIL not in set(hubspot["Email"])
    generic = pd.read_parquet(tmp_path / "out_generic" / "generic_segments.parquet")
    assert len(generic) == N_CUSTOMERS - 1
    for manifest_path in tmp_path.rglob("*.manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        assert manifest["rows"] == N_CUSTOMERS - 1 and manifest["erasures"][0]["rows_removed"] == 1
        for entry in manifest["files"]:
            assert entry["sha256"] == hashlib.sha256((manifest_path.parent / entry["name"]).read_bytes()).hexdigest()


def test_kept_rows_keep_their_bytes(tmp_path, monkeypatch) -> None:
    """Only the erased customer's line leaves a CSV export: every other line is byte for byte what was written."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGMENT_PSEUDONYM_KEY", raising=False)
    run_twice(tmp_path)
    path = tmp_path / "out_hubspot" / "hubspot_segments.csv"
    lines = path.read_bytes().split(b"\r\n")
    report = erase_customers(RunStore("runs.duckdb"), [GONE, "NOT-A-CUSTOMER"])
    assert path.read_bytes().split(b"\r\n") == [line for line in lines if GONE.encode() not in line]
    assert report.export_rows[str(Path("out_hubspot") / "hubspot_segments.csv")] == 1


def test_erase_in_a_pseudonymised_store_needs_the_key(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    key = Pseudonymizer.new_key()
    monkeypatch.setenv("SEGMENT_PSEUDONYM_KEY", key)
    run_twice(tmp_path)
    data = (tmp_path / "runs.duckdb").read_bytes()
    assert GONE.encode() not in data and Pseudonymizer(key).pseudonym(GONE).encode() in data

    monkeypatch.delenv("SEGMENT_PSEUDONYM_KEY")
    without = erase_customers(RunStore("runs.duckdb"), [GONE])
    assert not without.store_rows and len(without.other_key) == 2
    assert any("another key" in line for line in without.lines())

    monkeypatch.setenv("SEGMENT_PSEUDONYM_KEY", key)
    with_key = erase_customers(RunStore("runs.duckdb"), [GONE])
    assert set(with_key.store_rows.values()) == {1} and not with_key.other_key
    assert Pseudonymizer(key).pseudonym(GONE).encode() not in (tmp_path / "runs.duckdb").read_bytes()


def test_erase_without_store_or_ids_is_a_one_line_error(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "erase", GONE, "--store", "nowhere.duckdb"]) == 2
    assert "no run store here" in capsys.readouterr().err
    with pytest.raises(Exception, match="no customer id given"):
        erase_customers(None, [" "], tmp_path)
