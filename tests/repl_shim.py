"""Point third-party Lean REPL clients at `python -m lean_env.embedded` with path settings only.

Clients launch the REPL as `lake env <repl checkout>/.lake/build/bin/repl` inside a Lean project,
after `lake --version` / `lake build`. The shim gives them exactly that, in a temporary folder:

- `bin/lake`: a stand-in for Lake that answers `--version`, `build`, `update`, `exe cache get`
  (no Mathlib cache: exit 1, which clients expect for projects without Mathlib), and runs
  `env <cmd>` / `exe repl`; any command named `repl` becomes the embedded server (lean-repl-py
  asks for the REPL inside its own wheel, which is never built);
- `repl/`: a "REPL checkout" whose `.lake/build/bin/repl` execs `python -m lean_env.embedded`;
- `project/`: a Lean project directory with only a `lean-toolchain`.
"""
from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOLCHAIN = "leanprover/lean4:v4.19.0"   # what the shim claims; clients only parse it

_LAKE = """#!/bin/sh
# Lake stand-in for the embedded Lean REPL (tests/repl_shim.py).
case "$1" in
  --version) echo "Lake version 5.0.0 (Lean version 4.19.0, embedded stand-in)" ;;
  build|update) exit 0 ;;
  exe)
    if [ "$2" = repl ]; then shift 2; exec "{repl}" "$@"; fi
    echo "error: unknown executable $2" >&2; exit 1 ;;
  env)
    shift
    case "$(basename "$1")" in repl) shift; exec "{repl}" "$@" ;; esac
    exec "$@" ;;
  *) echo "lake stand-in: unsupported command: $*" >&2; exit 1 ;;
esac
"""

_REPL = """#!/bin/sh
# The Lean REPL binary, as far as clients can tell: the embedded server.
PYTHONPATH="{repo}${{PYTHONPATH:+:$PYTHONPATH}}" {memory}exec "{python}" -m lean_env.embedded "$@"
"""


@dataclass(frozen=True)
class ReplShim:
    root: Path
    lake: Path       # the Lake stand-in
    repl_dir: Path   # the "REPL checkout" (LeanInteract's local_repl_path)
    repl: Path       # its `.lake/build/bin/repl` (Kimina's LEAN_SERVER_REPL_PATH)
    project: Path    # the dummy Lean project (LeanInteract's LocalProject, Kimina's project dir)

    def environ(self) -> dict[str, str]:
        """os.environ with the Lake stand-in first on PATH (for clients that call plain `lake`)."""
        return {**os.environ, "PATH": f"{self.lake.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def make_repl_shim(root: Path, max_memory_mb: int | None = None) -> ReplShim:
    """Write the shim under `root`; `max_memory_mb` is passed to the server's memory cap."""
    root = Path(root)
    repl_dir, project = root / "repl", root / "project"
    memory = f"LEAN_EMBEDDED_MAX_MEMORY_MB={max_memory_mb} " if max_memory_mb else ""
    repl = _script(repl_dir / ".lake" / "build" / "bin" / "repl",
                   _REPL.format(repo=REPO, python=sys.executable, memory=memory))
    lake = _script(root / "bin" / "lake", _LAKE.format(repl=repl))
    for d in (repl_dir, project):
        d.mkdir(parents=True, exist_ok=True)
        (d / "lean-toolchain").write_text(TOOLCHAIN + "\n", encoding="utf-8")
    return ReplShim(root, lake, repl_dir, repl, project)
