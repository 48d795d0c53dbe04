"""The charts of the Customers and Segments pages, built by the libraries without Streamlit: known data in, the
figure's traces, values, order and colours checked."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.decomposition import PCA

from segmentation.clustering.confidence import (
    SEPARATION_WORDS,
    STABILITY_WORDS,
    fixed_settings,
    in_words,
    refit_stability,
)
from segmentation.clustering.model import SegmentationModel
from segmentation.clustering.plotting import (
    CHOSEN_COLOR,
    CRITERIA,
    RECOMMENDED_COLOR,
    agreement_heatmap,
    criterion_chart,
    map_coordinates,
    membership_histogram,
    segment_map,
    segment_shares,
    training_curve,
)
from segmentation.clustering.profiles import segment_top_lists
from segmentation.clustering.selection import KSelection
from segmentation.features.plotting import (
    RFM_SEGMENT_COLORS,
    SHARE_COLORS,
    distribution_chart,
    rfm_share_bars,
    rfm_treemap,
)
from segmentation.features.rfm_summary import RFM_SEGMENT_ORDER, rfm_segment_summary

NAMES = {2: "Big spenders", 0: "One-timers", 1: "Lapsed"}
"""Display order: segment 2 first, as ``ordered_segments`` would give for the largest segment."""
COLORS = {2: "#111111", 0: "#222222", 1: "#333333"}


def selection() -> KSelection:
    table = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "inertia": [100.0, 60.0, 45.0, 40.0],
            "silhouette": [0.40, 0.55, 0.50, 0.30],
            "calinski_harabasz": [10.0, 30.0, 25.0, 20.0],
            "davies_bouldin": [1.2, 0.8, 0.9, 1.1],
            "bic": [500.0, 420.0, 430.0, 450.0],
        }
    )
    return KSelection(table, recommended=3, reason="k=3: chosen by silhouette")


@pytest.mark.parametrize("criterion", list(CRITERIA))
def test_criterion_chart_draws_every_k_the_recommendation_and_the_k_in_use(criterion: str) -> None:
    fig = criterion_chart(selection(), criterion, chosen=4)
    line, mine = fig.data
    assert list(line.x) == [2, 3, 4, 5]
    assert list(line.y) == selection().table[criterion].tolist()
    assert (mine.x, mine.y) == ((4,), (selection().table.loc[2, criterion],))
    assert mine.marker.color == CHOSEN_COLOR
    (vline,) = fig.layout.shapes
    assert vline.x0 == vline.x1 == 3 and vline.line.color == RECOMMENDED_COLOR
    assert fig.layout.title.text == CRITERIA[criterion][0]
    assert fig.layout.yaxis.title.text == CRITERIA[criterion][1]


def test_criterion_chart_without_a_scored_k_in_use_has_no_marker() -> None:
    assert len(criterion_chart(selection(), "bic", chosen=None).data) == 1  # HDBSCAN: no k of its own
    assert len(criterion_chart(selection(), "bic", chosen=9).data) == 1  # outside the scored range


def test_map_coordinates_of_one_feature_keep_it_as_x_with_a_seeded_spread() -> None:
    X = np.arange(10.0).reshape(-1, 1)
    points, explained = map_coordinates(X)
    assert explained == (1.0, 0.0)
    np.testing.assert_array_equal(points[:, 0], X[:, 0])
    assert np.all(np.abs(points[:, 1]) <= 1)
    np.testing.assert_array_equal(points, map_coordinates(X)[0])  # the same dots on every run


def test_map_coordinates_report_the_variance_each_principal_axis_shows() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * [5.0, 2.0, 1.0, 0.5]
    points, explained = map_coordinates(X)
    pca = PCA(2, random_state=0).fit(X)
    np.testing.assert_allclose(explained, pca.explained_variance_ratio_, rtol=1e-9)
    np.testing.assert_allclose(np.abs(points), np.abs(pca.transform(X)), atol=1e-9)
    line = np.column_stack([np.arange(50.0), 2 * np.arange(50.0)])  # every customer on one line
    assert map_coordinates(line)[1] == pytest.approx((1.0, 0.0), abs=1e-12)


def feature_table(n: int = 9) -> pd.DataFrame:
    return pd.DataFrame(
        {"recency_days": np.arange(n) * 10.0, "frequency": np.arange(n) + 1.0, "monetary": np.arange(n) * 100.0},
        index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"),
    )


def test_segment_map_has_one_trace_per_segment_in_display_order_and_colour() -> None:
    table = feature_table()
    labels = np.array([0, 1, 2, 0, 1, 2, 2, 2, 0])
    points = np.column_stack([np.arange(9.0), -np.arange(9.0)])
    fig = segment_map(points, (0.6, 0.3), ["recency_days", "frequency"], labels, table, NAMES, COLORS)
    assert [t.name for t in fig.data] == list(NAMES.values())
    assert [t.marker.color for t in fig.data] == list(COLORS.values())
    for trace, segment in zip(fig.data, NAMES, strict=True):
        members = np.flatnonzero(labels == segment)
        assert [row[0] for row in trace.customdata] == [f"C{i}" for i in members]
        assert list(trace.x) == points[members, 0].tolist()
        assert [row[3] for row in trace.customdata] == table["monetary"].iloc[members].tolist()
    assert fig.layout.xaxis.title.text == "First principal component (60% of the spread)"
    assert fig.layout.yaxis.title.text == "Second principal component (30%)"


def test_segment_map_of_one_feature_names_it_and_samples_large_inputs() -> None:
    table = feature_table()
    labels = np.array([0, 1, 2, 0, 1, 2, 2, 2, 0])
    fig = segment_map(np.zeros((9, 2)), (1.0, 0.0), ["monetary"], labels, table, NAMES, COLORS, max_points=4)
    assert fig.layout.xaxis.title.text == "Net revenue (scaled)"
    assert fig.layout.yaxis.title.text == "Random spread"
    drawn = [row[0] for t in fig.data for row in t.customdata]
    assert len(drawn) == len(set(drawn)) == 4 and set(drawn) <= set(table.index)


def test_segment_shares_put_the_first_segment_on_top_with_customer_and_revenue_bars() -> None:
    profiles = pd.DataFrame(
        {"share": [0.5, 0.3, 0.2], "revenue_share": [0.1, 0.2, 0.7]}, index=pd.Index([0, 1, 2], name="segment")
    )
    fig = segment_shares(profiles, NAMES)
    customers, revenue = fig.data
    assert (customers.name, revenue.name) == ("Customers", "Revenue")
    assert (customers.marker.color, revenue.marker.color) == (SHARE_COLORS["Customers"], SHARE_COLORS["Revenue"])
    assert list(customers.y) == list(NAMES.values())
    assert list(customers.x) == [0.2, 0.5, 0.3] and list(revenue.x) == [0.7, 0.1, 0.2]
    assert list(fig.layout.yaxis.categoryarray) == list(NAMES.values())[::-1]  # plotly draws bottom-up
    assert fig.layout.barmode == "group" and fig.layout.xaxis.tickformat == ".0%"
    assert fig.layout.legend.orientation == "h"  # below the tall chart of the Segments page


def test_membership_histogram_stacks_each_segments_probabilities_in_its_colour() -> None:
    assignments = pd.DataFrame({"segment": [0, 1, 2, 2, 0], "probability": [0.95, 0.5, 0.99, 0.7, 0.6]})
    fig = membership_histogram(assignments, NAMES, COLORS)
    assert [t.name for t in fig.data] == list(NAMES.values())
    assert [t.marker.color for t in fig.data] == list(COLORS.values())
    assert [sorted(t.x) for t in fig.data] == [[0.7, 0.99], [0.6, 0.95], [0.5]]
    assert fig.layout.yaxis.type == "log" and tuple(fig.layout.xaxis.range) == (0, 1)


def test_training_curve_plots_the_loss_of_each_pass() -> None:
    (trace,) = training_curve([0.9, 0.5, 0.4]).data
    assert list(trace.x) == [1, 2, 3] and list(trace.y) == [0.9, 0.5, 0.4]


def test_agreement_heatmap_shows_the_adjusted_rand_index_under_readable_names() -> None:
    ari = pd.DataFrame([[1.0, 0.25], [0.25, 1.0]], index=["kmeans", "gmm"], columns=["kmeans", "gmm"])
    fig = agreement_heatmap(ari, {"kmeans": "K-Means", "gmm": "Gaussian mixture"})
    (trace,) = fig.data
    np.testing.assert_array_equal(np.asarray(trace.z), ari.to_numpy())
    assert list(trace.x) == list(trace.y) == ["K-Means", "Gaussian mixture"]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)


def rfm_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rfm_segment": ["Lost", "Champions", "Champions", "Unclassified", "Lost", "Champions"],
            "monetary": [10.0, 500.0, 300.0, 0.0, 30.0, 160.0],
        }
    )


def test_rfm_segment_summary_counts_shares_rules_and_order() -> None:
    summary = rfm_segment_summary(rfm_customers())
    assert summary["segment"].tolist() == ["Champions", "Lost", "Unclassified"]  # RFM_SEGMENT_ORDER, present only
    assert summary["customers"].tolist() == [3, 2, 1]
    assert summary["revenue"].tolist() == [960.0, 40.0, 0.0]
    np.testing.assert_allclose(summary["customer_share"], [0.5, 1 / 3, 1 / 6])
    np.testing.assert_allclose(summary["revenue_share"], [0.96, 0.04, 0.0])
    assert summary[["r_range", "fm_range"]].iloc[0].tolist() == ["5", "4–5"]
    assert summary["action"].iloc[2] == ""  # unclassified customers have no rule
    assert RFM_SEGMENT_ORDER[0] == "Champions" and RFM_SEGMENT_ORDER[-1] == "Unclassified"


def test_rfm_treemap_and_share_bars_show_each_named_segment_in_its_colour() -> None:
    summary = rfm_segment_summary(rfm_customers())
    figure = rfm_treemap(summary)
    assert figure.layout.uniformtext.mode == "hide"  # a tile too small for readable text shows none
    treemap = figure.data[0]
    sizes = dict(zip(treemap.labels, treemap.values, strict=True))
    assert sizes == {"Champions": 3, "Lost": 2, "Unclassified": 1}
    colors = dict(zip(treemap.labels, treemap.marker.colors, strict=True))
    assert colors == {s: RFM_SEGMENT_COLORS[s] for s in sizes}
    bars = rfm_share_bars(summary)
    customers, revenue = bars.data
    assert list(customers.y) == ["Champions", "Lost", "Unclassified"]
    assert list(revenue.x) == pytest.approx([0.96, 0.04, 0.0])
    assert bars.layout.legend.orientation is None  # the default legend, at the right of a short chart


def test_distribution_chart_counts_every_customer_on_the_asked_scale() -> None:
    values = pd.Series([1, 1, 2, 3, 50])
    fig = distribution_chart(values, "Frequency", "Purchase orders", log_y=True)
    assert list(fig.data[0].x) == values.tolist()
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "Customers (log scale)"
    linear = distribution_chart(values, "Recency", "Days since the last purchase")
    assert linear.layout.yaxis.type != "log" and linear.layout.xaxis.title.text == "Days since the last purchase"


def test_segment_top_lists_count_only_transactions_before_the_as_of_date() -> None:
    transactions = pa.table(
        {
            "customer_id": ["A", "A", "B", "B", "A"],
            "product_id": ["p1", "p2", "p3", "p3", "p9"],
            "description": ["Mug", None, "Lamp", "Lamp", "Late buy"],
            "country": ["UK", "UK", "FR", "FR", "DE"],
            "amount": [5.0, 20.0, 7.0, 8.0, 1000.0],
            "ts": [datetime(2024, 1, d) for d in (1, 2, 3, 4, 10)],
        }
    )
    assignments = pd.Series({"A": 0, "B": 1})
    lists = segment_top_lists(transactions, assignments, as_of=date(2024, 1, 10), n=2)
    assert lists == {"product": {0: ["p2", "Mug"], 1: ["Lamp"]}, "country": {0: ["UK"], 1: ["FR"]}}
    everything = segment_top_lists(transactions, assignments, n=1)
    assert everything == {"product": {0: ["Late buy"], 1: ["Lamp"]}, "country": {0: ["DE"], 1: ["FR"]}}


def test_scores_in_words_follow_their_thresholds() -> None:
    assert [in_words(s, SEPARATION_WORDS) for s in (0.7, 0.5, 0.3, 0.1, -0.2, np.nan)] == [
        "clear",
        "clear",
        "fair",
        "weak",
        "weak",
        "n/a",
    ]
    assert [in_words(s, STABILITY_WORDS) for s in (0.95, 0.8, 0.6, 0.2)] == [
        "very stable",
        "stable",
        "shaky",
        "unstable",
    ]


def test_stability_refits_with_what_the_search_chose() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    features = pd.DataFrame(
        np.vstack([c + rng.normal(scale=0.5, size=(60, 2)) for c in centres]), columns=["monetary", "frequency"]
    )
    model = SegmentationModel("gmm", {"n_clusters": None, "covariance_type": None}, ("monetary", "frequency"))
    model.fit(features)
    assert fixed_settings(model) == {"n_clusters": 3, "covariance_type": model.segmenter_.covariance_type_}
    mean, spread = refit_stability(model, model.matrix(features), n_rounds=3)
    assert mean == pytest.approx(1.0) and spread == pytest.approx(0.0)  # three clear blobs: the same every time
