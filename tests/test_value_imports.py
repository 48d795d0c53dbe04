"""The value package loads its modelling libraries (pymc, pytensor, scikit-learn, LightGBM) only when it fits."""

from __future__ import annotations

from .test_cli_startup import _loaded_after

VALUE_HEAVY = ("pymc", "pytensor", "pymc_marketing", "arviz", "sklearn", "lightgbm", "plotly", "torch")


def test_importing_the_cli_or_the_value_package_loads_no_pymc() -> None:
    assert _loaded_after("import segmentation.cli", VALUE_HEAVY) == []
    assert _loaded_after("import segmentation.value", VALUE_HEAVY) == []
    assert _loaded_after("from segmentation.value import rfm_summary, simulate_bgnbd", VALUE_HEAVY) == []


def test_every_exported_name_loads() -> None:
    import segmentation.value as value

    for name in value.__all__:
        assert getattr(value, name) is not None, name
