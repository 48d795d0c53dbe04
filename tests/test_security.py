"""Each testable claim of docs/security.md: safe YAML only, server settings, no path outside the app's folders from
a user's string, formula cells neutralised, user text escaped before Markdown, SQL identifiers quoted."""

from __future__ import annotations

import ast
import csv
import stat
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

from segmentation.cli import main
from segmentation.config import Config
from segmentation.export import SHAPES, export_segments, export_table
from segmentation.pipeline import load_transactions
from segmentation.store import RunStore

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for folder in ("segmentation", "recommenders", "ui", "bench") for p in (ROOT / folder).rglob("*.py"))
SOURCES.append(ROOT / "app.py")
TRAVERSALS = ["../../etc/x", "/etc/passwd", "..", ".", "", "a/../../b", "..\\..\\win.ini", "x\x00y", ".hidden"]
FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", " =1+1", "\uff1d1+1", "\ncmd"]


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(), str(path))) if isinstance(node, ast.Call)]


def dotted(node: ast.expr) -> str:
    return f"{dotted(node.value)}.{node.attr}" if isinstance(node, ast.Attribute) else getattr(node, "id", "?")


# --- configuration files ---------------------------------------------------------------------------------------------


def test_yaml_is_only_ever_loaded_safely() -> None:
    unsafe = []
    for path in SOURCES:
        for call in calls(path):
            name = dotted(call.func)
            loader = next((dotted(k.value) for k in call.keywords if k.arg == "Loader"), None)
            if name in {"yaml.unsafe_load", "yaml.full_load", "yaml.unsafe_load_all", "yaml.full_load_all"} or (
                name in {"yaml.load", "yaml.load_all"} and loader not in {"yaml.SafeLoader", "yaml.CSafeLoader"}
            ):
                unsafe.append(f"{path.relative_to(ROOT)}:{call.lineno} {name}")
    assert not unsafe, unsafe
    assert any(dotted(c.func) == "yaml.safe_load" for p in SOURCES for c in calls(p))  # the scan sees the real calls


@pytest.mark.parametrize("command", [["run"], ["validate", "x.csv", "--config"]])
def test_a_config_with_python_tags_is_refused_in_one_line(tmp_path, capsys, monkeypatch, command) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(f'input: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert main(["-q", *command, "evil.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: evil.yaml, line 1, column 8: not valid YAML (") and err.count("\n") == 1, err
    assert "python/object/apply:os.system" in err and "tags such as !!python/object are refused" in err
    assert not marker.exists()


def test_server_settings() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


# --- paths from user strings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRAVERSALS)
def test_an_uploaded_file_name_stays_inside_the_private_upload_folder(name) -> None:
    from ui import components

    upload = UploadedFile(UploadedFileRec("id", name, "text/csv", f"a,b\n{name!r},1\n".encode()), None)
    dataset = components.save_upload(upload)
    path = Path(dataset.path).resolve()
    assert path.is_relative_to(components.UPLOAD_DIR.resolve()) and path.is_file()
    assert path.parent.parent == components.UPLOAD_DIR.resolve()
    assert stat.S_IMODE(components.PRIVATE_DIR.stat().st_mode) == 0o700  # other local users cannot read uploads


def test_segment_names_and_run_ids_never_become_paths(tmp_path) -> None:
    out = tmp_path / "out"
    assignments = pd.DataFrame(
        {"segment": [0, 1, 2], "segment_name": ["../../etc/x", "/etc/passwd", "..\\..\\x"]},
        index=pd.Index(["c1", "c2", "c3"], name="customer_id"),
    )
    emails = pd.Series(["a@example.com", "b@example.com", "c@example.com"], index=assignments.index)
    table = export_table(assignments, emails=emails, run_date=date(2024, 1, 1))
    for crm in SHAPES:
        export_segments(table, crm, out, run={"run_id": "../../etc/run"}, stem="segments")
    RunStore(tmp_path / "runs.duckdb").save("../../etc/run", {}, assignments, pd.DataFrame(index=[0, 1, 2]))
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")}
    assert written <= {"out", "runs.duckdb", "runs.duckdb.wal"}, written
    assert not (tmp_path.parent / "etc").exists()


# --- what goes into the files ----------------------------------------------------------------------------------------


def test_formula_cells_are_neutralised_in_every_crm_file(tmp_path) -> None:
    index = pd.Index([f"c{i}" for i in range(len(FORMULAS))], name="customer_id")
    assignments = pd.DataFrame({"segment": range(len(FORMULAS)), "segment_name": FORMULAS}, index=index)
    emails = pd.Series([f"u{i}@example.com" for i in range(len(FORMULAS))], index=index)
    for crm in SHAPES:
        result = export_segments(
            export_table(assignments, emails=emails, run_date=date(2024, 1, 1)), crm, tmp_path / crm
        )
        for path in result.files:
            with open(path, newline="", encoding="utf-8") as fh:
                cells = [cell for row in csv.reader(fh) for cell in row]
            for payload in FORMULAS:
                assert payload not in cells, f"{crm}: {payload!r} written as is"
            assert all(not c.lstrip(" ").startswith(("=", "+", "@", "\uff1d")) for c in cells), crm


def test_user_text_is_escaped_before_it_is_shown_as_markdown_or_html() -> None:
    from ui.components import escape

    shown = escape('<img src=x onerror="alert(1)"> [link](javascript:alert(1)) **bold**')
    assert "<" not in shown and "](" not in shown and "**" not in shown


def test_column_names_from_the_file_are_quoted_in_sql(tmp_path) -> None:
    columns = ['cust"; DROP TABLE t; --', "order's id", "date", "sku", "qty", "price"]
    rows = [columns, ["C1", "1", "2024-01-02", "P1", "2", "1.50"], ["C2", "2", "2024-01-03", "P2", "1", "3.00"]]
    path = tmp_path / "odd.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    mapping = dict(zip(["customer_id", "order_id", "ts", "product_id", "quantity", "unit_price"], columns, strict=True))
    result = load_transactions(path, Config(mapping=mapping))
    assert sorted(result.transactions.column("customer_id").to_pylist()) == ["C1", "C2"]
