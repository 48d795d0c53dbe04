"""``segment`` starts without the heavy libraries; the packages still export every name, loaded on first use."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from .conftest import CORPUS

HEAVY = ("torch", "sklearn", "lightgbm", "catboost", "shap", "implicit", "hdbscan", "streamlit")
MODELLING = ("torch", "sklearn", "lightgbm", "catboost", "shap")
PACKAGES = (
    "segmentation.clustering",
    "segmentation.explain",
    "segmentation.export",
    "segmentation.features",
    "segmentation.ingest",
)


def _loaded_after(code: str, libraries: tuple[str, ...]) -> list[str]:
    """The ``libraries`` imported once ``code`` has run in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {list(libraries)!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import segmentation.cli", HEAVY) == []


def test_help_of_every_command_loads_no_heavy_library() -> None:
    code = (
        "import contextlib, io\nfrom segmentation.cli import _parser\n"
        "parser = _parser()\n"
        "for command in ['validate', 'features', 'cluster', 'choose-k', 'explain', 'export', 'run',"
        " 'recommend-eval', 'recommend', 'runs']:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        parser.parse_args([command, '--help'])"
    )
    assert _loaded_after(code, HEAVY) == []


def test_validate_loads_no_modelling_library() -> None:
    code = f"from segmentation.cli import main\nassert main(['-q', 'validate', {str(CORPUS / 'cp1252.csv')!r}]) == 0"
    assert _loaded_after(code, MODELLING) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_lazy_packages_export_every_name(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018


def test_choices_match_what_they_name() -> None:
    from segmentation.clustering.model import METHODS
    from segmentation.clustering.names import METHOD_NAMES
    from segmentation.explain.names import MODELS
    from segmentation.explain.surrogate import SegmentSurrogate

    assert tuple(METHODS) == METHOD_NAMES
    for model in MODELS:  # every name the CLI offers builds its classifier
        assert type(SegmentSurrogate(model)._new_model([])).__module__.startswith(model)
