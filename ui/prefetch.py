"""Compute what the analyst asks for next while they read the Data page: the customer features, the default
number of segments, the default segmentation, both surrogates' explanations and the Recommend page's default model
of the loaded file, in one background thread per file and settings.

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
_latest = ""
"""The key of the file (and settings) loaded last on this server: the only one still prepared."""
_lock = threading.Lock()


def start(dataset: Dataset, config: Config, features: FeatureConfig) -> threading.Thread | None:
    """Start preparing ``dataset`` under ``config`` and ``features`` once per server; None when already started."""
    workflow = components.analysis(dataset, config)  # resolved here, on the script thread
    key = workflow.key("prefetch", features)
    global _latest
    with _lock:
        if key in _started:
            return None
        _started.add(key)
        _latest = key
    thread = threading.Thread(
        target=_prepare, args=(workflow, features, key), name=f"prefetch {dataset.name}", daemon=True
    )
    thread.start()
    return thread


def _prepare(workflow: Analysis, features: FeatureConfig, key: str) -> None:
    """The Segments page's first screen, then the Explain page's (the same calls and arguments they make). The
    pages' modules are imported here, off the script thread: scikit-learn, LightGBM and CatBoost load while the
    analyst reads the Data page, not when they open the next one. Only the latest file loaded on this server is
    prepared: once another one is, this thread stops after its current step (the sample the Data page opens with
    would otherwise compete for the cores with the file the analyst uploads next)."""
    from recommenders.names import default_model
    from segmentation.clustering import DEFAULT_FEATURES
    from segmentation.explain import MODELS
    from ui.explain_widgets import SAMPLE_SIZE
    from ui.recommend_widgets import NEW_ONLY_DEFAULT
    from ui.segment_cache import MAX_K, default_params
    from ui.segment_cache import clustering as segment_clustering

    chosen = tuple(DEFAULT_FEATURES)
    steps = [
        lambda: workflow.customers(features),
        lambda: workflow.k_selection(chosen, features, MAX_K),
        lambda: workflow.segmentation(clustering(), features),
        *(
            lambda kind=kind: workflow.explanation(kind, clustering(), features, sample_size=SAMPLE_SIZE)
            for kind in MODELS
        ),
        lambda: workflow.recommender(default_model(NEW_ONLY_DEFAULT)) if workflow.load().has_products else None,
    ]

    def clustering() -> ClusteringConfig:  # the Segments page's own construction, so the keys agree by design
        k = workflow.k_selection(chosen, features, MAX_K).recommended  # kept by the workflow: computed once
        return segment_clustering(DEFAULT_METHOD, default_params(DEFAULT_METHOD, k), chosen)

    try:
        for step in steps:
            if _latest != key:
                with _lock:
                    _started.discard(key)  # loading this file again prepares it again
                return
            step()
    except SegmentationError as exc:  # the page that needs the step will say what is wrong
        log.info("prefetch of %s stopped: %s", workflow.source.name, exc)
    except Exception:  # logged once, with its traceback; the page that needs the step meets it and shows it
        log.warning("prefetch of %s failed", workflow.source.name, exc_info=True)
