"""The kernel's modules form layers, no circle (issue 18): carriers, terms and functions at the
bottom, the definitions it unfolds (`IsLeast`, `Nat.ModEq`) just above; values (evaluation) above them; types (elaboration) beside it; then the procedures
(arith), the sums' lemmas (discrete) and definitional equality (goals). A lower module imports
no higher one, not even late (inside a function)."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "lean_env" / "embedded"

# module -> the kernel modules it may import
ALLOWED = {
    "errors": set(),
    "carriers": {"errors"},
    "functions": set(),
    "terms": {"carriers", "errors", "functions"},
    "definitions": {"functions", "terms"},
    "values": {"carriers", "definitions", "functions", "terms"},
    "types": {"carriers", "errors", "functions", "terms"},
    "arith": {"carriers", "terms", "values"},
    "discrete": {"carriers", "definitions", "functions", "terms", "values"},
    "goals": {"carriers", "definitions", "errors", "functions", "terms", "values"},
}


def _kernel_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lean_env.embedded"):
            rest = node.module[len("lean_env.embedded"):].lstrip(".")
            if rest:
                out.add(rest.split(".")[0])
            else:
                out |= {a.name for a in node.names}
    return out


def test_no_import_circle_between_arith_discrete_types_goals():
    for name, allowed in ALLOWED.items():
        got = _kernel_imports(PKG / f"{name}.py")
        assert got <= allowed, (name, got - allowed)
