"""The Segments page, run headless with AppTest on the sample: k, methods, renaming, caching and odd inputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import segmentation.clustering
import segmentation.clustering.projection
import segmentation.features
from tests.app_helpers import (
    CLEAN_ROWS,
    SEGMENTS,
    assert_clean_run,
    chart,
    csv_bytes,
    metrics,
    open_segments,
    plotly_titles,
    profiles,
    upload,
)
from ui.segment_cache import default_params

SCATTER = "Customers on a map of the chosen features"


def scatter_segments(at: AppTest) -> list[str]:
    return [trace["name"] for trace in chart(at, SCATTER)["data"]]


def test_profiles_follow_k(app: AppTest) -> None:
    open_segments(app)
    assert_clean_run(app)
    titles = plotly_titles(app)
    assert {SCATTER, "Silhouette: higher is better", "BIC: lower is better"} <= set(titles)
    assert any("Recommended: " in m.value for m in app.markdown)

    app.slider(key="seg_k").set_value(4).run()
    assert_clean_run(app)
    assert len(profiles(app)) == 4
    assert sorted(scatter_segments(app)) == sorted(profiles(app))

    app.slider(key="seg_k").set_value(6).run()
    assert_clean_run(app)
    assert len(profiles(app)) == 6
    assert len(set(profiles(app))) == 6
    assert sorted(scatter_segments(app)) == sorted(profiles(app))

    app.slider(key="seg_k").set_value(3).run()
    recommended = next(b for b in app.button if b.label.startswith("Use "))
    recommended.click().run()
    assert_clean_run(app)
    assert len(profiles(app)) == int(recommended.label.split()[1]) == app.slider(key="seg_k").value


def test_hdbscan_shows_noise_share(app: AppTest) -> None:
    open_segments(app)
    app.segmented_control(key="seg_method").set_value("hdbscan").run()
    assert_clean_run(app)
    noise = metrics(app)["Unassigned (noise share)"]
    assert noise.endswith("%") and 0 <= float(noise.rstrip("%")) < 40
    assert not any(s.key == "seg_k" for s in app.slider)  # HDBSCAN finds its own number
    if float(noise.rstrip("%")) > 0:
        assert "Unassigned" in profiles(app)


def test_gmm_shows_membership_probabilities(app: AppTest) -> None:
    open_segments(app)
    app.segmented_control(key="seg_method").set_value("gmm").run()
    assert_clean_run(app)
    assert "How sure each assignment is (Gaussian mixture)" in plotly_titles(app)
    sure = metrics(app)["Sure assignments (≥ 90 %)"]
    assert 0 < float(sure.rstrip("%")) <= 100

    app.checkbox(key="seg_gmm_auto").check().run()  # BIC chooses k
    assert_clean_run(app)
    assert any("BIC chose" in c.value for c in app.caption)
    assert 2 <= len(profiles(app)) <= 8


def test_renaming_a_segment_shows_the_new_name_everywhere(app: AppTest) -> None:
    open_segments(app)
    app.slider(key="seg_k").set_value(4).run()
    box = next(b for b in app.text_input if str(b.key).startswith("segname_"))
    old = box.value
    box.input("Weekend treasure hunters").run()
    assert_clean_run(app)
    assert "Weekend treasure hunters" in profiles(app)
    assert old not in profiles(app)
    assert "Weekend treasure hunters" in scatter_segments(app)
    assert any("Weekend treasure hunters" in m.value for m in app.markdown)  # the card's heading

    app.slider(key="seg_k").set_value(5).run()  # another segmentation keeps its own names
    assert "Weekend treasure hunters" not in profiles(app)
    app.slider(key="seg_k").set_value(4).run()
    assert "Weekend treasure hunters" in profiles(app)


def test_empty_feature_selection_is_a_clear_message(app: AppTest) -> None:
    open_segments(app)
    app.multiselect(key="seg_features").set_value([]).run()
    assert_clean_run(app)
    assert any("Choose at least one feature" in w.value for w in app.warning)
    assert not app.get("plotly_chart")


def test_a_single_feature_still_segments_and_maps(app: AppTest) -> None:
    open_segments(app)
    app.multiselect(key="seg_features").set_value(["monetary"]).run()
    assert_clean_run(app)
    assert len(profiles(app)) == app.slider(key="seg_k").value
    assert chart(app, SCATTER)["layout"]["xaxis"]["title"]["text"] == "Net revenue (scaled)"


def test_stability_and_method_comparison_on_request(app: AppTest) -> None:
    open_segments(app)
    app.slider(key="seg_k").set_value(4).run()
    next(b for b in app.button if b.label == "Check stability").click().run()
    assert_clean_run(app)
    assert 0.5 < float(metrics(app)["Stability when refitted"].split()[0]) <= 1

    app.button(key="seg_compare").click().run()
    assert_clean_run(app)
    table = next(d.value for d in app.dataframe if "silhouette" in d.value.columns)
    assert list(table["method"]) == ["K-Means", "Hierarchical", "HDBSCAN", "Gaussian mixture", "Autoencoder"]
    assert (table.loc[table["method"] != "HDBSCAN", "segments"] == 4).all()
    heatmap = chart(app, "How much the methods agree (1 = the same segments; adjusted Rand index)")
    assert heatmap["data"][0]["x"] == list(table["method"])


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts of the expensive library calls the page makes (cached results make none)."""
    counter: Counter[str] = Counter()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counter[name] += 1
            return function(*args, **kwargs)

        return wrapper

    # the workflow imports these from their packages when a step runs
    monkeypatch.setattr(
        segmentation.features, "compute_features", counting("features", segmentation.features.compute_features)
    )
    monkeypatch.setattr(segmentation.clustering, "choose_k", counting("k table", segmentation.clustering.choose_k))
    monkeypatch.setattr(
        segmentation.clustering.projection,
        "project_2d",
        counting("projection", segmentation.clustering.projection.project_2d),
    )

    class CountingPreprocessor(segmentation.clustering.FeaturePreprocessor):
        def fit(self, X: Any, y: object = None) -> CountingPreprocessor:
            counter["matrix"] += 1
            return super().fit(X, y)

    monkeypatch.setattr(segmentation.clustering, "FeaturePreprocessor", CountingPreprocessor)
    yield counter


def test_changing_k_or_method_reuses_features_matrix_and_k_table(app: AppTest, calls: Counter[str]) -> None:
    open_segments(app)
    before = calls.copy()
    # a feature set no other test uses, so this run computes the matrix, k table and projection once
    app.multiselect(key="seg_features").set_value(["recency_days", "frequency", "monetary", "distinct_products"]).run()
    assert_clean_run(app)
    new = calls - before
    assert new["k table"] == new["matrix"] == new["projection"] == 1
    assert new["features"] == 0  # the feature table does not depend on the chosen features
    first = calls.copy()

    app.slider(key="seg_k").set_value(3).run()
    app.segmented_control(key="seg_method").set_value("hierarchical").run()
    app.slider(key="seg_k").set_value(5).run()
    app.segmented_control(key="seg_method").set_value("gmm").run()
    assert_clean_run(app)
    assert len(profiles(app)) == 5
    assert calls == first


def test_too_few_customers_is_a_clear_message(app: AppTest) -> None:
    upload(app, "shop.csv", csv_bytes(CLEAN_ROWS))
    app.switch_page(SEGMENTS).run()
    assert not app.exception
    assert any("at least 20 customers" in i.value for i in app.info)


def test_without_data_links_back(app: AppTest) -> None:
    app.run()
    app.radio(key="source").set_value("Upload a file").run()
    app.switch_page(SEGMENTS).run()
    assert not app.exception
    assert any("No data is loaded" in i.value for i in app.info)
    assert app.get("page_link")


def test_segments_use_the_feature_settings_of_the_customers_page(app: AppTest) -> None:
    app.run()
    app.switch_page("ui/customers_page.py").run()
    as_of = app.date_input[0]
    earlier = as_of.value - timedelta(days=120)
    as_of.set_value(earlier).run()
    app.number_input(key="rfm_bins").set_value(4).run()
    app.switch_page(SEGMENTS).run()
    assert_clean_run(app)  # the top lists filter the transactions by the as-of date too
    shown = app.session_state["segmentation"].features
    assert (shown.as_of, shown.rfm_bins) == (earlier, 4)
    assert any(f"as of **{earlier}**" in c.value for c in app.caption)
    assert any("Top products: " in c.value for c in app.caption)


def test_method_defaults_come_from_the_segmenters_and_the_comparison_reuses_the_fit(app: AppTest) -> None:
    open_segments(app)
    app.slider(key="seg_k").set_value(4).run()
    for method in ("gmm", "hierarchical", "hdbscan"):
        app.segmented_control(key="seg_method").set_value(method).run()
        assert_clean_run(app)
        shown = app.session_state["segmentation"]
        assert shown.params == default_params(method, 4)  # untouched widgets: the segmenter's own defaults
    assert default_params("gmm", 4) == (("n_clusters", 4),)  # the library's diagonal covariance, not "full"
