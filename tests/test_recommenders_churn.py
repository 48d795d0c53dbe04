"""The sequence model's churn head (training questions, probabilities, evaluation) and its customer embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.data import Interactions
from recommenders.evaluate import churn_evaluation
from recommenders.sequence.batches import CHURN_DRAWS, churn_samples, windows
from recommenders.sequence.model import SequenceRecommender
from segmentation.errors import InputError, ModelError
from segmentation.pipeline import load_transactions


def test_churn_questions_are_labelled_from_what_happened_next() -> None:
    """Orders on days 0, 10 and 200; the data ends on day 300 (another customer); horizon 90 days."""
    days = {"a": [0, 10, 200], "z": [300]}
    lines = [(c, f"{c}{d}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)) for c, ds in days.items() for d in ds]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "ts"])
    tx = tx.assign(product_id="p", quantity=1, amount=1.0, description="P", is_return=False)
    data = Interactions.from_transactions(tx)
    window = windows(data, data.rows(["a"]), 3)
    position, elapsed, label = churn_samples(data, window, 90.0, np.random.default_rng(0))
    assert np.bincount(position).tolist() == [CHURN_DRAWS] * 3
    step = {p: (elapsed[position == p], label[position == p]) for p in range(3)}
    assert (step[0][0] < 10).all() and (step[0][1] == 0).all()  # the next order came within 90 days anyway
    assert (step[1][0] < 190).all() and (step[1][1] == (step[1][0] < 100)).all()  # 190 days later: > 90 from e < 100
    assert (step[2][0] < 10).all() and (step[2][1] == 1).all()  # latest: only moments with 90 observed days after


@pytest.fixture(scope="module")
def sample(sample_path) -> pd.DataFrame:
    return load_transactions(sample_path).to_pandas()


def test_churn_probabilities_embeddings_and_artifact(sample: pd.DataFrame, tmp_path) -> None:
    data = Interactions.from_transactions(sample)
    model = SequenceRecommender("gru", epochs=2, churn_days=60).fit(data)
    customers = [*data.customers[:50], "nobody"]
    churn = model.churn_probability(customers)
    assert churn.iloc[:-1].between(0, 1).all() and np.isnan(churn["nobody"])
    later = model.churn_probability(customers, as_of=data.end + pd.Timedelta(days=365))
    assert later.iloc[:-1].mean() > churn.iloc[:-1].mean()  # a year without orders: more likely gone
    embeddings = model.customer_embeddings(customers)
    assert embeddings.shape == (51, 64) and embeddings.iloc[:-1].notna().all().all()
    assert embeddings.loc["nobody"].isna().all()

    model.save(tmp_path / "gru.pt")
    loaded = SequenceRecommender.load(tmp_path / "gru.pt", data)
    pd.testing.assert_series_equal(loaded.churn_probability(customers), churn, atol=1e-6)
    with pytest.raises(ModelError, match="no churn head"):
        SequenceRecommender("gru", epochs=1).fit(data).churn_probability(customers)


def test_churn_evaluation_against_recency(sample: pd.DataFrame) -> None:
    table = churn_evaluation(
        sample, "2023-09-01", 90, {"gru": SequenceRecommender("gru", epochs=2, churn_days=90)}, [0]
    )
    assert list(table.index) == ["recency", "RFM logistic", "gru"]
    assert table["auroc"].between(0.5, 1).all()  # both rank churners above the others
    assert 0 < table["churn_rate"].iat[0] < 1
    with pytest.raises(InputError, match="must run to"):
        churn_evaluation(sample, sample["ts"].max() - pd.Timedelta(days=30), 90, {}, [0])


def test_sequence_embeddings_feed_a_segmentation(sample: pd.DataFrame) -> None:
    from segmentation.clustering import SegmentationModel
    from segmentation.features import compute_features

    table = compute_features(sample)
    model = SequenceRecommender("gru", epochs=2).fit(Interactions.from_transactions(sample))
    embeddings = model.customer_embeddings(table.index)
    chosen = (*embeddings.columns[:8], "recency_days", "frequency")
    segmentation = SegmentationModel("kmeans", {"n_clusters": 4}, chosen).fit(table.join(embeddings))
    assert len(segmentation.labels_) == len(table) and len(set(segmentation.labels_)) == 4
