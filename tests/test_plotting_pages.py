"""The charts of the Explain and History pages, built by the libraries without Streamlit: known answers on the
figures' data (which bars, which dots, which bands, with which numbers)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation.explain.plotting import customer_waterfall, importance_bars, shap_strip, value_text
from segmentation.explain.shap_values import Explanation
from segmentation.features import feature_label
from segmentation.migration import GONE, NEW, migration_matrix
from segmentation.migration_plotting import (
    OUTSIDE_COLOR,
    day_label,
    migration_colors,
    migration_heatmap,
    migration_sankey,
    rgba,
    sizes_chart,
)


@pytest.fixture
def explanation() -> Explanation:
    """Six customers, two segments (7 and 9), three features. Towards segment 7 recency pushes with |SHAP| 3 on
    its members, monetary 1 and country 0.5; towards 9 monetary pushes with 2, recency 0.25, country 0."""
    ids = [f"c{i}" for i in range(6)]
    labels = pd.Series([7, 7, 7, 9, 9, 9], index=ids)
    data = pd.DataFrame(
        {
            "recency_days": [5.0, 10.0, 20.0, 200.0, 300.0, 400.0],
            "monetary": [100.0, 150.0, 120.0, 900.0, 800.0, 1000.0],
            "country": pd.Categorical(["UK", "UK", "France", "UK", "Spain", "UK"]),
        },
        index=ids,
    )
    values = np.zeros((6, 3, 2))
    values[:3, :, 0] = [[3.0, 1.0, 0.5], [-3.0, -1.0, 0.5], [3.0, 1.0, -0.5]]
    values[3:, :, 1] = [[0.25, 2.0, 0.0], [-0.25, 2.0, 0.0], [0.25, -2.0, 0.0]]
    values[3:, 0, 0] = [-1.0, -2.0, -3.0]  # non-members' pushes towards 7: shown in the strip, not in importance
    base = np.tile([0.5, -0.5], (6, 1))
    return Explanation(values, base, data, np.array([7, 9]), labels)


def test_importance_bars_stack_each_segments_mean_absolute_push(explanation: Explanation) -> None:
    names, colors = {7: "Loyal", 9: "Big spenders"}, {7: "#111111", 9: "#222222"}
    fig = importance_bars(explanation.global_importance(), [9, 7], names, colors, top=2)
    assert [t.name for t in fig.data] == ["Big spenders", "Loyal"]  # the segment order asked for
    # mean over the segments of mean |SHAP|: recency (3 + 0.25) / 2 > monetary (1 + 2) / 2; country left out
    assert list(fig.data[0].y) == [feature_label("recency_days"), feature_label("monetary")]
    assert list(fig.data[0].x) == pytest.approx([0.25, 2.0])
    assert list(fig.data[1].x) == pytest.approx([3.0, 1.0])
    assert fig.data[1].marker.color == "#111111"
    assert fig.layout.barmode == "stack" and fig.layout.title.text == "Feature importance per segment"


def test_the_strip_has_every_customers_push_coloured_by_value_rank(explanation: Explanation) -> None:
    fig = shap_strip(explanation, 7, top=3)
    numeric, category = fig.data
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks == [feature_label("recency_days"), feature_label("monetary"), feature_label("country")]
    # recency: every sampled customer's push towards 7, members and non-members, on row 0 (jittered by < 0.3)
    on_recency = np.round(np.asarray(numeric.y)) == 0
    assert list(np.asarray(numeric.x)[on_recency]) == [3.0, -3.0, 3.0, -1.0, -2.0, -3.0]
    assert list(np.asarray(numeric.marker.color)[on_recency]) == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1])
    assert np.all(np.abs(np.asarray(numeric.y) - np.round(numeric.y)) <= 0.3)
    assert numeric.marker.colorscale is not None and category.marker.color == "#a8a29e"
    assert list(category.x) == [0.5, 0.5, -0.5, 0.0, 0.0, 0.0] and set(np.round(category.y)) == {2}
    assert [row[2] for row in category.customdata] == ["UK", "UK", "France", "UK", "Spain", "UK"]


def test_the_strip_samples_at_most_the_customers_asked(explanation: Explanation) -> None:
    fig = shap_strip(explanation, 9, top=1, customers=4)
    (numeric,) = fig.data
    assert len(numeric.x) == 4 and len({row[0] for row in numeric.customdata}) == 4
    assert list(fig.layout.yaxis.ticktext) == [feature_label("monetary")]


def test_the_waterfall_adds_the_pushes_to_the_customers_score(explanation: Explanation) -> None:
    pushes = explanation.customer("c0")
    fig = customer_waterfall(pushes, 0.5, "Loyal", "LightGBM", top=2)
    (bars,) = fig.data
    assert list(bars.measure) == ["absolute", "relative", "relative", "relative", "total"]
    assert bars.y[0] == "Average customer (base value)" and bars.y[-1] == "This customer"
    assert bars.y[1] == f"{feature_label('recency_days')} = 5" and bars.y[3] == "1 other features"
    assert list(bars.x) == pytest.approx([0.5, 3.0, 1.0, 0.5, 5.0])  # base + pushes = the score, the rest summed
    assert list(bars.text) == ["0.50", "+3.00", "+1.00", "+0.50", "5.00"]
    low, high = fig.layout.xaxis.range
    assert low < 0 < 5.0 < high  # zero and every level visible, with room for the printed numbers
    assert fig.layout.xaxis.title.text == "LightGBM score for Loyal (log-odds)"
    assert fig.layout.height == 120 + 34 * 5


def test_value_text_drops_a_minus_zero_and_keeps_categories() -> None:
    assert value_text("recency_days", -0.0004) == "0"
    assert value_text("recency_days", 12.0) == "12"
    assert value_text("country", "United Kingdom") == "United Kingdom"


@pytest.fixture
def snapshots() -> dict[date, pd.Series]:
    """Two segments over three snapshots; customer e arrives in the second, d is gone from the third."""
    return {
        date(2011, 1, 1): pd.Series({"a": "Top", "b": "Top", "c": "Low", "d": "Low"}),
        date(2011, 2, 1): pd.Series({"a": "Top", "b": "Low", "c": "Low", "d": "Low", "e": "Top"}),
        date(2011, 3, 1): pd.Series({"a": "Top", "b": "Low", "c": "Top", "e": "Top"}),
    }


def test_sizes_chart_stacks_customers_per_segment_and_snapshot(snapshots: dict[date, pd.Series]) -> None:
    colors = {"Top": "#00aa00", "Low": "#aa0000"}
    fig = sizes_chart(snapshots, ["Top", "Low"], colors)
    traces = {t.name: t for t in fig.data}
    assert [t.name for t in fig.data] == ["Top", "Low"]
    assert list(traces["Top"].x) == ["1 Jan 2011", "1 Feb 2011", "1 Mar 2011"]
    assert list(traces["Top"].y) == [2, 2, 3] and list(traces["Low"].y) == [2, 3, 1]
    assert traces["Low"].line.color == "#aa0000" and traces["Top"].stackgroup
    assert fig.layout.title.text == "Customers per segment over time"


def test_heatmap_shows_counts_on_a_log_colour_scale(snapshots: dict[date, pd.Series]) -> None:
    before, after = date(2011, 1, 1), date(2011, 3, 1)
    matrix = migration_matrix(snapshots[before], snapshots[after])
    fig = migration_heatmap(matrix, before, after)
    (heat,) = fig.data
    assert np.asarray(heat.text).tolist() == matrix.to_numpy().tolist()
    assert np.asarray(heat.z) == pytest.approx(np.log1p(matrix.to_numpy()))
    assert list(heat.y) == list(matrix.index) and list(heat.x) == list(matrix.columns)
    assert (
        fig.layout.xaxis.title.text == "Segment on 1 Mar 2011"
        and fig.layout.yaxis.title.text == "Segment on 1 Jan 2011"
    )


def test_sankey_has_one_band_per_move_coloured_by_its_source(snapshots: dict[date, pd.Series]) -> None:
    before, after = date(2011, 1, 1), date(2011, 3, 1)
    matrix = migration_matrix(snapshots[before], snapshots[after])  # rows Low, Top, (new); columns (gone), Low, Top
    colors = migration_colors({"Top": "#00aa00", "Low": "#aa0000"})
    assert colors[NEW] == colors[GONE] == OUTSIDE_COLOR
    (sankey,) = migration_sankey(matrix, before, after, colors).data
    labels = list(sankey.node.label)
    bands = {
        (labels[s], labels[t]): v
        for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value, strict=True)
    }
    sources = len(matrix.index)
    assert all(s < sources <= t for s, t in zip(sankey.link.source, sankey.link.target, strict=True))
    assert bands == {("Top", "Top"): 1, ("Top", "Low"): 1, ("Low", "Top"): 1, ("Low", GONE): 1, (NEW, "Top"): 1}
    assert sum(sankey.link.value) == 5  # every customer in either snapshot, once
    top = labels.index("Top")
    assert [c for s, c in zip(sankey.link.source, sankey.link.color, strict=True) if s == top] == [
        rgba("#00aa00", 0.35)
    ] * 2
    assert list(sankey.node.customdata) == ["1 Jan 2011"] * sources + ["1 Mar 2011"] * len(matrix.columns)


def test_day_label_and_rgba() -> None:
    assert day_label(date(2011, 3, 1)) == "1 Mar 2011"
    assert rgba("#ff8000", 0.5) == "rgba(255,128,0,0.5)" and rgba("rgb(1, 2, 3)", 1) == "rgba(1,2,3,1)"
