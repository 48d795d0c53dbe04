"""The analysis workflow: one object drives the steps for the app, the CLI and ``segment run``.

:class:`Analysis` holds one transactions file under one :class:`~segmentation.config.Config`. Each step (load,
customers, segmentation, recommender, export, run) is computed on first use from its inputs only and kept, keyed by
the file's content hash, the settings it depends on and its own arguments. The app keeps one ``Analysis`` per loaded
file (shared by the sessions that load the same bytes with the same settings), so every page reuses the same fit;
the CLI makes one per command. Both run exactly the same code, and a page never builds its own cache key.

This is also the one layer where :mod:`segmentation` meets :mod:`recommenders` (tests/test_architecture.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from segmentation.config import ClusteringConfig, Config, FeatureConfig
from segmentation.errors import ConfigError
from segmentation.pipeline import IngestResult, load_transactions, transactions_summary
from segmentation.progress import Progress, no_progress

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from recommenders.base import Recommender
    from recommenders.data import Interactions
    from segmentation.clustering import KSelection, SegmentationModel
    from segmentation.explain import Explanation, SegmentSurrogate
    from segmentation.overview import Overview
    from segmentation.value.churn import ChurnClassifier, ChurnData

T = TypeVar("T")
RFM_INPUTS = ("recency_days", "frequency", "monetary")
MIN_TIMED = 0.5
"""Steps shorter than this (seconds) are not recorded: nobody waits for an estimate of them."""


@dataclass
class RunResult:
    """What :meth:`Analysis.run` did."""

    run_id: str
    skipped: bool
    """True when this exact run (same data, same config) was already in the store: nothing was redone."""
    files: list[Path]
    n_customers: int = 0
    n_segments: int = 0


class Analysis:
    """One transactions file under one config, analysed step by step; each step computed once and kept.

    Parameters
    ----------
    source : the transactions file (CSV, TSV, XLSX, Parquet; gzip allowed).
    config : read, mapping and cleaning settings, and the defaults of the later steps (``config.input`` is
        replaced by ``source``).
    fingerprint : the SHA-256 of the file's bytes when the caller already knows it (saves reading the file twice).
    max_entries : results kept per step (least recently used go first), e.g. several segmentations of one file.

    Results are shared by every caller of the same object: treat them as read-only (copy before changing them).
    A step interrupted by an exception (an error, a cancelled app run) stores nothing.
    """

    def __init__(
        self, source: str | Path, config: Config | None = None, fingerprint: str | None = None, max_entries: int = 8
    ) -> None:
        self.source = Path(source)
        self.config = dataclasses.replace(config or Config(), input=str(source))
        self.max_entries = max_entries
        self._fingerprint = fingerprint
        self._results: dict[str, OrderedDict[str, Any]] = {}
        self._running: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the file's bytes: the same data gives the same results whatever the file's name."""
        if self._fingerprint is None:
            from segmentation.store import file_fingerprint

            self._fingerprint = file_fingerprint(self.source)
        return self._fingerprint

    def key(self, step: str, *inputs: Any) -> str:
        """The cache key of ``step`` with ``inputs``: the data, the ingest settings, the step and its inputs."""
        ingest = {name: getattr(self.config, name) for name in ("read", "mapping", "cleaning")}
        payload = json.dumps([self.fingerprint, ingest, step, inputs], default=_plain, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def done(self, step: str, *inputs: Any) -> bool:
        """Whether ``step`` with ``inputs`` has been computed and is still kept (e.g. to show a progress bar only
        the first time)."""
        key = self.key(step, *inputs)
        with self._guard:
            return key in self._results.get(step, {})

    def size(self, step: str) -> int:
        """What ``step``'s work grows with: the file's bytes for loading it, else the cleaned transaction rows."""
        return self.source.stat().st_size if step == "load" else len(self.load().transactions)

    def expected_seconds(self, step: str) -> float | None:
        """About how long ``step`` (a timing name: "churn", "explanation:lightgbm", "recommender:gru", ...) takes
        on this file, from this machine's earlier runs (:mod:`segmentation.timing`); ``None`` when unknown."""
        from segmentation.timing import timings

        return timings().estimate(step, self.size(step))

    def _step(self, step: str, inputs: tuple[Any, ...], compute: Callable[[], T], timing: str | None = None) -> T:
        """``compute()``'s result for ``step`` and ``inputs``, computed once even when threads ask at once; steps
        that take a while are timed under ``timing`` (default ``step``) for later estimates."""
        key = self.key(step, *inputs)
        with self._guard:
            results = self._results.setdefault(step, OrderedDict())
            if key in results:
                results.move_to_end(key)
                return results[key]
            running = self._running.setdefault(key, threading.Lock())
        with running:  # a second caller of the same step waits here, then finds the result
            with self._guard:
                if key in results:
                    return results[key]
            start = time.perf_counter()
            value = compute()
            seconds = time.perf_counter() - start
            if seconds >= MIN_TIMED:
                from segmentation.timing import timings

                timings().record(timing or step, self.size(step), seconds)
            with self._guard:
                results[key] = value
                while len(results) > self.max_entries:
                    results.popitem(last=False)
                self._running.pop(key, None)
        return value

    # --- the steps ------------------------------------------------------------------------------------------------

    def load(self, progress: Progress = no_progress) -> IngestResult:
        """Read, map, validate and clean the file (raises ValidationFailed with the report on fatal errors)."""
        return self._step("load", (), lambda: load_transactions(self.source, self.config, progress))

    def summary(self) -> dict[str, object]:
        """Rows, customers, orders, products, date range and revenue of the clean transactions."""
        return self._step("summary", (), lambda: transactions_summary(self.load().transactions))

    def overview(self, top: int = 10) -> Overview:
        """KPIs, revenue by month with partial months flagged, the top products and countries."""
        from segmentation.overview import overview

        return self._step("overview", (top,), lambda: overview(self.load().transactions, top))

    def currency(self) -> str | None:
        """The ISO 4217 code of the amounts: the config's, else what the file says (``None``: unknown)."""
        return self.config.read.currency or self.load().validation.detected.get("currency")

    def default_as_of(self) -> date:
        """The as-of date when none is set: the day after the last transaction."""
        from segmentation.features import default_as_of

        return self._step("default_as_of", (), lambda: default_as_of(self.load().transactions))

    def customers(self, features: FeatureConfig | None = None, progress: Progress = no_progress) -> pd.DataFrame:
        """One row per customer: every engineered feature plus RFM scores, code and named segment."""
        features = features or self.config.features

        def compute() -> pd.DataFrame:
            from segmentation.features import compute_features, rfm_table

            transactions = self.load(progress).transactions
            progress(0.0, "computing customer features")
            table = compute_features(transactions, features)
            out = table.join(rfm_table(table, features.rfm_bins).drop(columns=list(RFM_INPUTS)))
            out.attrs = table.attrs
            return out

        return self._step("customers", (features,), compute)

    def segmentation(
        self,
        clustering: ClusteringConfig | None = None,
        features: FeatureConfig | None = None,
        progress: Progress = no_progress,
    ) -> SegmentationModel:
        """The segmentation of :meth:`customers` by ``clustering`` (default: the config's), fitted once."""
        clustering = clustering or self.config.clustering

        def compute() -> SegmentationModel:
            from segmentation.clustering import DEFAULT_FEATURES, SegmentationModel

            table = self.customers(features, progress)
            progress(0.0, f"segmenting {len(table):,} customers with {clustering.method}")
            model = SegmentationModel(
                clustering.method,
                dict(clustering.params),
                clustering.features or DEFAULT_FEATURES,
                clustering.random_state,
            )
            return model.fit(table, table["rfm_segment"])

        inputs = (clustering, features or self.config.features)
        return self._step("segmentation", inputs, compute, timing=f"segmentation:{clustering.method}")

    def matrix(self, chosen: tuple[str, ...], features: FeatureConfig | None = None) -> tuple[np.ndarray, list[str]]:
        """The scaled customer x feature matrix of the ``chosen`` features (what the segmenters see), and the
        names of the columns it kept."""

        def compute() -> tuple[np.ndarray, list[str]]:
            from segmentation.clustering import FeaturePreprocessor

            pre = FeaturePreprocessor(chosen)
            return pre.fit_transform(self.customers(features)), list(pre.feature_names_out_)

        return self._step("matrix", (chosen, features or self.config.features), compute)

    def k_selection(
        self, chosen: tuple[str, ...], features: FeatureConfig | None = None, max_k: int = 10
    ) -> KSelection:
        """Inertia, silhouette, Calinski-Harabasz, Davies-Bouldin and BIC for k = 2..max_k, and the k chosen."""

        def compute() -> KSelection:
            from segmentation.clustering import choose_k

            X = self.matrix(chosen, features)[0]
            return choose_k(X, range(2, min(max_k, len(X) - 1) + 1))

        return self._step("k_selection", (chosen, features or self.config.features, max_k), compute)

    def projection(
        self, chosen: tuple[str, ...], features: FeatureConfig | None = None
    ) -> tuple[np.ndarray, tuple[float, float]]:
        """2-D map coordinates of every customer and the share of the variance each axis shows."""

        def compute() -> tuple[np.ndarray, tuple[float, float]]:
            from segmentation.clustering.plotting import map_coordinates

            return map_coordinates(self.matrix(chosen, features)[0])

        return self._step("projection", (chosen, features or self.config.features), compute)

    def _segment_inputs(
        self, clustering: ClusteringConfig | None, features: FeatureConfig | None
    ) -> tuple[ClusteringConfig, FeatureConfig]:
        clustering = clustering or self.config.clustering
        return clustering, features or self.config.features

    def quality(self, clustering: ClusteringConfig | None = None, features: FeatureConfig | None = None) -> dict:
        """Silhouette, Calinski-Harabasz and Davies-Bouldin of the segmentation (noise left out)."""
        clustering, features = self._segment_inputs(clustering, features)

        def compute() -> dict:
            from segmentation.clustering import DEFAULT_FEATURES, cluster_metrics

            X = self.matrix(clustering.features or DEFAULT_FEATURES, features)[0]
            return cluster_metrics(X, self.segmentation(clustering, features).labels_)

        return self._step("quality", (clustering, features), compute)

    def stability(
        self, clustering: ClusteringConfig | None = None, features: FeatureConfig | None = None, rounds: int = 5
    ) -> tuple[float, float]:
        """Mean and spread of the adjusted Rand index between refits on 80 % resamples."""
        clustering, features = self._segment_inputs(clustering, features)

        def compute() -> tuple[float, float]:
            from segmentation.clustering import DEFAULT_FEATURES
            from segmentation.clustering.confidence import refit_stability

            X = self.matrix(clustering.features or DEFAULT_FEATURES, features)[0]
            return refit_stability(self.segmentation(clustering, features), X, rounds)

        return self._step("stability", (clustering, features, rounds), compute, timing=f"stability:{clustering.method}")

    def top_lists(
        self, clustering: ClusteringConfig | None = None, features: FeatureConfig | None = None, top: int = 3
    ) -> dict[str, dict[int, list[str]]]:
        """Per segment, the products and countries with most revenue before the as-of date."""
        clustering, features = self._segment_inputs(clustering, features)

        def compute() -> dict[str, dict[int, list[str]]]:
            import pandas as pd

            from segmentation.clustering.profiles import segment_top_lists

            labels = pd.Series(self.segmentation(clustering, features).labels_, index=self.customers(features).index)
            return segment_top_lists(self.load().transactions, labels, features.as_of, top)

        return self._step("top_lists", (clustering, features, top), compute)

    def comparison(
        self, methods: dict[str, ClusteringConfig], features: FeatureConfig | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Quality metrics per method and the adjusted Rand index between the methods' segmentations."""
        features = features or self.config.features

        def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
            from segmentation.clustering import DEFAULT_FEATURES, compare_methods

            chosen = {c.features or DEFAULT_FEATURES for c in methods.values()}
            if len(chosen) != 1:
                raise ConfigError("compare methods on the same features")
            labels = {name: self.segmentation(c, features).labels_ for name, c in methods.items()}
            metrics, ari, _ = compare_methods(self.matrix(chosen.pop(), features)[0], labels)
            return metrics, ari

        return self._step("comparison", (sorted(methods.items()), features), compute)

    def surrogate_inputs(
        self, features: FeatureConfig | None = None, allow_sensitive: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        """The customer features as the surrogates see them: no RFM restatements, no sensitive attribute unless
        the analyst opts in (``allow_sensitive``, docs/privacy.md)."""

        def compute() -> pd.DataFrame:
            from segmentation.explain.inputs import surrogate_features
            from segmentation.privacy.sensitive import without_sensitive

            return surrogate_features(without_sensitive(self.customers(features), allow_sensitive))

        return self._step("surrogate_inputs", (features or self.config.features, allow_sensitive), compute)

    def surrogate(
        self,
        kind: str = "lightgbm",
        clustering: ClusteringConfig | None = None,
        features: FeatureConfig | None = None,
        allow_sensitive: tuple[str, ...] = (),
    ) -> SegmentSurrogate:
        """Surrogate ``kind`` (LightGBM or CatBoost) trained on the segmentation's labels, with its fidelity."""

        def compute() -> SegmentSurrogate:
            from segmentation.explain import SegmentSurrogate

            labels = self.segmentation(clustering, features).labels_
            return SegmentSurrogate(kind).fit(self.surrogate_inputs(features, allow_sensitive), labels)

        inputs = (kind, clustering or self.config.clustering, features or self.config.features, allow_sensitive)
        return self._step("surrogate", inputs, compute, timing=f"surrogate:{kind}")

    def explanation(
        self,
        kind: str = "lightgbm",
        clustering: ClusteringConfig | None = None,
        features: FeatureConfig | None = None,
        allow_sensitive: tuple[str, ...] = (),
        sample_size: int | None = 2_000,
    ) -> Explanation:
        """SHAP values of :meth:`surrogate` on a stratified sample of the customers."""

        def compute() -> Explanation:
            from segmentation.explain import explain

            X = self.surrogate_inputs(features, allow_sensitive)
            labels = self.segmentation(clustering, features).labels_
            return explain(self.surrogate(kind, clustering, features, allow_sensitive), X, labels, sample_size)

        clustering, features = clustering or self.config.clustering, features or self.config.features
        inputs = (kind, clustering, features, allow_sensitive, sample_size)
        return self._step("explanation", inputs, compute, timing=f"explanation:{kind}")

    def customer_value(self, as_of: date, horizon_days: float = 365.0, discount_rate: float = 0.10) -> pd.DataFrame:
        """BG/NBD + Gamma-Gamma lifetime value and P(alive) of every customer with an order before ``as_of``."""

        def compute() -> pd.DataFrame:
            import pandas as pd

            from segmentation.value import customer_value

            return customer_value(self.load().transactions, pd.Timestamp(as_of), horizon_days, discount_rate)

        return self._step("customer_value", (as_of, horizon_days, discount_rate), compute)

    def churn(self, as_of: date, horizon_days: float = 90.0) -> tuple[ChurnClassifier, ChurnData]:
        """The calibrated churn model for ``as_of`` (trained one horizon earlier) and the customers it scores."""

        def compute() -> tuple[ChurnClassifier, ChurnData]:
            import pandas as pd

            from segmentation.value import churn_risk

            return churn_risk(self.load().transactions, pd.Timestamp(as_of), horizon_days)

        return self._step("churn", (as_of, horizon_days), compute)

    def scored_value(
        self, as_of: date, horizon_days: float = 365.0, discount_rate: float = 0.10, churn_days: float = 90.0
    ) -> pd.DataFrame:
        """:meth:`customer_value` with each customer's churn probability and its reasons from :meth:`churn` (the
        reasons are SHAP values of every customer: seconds on a large file, so they are kept too)."""

        def compute() -> pd.DataFrame:
            from segmentation.value.scoring import with_churn

            value = self.customer_value(as_of, horizon_days, discount_rate)
            return with_churn(value, *self.churn(as_of, churn_days))

        return self._step("scored_value", (as_of, horizon_days, discount_rate, churn_days), compute)

    def interactions(self) -> Interactions:
        """Who bought which product when, as the recommenders read it (the file needs a product column)."""

        def compute() -> Interactions:
            from recommenders.data import Interactions

            result = self.load()
            result.require_products("map a product column")
            return Interactions.from_transactions(result.transactions)

        return self._step("interactions", (), compute)

    def recommender(
        self, name: str, progress: Progress = no_progress, params: Mapping[str, Any] | None = None
    ) -> Recommender:
        """Recommender ``name`` (one of :func:`recommenders.evaluate.standard_models`) fitted on all purchases,
        with ``params`` set over its defaults (e.g. the ones ``segment recommend-eval --tune`` chose)."""
        params = dict(params or {})

        def compute() -> Recommender:
            from recommenders.evaluate import standard_models

            models = standard_models()
            if name not in models:
                raise ConfigError(f"unknown recommender {name!r}; choose from {', '.join(models)}")
            model = models[name]
            unknown = sorted(set(params) - set(model.get_params(deep=False)))
            if unknown:
                raise ConfigError(
                    f"{name} has no parameter {', '.join(map(repr, unknown))}; "
                    f"its parameters: {', '.join(sorted(model.get_params(deep=False)))}"
                )
            return model.set_params(**params).fit(self.interactions(), progress)

        inputs = (name, sorted(params.items())) if params else (name,)
        return self._step("recommender", inputs, compute, timing=f"recommender:{name}")

    def emails(self) -> pd.Series | None:
        """Each customer's latest email address, or ``None`` when the data has no mapped, non-empty email column.
        Only the id, email and date columns are read (docs/privacy.md: contact fields only for an export)."""
        transactions = self.load().transactions
        if "email" not in transactions.column_names or transactions["email"].null_count == len(transactions):
            return None

        def compute() -> pd.Series:
            from segmentation.export import customer_emails

            return customer_emails(transactions.select(["customer_id", "email", "ts"]).to_pandas())

        return self._step("emails", (), compute)

    def run(self, progress: Progress = no_progress) -> RunResult:
        """The whole pipeline of the config: load, features, segments, CRM export, saved run.

        Idempotent: the run id is a hash of the data and the config, and a run already in the store is not redone,
        so a scheduler may call it as often as it likes. The run is saved after its export succeeded.
        """
        from segmentation.export import export_segments, export_table
        from segmentation.features import rfm_table
        from segmentation.store import RunStore, run_id_for

        config = self.config
        settings = config.to_dict()
        run_id = run_id_for(settings, self.fingerprint)
        store = RunStore(config.store)
        if store.exists(run_id):
            progress(1.0, f"run {run_id} is already saved in {config.store}; nothing to do")
            return RunResult(run_id, skipped=True, files=[])
        self.load(lambda f, m: progress(0.5 * f, m))
        progress(0.55, "features")
        table = self.customers()
        progress(0.7, f"segmenting {len(table):,} customers with {config.clustering.method}")
        model = self.segmentation()
        assignments = model.fitted_assignments(table)
        rfm = rfm_table(table, config.features.rfm_bins)
        as_of = table.attrs["as_of"]
        export = export_table(assignments, rfm, self.emails(), run_id=run_id, run_date=date.fromisoformat(as_of))
        progress(0.85, f"exporting for {config.export.crm}")
        files = export_segments(
            export,
            config.export.crm,
            config.export.out_dir,
            list(config.export.segments) if config.export.segments else None,
            {"run_id": run_id, "data_fingerprint": self.fingerprint, **settings},
            config.export.format,
        )
        store.save(run_id, settings, assignments, model.profiles_, model, str(self.source), self.fingerprint, as_of)
        progress(1.0, f"run {run_id} saved in {config.store}")
        return RunResult(run_id, False, [*files.files, files.manifest], len(table), model.segmenter_.n_clusters_)


def run_config(config: Config, progress: Progress = no_progress) -> RunResult:
    """``segment run``: the pipeline of a config that names its input file."""
    if not config.input:
        raise ConfigError("the config names no input file; add `input: path/to/transactions.csv`")
    return Analysis(config.input, config).run(progress)


def _plain(value: Any) -> Any:
    """JSON for the cache key: dataclasses as their fields, dates as ISO text, anything else as its repr."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)
