"""EASE: its weights are the ridge regression of each product on the others, and it ranks new products; with
``recent_days`` its lists of new products follow what customers have lately moved on to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.data import Interactions
from recommenders.ease import EASERecommender
from segmentation.errors import ConfigError
from tests.frames import basket_lines


@pytest.fixture(scope="module")
def interactions() -> Interactions:
    # a, b and c go together; d and e go together; f is bought alone
    baskets = {
        "c1": [["a", "b"], ["c"]],
        "c2": [["a", "b", "c"]],
        "c3": [["b", "c"], ["a"]],
        "c4": [["d", "e"]],
        "c5": [["d"], ["e", "f"]],
        "c6": [["a"]],
        "c7": [["d", "f"]],
    }
    return Interactions.from_transactions(basket_lines(baskets))


def test_each_column_is_the_ridge_regression_on_the_other_products(interactions) -> None:
    l2 = 0.7
    model = EASERecommender(l2=l2).fit(interactions)
    x = (interactions.bought > 0).toarray().astype(float)
    for j in range(x.shape[1]):
        others = np.delete(np.arange(x.shape[1]), j)
        a = x[:, others]
        expected = np.linalg.solve(a.T @ a + l2 * np.eye(len(others)), a.T @ x[:, j])
        np.testing.assert_allclose(model.weights_[others, j], expected, atol=1e-5)
        assert model.weights_[j, j] == 0.0


def test_a_customer_is_offered_what_goes_with_their_products(interactions) -> None:
    model = EASERecommender(l2=0.5).fit(interactions)
    recs = model.recommend(["c4", "c6"], n=1, exclude_bought=True).set_index("customer_id")["product_id"]
    assert recs["c4"] == "f"  # d and e are bought with f by c5 and c7
    assert recs["c6"] in {"b", "c"}  # a goes with b and c
    assert model.similar_items("d", n=1)["product_id"].tolist() in (["e"], ["f"])


def test_a_catalogue_larger_than_max_items_keeps_the_most_bought_products(interactions) -> None:
    model = EASERecommender(l2=0.5, max_items=3).fit(interactions)
    customers = np.asarray((interactions.bought > 0).sum(axis=0)).ravel()
    assert set(model.kept_) == set(np.argsort(-customers, kind="stable")[:3])
    scores = model.score(np.arange(interactions.n_customers))
    dropped = np.setdiff1d(np.arange(interactions.n_items), model.kept_)
    assert (scores[:, dropped] == 0).all() and scores.shape == (interactions.n_customers, interactions.n_items)
    assert len(model.recommend(pd.Index(["c1"]), n=4)) == 4


@pytest.fixture(scope="module")
def moving_on() -> Interactions:
    """Long ago three customers bought a with b; lately two who had bought a came back for n (day 9, the end)."""
    later = [[]] * 8 + [["n"]]
    baskets = {"o1": [["a", "b"]], "o2": [["a", "b"]], "o3": [["a", "b"]], "r1": [["a"], *later]}
    return Interactions.from_transactions(basket_lines(baskets | {"r2": [["a"], *later], "q": [["a"]]}))


def test_interactions_tell_what_was_bought_in_a_period(moving_on) -> None:
    start = moving_on.end - pd.Timedelta(days=3)
    before, after = moving_on.bought_in(end=start), moving_on.bought_in(start=start)
    assert ((before + after) != moving_on.bought).nnz == 0  # here no product is bought in both periods
    n = moving_on.items.get_loc("n")
    assert after.nnz == 2 and after[:, n].sum() == 2 and before[:, n].sum() == 0


def test_transition_weights_are_the_recent_ridge_regression_shrunk_toward_ease(moving_on) -> None:
    l2 = 0.5
    model = EASERecommender(l2=l2, recent_days=3).fit(moving_on)
    start = moving_on.end - pd.Timedelta(days=3)
    x = moving_on.bought_in(end=start).toarray()
    y = moving_on.bought_in(start=start).toarray() * (1 - x)
    active = (x.sum(axis=1) > 0) & (y.sum(axis=1) > 0)
    assert moving_on.customers[active].tolist() == ["r1", "r2"]
    x, y = x[active], y[active]
    expected = np.linalg.solve(x.T @ x + l2 * np.eye(x.shape[1]), x.T @ y + l2 * model.weights_)
    np.testing.assert_allclose(model.new_weights_, expected, atol=1e-5)


def test_lists_of_new_products_follow_where_customers_moved_on_to(moving_on) -> None:
    plain = EASERecommender(l2=0.5).fit(moving_on)
    recent = EASERecommender(l2=0.5, recent_days=3).fit(moving_on)
    assert plain.recommend(["q"], n=1, exclude_bought=True)["product_id"].tolist() == ["b"]  # a went with b most
    assert recent.recommend(["q"], n=1, exclude_bought=True)["product_id"].tolist() == ["n"]
    rows = np.arange(moving_on.n_customers)
    np.testing.assert_array_equal(recent.score(rows), plain.score(rows))  # lists with repeats are EASE's own


def test_without_new_purchases_lately_lists_of_new_products_are_ease_own() -> None:
    repeats_only = Interactions.from_transactions(basket_lines({"x": [["a"], ["a"]], "y": [["a", "b"]]}))
    model = EASERecommender(l2=0.5, recent_days=0.5).fit(repeats_only)
    assert model.new_weights_ is None
    rows = np.arange(repeats_only.n_customers)
    np.testing.assert_array_equal(model.score_new(rows), model.score(rows))


@pytest.mark.parametrize("params", [{"l2": 0.0}, {"max_items": 0}, {"recent_days": 0}])
def test_bad_parameters_are_refused_in_one_line(params, interactions) -> None:
    with pytest.raises(ConfigError, match="EASE needs"):
        EASERecommender(**params).fit(interactions)
