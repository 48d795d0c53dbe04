"""The repeat/explore mixture: its two ends are its two parts, it mixes them, and it keeps the recommender contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.data import Interactions
from recommenders.mixture import RepeatExploreRecommender, _scaled
from recommenders.sequence.model import SequenceRecommender
from recommenders.tifu import TIFUKNNRecommender
from segmentation.errors import ConfigError
from segmentation.pipeline import load_transactions
from segmentation.synthetic import SyntheticSpec, write_sample


@pytest.fixture(scope="module")
def interactions(tmp_path_factory) -> Interactions:
    path = tmp_path_factory.mktemp("mix") / "tx.csv.gz"
    write_sample(path, SyntheticSpec(n_customers=400, n_products=120, seed=4))
    return Interactions.from_transactions(load_transactions(path).to_pandas())


@pytest.fixture(scope="module")
def fitted(interactions) -> RepeatExploreRecommender:
    return RepeatExploreRecommender(repeat_weight=0.5, epochs=2).fit(interactions)


def test_scaled_maps_each_row_onto_zero_to_one() -> None:
    scaled = _scaled(np.array([[2.0, 4.0, 3.0], [5.0, 5.0, 5.0]], dtype=np.float32))
    assert scaled.tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]


def test_the_score_is_the_weighted_sum_of_its_scaled_parts(fitted, interactions) -> None:
    rows = np.arange(30)
    repeat = _scaled(TIFUKNNRecommender().fit(interactions).score(rows))
    explore = _scaled(SequenceRecommender(epochs=2).fit(interactions).score(rows))
    np.testing.assert_allclose(fitted.score(rows), 0.5 * repeat + 0.5 * explore, atol=1e-5)


def test_its_ends_are_tifu_knn_and_the_sequence_model(interactions) -> None:
    customers = list(interactions.customers[:15])
    ends = {w: RepeatExploreRecommender(repeat_weight=w, epochs=1).fit(interactions) for w in (0.0, 1.0)}
    parts = {1.0: TIFUKNNRecommender().fit(interactions), 0.0: SequenceRecommender(epochs=1).fit(interactions)}
    for weight, part in parts.items():
        mixed = ends[weight].recommend(customers, n=5)["product_id"].tolist()
        assert mixed == part.recommend(customers, n=5)["product_id"].tolist()


def test_it_keeps_the_recommender_contract(fitted, interactions) -> None:
    customers = list(interactions.customers[:10])
    recs = fitted.recommend(customers, n=10, exclude_bought=True)
    assert list(recs.columns) == ["customer_id", "product_id", "score", "rank", "reason"]
    bought = interactions.bought[interactions.rows(pd.Index(customers))]
    for i, customer in enumerate(customers):
        assert not set(interactions.items[bought[i].indices]) & set(
            recs.loc[recs["customer_id"] == customer, "product_id"]
        )
    assert len(fitted.recommend(["nobody-like-this"], n=5)) == 5


@pytest.mark.parametrize("params", [{"repeat_weight": 1.5}, {"repeat_weight": -0.1}, {"group_size": 0}])
def test_bad_parameters_are_refused_in_one_line(params, interactions) -> None:
    with pytest.raises(ConfigError, match=r"repeat_weight|group_size"):
        RepeatExploreRecommender(epochs=1, **params).fit(interactions)


def test_mixtures_that_differ_only_in_mixing_share_one_trained_network(interactions) -> None:
    first = RepeatExploreRecommender(repeat_weight=0.3, epochs=1).fit(interactions)
    second = RepeatExploreRecommender(repeat_weight=0.7, within_decay=0.5, epochs=1).fit(interactions)
    assert second.sequence_ is first.sequence_
    other_seed = RepeatExploreRecommender(epochs=1, random_state=1).fit(interactions)
    assert other_seed.sequence_ is not first.sequence_
    assert not np.allclose(first.score(np.arange(5)), second.score(np.arange(5)))
