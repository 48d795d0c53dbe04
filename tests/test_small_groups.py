"""Small-group protection: a segment of fewer than k customers is named in a warning where the analyst sees it, and
its figures are blank in anything downloaded (profiles file, CLI --profiles); a segment of k customers is shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.clustering import SegmentationModel
from segmentation.config import Config, PrivacyConfig
from segmentation.errors import ConfigError
from segmentation.privacy.small_groups import (
    K_ANONYMITY,
    shareable_profiles,
    small_group_warning,
    small_groups,
)

FEATURES = ("recency_days", "frequency", "monetary")


def planted_features() -> pd.DataFrame:
    """60 regular customers, 10 big spenders and 4 long-lapsed one-timers: three segments far apart."""
    rng = np.random.default_rng(0)
    groups = [
        (60, (1, 30), (5, 9), (100, 200), "r"),
        (10, (300, 330), (20, 25), (5000, 6000), "b"),
        (4, (900, 910), (1, 2), (2, 3), "t"),
    ]
    frames = []
    for n, recency, frequency, monetary, prefix in groups:
        frames.append(
            pd.DataFrame(
                {
                    "recency_days": rng.uniform(*recency, n),
                    "frequency": rng.integers(*frequency, n).astype(float),
                    "monetary": rng.uniform(*monetary, n),
                },
                index=[f"{prefix}{i}" for i in range(n)],
            )
        )
    table = pd.concat(frames)
    table.index.name = "customer_id"
    return table


@pytest.fixture(scope="module")
def model() -> SegmentationModel:
    table = planted_features()
    rfm = pd.Series(["Champions"] * 60 + ["Loyal"] * 10 + ["Lost"] * 4, index=table.index)
    return SegmentationModel("kmeans", {"n_clusters": 3}, FEATURES).fit(table, rfm)


def segment_of(model: SegmentationModel, size: int) -> int:
    return int(model.profiles_.index[model.profiles_["customers"] == size][0])


def test_the_planted_segments_are_found(model: SegmentationModel) -> None:
    assert sorted(model.profiles_["customers"]) == [4, 10, 60]


def test_the_warning_names_the_4_customer_segment_only(model: SegmentationModel) -> None:
    tiny, ten = segment_of(model, 4), segment_of(model, 10)
    names = {s: f"name {s}" for s in model.profiles_.index}
    warning = small_group_warning(model.profiles_["customers"], 10, names)
    assert warning == (
        f"Segment “name {tiny}” (4 customers) has fewer than 10 customers: its figures could single out a person, "
        "so downloads and shared reports leave them blank."
    )
    assert f"name {ten}" not in warning
    assert list(small_groups(model.profiles_["customers"], 10).index) == [tiny]
    assert list(small_groups(model.profiles_["customers"], 11).index) == [tiny, ten]
    assert small_group_warning(model.profiles_["customers"], 4) == ""


def test_the_downloadable_profiles_blank_the_4_customer_segment(model: SegmentationModel) -> None:
    tiny, ten, big = segment_of(model, 4), segment_of(model, 10), segment_of(model, 60)
    shared = shareable_profiles(model.profiles_, 10)
    assert shared.loc[tiny, "name"] == model.profiles_.loc[tiny, "name"]
    blanked = shared.loc[tiny].drop(["name", "suppressed"])
    assert blanked.isna().all(), blanked[blanked.notna()]
    assert shared["suppressed"].to_dict() == {tiny: True, ten: False, big: False}
    for segment in (ten, big):
        kept = model.profiles_.loc[segment]
        assert shared.loc[segment, "customers"] == kept["customers"]
        assert shared.loc[segment, "median_monetary"] == pytest.approx(kept["median_monetary"])
        assert shared.loc[segment, "top_rfm_segment"] == kept["top_rfm_segment"]
    assert shared.loc[ten, "top_rfm_segment"] == "Loyal"
    assert model.profiles_.loc[tiny, "customers"] == 4  # the model's own profiles are untouched


def test_many_small_groups_are_counted_past_a_few() -> None:
    sizes = pd.Series({"UK": 300, "Malta": 2, "Iceland": 1, "Bahrain": np.nan, "Lebanon": 0})
    warning = small_group_warning(sizes, 10, what="country group", consequence="they are left blank", most=2)
    assert warning == (
        "Country groups “Bahrain”, “Iceland” (1 customer) and 1 more have fewer than 10 customers: their figures "
        "could single out a person, so they are left blank."
    )  # a blank size (already suppressed) is small; an empty group singles out no one


def test_k_is_one_setting_of_the_config() -> None:
    assert K_ANONYMITY == PrivacyConfig().min_group_size == Config().privacy.min_group_size == 10
    config = Config.from_dict({"privacy": {"min_group_size": 25}})
    assert config.privacy.min_group_size == 25 and Config.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="min_group_size is 0"):
        Config.from_dict({"privacy": {"min_group_size": 0}})
    with pytest.raises(ConfigError, match="unknown PrivacyConfig option"):
        Config.from_dict({"privacy": {"k": 5}})
    with pytest.raises(ConfigError, match="at least 1 customer"):
        small_group_warning(pd.Series({0: 5}), 0)


def test_cluster_min_group_size_sets_what_the_profiles_file_blanks(tmp_path, capsys) -> None:
    planted_features().to_csv(tmp_path / "features.csv")
    argv = ["-q", "cluster", str(tmp_path / "features.csv"), "--k", "3", "--use", ",".join(FEATURES)]
    argv += ["--out", str(tmp_path / "seg.csv"), "--profiles", str(tmp_path / "profiles.csv")]
    assert main(argv) == 0
    profiles = pd.read_csv(tmp_path / "profiles.csv", index_col=0)
    assert sorted(profiles.loc[~profiles["suppressed"], "customers"]) == [10, 60]
    assert "(4 customers) has fewer than 10 customers" in capsys.readouterr().err
    assert main([*argv, "--min-group-size", "11"]) == 0
    profiles = pd.read_csv(tmp_path / "profiles.csv", index_col=0)
    assert sorted(profiles.loc[~profiles["suppressed"], "customers"]) == [60]
    assert profiles["name"].notna().all()
    assert main([*argv, "--min-group-size", "0"]) == 2
    assert "--min-group-size 0: give a whole number of at least 1" in capsys.readouterr().err
