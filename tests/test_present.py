"""Segments presented the same way everywhere: order, unique names, colours, and traits in words with money in
the file's currency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.clustering.present import (
    NOISE,
    NOISE_COLOR,
    PALETTE,
    feature_value,
    segment_colors,
    segment_traits,
)


def test_values_are_written_in_their_unit_and_currency() -> None:
    assert feature_value("monetary", 4310.000000000002, "GBP") == "£4,310.00"
    assert feature_value("monetary", 1234.6, "JPY") == "¥1,235"  # no minor unit
    assert feature_value("monetary", 12.5) == "12.50"
    assert feature_value("return_rate", 0.1234) == "12.3%"
    assert feature_value("recency_days", 12.6) == "13"
    assert feature_value("frequency", 2.4) == "2.4" and feature_value("frequency", 240.4) == "240"
    assert feature_value("frequency", np.nan) == "n/a"


def test_traits_name_the_largest_differences_in_the_right_direction() -> None:
    profile = pd.Series(
        {
            "z_recency_days": -1.5,
            "median_recency_days": 10.0,
            "z_monetary": 2.0,
            "median_monetary": 5000.0,
            "z_frequency": 0.1,  # below the threshold: not a trait
            "median_frequency": 3.0,
        }
    )
    overall = pd.Series({"recency_days": 60.0, "monetary": 800.0, "frequency": 3.0})
    traits = segment_traits(profile, overall, currency="EUR")
    assert [t.headline for t in traits] == ["Spend a lot", "Bought recently"]
    assert traits[0].detail == "net revenue of €5,000.00 (typical customer: €800.00)"
    assert traits[1].detail == "last purchase 10 days ago (typical customer: 60)"
    assert segment_traits(profile * 0.01, overall) == []  # close to typical on every feature


def test_colours_follow_the_order_and_unassigned_is_grey() -> None:
    colors = segment_colors([3, 0, NOISE, 1])
    assert colors[3] == PALETTE[0] and colors[0] == PALETTE[1] and colors[1] == PALETTE[3]
    assert colors[NOISE] == NOISE_COLOR


def test_a_median_of_one_reads_in_the_singular() -> None:
    from segmentation.clustering.present import segment_traits

    profile = pd.Series(
        {"z_frequency": -1.0, "median_frequency": 1.0, "z_recency_days": -0.9, "median_recency_days": 1.0}
    )
    traits = segment_traits(profile, pd.Series({"frequency": 4.0, "recency_days": 30.0}))
    assert [t.detail for t in traits] == [
        "1 order (typical customer: 4)",
        "last purchase 1 day ago (typical customer: 30)",
    ]
