"""An asyncio client for one Lean REPL process (leanprover-community/repl or the embedded server).

Transport: one JSON object per request followed by a blank line; each reply is one JSON object
followed by a blank line. The REPL has no timeouts and never frees memory, so this client enforces
a wall-clock limit per request (killing the whole process group), caps reply size, keeps stderr in
a file (a full pipe would deadlock the process), and reports its resident memory.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import psutil

MAX_REPLY_BYTES = 8 * 1024 * 1024


class ReplError(Exception):
    """Base class: the process could not answer a request."""


class LeanNotFoundError(ReplError):
    """`lake`, the REPL binary or the Lean project is missing or mismatched."""


class ReplTimeoutError(ReplError):
    pass


class ReplCrashedError(ReplError):
    pass


class ReplProtocolError(ReplError):
    """The process printed something that is not a JSON reply (or far too much of it)."""


@dataclass
class ReplCommand:
    """How to start one REPL process."""

    argv: list[str]
    cwd: str | None = None
    memory_limit_bytes: int | None = None   # RLIMIT_AS; Mathlib needs 8-12 GB
    env: dict[str, str] = field(default_factory=dict)


def embedded_command() -> ReplCommand:
    return ReplCommand([sys.executable, "-m", "lean_env.embedded"])


def lean_repl_command(lean_project: str | Path, repl_path: str | Path, memory_limit_gb: float = 12.0) -> ReplCommand:
    """`lake env <repl>/.lake/build/bin/repl`, run inside the user's Lean (Mathlib) project.

    Refuses to start when `lake` or the REPL binary is missing, or when the project and the REPL
    were built for different Lean toolchains (that gives silently wrong verdicts)."""
    project, repl = Path(lean_project), Path(repl_path)
    if not project.is_dir():
        raise LeanNotFoundError(f"Lean project not found: {project}")
    lake = shutil.which("lake")
    if lake is None:
        raise LeanNotFoundError("`lake` is not on PATH: install Lean with elan (https://github.com/leanprover/elan)")
    binary = repl / ".lake" / "build" / "bin" / "repl"
    if not binary.exists():
        raise LeanNotFoundError(f"REPL binary not found at {binary}: run `lake build` in {repl}")
    tp, tr = project / "lean-toolchain", repl / "lean-toolchain"
    if tp.exists() and tr.exists() and tp.read_text().strip() != tr.read_text().strip():
        raise LeanNotFoundError(
            f"toolchain mismatch: {tp} says {tp.read_text().strip()!r} but {tr} says {tr.read_text().strip()!r}"
        )
    limit = int(memory_limit_gb * 1024**3) if memory_limit_gb else None
    return ReplCommand([lake, "env", str(binary)], cwd=str(project), memory_limit_bytes=limit)


class ReplProcess:
    """One running REPL. Not safe for concurrent requests: the pool serialises access."""

    def __init__(self, command: ReplCommand, stderr_dir: str | None = None):
        self.command = command
        self.stderr_dir = stderr_dir or tempfile.gettempdir()
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_path: str = ""
        self.requests = 0

    async def start(self) -> None:
        fd, self.stderr_path = tempfile.mkstemp(prefix="repl-", suffix=".stderr", dir=self.stderr_dir)
        limit = self.command.memory_limit_bytes

        def _limits() -> None:  # runs in the child before exec
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        env = {**os.environ, **self.command.env}
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=fd,
                cwd=self.command.cwd,
                env=env,
                start_new_session=True,   # its own process group, so a kill takes its children too
                preexec_fn=_limits if limit else None,
                limit=MAX_REPLY_BYTES + 1024,
            )
        except (FileNotFoundError, PermissionError) as e:
            raise LeanNotFoundError(f"cannot start {self.command.argv[0]!r}: {e}") from e
        finally:
            os.close(fd)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def rss_bytes(self) -> int:
        """Resident memory of the process and its children (the REPL runs under `lake env`)."""
        if not self.alive:
            return 0
        try:
            p = psutil.Process(self.proc.pid)
            return p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        except psutil.Error:
            return 0

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    async def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        if not self.alive:
            raise ReplCrashedError("the REPL process is not running")
        self.requests += 1
        data = (json.dumps(payload, ensure_ascii=False) + "\n\n").encode()
        try:
            return await asyncio.wait_for(self._exchange(data), timeout)
        except asyncio.TimeoutError:
            await self.kill()
            raise ReplTimeoutError(f"no reply within {timeout:.1f}s") from None
        except ReplError:
            await self.kill()
            raise

    async def _exchange(self, data: bytes) -> dict[str, Any]:
        assert self.proc and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as e:
            raise self._crashed() from e
        lines: list[bytes] = []
        size = 0
        while True:
            try:
                line = await self.proc.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError) as e:
                raise ReplProtocolError(f"reply line longer than {MAX_REPLY_BYTES} bytes") from e
            if not line:
                raise self._crashed()
            if not line.strip():
                if lines:
                    break
                continue
            size += len(line)
            if size > MAX_REPLY_BYTES:
                raise ReplProtocolError(f"reply larger than {MAX_REPLY_BYTES} bytes")
            lines.append(line)
        text = b"".join(lines).decode(errors="replace")
        try:
            reply = json.loads(text)
        except json.JSONDecodeError:
            raise ReplProtocolError(f"not a JSON reply: {text[:200]!r}") from None
        if not isinstance(reply, dict):
            raise ReplProtocolError(f"not a JSON object: {text[:200]!r}")
        return reply

    def _crashed(self) -> ReplCrashedError:
        code = self.proc.returncode if self.proc else None
        tail = self.stderr_tail()
        return ReplCrashedError(f"REPL process exited (code {code}); stderr tail:\n{tail}")

    async def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            pass

    async def close(self) -> None:
        await self.kill()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


async def run_commands(command: ReplCommand, requests: Sequence[dict[str, Any]], timeout: float = 60) -> list[dict[str, Any]]:
    """Start a REPL, send requests in order, return the replies, stop it (scripts and tests)."""
    proc = ReplProcess(command)
    await proc.start()
    try:
        return [await proc.request(r, timeout) for r in requests]
    finally:
        await proc.close()
