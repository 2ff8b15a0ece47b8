"""The Lean toolchain a benchmark targets against the one a real backend runs: a statement written
for another Lean/Mathlib may not elaborate, or elaborate to something else, so a run on a
mismatched project is refused up front with one clear line instead of failing theorem by theorem.

A benchmark row names its toolchain (`"toolchain": "leanprover/lean4:v4.27.0"`, data/benchmarks);
a Lean project names its own in its `lean-toolchain` file. The embedded environment and Kimina's
server (whose project is not visible from here) are not checked; rows without a toolchain neither.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lean_env.types import Theorem


def project_toolchain(project: str | Path | None) -> str | None:
    """The toolchain in `project`/lean-toolchain, or None when there is no such file."""
    if not project:
        return None
    path = Path(project) / "lean-toolchain"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def version(toolchain: str) -> str:
    """`leanprover/lean4:v4.27.0` -> `v4.27.0` (what the two spellings share)."""
    return toolchain.strip().rsplit(":", 1)[-1]


def toolchain_mismatch(theorems: Iterable[Theorem], project: str | Path | None, what: str = "") -> str | None:
    """Why `theorems` cannot run on the Lean project at `project` (None: they can, or it is unknown)."""
    have = project_toolchain(project)
    if have is None:
        return None
    wanted = sorted({t.toolchain for t in theorems if t.toolchain and version(t.toolchain) != version(have)})
    if not wanted:
        return None
    name = what or next(iter({t.benchmark for t in theorems}), "the benchmark")
    return (f"{name} targets Lean {', '.join(version(w) for w in wanted)} but the Lean project at {project} "
            f"runs {version(have)}: its statements may not elaborate there as written; use a project on "
            f"{version(wanted[0])} (data/benchmarks/README.md lists each benchmark's toolchain and Mathlib)")


def env_project(env_cfg) -> str | None:
    """The Lean project an environment config runs: lean-repl's project; LeanDojo's traced
    repository when it is a local checkout (a remote one is not visible from here)."""
    if env_cfg.kind == "lean-repl":
        return env_cfg.lean_project
    if env_cfg.kind == "dojo" and env_cfg.dojo_repo and Path(env_cfg.dojo_repo).is_dir():
        return env_cfg.dojo_repo
    return None


def check_toolchain(theorems: Iterable[Theorem], env_cfg, what: str = "") -> None:
    """Raise ValueError (one line) when the environment's Lean is not the benchmark's."""
    why = toolchain_mismatch(list(theorems), env_project(env_cfg), what)
    if why:
        raise ValueError(why)
