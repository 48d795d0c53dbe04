"""The repeat/explore mixture: each part alone is that part, it mixes them, and it keeps the recommender contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.data import Interactions
from recommenders.ease import EASERecommender
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
    return RepeatExploreRecommender(repeat_weight=0.5, explore_weight=0.3, sequence_weight=0.2, epochs=2).fit(
        interactions
    )


def test_scaled_maps_each_row_onto_zero_to_one() -> None:
    scaled = _scaled(np.array([[2.0, 4.0, 3.0], [5.0, 5.0, 5.0]], dtype=np.float32))
    assert scaled.tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]


def test_the_score_is_the_weighted_sum_of_its_scaled_parts(fitted, interactions) -> None:
    rows = np.arange(30)
    repeat = _scaled(TIFUKNNRecommender().fit(interactions).score(rows))
    explore = _scaled(EASERecommender().fit(interactions).score(rows))
    sequence = _scaled(SequenceRecommender(epochs=2).fit(interactions).score(rows))
    np.testing.assert_allclose(fitted.score(rows), 0.5 * repeat + 0.3 * explore + 0.2 * sequence, atol=1e-5)


def test_each_part_alone_is_that_model(interactions) -> None:
    customers = list(interactions.customers[:15])
    parts = {
        "repeat_weight": TIFUKNNRecommender(),
        "explore_weight": EASERecommender(),
        "sequence_weight": SequenceRecommender(epochs=1),
    }
    for weight, part in parts.items():
        alone = {w: 1.0 if w == weight else 0.0 for w in parts}
        mixed = RepeatExploreRecommender(epochs=1, **alone).fit(interactions)
        assert len(mixed.parts_) == 1
        for exclude in (False, True):
            expected = part.fit(interactions).recommend(customers, n=5, exclude_bought=exclude)["product_id"]
            assert mixed.recommend(customers, n=5, exclude_bought=exclude)["product_id"].tolist() == expected.tolist()


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


@pytest.mark.parametrize(
    "params",
    [
        {"repeat_weight": -0.1},
        {"repeat_weight": 0.0, "explore_weight": 0.0, "sequence_weight": 0.0},
        {"group_size": 0},
        {"l2": 0.0},
    ],
)
def test_bad_parameters_are_refused_in_one_line(params, interactions) -> None:
    with pytest.raises(ConfigError, match=r"repeat_weight|group_size|EASE needs"):
        RepeatExploreRecommender(epochs=1, **params).fit(interactions)


def test_mixtures_that_differ_only_in_mixing_share_one_trained_network_and_ease(interactions) -> None:
    first = RepeatExploreRecommender(repeat_weight=0.3, epochs=1).fit(interactions)
    second = RepeatExploreRecommender(repeat_weight=0.7, within_decay=0.5, epochs=1).fit(interactions)
    assert [p for _, p in second.parts_][1:] == [p for _, p in first.parts_][1:]  # the same EASE and network
    other = RepeatExploreRecommender(epochs=1, random_state=1, l2=50.0).fit(interactions)
    assert not {id(p) for _, p in other.parts_[1:]} & {id(p) for _, p in first.parts_[1:]}
    assert not np.allclose(first.score(np.arange(5)), second.score(np.arange(5)))
