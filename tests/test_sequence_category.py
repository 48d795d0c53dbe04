"""The sequence model's category-propensity head: its training questions, probabilities, artifact and its
AUROC against the frequency baseline on the planted sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders.data import Interactions
from recommenders.evaluate import category_evaluation
from recommenders.sequence.batches import CATEGORY_DRAWS, category_samples, windows
from recommenders.sequence.model import SequenceRecommender
from segmentation.errors import InputError, ModelError
from segmentation.pipeline import load_transactions


def test_category_questions_are_labelled_from_the_later_orders() -> None:
    """Orders on days 0 (toys), 10 (garden) and 200 (toys); the data ends on day 300; horizon 90 days."""
    orders = {"a": [(0, "toys"), (10, "garden"), (200, "toys")], "z": [(300, "toys")]}
    lines = [
        (c, f"{c}{d}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), f"p-{k}", k)
        for c, os in orders.items()
        for d, k in os
    ]
    tx = pd.DataFrame(lines, columns=["customer_id", "order_id", "ts", "product_id", "category"])
    tx = tx.assign(quantity=1, amount=1.0, description="P", is_return=False)
    data = Interactions.from_transactions(tx)
    assert data.categories.tolist() == ["garden", "toys"]  # products p-garden, p-toys
    model = SequenceRecommender(category_days=90)
    model.config_ = {"category_days": 90}
    step_categories = model._categories(data)
    assert list(model.categories_) == ["garden", "toys"]
    window = windows(data, data.rows(["a"]), 3)
    position, elapsed, label = category_samples(data, window, 90.0, step_categories, np.random.default_rng(0))
    assert np.bincount(position).tolist() == [CATEGORY_DRAWS] * 3
    first, second, third = (position == 0), (position == 1), (position == 2)
    assert (elapsed[first] < 10).all() and (label[first] == [1, 0]).all()  # garden on day 10, toys not till 200
    # from day 10 + e the horizon reaches day 200 (toys) only when e > 100
    assert (elapsed[second] < 190).all() and (label[second][:, 1] == (elapsed[second] > 100)).all()
    assert (label[second][:, 0] == 0).all()
    assert (elapsed[third] < 10).all() and (label[third] == 0).all()  # nothing after the latest order


@pytest.fixture(scope="module")
def sample(sample_path) -> pd.DataFrame:
    return load_transactions(sample_path).to_pandas()


def test_category_probabilities_artifact_and_errors(sample: pd.DataFrame, tmp_path) -> None:
    sample = sample.loc[sample["customer_id"].isin(sample["customer_id"].drop_duplicates().iloc[:600])]
    data = Interactions.from_transactions(sample)
    model = SequenceRecommender("gru", epochs=1, category_days=60).fit(data)
    customers = [*data.customers[:30], "nobody"]
    probability = model.category_probability(customers)
    assert list(probability.columns) == sorted(sample["category"].unique())
    assert probability.iloc[:-1].stack().between(0, 1).all() and probability.loc["nobody"].isna().all()
    model.save(tmp_path / "gru.pt")
    loaded = SequenceRecommender.load(tmp_path / "gru.pt", data)
    pd.testing.assert_frame_equal(loaded.category_probability(customers), probability, atol=1e-6)
    with pytest.raises(ModelError, match="no category head"):
        SequenceRecommender("gru", epochs=1).fit(data).category_probability(customers)
    without = Interactions.from_transactions(sample.drop(columns="category"))
    with pytest.raises(InputError, match="category"):
        SequenceRecommender("gru", epochs=1, category_days=60).fit(without)


@pytest.mark.slow  # about 25 s on a loaded 2-core machine
def test_category_head_beats_the_frequency_baseline_on_the_sample(sample: pd.DataFrame) -> None:
    head = {"gru": SequenceRecommender("gru", epochs=3, category_days=90)}
    table = category_evaluation(sample, "2023-09-01", 90, head, seeds=[0])
    print(table.round(3).to_string())
    # measured: head 0.908 (3 epochs), 0.943 (20 epochs, 3 seeds); frequency 0.754; frequency + RFM logistic
    # 0.961: knowing who is still active is most of it, and the logistic regression knows it too
    assert table.loc["gru", "auroc"] > table.loc["frequency", "auroc"] + 0.05
    assert table.loc["frequency + RFM logistic", "auroc"] > table.loc["frequency", "auroc"] + 0.1
    assert table["categories"].iat[0] == 12 and 0 < table["bought_share"].iat[0] < 1


def test_recommend_eval_reports_the_category_head(tmp_path, monkeypatch, capsys) -> None:
    import functools

    from recommenders.sequence import model as sequence
    from segmentation.cli import main
    from segmentation.synthetic import SyntheticSpec, write_sample

    monkeypatch.setattr(sequence, "SequenceRecommender", functools.partial(sequence.SequenceRecommender, epochs=1))
    path = tmp_path / "sample.csv.gz"
    write_sample(path, SyntheticSpec(n_customers=400))
    command = ["-q", "recommend-eval", str(path), "--cutoff", "2023-09-01", "--only", "popularity"]
    assert main([*command, "--seeds", "0", "--category-days", "90"]) == 0
    printed = capsys.readouterr().out
    assert "gru + category head" in printed and "frequency" in printed and "bought_share" in printed
