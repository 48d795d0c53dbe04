"""The ``segment`` command: everything the app does, scriptable.

Each command imports what it needs when it runs, so ``segment --help`` and ``segment validate`` start without
torch, scikit-learn or the explanation libraries (tests/test_cli_startup.py checks it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from segmentation.clustering.names import METHOD_NAMES
from segmentation.config import Config, PrivacyConfig, parse_date
from segmentation.errors import InputError, SegmentationError
from segmentation.explain.names import MODELS as SURROGATES
from segmentation.export.shapes import SHAPES as CRM_SHAPES
from segmentation.ingest.validation import ValidationFailed

log = logging.getLogger("segmentation")
AS_OF_COLUMN = "as_of"
"""The column in which a CSV feature or segment table carries its as-of date (Parquet keeps it in ``attrs``)."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return args.run(args)
    except ValidationFailed as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, **exc.report.to_dict()}, indent=2, default=str))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SegmentationError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segment", description="Customer segmentation from transaction files.")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="validate and clean a file; print both reports")
    _add_input_options(validate)
    validate.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    validate.add_argument("--affected", type=Path, help="write every removed/changed row with its reason (CSV)")
    validate.set_defaults(run=_validate)

    features = commands.add_parser("features", help="compute the customer feature table (and RFM)")
    features.add_argument("--docs", action="store_true", help="print the feature reference (docs/features.md)")
    _add_input_options(features, required=False)
    features.add_argument("--as-of", help="snapshot date YYYY-MM-DD: only transactions before it count")
    features.add_argument("--half-life", type=float, help="half-life in days of the time-decayed features")
    features.add_argument("--out", type=Path, help="output .parquet or .csv (with RFM scores and segment)")
    features.set_defaults(run=_features)

    cluster = commands.add_parser("cluster", help="segment customers from a feature table")
    cluster.add_argument("features", type=Path, help="feature table from `segment features` (.parquet or .csv)")
    cluster.add_argument("--method", choices=list(METHOD_NAMES), default="kmeans")
    cluster.add_argument(
        "--k",
        default="auto",
        help="number of segments; 'auto' (default): the k `segment choose-k` recommends; 'bic' (gmm): by BIC",
    )
    cluster.add_argument(
        "--assign-noise",
        action="store_true",
        help="hdbscan: place customers it leaves unassigned in the segment of their nearest assigned neighbour",
    )
    cluster.add_argument("--use", help="comma-separated feature columns (default: the standard set)")
    cluster.add_argument("--seed", type=int, default=0)
    cluster.add_argument("--out", type=Path, required=True, help="assignments (.parquet or .csv)")
    cluster.add_argument("--model", type=Path, help="also save the fitted model here (to assign new customers)")
    cluster.add_argument(
        "--profiles",
        type=Path,
        help="also write the segment profiles (CSV; the figures of a segment of fewer than --min-group-size "
        "customers are left blank)",
    )
    _add_min_group_size(cluster, "segment whose figures the profiles file shows")
    cluster.set_defaults(run=_cluster)

    choose = commands.add_parser("choose-k", help="score k = 2..10 and recommend a number of segments")
    choose.add_argument("features", type=Path)
    choose.add_argument("--use", help="comma-separated feature columns (default: the standard set)")
    choose.add_argument("--max-k", type=int, default=10)
    choose.set_defaults(run=_choose_k)

    why = commands.add_parser("explain", help="surrogate model + SHAP: what defines each segment")
    why.add_argument("features", type=Path, help="feature table from `segment features`")
    why.add_argument("segments", type=Path, help="assignments from `segment cluster`")
    why.add_argument("--model", choices=list(SURROGATES), default="lightgbm")
    why.add_argument("--sample", type=int, default=2000, help="customers explained (stratified sample)")
    why.add_argument("--out", type=Path, help="write the drivers table (CSV)")
    why.add_argument(
        "--allow-sensitive", action="store_true", help="let the surrogate use country (left out by default)"
    )
    why.set_defaults(run=_explain)

    export = commands.add_parser("export", help="write segments as CRM-ready files with a manifest")
    export.add_argument("segments", type=Path, help="assignments from `segment cluster`")
    export.add_argument("--features", type=Path, help="feature table (adds RFM scores and key features)")
    export.add_argument(
        "--value", type=Path, help="table of `segment value` (adds predicted CLV, churn probability and P(alive))"
    )
    export.add_argument(
        "--transactions", type=Path, help="the transactions file, to take emails from (read with the options below)"
    )
    _add_read_options(export)
    export.add_argument("--crm", choices=list(CRM_SHAPES), default="generic")
    export.add_argument("--only", help="comma-separated segment ids to export (default: all)")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--run-id", default="", help="a label stored in every row and in the manifest")
    export.add_argument(
        "--as-of", help="the segments' as-of date YYYY-MM-DD, if neither file records it (default: from the files)"
    )
    export.add_argument("--out-dir", type=Path, required=True)
    export.set_defaults(run=_export)

    run = commands.add_parser("run", help="the whole pipeline from one YAML config (idempotent; for cron)")
    run.add_argument(
        "config", type=Path, help="YAML: input, read, mapping, cleaning, features, clustering, export, privacy, store"
    )
    run.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb (embedded, default) or spark: Parquet outputs under export.out_dir/RUN_ID (docs/scale.md)",
    )
    run.add_argument("--master", help="with --engine spark: the Spark master URL (default local[2])")
    run.add_argument(
        "--factorisation",
        choices=("auto", "implicit", "mllib"),
        default="auto",
        help="with --engine spark: the ALS of the recommendations: implicit on the driver, Spark MLlib, or auto "
        "(MLlib above 10 million purchase lines; docs/scale.md)",
    )
    run.set_defaults(run=_run)

    evaluate = commands.add_parser(
        "recommend-eval",
        help="evaluate every recommender on a temporal hold-out (full-catalogue ranking): all items, cross-sell, "
        "next basket",
    )
    _add_input_options(evaluate)
    evaluate.add_argument("--cutoff", required=True, help="train before this date (YYYY-MM-DD), test from it on")
    evaluate.add_argument("--seeds", default="0,1,2", help="seeds for the stochastic models (default 0,1,2)")
    evaluate.add_argument("--only", help="comma-separated model names (default: all)")
    evaluate.add_argument("--out", type=Path, help="write the results table (CSV)")
    evaluate.add_argument(
        "--churn-days", type=float, help="also: churn AUROC of a GRU with a churn head (no order in N days) vs recency"
    )
    evaluate.add_argument(
        "--category-days",
        type=float,
        help="also: AUROC of a GRU with a category head (buys from each category in N days) vs each category's "
        "share of the customer's past lines (needs a category column)",
    )
    evaluate.add_argument(
        "--tune",
        type=int,
        metavar="TRIALS",
        help="tune each model first with optuna (TRIALS trials) on the --validation-days before the cutoff, "
        "then refit on everything before it and test once",
    )
    evaluate.add_argument("--validation-days", type=float, default=90.0, help="validation period for --tune (90)")
    evaluate.set_defaults(run=_recommend_eval)

    recommend = commands.add_parser(
        "recommend", help="top products per customer (with reasons) and per segment (with lift) from one recommender"
    )
    _add_input_options(recommend)
    recommend.add_argument("--segments", type=Path, help="assignments from `segment cluster` (for segment lists)")
    recommend.add_argument("--model", default="buy_again", help="a model of `recommend-eval` (default buy_again)")
    recommend.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter of the model, e.g. the ones `recommend-eval --tune` chose: --param l2=871 "
        "--param recent_days=30 (repeatable; VALUE as in YAML: 30, 0.5, bm25, null)",
    )
    recommend.add_argument("--n", type=int, default=10, help="products per list (default 10)")
    recommend.add_argument(
        "--min-orders", type=int, default=1, help="fewer orders than this: the segment's list instead (default 1)"
    )
    recommend.add_argument("--new-only", action="store_true", help="leave out what each customer bought before")
    recommend.add_argument("--out", type=Path, required=True, help="per-customer lists (CSV)")
    recommend.add_argument("--segment-out", type=Path, help="per-segment lists (CSV; needs --segments)")
    recommend.set_defaults(run=_recommend)

    value = commands.add_parser(
        "value", help="predicted lifetime value (BG/NBD + Gamma-Gamma), P(alive) and churn risk per customer"
    )
    _add_input_options(value)
    value.add_argument("--as-of", help="value date YYYY-MM-DD: only orders before it count (default: after the last)")
    value.add_argument("--horizon", type=float, default=365.0, help="days of future revenue in the CLV (default 365)")
    value.add_argument("--discount", type=float, default=0.10, help="annual discount rate of the CLV (default 0.10)")
    value.add_argument(
        "--churn-days",
        type=float,
        default=90.0,
        help="churn = no order in this many days after --as-of (LightGBM, trained one horizon earlier; 0: leave out)",
    )
    value.add_argument("--out", type=Path, required=True, help="one row per customer (.parquet or .csv)")
    value.set_defaults(run=_value)

    churn = commands.add_parser(
        "churn-eval", help="compare churn models (recency, RFM logistic, BG/NBD, LightGBM) on one split"
    )
    _add_input_options(churn)
    churn.add_argument("--cutoff", required=True, help="score at this date YYYY-MM-DD; labels from the days after")
    churn.add_argument("--horizon", type=float, default=90.0, help="churn = no order in this many days (default 90)")
    churn.add_argument(
        "--gru", action="store_true", help="also the GRU sequence model's churn head (trains torch; minutes)"
    )
    churn.add_argument("--out", type=Path, help="write the comparison table (CSV)")
    churn.set_defaults(run=_churn_eval)

    runs = commands.add_parser("runs", help="list the runs saved in a run store")
    runs.add_argument("--store", type=Path, default=Path("segmentation_runs.duckdb"))
    runs.set_defaults(run=_runs)

    erase = commands.add_parser(
        "erase", help="remove customers from every saved run and CRM export (right to be forgotten); report it"
    )
    erase.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")
    erase.add_argument("--store", type=Path, default=Path("segmentation_runs.duckdb"))
    erase.add_argument(
        "--exports", type=Path, help="an export folder to clean too (the export folders of saved runs always are)"
    )
    erase.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    erase.set_defaults(run=_erase)

    fairness = commands.add_parser(
        "fairness", help="fairness report: segments, recommendations and models compared across a sensitive attribute"
    )
    _add_input_options(fairness)
    fairness.add_argument("--attribute", required=True, help="country (from the file) or a column of --groups")
    fairness.add_argument("--groups", type=Path, help="customer table (CSV: customer_id, age_band, gender, region...)")
    fairness.add_argument("--segments", type=Path, help="assignments from `segment cluster`: composition, surrogate")
    fairness.add_argument(
        "--surrogate",
        choices=[*SURROGATES, "none"],
        default="lightgbm",
        help="with --segments: the surrogate whose cross-validated rates are compared (none: skip it)",
    )
    fairness.add_argument("--recommendations", type=Path, help="lists from `segment recommend`: exposure by group")
    fairness.add_argument(
        "--item-column", default="product_id", help="the --recommendations column to compare (an offer tier...)"
    )
    fairness.add_argument("--churn-cutoff", help="YYYY-MM-DD: the churn model's rates on the horizon after it")
    fairness.add_argument("--horizon", type=float, default=90.0, help="churn horizon in days (default 90)")
    fairness.add_argument(
        "--threshold", type=float, default=0.8, help="warn when a group's rate is below this share of another's (0.8)"
    )
    fairness.add_argument(
        "--allow-sensitive", action="store_true", help="let the surrogate use the sensitive attributes (off by default)"
    )
    _add_min_group_size(fairness, "group whose counts and rates the report shows")
    fairness.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    fairness.set_defaults(run=_fairness)
    return parser


def _add_input_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("file", type=Path, nargs=None if required else "?", help="CSV, CSV.gz, TSV, XLSX or Parquet")
    _add_read_options(parser)


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    """How to read a transactions file and map its columns: the same options for every command that reads one."""
    parser.add_argument("--config", type=Path, help="YAML config (read, mapping, cleaning, features sections)")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="set a column mapping, e.g. --map customer_id='Customer ID' (repeatable)",
    )
    parser.add_argument("--encoding", help="file encoding (default: detected)")
    parser.add_argument(
        "--delimiter", help="column delimiter (default: detected); use '\\t' for tab, 'whitespace' for aligned columns"
    )
    parser.add_argument("--decimal", choices=[".", ","], help="decimal separator (default: detected)")
    parser.add_argument("--date-order", choices=["auto", "dayfirst", "monthfirst"], help="day/month order")
    parser.add_argument(
        "--currency", metavar="CODE", help="ISO 4217 code of the amounts, e.g. GBP (default: as the file says)"
    )
    parser.add_argument("--sheet", help="worksheet of an XLSX file: its name or 0-based position (default: the first)")
    parser.add_argument("--returns", choices=["net", "drop"], help="returns policy (default: net)")


def _read_yaml(path: Path) -> Any:
    """A YAML config as plain data (``yaml.safe_load``: no Python tags); a problem is a one-line error."""
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            f"not valid YAML ({problem})",
            where=where,
            fix="write plain YAML: mappings, lists, text and numbers (tags such as !!python/object are refused)",
        ) from None


def _config(args: argparse.Namespace) -> Config:
    raw: dict[str, Any] = _read_yaml(args.config) if args.config else {}
    raw = dict(raw or {})
    read = dict(raw.get("read", {}))
    delimiter = "\t" if args.delimiter == "\\t" else args.delimiter
    for key, value in (
        ("encoding", args.encoding),
        ("delimiter", delimiter),
        ("decimal", args.decimal),
        ("date_order", args.date_order),
        ("currency", args.currency),
        ("sheet", int(args.sheet) if args.sheet and args.sheet.isdigit() else args.sheet),
    ):
        if value:
            read[key] = value
    raw["read"] = read
    if args.returns:
        raw["cleaning"] = {**raw.get("cleaning", {}), "returns": args.returns}
    mapping = dict(raw.get("mapping") or {})
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep:
            raise SegmentationError(f"--map {item!r}: write it as FIELD=COLUMN, e.g. customer_id=CustomerID")
        mapping[field.strip()] = column.strip()
    raw["mapping"] = mapping or None
    features = dict(raw.get("features", {}))
    if getattr(args, "as_of", None):
        features["as_of"] = parse_date(args.as_of)
    if getattr(args, "half_life", None):
        features["half_life_days"] = args.half_life
    raw["features"] = features
    return Config.from_dict(raw)


def _progress(fraction: float, message: str) -> None:
    log.info("[%3d%%] %s", round(fraction * 100), message)


def _analysis(args: argparse.Namespace, path: Path) -> Any:
    """The workflow of the transactions file ``path`` under the command's options (what the app runs too)."""
    from segmentation.workflow import Analysis

    return Analysis(path, _config(args))


def _load(args: argparse.Namespace, path: Path) -> Any:
    """Read, map, validate and clean the transactions file ``path`` with the command's read options."""
    return _analysis(args, path).load(_progress)


def _validate(args: argparse.Namespace) -> int:
    from segmentation.pipeline import transactions_summary

    result = _load(args, args.file)
    if args.affected:
        args.affected.write_text(result.cleaning.affected_csv(), encoding="utf-8", newline="")
    summary = transactions_summary(result.transactions)
    if args.json:
        payload = {
            "ok": True,
            "rows_read": result.validation.rows_read,
            "rows_kept": result.cleaning.rows_kept,
            **{k: summary[k] for k in ("customers", "orders", "products", "revenue")},
            "date_range": [summary["first_ts"], summary["last_ts"]],
            "cleaning": result.cleaning.counts,
            "detected": result.validation.detected,
            "warnings": [w.describe(result.validation.source) for w in result.validation.warnings],
        }
        print(json.dumps(payload, indent=2, default=str))
        return 0
    from segmentation.formatting import money, number, plural

    print(
        f"{args.file.name}: {plural(result.validation.rows_read, 'row')} read, {number(result.cleaning.rows_kept)} kept"
    )
    print(f"detected: {json.dumps(result.validation.detected, default=str)}")
    print(
        f"{plural(summary['customers'], 'customer')}, {plural(summary['orders'], 'order')}, "
        f"{plural(summary['products'], 'product')}, {summary['first_ts']} to {summary['last_ts']}, "
        f"revenue {money(summary['revenue'], result.validation.detected.get('currency'))}"
    )
    print("\ncleaning report:")
    print(result.cleaning.summary().to_string(index=False) if result.cleaning.counts else "  nothing removed")
    for warning in result.validation.warnings:
        print(f"warning: {warning.describe(result.validation.source)}")
    return 0


def _features(args: argparse.Namespace) -> int:
    from segmentation.features import features_markdown

    if args.docs:
        print(features_markdown(), end="")
        return 0
    if args.file is None or args.out is None:
        raise SegmentationError("features needs FILE and --out (or --docs)")
    table = _analysis(args, args.file).customers(progress=_progress)
    _write_table(table, args.out)
    _progress(1.0, f"{len(table):,} customers as of {table.attrs['as_of']} -> {args.out}")
    return 0


def _read_table(path: Path) -> Any:
    """A table of :func:`_write_table`, with its as-of date (if it has one) back in ``attrs["as_of"]``."""
    import pandas as pd

    if not path.exists():
        raise SegmentationError(f"{path}: file not found")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    table = pd.read_csv(path, index_col=0, dtype={0: str})
    if AS_OF_COLUMN not in table.columns:
        return table
    dates = table[AS_OF_COLUMN].dropna().astype(str).unique()
    if len(dates) > 1:
        raise InputError(
            f"the {AS_OF_COLUMN} column holds {len(dates)} dates ({', '.join(sorted(dates)[:3])}...)",
            where=f"{path}, column {AS_OF_COLUMN}",
            fix="a table has one as-of date: write it again with `segment features` or `segment cluster`",
        )
    table = table.drop(columns=AS_OF_COLUMN)
    if len(dates):
        table.attrs["as_of"] = dates[0]
    return table


def _read_features(path: Path) -> Any:
    table = _read_table(path)
    if "recency_days" not in table.columns:
        raise SegmentationError(
            f"{path}: not a feature table (no recency_days column); make one with `segment features`"
        )
    return table


def _read_segments(path: Path, *columns: str) -> Any:
    """Assignments of `segment cluster`, with the ``columns`` the command needs (by default ``segment``)."""
    table = _read_table(path)
    missing = [c for c in columns or ("segment",) if c not in table.columns]
    if missing:
        raise InputError(
            f"no {' or '.join(missing)} column", where=str(path), fix="use the assignments of `segment cluster`"
        )
    return table


def _feature_choice(args: argparse.Namespace) -> tuple[str, ...]:
    from segmentation.clustering import DEFAULT_FEATURES

    return tuple(c.strip() for c in args.use.split(",")) if args.use else DEFAULT_FEATURES


def _cluster(args: argparse.Namespace) -> int:
    from segmentation.clustering import SegmentationModel
    from segmentation.privacy.small_groups import shareable_profiles, small_group_warning

    if args.min_group_size < 1:
        raise SegmentationError(f"--min-group-size {args.min_group_size}: give a whole number of at least 1")
    features = _read_features(args.features)
    params: dict[str, Any] = {}
    if args.assign_noise and args.method != "hdbscan":
        raise SegmentationError("--assign-noise is for --method hdbscan (the only method that leaves noise)")
    if args.method == "hdbscan":
        if args.k != "auto":
            raise SegmentationError("hdbscan finds the number of segments itself; leave out --k")
        params = {"assign_noise": args.assign_noise}
    elif args.k == "auto":
        params = {"n_clusters": "auto"}
    elif args.k == "bic":
        if args.method != "gmm":
            raise SegmentationError("--k bic is for gmm; give a number, or auto")
        params = {"n_clusters": None, "covariance_type": None}
    elif args.k.isdigit() and int(args.k) >= 2:
        params = {"n_clusters": int(args.k)}
    else:
        raise SegmentationError(f"--k {args.k!r}: give a whole number of at least 2, auto, or bic (gmm)")
    _progress(0.0, f"fitting {args.method} on {len(features):,} customers")
    model = SegmentationModel(args.method, params, _feature_choice(args), args.seed)
    model.fit(features, features.get("rfm_segment"))
    assignments = model.fitted_assignments(features)
    if model.as_of_:
        assignments.attrs["as_of"] = model.as_of_
    _write_table(assignments, args.out)
    if args.model:
        model.save(args.model)
    if args.profiles:
        shareable_profiles(model.profiles_, args.min_group_size).to_csv(args.profiles)
    if model.k_selection_ is not None:
        print(
            f"k = {model.k_selection_.recommended} (--k auto, as `segment choose-k` recommends): "
            f"{model.k_selection_.reason}"
        )
    print(model.profiles_[["name", "customers", "share", "revenue_share"]].to_string())
    small = small_group_warning(
        model.profiles_["customers"], args.min_group_size, model.names_, consequence="--profiles leaves them blank"
    )
    if small:
        print(f"warning: {small}", file=sys.stderr)
    if args.method == "gmm" and params["n_clusters"] is None:
        print(f"k = {model.segmenter_.n_clusters_} (--k bic: lowest BIC)")
    if args.method == "hdbscan" and model.segmenter_.noise_warning():
        unassigned = model.profiles_["revenue_share"].get(-1, 0.0)
        print(f"warning: {model.segmenter_.noise_warning()} ({unassigned:.0%} of revenue)", file=sys.stderr)
    _progress(1.0, f"{model.segmenter_.n_clusters_} segments -> {args.out}")
    return 0


def _choose_k(args: argparse.Namespace) -> int:
    from segmentation.clustering import FeaturePreprocessor, choose_k

    X = FeaturePreprocessor(_feature_choice(args)).fit_transform(_read_features(args.features))
    from segmentation.formatting import percent

    selection = choose_k(X, range(2, args.max_k + 1))
    print(selection.table.to_string(index=False, formatters={"smallest_share": percent}))
    print(f"recommended {selection.reason}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from segmentation.explain import SegmentSurrogate, driver_contradictions, explain, segment_drivers
    from segmentation.explain.inputs import surrogate_features
    from segmentation.privacy.sensitive import SENSITIVE_FEATURES, without_sensitive

    features = _read_features(args.features)
    segments = _read_segments(args.segments)
    missing = features.index.difference(segments.index)
    if len(missing):
        raise SegmentationError(f"{args.segments}: {len(missing)} customers of the feature table have no segment")
    labels = segments.loc[features.index, "segment"].to_numpy()
    X = surrogate_features(without_sensitive(features, SENSITIVE_FEATURES if args.allow_sensitive else ()))
    _progress(0.0, f"training {args.model} on {len(X):,} customers (with cross-validation)")
    surrogate = SegmentSurrogate(args.model).fit(X, labels)
    _progress(0.6, "SHAP values")
    names = segments.groupby("segment")["segment_name"].first().to_dict() if "segment_name" in segments else None
    drivers = segment_drivers(explain(surrogate, X, labels, args.sample), names)
    fidelity = surrogate.fidelity_
    print(f"fidelity: accuracy {fidelity['accuracy']:.3f}, macro-F1 {fidelity['macro_f1']:.3f}")
    if fidelity["warning"]:
        print(f"warning: {fidelity['warning']}")
    for sentence in drivers.drop_duplicates("segment")["sentence"]:
        print(f"- {sentence}")
    for problem in driver_contradictions(drivers, names or {}):
        print(f"warning: a driver contradicts the name: {problem}", file=sys.stderr)
    if args.out:
        drivers.to_csv(args.out, index=False)
    return 0


def _export(args: argparse.Namespace) -> int:
    from segmentation.export import export_segments, export_table

    segments = _read_segments(args.segments, "segment", "segment_name")
    rfm = _read_features(args.features) if args.features else None
    emails = _analysis(args, args.transactions).emails() if args.transactions else None
    value = _read_table(args.value) if args.value else None
    run_date = _export_as_of(args, segments, rfm)
    table = export_table(segments, rfm, emails, run_id=args.run_id, run_date=run_date, value=value)
    only = [int(s) for s in args.only.split(",")] if args.only else None
    result = export_segments(table, args.crm, args.out_dir, only, {"segments_file": str(args.segments)}, args.format)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in result.files:
        print(path)
    print(result.manifest)
    return 0


def _export_as_of(args: argparse.Namespace, segments: Any, features: Any) -> str:
    """The one as-of date of an export: what the segments and feature files record and ``--as-of`` must agree."""
    known = {
        str(path): table.attrs["as_of"]
        for path, table in ((args.segments, segments), (args.features, features))
        if table is not None and table.attrs.get("as_of")
    }
    if args.as_of:
        known["--as-of"] = parse_date(args.as_of).isoformat()
    if not known:
        raise InputError(
            "the as-of date of the segments is unknown (the file does not record it)",
            where=str(args.segments),
            fix="pass --features FILE (from `segment features`) or --as-of YYYY-MM-DD",
        )
    if len(set(known.values())) > 1:
        raise InputError(
            "the as-of dates disagree: " + ", ".join(f"{source} {day}" for source, day in known.items()),
            fix="export segments with the features of the same snapshot",
        )
    return next(iter(known.values()))


def _run(args: argparse.Namespace) -> int:
    from segmentation.workflow import run_config

    if not args.config.exists():
        raise SegmentationError(f"{args.config}: config file not found")
    raw = _read_yaml(args.config) or {}
    if not isinstance(raw, dict):
        raise SegmentationError(f"{args.config}: expected a mapping of sections at the top level")
    if args.engine == "spark":
        from segmentation.spark.run import run_spark

        result = run_spark(Config.from_dict(raw), args.master, _progress, args.factorisation)
    else:
        result = run_config(Config.from_dict(raw), _progress)
    status = "already done" if result.skipped else f"{result.n_customers:,} customers, {result.n_segments} segments"
    print(f"run {result.run_id}: {status}")
    for path in result.files:
        print(path)
    return 0


def _recommend_eval(args: argparse.Namespace) -> int:
    from recommenders.evaluate import evaluate_models, headline, standard_models

    cutoff = parse_date(args.cutoff)
    models = standard_models()
    if args.only:
        unknown = set(args.only.split(",")) - set(models)
        if unknown:
            raise SegmentationError(f"--only: unknown model(s) {sorted(unknown)}; choose from {', '.join(models)}")
        models = {name: models[name] for name in args.only.split(",")}
    seeds = tuple(int(s) for s in args.seeds.split(","))
    result = _load(args, args.file)
    result.require_products("map one with --map product_id=COLUMN")
    _progress(0.0, f"evaluating {len(models)} models, train before {cutoff}")
    if args.tune:
        from recommenders.tuning import tuned_evaluation

        table, chosen = tuned_evaluation(
            result.transactions, cutoff.isoformat(), models, args.tune, args.validation_days, seeds, _progress
        )
    else:
        table = evaluate_models(result.transactions, cutoff.isoformat(), models, seeds=seeds, progress=_progress)
    print("NDCG@10 under three protocols: all items; cross-sell (past products left out, new ones relevant);")
    print("next basket (the first order after the cutoff), split into its repeat and explore products")
    print(headline(table).round(4).to_string())
    if args.tune:
        print(chosen.to_string(index=False))
    if args.out:
        table.to_csv(args.out)
    if args.churn_days:
        from recommenders.evaluate import churn_evaluation
        from recommenders.sequence.model import SequenceRecommender

        _progress(0.0, f"churn: no order in the {args.churn_days:g} days from {cutoff}")
        churn_model = {"gru + churn head": SequenceRecommender("gru", churn_days=args.churn_days)}
        print(
            churn_evaluation(
                result.transactions, cutoff.isoformat(), args.churn_days, churn_model, seeds, _progress
            ).round(4)
        )
    if args.category_days:
        from recommenders.evaluate import category_evaluation
        from recommenders.sequence.model import SequenceRecommender

        _progress(0.0, f"categories: purchases in the {args.category_days:g} days from {cutoff}")
        head = {"gru + category head": SequenceRecommender("gru", category_days=args.category_days)}
        days = args.category_days
        table = category_evaluation(result.transactions, cutoff.isoformat(), days, head, seeds, _progress)
        print(table.round(4).to_string())
    return 0


def _recommend(args: argparse.Namespace) -> int:
    from recommenders.evaluate import standard_models
    from recommenders.lists import segment_list_length
    from recommenders.segments import customer_top_products, segment_top_products

    models = standard_models()
    if args.model not in models:
        raise SegmentationError(f"--model: unknown model {args.model!r}; choose from {', '.join(models)}")
    if args.segment_out and not args.segments:
        raise SegmentationError("--segment-out needs --segments (the assignments from `segment cluster`)")
    labels = None
    if args.segments:
        segments = _read_segments(args.segments)
        labels = segments["segment"]
    analysis = _analysis(args, args.file)
    result = analysis.load(_progress)
    result.require_products("map one with --map product_id=COLUMN")
    interactions = analysis.interactions()
    params = _model_params(args.param)
    model = analysis.recommender(args.model, lambda done, step: _progress(done, f"{args.model}: {step}"), params)
    lists = None
    if labels is not None:
        lists = segment_top_products(model, labels, segment_list_length(args.n), exclude_bought=args.new_only)
        if args.segment_out:
            lists.loc[lists["rank"] <= args.n].to_csv(args.segment_out, index=False)
    customers = interactions.customers
    if labels is not None:
        outside = customers.difference(labels.index.astype(str))
        if len(outside):
            warning = _outside_segments(outside, result.transactions, segments.attrs.get("as_of"))
            print(f"warning: {warning}", file=sys.stderr)
        customers = labels.index.astype(str).append(outside)
    recs = customer_top_products(model, customers, labels, args.n, args.min_orders, args.new_only, lists)
    recs.to_csv(args.out, index=False)
    cold = recs.loc[recs["source"] == "segment", "customer_id"].nunique()
    print(f"{recs['customer_id'].nunique():,} customers, {len(recs):,} recommendations ({cold:,} from segment lists)")
    return 0


def _model_params(items: list[str]) -> dict[str, Any]:
    """``--param NAME=VALUE`` options as a dict, each value read as a YAML scalar (30 -> int, null -> None)."""
    import yaml

    params = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SegmentationError(f"--param {item!r}: write it as NAME=VALUE, e.g. --param recent_days=30")
        try:
            params[name.strip()] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise SegmentationError(
                f"--param {item!r}: {text!r} is not a value; quote text, e.g. weighting=bm25"
            ) from None
    return params


def _outside_segments(customers: Any, transactions: Any, as_of: str | None) -> str:
    """How many customers of the transactions the segments file leaves out, why, and what they get instead."""
    import pandas as pd

    tx = transactions.select(["customer_id", "ts"]).to_pandas()
    first = tx.groupby("customer_id")["ts"].min().reindex(customers)
    if not as_of:
        why = "the file does not record its as-of date"
    else:
        late = int((first >= pd.Timestamp(as_of)).sum())
        why = f"first purchase on or after its as-of date {as_of}"
        if late < len(customers):
            why = f"{late:,} with a {why}, {len(customers) - late:,} before it: were the segments made from other data?"
    return f"{len(customers):,} customers are not in the segments file ({why}): they get a personal list, no segment"


def _value(args: argparse.Namespace) -> int:
    from segmentation.features import default_as_of
    from segmentation.value import value_table

    result = _load(args, args.file)
    as_of = parse_date(args.as_of) if args.as_of else default_as_of(result.transactions)
    table = value_table(result.transactions, as_of, args.horizon, args.discount, args.churn_days or None, _progress)
    _write_table(table, args.out)
    alive = table["p_alive"].mean()
    churn = f", mean churn probability {table['churn_probability'].mean():.1%}" if "churn_probability" in table else ""
    print(
        f"{len(table):,} customers as of {as_of}: predicted CLV over {args.horizon:g} days {table['clv'].sum():,.2f} "
        f"(discount {args.discount:.0%} a year), mean P(alive) {alive:.1%}{churn} -> {args.out}"
    )
    return 0


def _churn_eval(args: argparse.Namespace) -> int:
    from segmentation.value import churn_evaluation_table

    cutoff = parse_date(args.cutoff)
    result = _load(args, args.file)
    _progress(0.0, f"training the churn models on the {args.horizon:g} days before {cutoff}")
    more = {"GRU churn head": _gru_churn(args.horizon)} if args.gru else None
    table = churn_evaluation_table(result.transactions, cutoff, args.horizon, more=more)
    print(
        f"{table['customers'].iat[0]:,} customers at {cutoff}, churn (no order in {args.horizon:g} days) "
        f"{table['churn_rate'].iat[0]:.1%}"
    )
    print(table.drop(columns=["churn_rate", "customers"]).round(4).to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def _runs(args: argparse.Namespace) -> int:
    from segmentation.store import RunStore

    print(RunStore(args.store).runs().to_string(index=False))
    return 0


def _erase(args: argparse.Namespace) -> int:
    from segmentation.privacy.erasure import erase_customers
    from segmentation.store import RunStore

    if not args.store.exists() and args.exports is None:
        raise SegmentationError(f"{args.store}: no run store here and no --exports folder; nothing to erase")
    store = RunStore(args.store) if args.store.exists() else None
    report = erase_customers(store, args.customer_ids, args.exports)
    print(json.dumps(report.to_dict(), indent=2) if args.json else "\n".join(report.lines()))
    return 0


def _gru_churn(horizon_days: float) -> Any:
    """The GRU sequence model with a churn head as a further model of `churn-eval` (one seed)."""

    def score(known: Any, customers: Any, cutoff: Any) -> Any:
        from recommenders.data import Interactions
        from recommenders.sequence.model import SequenceRecommender

        _progress(0.5, "training the GRU with its churn head")
        model = SequenceRecommender("gru", churn_days=horizon_days).fit(Interactions.from_transactions(known))
        return model.churn_probability(customers, as_of=cutoff).to_numpy()

    return score


def _add_min_group_size(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--min-group-size",
        type=int,
        default=PrivacyConfig().min_group_size,
        metavar="K",
        help=f"smallest {what} (privacy.min_group_size; default %(default)s)",
    )


def _fairness(args: argparse.Namespace) -> int:
    import pandas as pd

    from segmentation.config import FeatureConfig
    from segmentation.privacy.audit import fairness_audit
    from segmentation.privacy.sensitive import SENSITIVE_FEATURES

    customers = None
    if args.groups:
        customers = pd.read_csv(args.groups, dtype=str)
        if "customer_id" not in customers.columns:
            raise InputError("no customer_id column", where=str(args.groups), fix="name the id column customer_id")
        customers = customers.set_index("customer_id")
    assigned = _read_segments(args.segments) if args.segments else None
    as_of = assigned.attrs.get("as_of") if assigned is not None else None  # the surrogate sees the same features
    recommendations = pd.read_csv(args.recommendations, dtype=str) if args.recommendations else None
    report = fairness_audit(
        _load(args, args.file).transactions,
        args.attribute,
        customers,
        assigned["segment"] if assigned is not None else None,
        recommendations,
        parse_date(args.churn_cutoff) if args.churn_cutoff else None,
        args.horizon,
        None if args.surrogate == "none" else args.surrogate,
        SENSITIVE_FEATURES if args.allow_sensitive else (),
        args.threshold,
        args.item_column,
        FeatureConfig(as_of=parse_date(as_of)) if as_of else None,
        _progress,
        k=args.min_group_size,
    )
    print(json.dumps(report.to_dict(), indent=2, default=str) if args.json else report.to_text())
    return 0


def _write_table(table: Any, out: Path) -> None:
    """Write a feature or segment table; its as-of date goes in the Parquet metadata, or a CSV column."""
    if out.suffix == ".csv":
        as_of = table.attrs.get("as_of")
        (table.assign(**{AS_OF_COLUMN: as_of}) if as_of else table).to_csv(out)
    elif out.suffix == ".parquet":
        table.to_parquet(out)
    else:
        raise SegmentationError(f"--out {out}: use a .parquet or .csv file name")


if __name__ == "__main__":
    sys.exit(main())
