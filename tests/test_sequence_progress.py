"""`segment recommend-eval` reports progress during every training: each model, seed and epoch, the batches
being prepared and the ranking (it once printed nothing for 16 minutes on a big file)."""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import pytest

from segmentation.cli import main
from segmentation.synthetic import SyntheticSpec, write_sample


@pytest.fixture
def two_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequence models with two epochs: the reporting is under test, not the model."""
    from recommenders.sequence import model as sequence

    monkeypatch.setattr(sequence, "SequenceRecommender", functools.partial(sequence.SequenceRecommender, epochs=2))


def test_every_model_seed_and_epoch_reports(two_epochs, tmp_path: Path, caplog, capsys) -> None:
    sample = tmp_path / "sample.csv.gz"
    write_sample(sample, SyntheticSpec(n_customers=800))  # the embedded sample's shop, fewer customers
    caplog.set_level(logging.INFO, logger="segmentation")
    command = ["recommend-eval", str(sample), "--cutoff", "2023-10-01", "--only", "popularity,als,gru"]
    assert main([*command, "--seeds", "0,1", "--churn-days", "90"]) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "segmentation"]
    printed = "\n".join(lines)
    for label in ("popularity", "als, seed 0", "als, seed 1", "gru, seed 0", "gru, seed 1"):
        assert f"{label}: fitted" in printed and f"{label}: ranking the catalogue for" in printed, label
    assert "als, seed 1: iteration 15 of 15" in printed
    for seed in (0, 1):
        assert f"gru, seed {seed}: preparing training batch 1 of" in printed
        assert f"gru, seed {seed}: epoch 1 of 2" in printed and f"gru, seed {seed}: epoch 2 of 2" in printed
        assert f"gru + churn head, seed {seed}: epoch 2 of 2" in printed  # the churn evaluation's fits too
    percents = [int(m.group(1)) for m in map(re.compile(r"\[\s*(\d+)%\] gru, seed").match, lines) if m]
    assert percents == sorted(percents) and len(percents) >= 8  # the evaluation's share grows fit by fit
    assert "gru + churn head" in capsys.readouterr().out
