"""The Recommend page, run headless with AppTest on the sample: segment lists, a customer's list with the cold-start
fallback, the model switch and the evaluation table."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import recommenders.evaluate
from recommenders.reasons import BOUGHT_AGAIN
from recommenders.segments import COLD_START
from recommenders.sequence.model import SequenceRecommender
from tests.app_helpers import EXPORT, RECOMMEND, assert_clean_run, frame, new_app, segmented


@pytest.fixture
def app() -> AppTest:
    """The app on the Recommend page, after the sample was segmented."""
    at = new_app()
    segmented(at).switch_page(RECOMMEND).run()
    assert_clean_run(at)
    return at


def segment_table(at: AppTest) -> pd.DataFrame:
    return frame(at, "recommended_to")


def test_segment_lists_with_share_lift_and_an_overview_per_segment(app: AppTest) -> None:
    overview = frame(app, "Top 3 products")
    picker = app.selectbox(key="recommend_segment")
    assert list(overview["Segment"]) == picker.options  # the picker shows the segment names
    assert overview["Top 3 products"].str.count(" · ").eq(2).all()
    lists = {}
    for option in picker.options:
        app.selectbox(key="recommend_segment").set_value(option).run()
        assert_clean_run(app)
        table = segment_table(app)
        assert list(table["rank"]) == list(range(1, 11))
        assert table["recommended_to"].between(0, 1).all() and table["recommended_to"].is_monotonic_decreasing
        assert (table["lift"] > 0).all() and table["bought_by"].between(0, 1).all()
        lists[option] = tuple(table["product_id"])
    assert len(set(lists.values())) == len(lists)  # each segment gets its own list

    app.slider(key="recommend_n").set_value(5).run()
    assert list(segment_table(app)["rank"]) == [1, 2, 3, 4, 5]


def test_the_defaults_are_what_the_evaluation_ranks_best_for_new_products(app: AppTest) -> None:
    assert app.toggle(key="recommend_exclude").value is True  # cross-sell: what marketers ask for most
    assert app.segmented_control(key="recommend_model").value == "als"
    assert any("ALS ranked best for products new to the customer" in c.value for c in app.caption)
    assert BOUGHT_AGAIN not in set(frame(app, "score")["reason"])
    app.toggle(key="recommend_exclude").set_value(False).run()
    assert_clean_run(app)
    assert any("TIFU-KNN ranked best for all products" in c.value for c in app.caption)


def test_a_customer_list_and_the_cold_start_fallback(app: AppTest) -> None:
    app.segmented_control(key="recommend_model").set_value("buy_again").run()
    app.toggle(key="recommend_exclude").set_value(False).run()
    segment = app.selectbox(key="recommend_customer_segment")
    customer = app.selectbox(key="recommend_customer")
    assert customer.value == customer.options[0]
    mine = frame(app, "score")
    assert list(mine["rank"]) == list(range(1, 11)) and mine["product_id"].is_unique
    assert COLD_START not in set(mine["reason"])
    assert BOUGHT_AGAIN in set(mine["reason"])  # buy-again starts with the customer's own products

    app.number_input(key="recommend_min_orders").set_value(20).run()  # nobody in the sample has 20 orders
    assert_clean_run(app)
    assert any("fewer than the 20 needed for a personal list" in i.value for i in app.info)
    fallback = frame(app, "score")
    assert set(fallback["reason"]) == {COLD_START}
    app.selectbox(key="recommend_segment").set_value(segment.value).run()
    assert list(fallback["product_id"]) == list(segment_table(app)["product_id"])  # the segment's own list

    app.toggle(key="recommend_exclude").set_value(True).run()
    assert_clean_run(app)
    assert BOUGHT_AGAIN not in set(frame(app, "score")["reason"])


def test_switching_the_model_changes_the_lists(app: AppTest) -> None:
    before = tuple(segment_table(app)["product_id"])
    app.segmented_control(key="recommend_model").set_value("itemknn").run()
    assert_clean_run(app)
    assert any(c.value.startswith("**Item kNN**") for c in app.caption)
    assert tuple(segment_table(app)["product_id"]) != before


def test_the_evaluation_table_ranks_every_model(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    quick = recommenders.evaluate.standard_models()
    quick |= {name: SequenceRecommender(name, epochs=2) for name in ("gru", "attention")}
    monkeypatch.setattr(recommenders.evaluate, "standard_models", lambda: quick)
    assert not any("NDCG@10" in d.value.columns for d in app.dataframe)  # nothing runs until asked
    app.button(key="evaluate_models").click().run()
    assert_clean_run(app)
    table = frame(app, "NDCG@10")
    assert len(table) == len(quick) and table["NDCG@10"].is_monotonic_decreasing
    assert "TIFU-KNN" in table.index  # every model by its name for people
    assert table["NDCG@10"].between(0, 1).all() and table["Coverage@10"].between(0, 1).all()
    assert table.loc["Popularity", "Coverage@10"] < table.loc["Buy again", "Coverage@10"]
    assert any(c.value.startswith(f"Best by NDCG@10 at this cutoff: **{table.index[0]}**") for c in app.caption)


def test_the_export_carries_the_chosen_models_products(app: AppTest, downloads: dict[str, bytes]) -> None:
    app.segmented_control(key="recommend_model").set_value("itemknn").run()
    app.switch_page(EXPORT).run()
    assert_clean_run(app)
    assert any(c.value.startswith("Recommended by **Item kNN**") for c in app.caption)
    written = pd.read_csv(io.BytesIO(downloads["generic_segments.csv"]), dtype=str)
    products = written["top_products"].str.split(";")
    assert products.map(len).eq(3).all() and products.map(lambda p: len(set(p)) == 3).all()
    assert json.loads(downloads["generic_segments.manifest.json"])["run"]["recommendations"]["model"] == "itemknn"

    app.toggle(key="export_products").set_value(False).run()
    assert_clean_run(app)
    assert "top_products" not in frame(app, "segment_name").columns


def test_churn_risk_per_segment_on_request(app: AppTest) -> None:
    assert not any("Mean churn risk" in d.value.columns for d in app.dataframe)  # nothing trains until asked
    app.button(key="estimate_churn").click().run()
    assert_clean_run(app)
    table = frame(app, "Mean churn risk")
    assert list(table["Segment"]) == frame(app, "Top 3 products")["Segment"].tolist()
    assert table["Mean churn risk"].between(0, 1).all() and table["Mean churn risk"].nunique() > 1
    expected = table["Mean churn risk"] * table["Customers"]
    assert table["Expected to stop"].to_numpy() == pytest.approx(expected.to_numpy())
    assert "Churn risk per customer (CSV)" in [b.label for b in app.download_button]
