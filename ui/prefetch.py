"""Compute what the analyst asks for next while they read the Data page: the customer features, the default
number of segments, the default segmentation and both surrogates' explanations of the loaded file, in one
background thread per file and settings.

The steps are the workflow's own, with the keys the Segments and Explain pages ask for, so a page that asks while
the thread is still working waits for that computation instead of starting a second one, and a first visit finds
the results ready (docs/benchmarks.md, "First visits in the browser": Segments took 24.5 s and Explain 36.6 s on
Online Retail when each computed on arrival). The thread makes no Streamlit call; a failure leaves nothing cached
and the page computes the step itself and shows the error there.
"""

from __future__ import annotations

import logging
import threading

from segmentation.config import ClusteringConfig, Config, FeatureConfig
from segmentation.errors import SegmentationError
from segmentation.workflow import Analysis
from ui import components
from ui.components import Dataset

log = logging.getLogger(__name__)
DEFAULT_METHOD = "kmeans"
_started: set[str] = set()
_lock = threading.Lock()


def start(dataset: Dataset, config: Config, features: FeatureConfig) -> threading.Thread | None:
    """Start preparing ``dataset`` under ``config`` and ``features`` once per server; None when already started."""
    workflow = components.analysis(dataset, config)  # resolved here, on the script thread
    key = workflow.key("prefetch", features)
    with _lock:
        if key in _started:
            return None
        _started.add(key)
    thread = threading.Thread(target=_prepare, args=(workflow, features), name=f"prefetch {dataset.name}", daemon=True)
    thread.start()
    return thread


def _prepare(workflow: Analysis, features: FeatureConfig) -> None:
    """The Segments page's first screen, then the Explain page's (the same calls and arguments they make). The
    pages' modules are imported here, off the script thread: scikit-learn, LightGBM and CatBoost load while the
    analyst reads the Data page, not when they open the next one."""
    from segmentation.clustering import DEFAULT_FEATURES
    from segmentation.explain import MODELS
    from ui.explain_widgets import SAMPLE_SIZE
    from ui.segment_cache import MAX_K, default_params

    chosen = tuple(DEFAULT_FEATURES)
    try:
        workflow.customers(features)
        k = workflow.k_selection(chosen, features, MAX_K).recommended
        clustering = ClusteringConfig(DEFAULT_METHOD, dict(default_params(DEFAULT_METHOD, k)), chosen)
        workflow.segmentation(clustering, features)
        for kind in MODELS:
            workflow.explanation(kind, clustering, features, sample_size=SAMPLE_SIZE)
    except SegmentationError as exc:  # the page that needs the step will say what is wrong
        log.info("prefetch of %s stopped: %s", workflow.source.name, exc)
