"""The ``segment`` command: exit codes, JSON summary, feature output, one-line errors."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pandas as pd
import pytest

from recommenders.segments import COLD_START
from segmentation.cli import main

from .conftest import CORPUS


def test_validate_json_summary(capsys) -> None:
    assert main(["-q", "validate", str(CORPUS / "cp1252.csv"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_read"] == 6 and summary["rows_kept"] == 4
    # orders counts purchases: the netted return (order C536379) is a return, not an order
    assert summary["customers"] == 2 and summary["orders"] == 2 and summary["products"] == 3
    assert summary["date_range"] == ["2010-12-01 08:26:00", "2010-12-14 09:41:00"]
    assert summary["cleaning"] == {"missing_customer_id": 1, "non_product_code": 1, "return_netted": 1}
    assert summary["detected"]["encoding"] == "cp1252"


def test_validate_human_report_and_affected_rows(tmp_path, capsys) -> None:
    affected = tmp_path / "affected.csv"
    assert main(["-q", "validate", str(CORPUS / "tab.tsv"), "--affected", str(affected)]) == 0
    out = capsys.readouterr().out
    assert "6 rows read, 4 kept" in out and "missing_customer_id" in out
    assert sorted(pd.read_csv(affected)["source_row"]) == [5, 6, 7]


def test_bad_input_exits_non_zero_with_one_line_reason(capsys) -> None:
    assert main(["-q", "validate", str(CORPUS / "missing_quantity.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "quantity" in err[0]


def test_fatal_validation_error_still_prints_json(capsys) -> None:
    assert main(["-q", "validate", str(CORPUS / "mixed_date_order.csv"), "--json"]) == 2
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["ok"] is False and payload["errors"][0]["code"] == "mixed_date_order"


def test_mapping_can_be_set_on_the_command_line(write_csv, capsys) -> None:
    path = write_csv(
        [["who", "what", "when", "n", "each", "ticket"], ["a1", "p1", "2011-01-01 10:00", "2", "1.5", "t1"]]
    )
    assert main(["-q", "validate", str(path)]) == 2
    capsys.readouterr()
    args = [
        "--map",
        "customer_id=who",
        "--map",
        "product_id=what",
        "--map",
        "ts=when",
        "--map",
        "quantity=n",
        "--map",
        "unit_price=each",
        "--map",
        "order_id=ticket",
    ]
    assert main(["-q", "validate", str(path), "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["rows_kept"] == 1


def test_features_writes_parquet_with_rfm(tmp_path) -> None:
    out = tmp_path / "features.parquet"
    assert main(["-q", "features", str(CORPUS / "dayfirst.csv"), "--as-of", "2011-01-01", "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert set(table.index) == {"17850", "01234"}
    assert {"recency_days", "frequency", "monetary", "r_score", "rfm_segment", "decayed_spend"} <= set(table.columns)
    assert table.loc["17850", "frequency"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["features", str(CORPUS / "tab.tsv"), "--as-of", "01/02/2011", "--out", "x.parquet"], "YYYY-MM-DD"),
        (["features", str(CORPUS / "tab.tsv"), "--out", "x.xlsx"], ".parquet or .csv"),
        (["validate", str(CORPUS / "tab.tsv"), "--map", "customer_id"], "FIELD=COLUMN"),
        (["validate", str(CORPUS / "tab.tsv"), "--map", "shoe_size=Quantity"], "unknown field"),
    ],
)
def test_usage_errors_are_specific(args, message, capsys) -> None:
    assert main(["-q", *args]) == 2
    assert message in capsys.readouterr().err


def test_console_script_progress_goes_to_stderr() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "segmentation.cli", "validate", str(CORPUS / "pipe.txt"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["rows_kept"] == 4
    assert "[100%]" in done.stderr


def test_recommend_eval_prints_and_writes_the_table(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "eval.csv"
    sample = CORPUS.parent.parent / "data" / "sample_transactions.csv.gz"
    args = ["-q", "recommend-eval", str(sample), "--cutoff", "2023-10-01", "--only", "popularity,buy_again"]
    assert main([*args, "--seeds", "0", "--out", str(out)]) == 0
    table = pd.read_csv(out, index_col=0)
    assert list(table.index) == ["popularity", "buy_again"]
    assert table.loc["buy_again", "ndcg@10"] > table.loc["popularity", "ndcg@10"]
    assert "ndcg@10" in capsys.readouterr().out
    from recommenders.sequence import model as sequence

    one_epoch = functools.partial(sequence.SequenceRecommender, epochs=1)  # the command's plumbing, not the GRU
    monkeypatch.setattr(sequence, "SequenceRecommender", one_epoch)
    assert main([*args[:-1], "popularity", "--seeds", "0", "--churn-days", "90"]) == 0
    printed = capsys.readouterr().out
    assert "gru + churn head" in printed and "recency" in printed
    assert main([*args[:-1], "popularity,magic"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_recommend_writes_customer_and_segment_lists(tmp_path, capsys) -> None:
    data = CORPUS.parent.parent / "data"
    out, per_segment = tmp_path / "customers.csv", tmp_path / "segments.csv"
    args = ["-q", "recommend", str(data / "sample_transactions.csv.gz"), "--segments", str(data / "sample_truth.csv")]
    assert main([*args, "--n", "5", "--min-orders", "2", "--out", str(out), "--segment-out", str(per_segment)]) == 0
    recs = pd.read_csv(out, dtype={"customer_id": str})
    lists = pd.read_csv(per_segment)
    truth = pd.read_csv(data / "sample_truth.csv", dtype={"customer_id": str})
    assert set(recs["customer_id"]) == set(truth["customer_id"])
    assert recs.groupby("customer_id").size().max() == 5 and lists.groupby("segment").size().eq(5).all()
    cold = recs.loc[recs["source"] == "segment"]
    assert len(cold) and (cold["reason"] == COLD_START).all()
    first = cold["customer_id"].iat[0]
    expected = lists.loc[lists["segment"] == cold["segment"].iat[0], "product_id"].astype(str)
    assert list(cold.loc[cold["customer_id"] == first, "product_id"].astype(str)) == list(expected)
    assert "from segment lists" in capsys.readouterr().out

    assert (
        main(["-q", "recommend", str(data / "sample_transactions.csv.gz"), "--out", str(out), "--segment-out", "x"])
        == 2
    )
    assert "--segment-out needs --segments" in capsys.readouterr().err


def test_recommend_takes_the_parameters_recommend_eval_chose(tmp_path, capsys) -> None:
    sample = CORPUS.parent.parent / "data" / "sample_transactions.csv.gz"
    base = ["-q", "recommend", str(sample), "--model", "ease", "--new-only", "--n", "5", "--out"]
    default, tuned = tmp_path / "default.csv", tmp_path / "tuned.csv"
    assert main([*base, str(default)]) == 0
    assert main([*base, str(tuned), "--param", "l2=20", "--param", "recent_days=60", "--param", "weighting=bm25"]) == 0
    default, tuned = (
        pd.read_csv(p, dtype=str).set_index(["customer_id", "rank"])["product_id"] for p in (default, tuned)
    )
    assert default.index.equals(tuned.index) and (default != tuned).mean() > 0.1  # other weights, other lists
    capsys.readouterr()
    assert main([*base, str(tuned), "--param", "recent_day=60"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ease has no parameter 'recent_day'" in err[0] and "recent_days" in err[0]
    assert main([*base, str(tuned), "--param", "recent_days"]) == 2
    assert "write it as NAME=VALUE" in capsys.readouterr().err


READ_OPTIONS = {"--config", "--map", "--encoding", "--delimiter", "--decimal", "--date-order", "--sheet", "--returns"}
MAPPING = ["customer_id=who", "order_id=ticket", "ts=when", "product_id=what", "quantity=n", "unit_price=each"]


def _options(command: str) -> set[str]:
    from segmentation.cli import _parser

    subparsers = next(a for a in _parser()._actions if a.dest == "==SUPPRESS==" and a.choices)
    return {flag for action in subparsers.choices[command]._actions for flag in action.option_strings}


@pytest.mark.parametrize("command", ["validate", "features", "export", "recommend", "recommend-eval"])
def test_every_command_that_reads_transactions_takes_the_same_read_options(command) -> None:
    assert _options(command) >= READ_OPTIONS


@pytest.fixture
def unmapped(write_csv):
    """Semicolon-separated transactions whose headers no mapping rule knows: 4 customers, January to June 2011."""
    rows = [["who", "ticket", "when", "what", "n", "each", "contact"]]
    for month in range(1, 7):
        for c in range(4):
            for p in range(1 + (c + month) % 3):
                rows.append(
                    [
                        f"c{c}",
                        f"t{month}{c}",
                        f"2011-{month:02d}-1{c} 10:00",
                        f"p{p + c + 2 * month}",
                        2,
                        "1,5",
                        f"c{c}@x.org",
                    ]
                )
    return write_csv(rows, sep=";")


def test_every_command_reads_a_file_through_the_same_mapping(unmapped, tmp_path, capsys) -> None:
    mapping = [arg for field in ["email=contact", *MAPPING] for arg in ("--map", field)]
    read = [*mapping, "--delimiter", ";", "--decimal", ","]
    assert main(["-q", "validate", str(unmapped)]) == 2  # the headers need the mapping
    assert main(["-q", "validate", str(unmapped), "--json", *read]) == 0
    assert json.loads(capsys.readouterr().out)["customers"] == 4
    features, segments = tmp_path / "f.csv", tmp_path / "s.csv"
    assert main(["-q", "features", str(unmapped), *read, "--as-of", "2011-06-01", "--out", str(features)]) == 0
    customers = pd.Index(["c0", "c1", "c2", "c3"], name="customer_id")
    pd.DataFrame({"segment": [0, 1, 0, 1], "segment_name": ["A", "B", "A", "B"]}, index=customers).to_csv(segments)
    export = ["-q", "export", str(segments), "--features", str(features), "--crm", "mailchimp"]
    assert main([*export, "--out-dir", str(tmp_path / "x"), "--transactions", str(unmapped)]) == 2
    assert "--map customer_id=COLUMN" in capsys.readouterr().err  # the transactions file needs its mapping
    assert main([*export, "--out-dir", str(tmp_path / "x"), "--transactions", str(unmapped), *read[2:]]) == 2
    assert "--map email=COLUMN" in capsys.readouterr().err  # mapped, but not the email column
    assert main([*export, "--out-dir", str(tmp_path / "x"), "--transactions", str(unmapped), *read]) == 0
    exported = pd.read_csv(tmp_path / "x" / "mailchimp_segments.csv")
    assert sorted(exported["Email Address"]) == [f"c{c}@x.org" for c in range(4)]
    recs = tmp_path / "r.csv"
    assert main(["-q", "recommend", str(unmapped), *read, "--n", "2", "--out", str(recs)]) == 0
    assert set(pd.read_csv(recs)["customer_id"]) == {"c0", "c1", "c2", "c3"}
    evaluate = ["-q", "recommend-eval", str(unmapped), *read, "--cutoff", "2011-05-01", "--only", "popularity"]
    assert main([*evaluate, "--seeds", "0"]) == 0
    assert "popularity" in capsys.readouterr().out


SAMPLE = CORPUS.parent.parent / "data" / "sample_transactions.csv.gz"
AS_OF = "2023-09-01"


@pytest.fixture(scope="module", params=[".csv", ".parquet"])
def snapshot(request, tmp_path_factory) -> tuple:
    """Features of the sample as of AS_OF and their k-means segments, written as CSV or Parquet."""
    folder = tmp_path_factory.mktemp("snapshot")
    features, segments = folder / f"features{request.param}", folder / f"segments{request.param}"
    assert main(["-q", "features", str(SAMPLE), "--as-of", AS_OF, "--out", str(features)]) == 0
    assert main(["-q", "cluster", str(features), "--k", "4", "--out", str(segments)]) == 0
    return features, segments


def test_exports_are_dated_by_the_as_of_date_of_the_segments(snapshot, tmp_path, capsys) -> None:
    features, segments = snapshot
    for i, extra in enumerate([["--features", str(features)], [], ["--as-of", AS_OF]]):
        assert (
            main(["-q", "export", str(segments), "--crm", "hubspot", "--out-dir", str(tmp_path / str(i)), *extra]) == 0
        )
        exported = pd.read_csv(tmp_path / str(i) / "hubspot_segments.csv")
        assert set(exported["Segmentation Date"]) == {AS_OF}
        assert json.loads((tmp_path / str(i) / "hubspot_segments.manifest.json").read_text())["as_of"] == AS_OF
    capsys.readouterr()
    assert main(["-q", "export", str(segments), "--as-of", "2023-10-01", "--out-dir", str(tmp_path / "x")]) == 2
    assert "as-of dates disagree" in capsys.readouterr().err


def test_an_export_of_segments_without_an_as_of_date_asks_for_one(tmp_path, capsys) -> None:
    segments = tmp_path / "segments.csv"
    pd.DataFrame({"segment": [0, 1], "segment_name": ["A", "B"]}, index=pd.Index(["c1", "c2"])).to_csv(segments)
    assert main(["-q", "export", str(segments), "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "as-of date" in err and "--as-of YYYY-MM-DD" in err
    assert main(["-q", "export", str(segments), "--as-of", "2011-09-01", "--out-dir", str(tmp_path)]) == 0
    assert set(pd.read_csv(tmp_path / "generic_segments.csv")["run_date"]) == {"2011-09-01"}


def test_recommend_gives_customers_missing_from_the_segments_a_list_and_says_why(snapshot, tmp_path, capsys) -> None:
    _, segments = snapshot
    out = tmp_path / "recs.csv"
    assert main(["-q", "recommend", str(SAMPLE), "--segments", str(segments), "--n", "3", "--out", str(out)]) == 0
    truth = pd.read_csv(CORPUS.parent.parent / "data" / "sample_truth.csv", dtype={"customer_id": str})
    late = truth.loc[truth["first_order"] >= AS_OF, "customer_id"]
    recs = pd.read_csv(out, dtype={"customer_id": str})
    segmented = pd.read_parquet(segments) if segments.suffix == ".parquet" else pd.read_csv(segments, index_col=0)
    assert set(recs["customer_id"]) == set(segmented.index) | set(late)  # everyone gets a list
    outside = recs.loc[recs["segment"].isna(), "customer_id"].unique()
    assert set(outside) == set(late) and (recs.loc[recs["segment"].isna(), "source"] == "personal").all()
    assert (
        f"warning: {len(late):,} customers are not in the segments file (first purchase on or after its as-of "
        f"date {AS_OF}): they get a personal list, no segment" in capsys.readouterr().err
    )
