"""The one typed configuration object that flows through ingest, cleaning and features."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from segmentation.errors import ConfigError

DateOrder = Literal["auto", "dayfirst", "monthfirst"]
ReturnsPolicy = Literal["net", "drop"]

DEFAULT_NON_PRODUCT_CODES: tuple[str, ...] = (
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "B",
    "CRUK",
    "PADS",
    "BANK CHARGES",
    "AMAZONFEE",
    "ADJUST",
)


@dataclass(frozen=True)
class ReadOptions:
    """How to read the file; ``None`` means detect it from the content."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    date_order: DateOrder = "auto"
    sheet: str | int | None = None
    currency: str | None = None
    """ISO 4217 code of the amounts (``GBP``); ``None``: as the file says (a currency column or symbol)."""


@dataclass(frozen=True)
class CleaningPolicy:
    """Which rows cleaning removes or changes. Every decision is counted in the cleaning report."""

    drop_missing_customer: bool = True
    returns: ReturnsPolicy = "net"
    """``net``: keep return lines as negative revenue against the customer's purchases (returns with no
    earlier purchase of that product by that customer are removed); ``drop``: remove all return lines."""
    cancellation_prefix: str = "C"
    drop_nonpositive_price: bool = True
    drop_duplicates: bool = True
    non_product_codes: tuple[str, ...] = DEFAULT_NON_PRODUCT_CODES
    non_product_prefixes: tuple[str, ...] = ("gift_",)
    outlier_quantile: float = 0.999
    outlier_factor: float | None = 10.0
    """A line is an extreme outlier when ``|quantity|`` exceeds ``outlier_factor`` times the
    ``outlier_quantile`` of ``|quantity|``; ``None`` keeps every line."""


@dataclass(frozen=True)
class FeatureConfig:
    """Snapshot date and the knobs of the engineered features."""

    as_of: date | None = None
    """Features use only transactions strictly before this date; ``None``: the day after the last one."""
    half_life_days: float = 90.0
    trend_window_days: int = 90
    rfm_bins: int = 5


@dataclass(frozen=True)
class ClusteringConfig:
    """Which segmenter, with which parameters, on which features (None: the default feature set)."""

    method: str = "kmeans"
    params: dict[str, Any] = field(default_factory=lambda: {"n_clusters": "auto"})
    """``n_clusters: auto`` (the default) takes the k that ``segment choose-k`` recommends."""
    features: tuple[str, ...] | None = None
    random_state: int = 0


@dataclass(frozen=True)
class ExportConfig:
    crm: str = "generic"
    out_dir: str = "exports"
    segments: tuple[int, ...] | None = None
    format: str = "csv"


@dataclass(frozen=True)
class PrivacyConfig:
    """Small-group protection (docs/privacy.md)."""

    min_group_size: int = 10
    """k: an aggregate (segment profile, summary, chart data) of fewer customers is warned about in the app and
    blanked in downloads and files, so it cannot single out a customer."""


@dataclass(frozen=True)
class Config:
    """Everything a run needs, from reading the file to exporting segments (``segment run CONFIG.yaml``)."""

    input: str | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    mapping: dict[str, str | None] | None = None
    """Canonical field -> source column; fields not given are inferred, fields given as None stay unmapped."""
    cleaning: CleaningPolicy = field(default_factory=CleaningPolicy)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    store: str = "segmentation_runs.duckdb"
    """The DuckDB file where runs are saved (relative paths: the working directory)."""

    def __post_init__(self) -> None:
        validate_config(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Config:
        """Build from plain data (a parsed YAML/JSON file); unknown keys are errors, not ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"unknown config section(s) {sorted(unknown)}; expected some of {sorted(known)}")
        features = dict(raw.get("features", {}))
        if features.get("as_of") is not None:
            features["as_of"] = parse_date(features["as_of"])
        cleaning = dict(raw.get("cleaning", {}))
        for key in ("non_product_codes", "non_product_prefixes"):
            if key in cleaning:
                cleaning[key] = tuple(cleaning[key])
        clustering = dict(raw.get("clustering", {}))
        if clustering.get("features") is not None:
            clustering["features"] = tuple(clustering["features"])
        export = dict(raw.get("export", {}))
        if export.get("segments") is not None:
            export["segments"] = tuple(export["segments"])
        return cls(
            input=raw.get("input"),
            read=_build(ReadOptions, raw.get("read", {})),
            mapping=raw.get("mapping"),
            cleaning=_build(CleaningPolicy, cleaning),
            features=_build(FeatureConfig, features),
            clustering=_build(ClusteringConfig, clustering),
            export=_build(ExportConfig, export),
            privacy=_build(PrivacyConfig, raw.get("privacy", {})),
            store=raw.get("store", "segmentation_runs.duckdb"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe) that :meth:`from_dict` reads back to an equal config."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))


def _build(kind: type, values: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown {kind.__name__} option(s) {sorted(unknown)}; expected some of {sorted(known)}")
    return kind(**values)


def parse_date(value: str | date | datetime) -> date:
    """Parse an ISO date (``YYYY-MM-DD``) given on the command line or in a config file."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"as-of date {value!r} is not an ISO date; write it as YYYY-MM-DD") from None


def validate_config(config: Config) -> None:
    if config.read.date_order not in ("auto", "dayfirst", "monthfirst"):
        raise ConfigError(f"date_order must be auto, dayfirst or monthfirst, not {config.read.date_order!r}")
    if config.read.currency is not None:
        from segmentation.formatting import currency_code  # Babel's data: only when a currency is set

        if currency_code(config.read.currency) != str(config.read.currency).strip().upper():
            raise ConfigError(
                f"currency {config.read.currency!r} is not an ISO 4217 code; write three letters such as GBP, EUR or USD"
            )
    if config.cleaning.returns not in ("net", "drop"):
        raise ConfigError(f"returns policy must be 'net' or 'drop', not {config.cleaning.returns!r}")
    if not 0 < config.cleaning.outlier_quantile < 1:
        raise ConfigError("outlier_quantile must be between 0 and 1")
    if config.privacy.min_group_size < 1:
        raise ConfigError(f"privacy.min_group_size is {config.privacy.min_group_size}; it must be at least 1 customer")
    if config.features.rfm_bins < 2:
        raise ConfigError("rfm_bins must be at least 2")
    if config.features.half_life_days <= 0 or config.features.trend_window_days <= 0:
        raise ConfigError("half_life_days and trend_window_days must be positive")
