"""An asyncio client for one Lean REPL process (leanprover-community/repl or the embedded server).

Transport: one JSON object per request followed by a blank line; each reply is one JSON object
followed by a blank line. The REPL has no timeouts and never frees memory, so this client enforces
a wall-clock limit per request (killing the whole process group), caps the reply size, keeps
stderr in a file (a full pipe would deadlock the process), and reports its resident memory so a
pool can recycle it.

    proc = ReplProcess(embedded_command())
    await proc.start()
    env = await proc.header_env("import Mathlib")          # paid once per process
    reply = await proc.run_command("theorem t : 1 = 1 := by sorry", env)
    reply = await proc.run_tactic("rfl", reply["sorries"][0]["proofState"])
    await proc.close()
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
DEFAULT_TIMEOUT = 60.0
_EXCERPT = 200  # characters of a bad reply quoted in an error


class ReplError(Exception):
    """Base class: the process could not answer a request."""


class LeanNotFoundError(ReplError):
    """`lake`, the REPL binary or the Lean project is missing or mismatched."""


class ReplTimeoutError(ReplError, TimeoutError):
    """No reply within the wall-clock limit; the process group was killed."""


class ReplCrashedError(ReplError):
    """The process exited (or closed stdout); the message has its exit code and stderr tail."""


class ReplProtocolError(ReplError):
    """The process printed something that is not a JSON reply (or far too much of it)."""


class HeaderError(ReplError):
    """The header (imports, options) did not elaborate; the process itself is fine."""


@dataclass
class ReplCommand:
    """How to start one REPL process."""

    argv: list[str]
    cwd: str | None = None
    memory_limit_bytes: int | None = None   # RLIMIT_AS; Mathlib needs 8-12 GB, None = no cap
    env: dict[str, str] = field(default_factory=dict)


def embedded_command(memory_limit_gb: float | None = None) -> ReplCommand:
    """`python -m lean_env.embedded`, the pure-Python fragment of Lean. With a limit, the server
    caps its own address space and runs an RSS watchdog, so a runaway tactic (a `ring` on a huge
    power) gets Lean's "out of memory" error and the worker lives on, as a capped Lean worker would."""
    env = {"LEAN_EMBEDDED_MAX_MEMORY_MB": str(int(memory_limit_gb * 1024))} if memory_limit_gb else {}
    return ReplCommand([sys.executable, "-m", "lean_env.embedded"], env=env)


def _toolchain(path: Path) -> str:
    file = path / "lean-toolchain"
    if not file.is_file():
        raise LeanNotFoundError(f"{file} is missing: cannot check that Lean versions match")
    return file.read_text(encoding="utf-8").strip()


def lean_repl_command(lean_project: str | Path, repl_path: str | Path, memory_limit_gb: float | None = 12.0) -> ReplCommand:
    """`lake env <repl>/.lake/build/bin/repl`, run inside the user's Lean (Mathlib) project.

    Refuses (LeanNotFoundError) when the project, `lake` or the REPL binary is missing, or when
    the project and the REPL were built for different Lean toolchains: that gives silently wrong
    verdicts."""
    project, repl = Path(lean_project).expanduser(), Path(repl_path).expanduser()
    if not project.is_dir():
        raise LeanNotFoundError(f"Lean project not found: {project} (expected a Lake project with Mathlib)")
    if not repl.is_dir():
        raise LeanNotFoundError(f"REPL checkout not found: {repl} (clone leanprover-community/repl and `lake build`)")
    lake = shutil.which("lake")
    if lake is None:
        raise LeanNotFoundError("`lake` is not on PATH: install Lean with elan (https://github.com/leanprover/elan)")
    binary = repl / ".lake" / "build" / "bin" / "repl"
    if not binary.is_file():
        raise LeanNotFoundError(f"REPL binary not found at {binary}: run `lake build` in {repl}")
    want, have = _toolchain(project), _toolchain(repl)
    if want != have:
        raise LeanNotFoundError(
            f"toolchain mismatch: {project}/lean-toolchain says {want!r} but {repl}/lean-toolchain says {have!r}; "
            "build the REPL for the project's Lean version"
        )
    limit = int(memory_limit_gb * 1024**3) if memory_limit_gb else None
    return ReplCommand([lake, "env", str(binary.resolve())], cwd=str(project.resolve()), memory_limit_bytes=limit)


class ReplProcess:
    """One running REPL. Serves one request at a time: callers (the pool) serialise access."""

    def __init__(self, command: ReplCommand, stderr_dir: str | None = None, default_timeout: float = DEFAULT_TIMEOUT):
        self.command = command
        self.stderr_dir = stderr_dir or tempfile.gettempdir()
        self.default_timeout = default_timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_path: str = ""
        self.requests = 0
        self._header_envs: dict[str, int] = {}   # header text -> env id, valid for this process only
        self._killed = False

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        fd, self.stderr_path = tempfile.mkstemp(prefix="repl-", suffix=".stderr", dir=self.stderr_dir)
        limit = self.command.memory_limit_bytes

        def _cap_memory() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=fd,
                cwd=self.command.cwd,
                env={**os.environ, **self.command.env},
                start_new_session=True,   # its own process group: one kill takes `lake` and the REPL
                preexec_fn=_cap_memory if limit else None,
                limit=MAX_REPLY_BYTES + 1024,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as e:
            raise LeanNotFoundError(f"cannot start {self.command.argv[0]!r} (cwd {self.command.cwd}): {e}") from e
        finally:
            os.close(fd)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and not self._killed

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

    async def kill(self) -> None:
        """SIGKILL the whole process group and reap the process."""
        if self.proc is None:
            return
        self._kill_group()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            pass
        # Close our end of stdin now and let the loop run its callbacks: otherwise the pipe is
        # closed at garbage collection, possibly after the event loop is gone.
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        await asyncio.sleep(0)

    def _kill_group(self) -> None:
        self._killed = True
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    async def close(self) -> None:
        await self.kill()
        if self.stderr_path:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass

    # ------------------------------------------------------------ requests
    async def request(self, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send one JSON request, return the JSON reply. Any failure kills the process and raises
        a ReplError subclass, so a half-read reply can never be mistaken for the next one."""
        if not self.alive:
            raise ReplCrashedError("the REPL process is not running")
        timeout = self.default_timeout if timeout is None else timeout
        self.requests += 1
        data = (json.dumps(payload, ensure_ascii=False) + "\n\n").encode()
        try:
            return await asyncio.wait_for(self._exchange(data), timeout)
        except asyncio.TimeoutError:
            await self.kill()
            raise ReplTimeoutError(f"no reply within {timeout:.1f}s; process group killed") from None
        except ReplError:
            await self.kill()
            raise
        except asyncio.CancelledError:
            # The caller gave up mid-request: the reply may still arrive and would be read as the
            # answer to the next request. Kill now (no awaiting while cancelled) and never reuse.
            self._kill_group()
            raise

    async def run_command(self, cmd: str, env: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"cmd": cmd}
        if env is not None:
            payload["env"] = env
        return await self.request(payload, timeout)

    async def run_tactic(self, tactic: str, proof_state: int, timeout: float | None = None) -> dict[str, Any]:
        return await self.request({"tactic": tactic, "proofState": proof_state}, timeout)

    async def header_env(self, header: str, timeout: float | None = None) -> int:
        """The env id of `header` on this process, elaborating it on first use only.

        Raises HeaderError when the header itself does not elaborate (bad import, missing Mathlib)."""
        if header not in self._header_envs:
            reply = await self.run_command(header, None, timeout)
            errors = reply_errors(reply)
            if errors or not isinstance(reply.get("env"), int):
                raise HeaderError("header failed: " + (errors or f"no env in reply {str(reply)[:_EXCERPT]}"))
            self._header_envs[header] = reply["env"]
        return self._header_envs[header]

    async def _exchange(self, data: bytes) -> dict[str, Any]:
        assert self.proc and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except OSError as e:  # broken pipe, reset: the process is gone
            raise await self._crashed() from e
        lines: list[bytes] = []
        size = 0
        while True:
            try:
                line = await self.proc.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError) as e:
                raise ReplProtocolError(f"reply line longer than {MAX_REPLY_BYTES} bytes") from e
            if not line:
                raise await self._crashed()
            if not line.strip():
                if lines:
                    break
                continue  # blank lines before a reply are separators, not replies
            size += len(line)
            if size > MAX_REPLY_BYTES:
                raise ReplProtocolError(f"reply larger than {MAX_REPLY_BYTES} bytes")
            lines.append(line)
        text = b"".join(lines).decode(errors="replace")
        try:
            reply = json.loads(text)
        except json.JSONDecodeError:
            raise ReplProtocolError(f"not a JSON reply: {text[:_EXCERPT]!r}") from None
        if not isinstance(reply, dict):
            raise ReplProtocolError(f"not a JSON object: {text[:_EXCERPT]!r}")
        return reply

    async def _crashed(self) -> ReplCrashedError:
        # stdout closed: give the process a moment to exit so the exit code can be reported
        code = None
        if self.proc is not None:
            try:
                code = await asyncio.wait_for(self.proc.wait(), 2)
            except asyncio.TimeoutError:
                code = None
        hint = " (killed: out of memory or a signal)" if code is not None and (code < 0 or code == 137) else ""
        return ReplCrashedError(f"REPL process exited with code {code}{hint}; stderr tail:\n{self.stderr_tail()}")


def reply_errors(reply: dict[str, Any]) -> str:
    """The error text of a reply: a `message` key or any error-severity message ('' if none)."""
    if "message" in reply:
        return str(reply["message"])
    messages = reply.get("messages") or []
    errs = [str(m.get("data", "")) for m in messages if isinstance(m, dict) and m.get("severity") == "error"]
    return "\n".join(errs)


async def run_commands(command: ReplCommand, requests: Sequence[dict[str, Any]], timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """Start a REPL, send requests in order, return the replies, stop it (scripts and tests)."""
    proc = ReplProcess(command)
    await proc.start()
    try:
        return [await proc.request(r, timeout) for r in requests]
    finally:
        await proc.close()
