"""Rules the pages once wrote themselves, now library functions shared with the CLI: which columns the surrogates
see, one customer's explanation, the segment lists' length and each customer's products for a CRM export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.baselines import BuyAgainRecommender
from recommenders.data import Interactions
from recommenders.lists import lists_at_a_glance, named_segment_lists, products_per_customer, segment_list_length
from recommenders.names import MODEL_LABELS, MODEL_NOTES
from recommenders.segments import segment_top_products
from segmentation.explain.inputs import surrogate_features


def test_the_surrogates_see_every_feature_but_the_rfm_restatements() -> None:
    table = pd.DataFrame(
        {
            "recency_days": [1, 30],
            "frequency": [3, 1],
            "country": ["UK", None],
            "r_score": [5, 1],
            "f_score": [4, 1],
            "m_score": [3, 2],
            "rfm_code": ["543", "112"],
            "rfm_segment": ["Champions", "Lost"],
        },
        index=["c1", "c2"],
    )
    seen = surrogate_features(table)
    assert list(seen.columns) == ["recency_days", "frequency", "country"]
    assert seen["recency_days"].dtype == float and isinstance(seen["country"].dtype, pd.CategoricalDtype)
    assert list(seen["country"]) == ["UK", "unknown"]


def test_explain_customer_inside_and_outside_the_shap_sample() -> None:
    from segmentation.explain import SegmentSurrogate, explain
    from segmentation.explain.customer import explain_customer

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.uniform(0, 300, 240), "monetary": rng.uniform(0, 1000, 240)})
    X.index = [f"c{i}" for i in range(240)]
    labels = (X["recency_days"] > 150).to_numpy().astype(int) + 2 * (X["monetary"] > 500).to_numpy()
    surrogate = SegmentSurrogate(n_estimators=30).fit(X, labels)
    sample = explain(surrogate, X, labels, sample_size=60)
    whole = explain(surrogate, X, labels, sample_size=None)
    outside = next(c for c in X.index if c not in sample.data.index)
    inside = sample.data.index[0]
    for customer in (inside, outside):
        pushes, base, proba = explain_customer(surrogate, sample, X, labels, customer)
        expected = whole.customer(customer)
        assert list(pushes["feature"]) == list(expected["feature"])
        assert pushes["shap"].to_numpy() == pytest.approx(expected["shap"].to_numpy())
        assert base == pytest.approx(expected.attrs["base_value"])
        assert sorted(proba) == [0, 1, 2, 3] and sum(proba.values()) == pytest.approx(1.0)
        assert proba == pytest.approx(dict(enumerate(surrogate.predict_proba(X.loc[[customer]])[0])))


@pytest.fixture(scope="module")
def buy_again() -> tuple[BuyAgainRecommender, pd.Series]:
    """Customers A0..A9 buy a1 and a2 twice; B0..B4 buy b1 twice and a1 once; N1 (segment B) has one order of a2."""
    lines = []
    for i in range(10):
        lines += [(f"A{i}", f"A{i}-{d}", d, p) for d in (1, 30) for p in ("a1", "a2")]
    for i in range(5):
        lines += [(f"B{i}", f"B{i}-1", 1, "b1"), (f"B{i}", f"B{i}-1", 1, "a1"), (f"B{i}", f"B{i}-2", 30, "b1")]
    lines += [("N1", "N1-1", 5, "a2")]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "day", "product_id"])
    tx = tx.assign(
        ts=pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.pop("day"), unit="D"),
        quantity=1,
        amount=2.0,
        description=tx["product_id"].map({"a1": "Apron", "a2": "", "b1": "Bag"}),
        is_return=False,
    )
    segments = pd.Series({**{f"A{i}": 0 for i in range(10)}, **{f"B{i}": 1 for i in range(5)}, "N1": 1})
    return BuyAgainRecommender().fit(Interactions.from_transactions(tx)), segments


def test_products_per_customer_with_the_cold_start_fallback(buy_again) -> None:
    model, segments = buy_again
    assert segment_list_length(10) == 20
    lists = segment_top_products(model, segments, segment_list_length(2))
    products = products_per_customer(model, segments, 2, min_orders=2, segment_lists=lists)
    assert list(products.index) == list(segments.index.astype(str))
    assert products["A0"] == ["a1", "a2"] or products["A0"] == ["a2", "a1"]  # their own repeat purchases
    assert products["B0"][0] == "b1"  # bought twice: first
    # N1 has one order, fewer than 2: B's list (b1 and a1 recommended to all of B's own customers)
    assert products["N1"] == lists.loc[lists["segment"] == 1].sort_values("rank")["product_id"].head(2).tolist()
    assert products.map(len).eq(2).all()


def test_segment_lists_for_people(buy_again) -> None:
    model, segments = buy_again
    lists = segment_top_products(model, segments, 4)
    named = named_segment_lists(lists, {0: "Aprons", 1: "Bags"}, 2)
    assert list(named.columns[:3]) == ["segment", "segment_name", "rank"]
    assert named.groupby("segment")["rank"].max().to_dict() == {0: 2, 1: 2}
    assert set(named.loc[named["segment"] == 1, "segment_name"]) == {"Bags"}
    glance = lists_at_a_glance(lists, 2)
    expected = lists.loc[(lists["segment"] == 0) & (lists["rank"] <= 2)].sort_values("rank")
    shown = [d or p for d, p in zip(expected["description"], expected["product_id"], strict=True)]
    assert glance[0] == " · ".join(shown) and "a2" in glance[0]  # no description: the product id


def test_every_standard_model_has_a_name_and_a_note() -> None:
    from recommenders.evaluate import standard_models

    assert set(MODEL_LABELS) == set(standard_models()) == set(MODEL_NOTES)


def test_the_app_draws_each_page_title_before_the_page_runs() -> None:
    """The frame first: app.py writes the title, then runs the page (whose module imports may take seconds on a
    first visit); no page writes a title of its own, so none is drawn twice."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    calls = [
        node.func.attr
        for node in ast.walk(ast.parse((root / "app.py").read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("title", "run")
    ]
    assert calls == ["title", "run"]
    for page in sorted((root / "ui").glob("*_page.py")):
        assert "st.title(" not in page.read_text(), page.name
