"""The floors: lean_env/, policy/, search/ and training/ never import prover/ (the CLI and
campaign layer), not even inside a function; and the library floors import no floor above them."""
from __future__ import annotations

import ast
from pathlib import Path

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
