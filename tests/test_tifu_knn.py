"""TIFU-KNN: the decayed frequency vectors by hand, the neighbours on planted groups, and the planted sample."""

from __future__ import annotations

import pytest

from recommenders.baselines import BuyAgainRecommender, PopularityRecommender
from recommenders.data import Interactions
from recommenders.evaluate import EvaluationSplit, evaluate
from recommenders.tifu import TIFUKNNRecommender, frequency_vectors
from segmentation.errors import ConfigError
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample
from tests.frames import basket_lines


def _orders(baskets: dict[str, list[list[str]]]) -> Interactions:
    """Each customer's baskets, one day apart, oldest first."""
    return Interactions.from_transactions(basket_lines(baskets))


def test_frequency_vectors_by_hand() -> None:
    """Baskets {a}, {b}, {a, c}; groups of 2 counted back from the latest: [{a}] and [{b}, {a, c}]."""
    data = _orders({"x": [["a"], ["b"], ["a", "c"]]})
    vector = frequency_vectors(data, group_size=2, within_decay=0.5, group_decay=0.25).toarray()[0]
    # 1/2 groups * [ group_decay * 1/2 * {a} + 1/2 * ({a, c} + within_decay * {b}) ]
    expected = {"a": (0.25 * 0.5 + 0.5) / 2, "b": 0.5 * 0.5 / 2, "c": 0.5 / 2}
    assert dict(zip(data.items, vector, strict=True)) == pytest.approx(expected)


def test_recent_baskets_weigh_more() -> None:
    data = _orders({"x": [["old"], ["old"], ["new"]]})
    vector = dict(zip(data.items, frequency_vectors(data, 7, 0.5, 0.7).toarray()[0], strict=True))
    assert vector["new"] == pytest.approx(1 / 7) and vector["old"] == pytest.approx((0.5 + 0.25) / 7)
    ranked = TIFUKNNRecommender(alpha=1.0, within_decay=0.3).fit(data).recommend(["x"], n=2)
    assert list(ranked["product_id"]) == ["new", "old"]


def _two_groups() -> Interactions:
    """Ten customers buy a, b, c; ten buy d, e, f; "probe" bought a and b only."""
    baskets = {f"ab{i}": [["a", "b"], ["c", "a"], ["b", "c"]] for i in range(10)}
    baskets |= {f"de{i}": [["d", "e"], ["f", "d"], ["e", "f"]] for i in range(10)}
    baskets |= {f"zz{i}": [["d"], ["e"], ["f"], ["d"]] for i in range(3)}  # d, e, f more popular than c overall
    return _orders(baskets | {"probe": [["a"], ["b"]]})


def test_new_products_come_from_the_nearest_customers() -> None:
    data = _two_groups()
    assert data.popularity[data.items.get_loc("d")] > data.popularity[data.items.get_loc("c")]
    model = TIFUKNNRecommender(neighbours=5, alpha=0.5).fit(data)
    new = model.recommend(["probe"], n=1, exclude_bought=True)
    assert list(new["product_id"]) == ["c"]  # what its neighbours buy, not the most popular new product
    near = data.customers[model.neighbours_[data.rows(["probe"])[0]]]
    assert set(near.str[:2]) == {"ab"} and "probe" not in set(near)


def test_alpha_one_is_the_customer_alone() -> None:
    data = _two_groups()
    scores = TIFUKNNRecommender(neighbours=5, alpha=1.0).fit(data).score(data.rows(["probe"]))[0]
    assert set(data.items[scores > 0]) == {"a", "b"}


def test_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="alpha"):
        TIFUKNNRecommender(alpha=1.5).fit(_two_groups())


def test_a_single_customer_needs_no_neighbours() -> None:
    data = _orders({"x": [["a"], ["b"]]})
    recs = TIFUKNNRecommender().fit(data).recommend(["x"], n=2)
    assert set(recs["product_id"]) == {"a", "b"}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> EvaluationSplit:
    path = tmp_path_factory.mktemp("tifu") / "tx.csv.gz"
    write_sample(path, SyntheticSpec(n_customers=800, n_products=150, seed=5))
    return EvaluationSplit.from_transactions(load_transactions(path).to_pandas(), "2023-10-01")


def test_on_the_planted_sample_it_beats_buy_again_at_what_comes_next(planted) -> None:
    """The sample plants favourites and successors: decayed frequencies plus neighbours rank the next purchases
    better than buy-again (measured: all items 0.651 vs 0.611, next basket 0.441 vs 0.400; popularity 0.315,
    0.161). On products new to the customer nothing beats popularity there (0.175; TIFU-KNN 0.126), as new
    purchases in the sample follow popularity and taste."""
    tifu = evaluate(TIFUKNNRecommender(), planted)
    buy_again = evaluate(BuyAgainRecommender(), planted)
    popularity = evaluate(PopularityRecommender(), planted)
    for metric in ("ndcg@10", "next-basket ndcg@10"):
        assert tifu[metric] > buy_again[metric] + 0.02 and tifu[metric] > popularity[metric] + 0.2, metric
