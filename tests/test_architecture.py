"""The libraries never know about the UI, and their packages import one way."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_libraries_do_not_import_streamlit() -> None:
    code = (
        "import sys, segmentation, segmentation.cli, segmentation.pipeline, segmentation.features, recommenders;"
        "import segmentation.synthetic; print('streamlit' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _imports() -> dict[str, set[str]]:
    """Unit -> the units it imports anywhere in its code (module level or inside functions). A unit is a
    top-level module or subpackage: ``segmentation.clustering``, ``recommenders.sequence``, ``segmentation.cli``."""

    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for package in ("segmentation", "recommenders"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            here = unit(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in ("segmentation", "recommenders") and unit(name) != here:
                        graph.setdefault(here, set()).add(unit(name))
    return graph


def test_recommenders_use_only_the_shared_base_of_segmentation() -> None:
    """The error hierarchy and the progress callback are shared; nothing else of segmentation (CLI, pipeline,
    features, the app's steps) is known to the recommenders."""
    graph = _imports()
    used = {target for source, targets in graph.items() if source.startswith("recommenders") for target in targets}
    assert {t for t in used if t.startswith("segmentation")} <= {"segmentation.errors", "segmentation.progress"}


def test_the_libraries_import_one_way() -> None:
    """No unit reaches itself again through its imports (profiles once sat beside clustering and in a circle with it);
    inside segmentation only the workflow layer (`segmentation.workflow`, its Spark counterpart `segmentation.spark`
    that runs every step on a cluster, and the `segment` command that drives them) uses the recommenders."""
    graph = _imports()
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            unit = todo.pop()
            assert unit != start, f"{start} imports itself back through {sorted(seen)}"
            if unit not in seen:
                seen.add(unit)
                todo.extend(graph.get(unit, ()))
    users = {
        s
        for s, targets in graph.items()
        if s.startswith("segmentation")
        for t in targets
        if t.startswith("recommenders")
    }
    assert users <= {"segmentation.cli", "segmentation.workflow", "segmentation.spark"}


def _page_imports(path: Path) -> set[str]:
    """The ``ui`` pages (``*_page`` modules) that the module at ``path`` imports, anywhere in its code."""
    pages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "ui":
            names = [f"ui.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        pages |= {name for name in names if name.startswith("ui.") and name.endswith("_page")}
    return pages


def test_pages_never_import_pages() -> None:
    """What pages share lives in ui/components.py, ui/state.py, the ui/*_widgets.py modules or the libraries: a
    page is never another page's helper library (History once imported Export, Export imported Recommend)."""
    pages = sorted((ROOT / "ui").glob("*_page.py"))
    assert len(pages) >= 8
    found = {path.name: _page_imports(path) for path in pages}
    assert {name: imported for name, imported in found.items() if imported} == {}
    widgets = sorted((ROOT / "ui").glob("*_widgets.py"))
    assert {path.name: _page_imports(path) for path in widgets if _page_imports(path)} == {}


def test_the_page_check_sees_every_form_of_import(tmp_path: Path) -> None:
    source = (
        "import ui.export_page\nfrom ui import recommend_page, state\n\ndef f():\n    from ui.history_page import x\n"
    )
    (tmp_path / "x_page.py").write_text(source, encoding="utf-8")
    assert _page_imports(tmp_path / "x_page.py") == {"ui.export_page", "ui.recommend_page", "ui.history_page"}
