"""The Recommend page, run headless with AppTest on the sample: segment lists, a customer's list with the cold-start
fallback, the model switch, the quick evaluation table and the churn risk of the Value page's model."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recommenders.names import MODEL_LABELS, QUICK_MODELS
from recommenders.reasons import BOUGHT_AGAIN
from recommenders.segments import COLD_START
from segmentation.cli import _parser
from segmentation.clustering.present import display_names, ordered_segments
from segmentation.formatting import number, percent
from segmentation.workflow import Analysis
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
        shares = table["recommended_to"]  # percent, one decimal shown
        assert shares.between(0, 100).all() and shares.iloc[0] > 1 and shares.is_monotonic_decreasing
        assert (table["lift"] > 0).all() and "bought_by" not in table
        # new products only: everyone whose list holds a product has never bought it, so the prospects are at
        # least as many
        assert table["novelty"].between(0, 100).all() and (table["novelty"] >= shares - 1e-9).all()
        lists[option] = tuple(table["product_id"])
    assert len(set(lists.values())) == len(lists)  # each segment gets its own list
    assert any("Lists hold only products each customer has not bought yet" in c.value for c in app.caption)

    app.toggle(key="recommend_exclude").set_value(False).run()
    with_repeats = segment_table(app)
    assert "novelty" not in with_repeats and with_repeats["bought_by"].between(0, 100).all()
    assert with_repeats["bought_by"].max() > 0  # repeat purchases come back
    app.toggle(key="recommend_exclude").set_value(True).run()

    app.slider(key="recommend_n").set_value(5).run()
    assert list(segment_table(app)["rank"]) == [1, 2, 3, 4, 5]


def test_the_defaults_are_what_the_evaluation_ranks_best_for_new_products(app: AppTest) -> None:
    assert app.toggle(key="recommend_exclude").value is True  # cross-sell: what marketers ask for most
    assert app.segmented_control(key="recommend_model").value == "ease"
    assert any("EASE ranked best for products new to the customer" in c.value for c in app.caption)
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


def test_the_quick_evaluation_ranks_the_quick_models_and_points_to_the_full_one(app: AppTest) -> None:
    assert not any("Next buys on top" in d.value.columns for d in app.dataframe)  # nothing runs until asked
    cli = next(c.value for c in app.caption if "segment recommend-eval" in c.value)
    cutoff = re.search(r"`segment recommend-eval FILE --cutoff (\d{4}-\d\d-\d\d)`", cli).group(1)
    assert "`--tune TRIALS`" in cli and "GRU" not in cli
    options = _parser().parse_args(["recommend-eval", "f.csv", "--cutoff", cutoff, "--tune", "5"])  # real flags
    assert (options.cutoff, options.tune) == (cutoff, 5)
    app.button(key="evaluate_models").click().run()
    assert_clean_run(app)
    table = frame(app, "Next buys on top")
    assert sorted(table.index) == sorted(MODEL_LABELS[name] for name in QUICK_MODELS)  # no sequence model
    assert "GRU sequence" not in table.index and len(QUICK_MODELS) == 8
    for column in ("Next buys on top", "New buys on top", "Next order on top", "Precision"):
        assert table[column].str.fullmatch(r"0\.\d{3}").all(), table[column]
    for column in ("Customers hit", "Buys found", "Catalogue reached"):
        assert table[column].str.fullmatch(r"\d{1,3}\.\d%").all(), table[column]
    assert table["Fit (s)"].str.fullmatch(r"\d+\.\d").all()
    # the next order is a narrower truth than every purchase from the cutoff on: for a model that ranks repeats
    # first (buy-again), its NDCG differs from the all-purchases one
    assert table.loc["Buy again", "Next order on top"] != table.loc["Buy again", "Next buys on top"]
    ranked = table["New buys on top"].astype(float)  # new products only is on: ranked for cross-sell
    assert ranked.is_monotonic_decreasing
    coverage = table["Catalogue reached"].str.rstrip("%").astype(float)
    assert coverage["Popularity"] < coverage["Buy again"]  # the same list for everyone reaches least
    best = next(c.value for c in app.caption if c.value.startswith("Best for products new to the customer"))
    assert f"**{table.index[0]}**" in best and table["New buys on top"].iat[0] in best
    tied = table.index[table["New buys on top"] == table["New buys on top"].iat[0]]
    assert ("a tie between" in best) == (len(tied) > 1)  # equal scores are not presented as a ranking
    assert all(f"**{model}**" in best for model in tied)


def test_the_evaluation_ranks_for_the_lists_shown(app: AppTest) -> None:
    app.toggle(key="recommend_exclude").set_value(False).run()
    app.button(key="evaluate_models").click().run()
    assert_clean_run(app)
    table = frame(app, "Next buys on top")
    assert table["Next buys on top"].astype(float).is_monotonic_decreasing
    assert any(c.value.startswith("Best for all products, repeats included") for c in app.caption)


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


def test_churn_risk_is_the_value_pages_model_with_one_decimal_and_separators(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    step = Analysis.churn

    def recorded(self: Analysis, as_of: date, horizon_days: float = 90.0):
        calls.append((self, as_of, horizon_days))
        return step(self, as_of, horizon_days)

    monkeypatch.setattr(Analysis, "churn", recorded)
    assert not any("Mean churn risk" in d.value.columns for d in app.dataframe)  # nothing trains until asked
    assert any("calibrated LightGBM" in c.value and "**Value** page" in c.value for c in app.caption)
    app.button(key="estimate_churn").click().run()
    assert_clean_run(app)
    workflow, as_of, horizon = calls[-1]
    assert (as_of, horizon) == (workflow.default_as_of(), 90)  # the Value page's defaults: after the data, 90 days
    table = frame(app, "Mean churn risk")
    assert list(table["Segment"]) == frame(app, "Top 3 products")["Segment"].tolist()
    assert table["Mean churn risk"].str.fullmatch(r"\d{1,3}\.\d%").all()
    assert table["Customers"].str.fullmatch(r"\d{1,3}(,\d{3})*").all()
    assert table["Expected to stop"].str.fullmatch(r"\d{1,3}(,\d{3})*").all()

    # the numbers are the workflow's churn model's, per segment of the Segments page
    model, data = step(workflow, as_of, 90)  # kept by the workflow: the very model the page used
    risk = pd.Series(model.predict_proba(data.features)[:, 1], index=data.features.index)
    current = app.session_state["segmentation"]
    segmentation = workflow.segmentation(current.clustering, current.features)
    names = display_names(segmentation, ordered_segments(segmentation))
    customers = workflow.customers(current.features).index.astype(str)
    segment = pd.Series(segmentation.labels_, index=customers).map(names)
    for _, row in table.iterrows():
        members = risk.reindex(segment.index[segment == row["Segment"]])
        assert (row["Customers"], row["Mean churn risk"]) == (number(len(members)), percent(members.mean()))
        assert row["Expected to stop"] == number(members.sum())
    assert sum(int(c.replace(",", "")) for c in table["Customers"]) == len(risk)  # every customer is scored
    assert "Churn risk per customer (CSV)" in [b.label for b in app.download_button]
