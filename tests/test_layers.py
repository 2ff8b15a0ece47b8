"""The floors: lean_env/, policy/, search/ and training/ never import prover/ (the CLI and
campaign layer), not even inside a function; the library floors import no floor above them; and no
two files import each other, directly or round a longer circle (every import counted: inside a
function and under `if TYPE_CHECKING` too, as a drawing of the imports shows them)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
# a floor may import its own package and the ones listed after it
ABOVE = {"lean_env": {"policy", "search", "training", "prover"}, "policy": {"search", "training", "prover"},
         "search": {"training", "prover"}, "training": {"prover"}}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Import):
            out |= {(a.name.split(".")[0], node.lineno) for a in node.names}
    return out


@pytest.mark.parametrize("floor", sorted(ABOVE))
def test_a_floor_imports_nothing_above_it(floor):
    bad = [f"{path.relative_to(ROOT)}:{line} imports {package}"
           for path in sorted((ROOT / floor).rglob("*.py"))
           for package, line in sorted(imported_packages(path)) if package in ABOVE[floor]]
    assert bad == []


PACKAGES = ("lean_env", "search", "training", "policy", "prover")


def module_imports() -> nx.DiGraph:
    """Module -> module it imports, for every module of PACKAGES. `from pkg import name` is an
    import of `pkg.name` when that is a module, else of `pkg`."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:   # relative: from .x import y
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + [base] * bool(base))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:   # `import a.b.c` of a function or class: its module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph.add_edge(name, target)
    return graph


def test_no_import_circle_between_files():
    graph = module_imports()
    assert len(graph) > 100 and graph.has_edge("search.best_first", "search.tree")   # the walk sees the code
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == []


def test_the_circle_check_sees_a_circle(tmp_path, monkeypatch):
    """A function-local import back is still a circle."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "search" / "a.py").write_text("from search.b import f\n")
    (tmp_path / "search" / "b.py").write_text("def f():\n    from search import a\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    circles = [sorted(c) for c in nx.strongly_connected_components(module_imports()) if len(c) > 1]
    assert circles == [["search.a", "search.b"]]
