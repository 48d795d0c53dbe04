"""The Data page starts computing what the Segments and Explain pages show first, with the keys they ask for."""

from __future__ import annotations

import threading

from recommenders.names import default_model
from segmentation.clustering import DEFAULT_FEATURES
from segmentation.config import ClusteringConfig, Config
from segmentation.explain import MODELS
from tests.app_helpers import SEGMENTS, assert_clean_run, new_app
from ui import components, prefetch
from ui.explain_widgets import SAMPLE_SIZE
from ui.recommend_widgets import NEW_ONLY_DEFAULT
from ui.segment_cache import MAX_K, default_params


def test_the_pages_first_steps_are_ready_once_the_thread_is_done(sample_path) -> None:
    dataset = components.sample_dataset()
    config, features = Config(), Config().features
    thread = prefetch.start(dataset, config, features)
    assert thread is not None and prefetch.start(dataset, config, features) is None  # once per file and settings
    thread.join(timeout=300)
    workflow = components.analysis(dataset, config)
    chosen = tuple(DEFAULT_FEATURES)
    k = workflow.k_selection(chosen, features, MAX_K).recommended
    clustering = ClusteringConfig("kmeans", dict(default_params("kmeans", k)), chosen)
    assert workflow.done("segmentation", clustering, features)
    for kind in MODELS:
        assert workflow.done("explanation", kind, clustering, features, (), SAMPLE_SIZE)
    assert workflow.done("recommender", default_model(NEW_ONLY_DEFAULT))  # the Recommend page's first list


def test_the_segments_page_asks_for_what_was_prepared() -> None:
    """The keys agree with the pages: once the Data page's thread is done, the Segments page's default
    segmentation is the one prepared, and so are the explanations the Explain page will ask for."""
    app = new_app()
    app.run()
    for thread in threading.enumerate():
        if thread.name.startswith("prefetch "):
            thread.join(timeout=300)
    app.switch_page(SEGMENTS).run()
    assert_clean_run(app)
    current = app.session_state["segmentation"]
    workflow = components.analysis(current.dataset, current.config)
    for kind in MODELS:
        assert workflow.done("explanation", kind, current.clustering, current.features, (), SAMPLE_SIZE)


def test_a_newer_file_supersedes_the_one_being_prepared(sample_path, tmp_path) -> None:
    from segmentation.store import file_fingerprint
    from tests.app_helpers import CLEAN_ROWS, csv_bytes

    other = tmp_path / "other.csv"
    other.write_bytes(csv_bytes(CLEAN_ROWS * 3))
    first = components.Dataset(str(sample_path), "sample", file_fingerprint(sample_path) + "-superseded")
    second = components.Dataset(str(other), other.name, file_fingerprint(other))
    config, features = Config(), Config().features
    superseded = prefetch.start(first, config, features)
    latest = prefetch.start(second, config, features)
    superseded.join(timeout=300)
    latest.join(timeout=300)
    workflow = components.analysis(first, config)
    assert not workflow.done("k_selection", tuple(DEFAULT_FEATURES), features, MAX_K)  # stopped after one step
    assert workflow.key("prefetch", features) not in prefetch._started  # loading it again prepares it again
    assert components.analysis(second, config).done("customers", features)
