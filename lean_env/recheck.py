"""Optional kernel re-check of an accepted proof on real Lean, SafeVerify style.

The REPL's verdict trusts Lean's front end: elaborator extensions, environment extensions and
the messages it reports. This stage trusts only the kernel. It compiles two files in the user's
Lean project, the reference (header + benchmark statement + `sorry`) and the submission (header +
the checked proof text), to `.olean`s, then runs a checker on the pair. SafeVerify
(github.com/GasStationManager/SafeVerify) replays the submission's declarations through the
kernel (`Environment.replay`, as lean4checker does), checks that each theorem of the reference
exists in the submission with the same type, and that only the standard axioms are used.

    recheck = KernelRecheck.from_setting("~/mathlib-proj", "lake env lean --run ~/SafeVerify/Main.lean")
    reasons = await recheck(theorem, verdict.checked_text)      # [] when the kernel agrees

`checker` is any command that takes `TARGET.olean SUBMISSION.olean` and exits 0 on success; it
runs inside the project (prefix it with `lake env` when it needs the project's search path).
"""
from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lean_env.repl import LeanNotFoundError
from lean_env.types import Theorem

RECHECK = "kernel re-check"


@dataclass(frozen=True)
class KernelRecheck:
    lean_project: Path
    checker: tuple[str, ...]
    lake: str = "lake"
    timeout: float = 600.0      # per step: compiling against Mathlib takes a while

    @classmethod
    def from_setting(cls, lean_project: str | Path | None, checker: str, timeout: float = 600.0) -> "KernelRecheck":
        """Build from CLI/config strings; LeanNotFoundError when the toolchain is not there."""
        if not lean_project:
            raise LeanNotFoundError("a kernel re-check needs --lean-project (a Lean+Mathlib project)")
        project = Path(lean_project).expanduser()
        if not project.is_dir():
            raise LeanNotFoundError(f"Lean project not found: {project}")
        lake = shutil.which("lake")
        if lake is None:
            raise LeanNotFoundError("`lake` is not on PATH: a kernel re-check needs the Lean toolchain")
        argv = tuple(os.path.expanduser(a) for a in shlex.split(checker))
        if not argv:
            raise ValueError("the re-check command is empty")
        return cls(project.resolve(), argv, lake, timeout)

    async def __call__(self, theorem: Theorem, proof_text: str) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="bfs-recheck-") as tmp:
            ref, sub = Path(tmp) / "Reference.lean", Path(tmp) / "Submission.lean"
            ref.write_text(f"{theorem.header}\n{theorem.statement.rstrip()} sorry\n", encoding="utf-8")
            sub.write_text(f"{theorem.header}\n{proof_text}\n", encoding="utf-8")
            for src in (ref, sub):
                code, out = await self._run([self.lake, "env", "lean", "-o", str(src.with_suffix(".olean")), str(src)])
                if code != 0:
                    return [f"{RECHECK}: compiling {src.stem} failed (exit {code}): {out[-300:]}"]
            code, out = await self._run([*self.checker, str(ref.with_suffix(".olean")), str(sub.with_suffix(".olean"))])
            if code != 0:
                return [f"{RECHECK}: the checker rejected the proof (exit {code}): {out[-300:]}"]
        return []

    async def _run(self, argv: list[str]) -> tuple[int, str]:
        """(exit code, stdout+stderr); a timeout kills the process group and is exit code -9."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=self.lean_project, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)
        except OSError as e:
            return 127, f"cannot run {argv[0]!r}: {e}"
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.timeout)
        except asyncio.TimeoutError:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await proc.wait()
            return -9, f"timed out after {self.timeout:.0f}s"
        return proc.returncode, out.decode(errors="replace")
