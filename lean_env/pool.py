"""`ReplPool`: N REPL processes behind the `ProofEnv` interface.

- Each process pays for a header once and reuses its env id.
- A proof state lives on the worker that created it (state-sticky routing); new theorems go to
  the least-loaded worker, and each worker serves one request at a time behind its own lock, so
  a slow worker never blocks the others.
- The pool remembers every state's tactic path from its theorem. When a worker dies (timeout,
  crash, garbage output) or is recycled (request count, memory), it is restarted and the states
  it owned are rebuilt on demand by replaying their paths: a search never loses a node.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from lean_env.repl import ReplCommand, ReplError, ReplProcess, ReplTimeoutError
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState, TacticTimeout,
    Theorem, Verdict,
)
from lean_env.verify import verify_proof

log = logging.getLogger(__name__)


@dataclass
class PoolConfig:
    workers: int = 2
    tactic_timeout: float = 12.0      # wall-clock seconds per tactic
    start_timeout: float = 120.0      # header import + statement (import Mathlib costs 10-20 s)
    verify_timeout: float = 60.0
    max_requests: int = 5000          # recycle a worker after this many requests
    max_rss_bytes: int | None = None  # ... or past this resident memory
    stderr_dir: str | None = None


class _Worker:
    def __init__(self, index: int, command: ReplCommand, cfg: PoolConfig):
        self.index = index
        self.command = command
        self.cfg = cfg
        self.proc: ReplProcess | None = None
        self.generation = 0
        self.header_envs: dict[str, int] = {}
        self.lock = asyncio.Lock()
        self.pending = 0

    async def ensure_started(self) -> None:
        if self.proc is None or not self.proc.alive:
            await self.restart()

    async def restart(self) -> None:
        if self.proc is not None:
            await self.proc.close()
        self.generation += 1
        self.header_envs = {}
        self.proc = ReplProcess(self.command, self.cfg.stderr_dir)
        await self.proc.start()

    async def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        await self.ensure_started()
        return await self.proc.request(payload, timeout)

    async def header_env(self, header: str) -> int:
        """The env id of `header` on this process, importing it on first use."""
        if header not in self.header_envs:
            reply = await self.request({"cmd": header}, self.cfg.start_timeout)
            errors = _errors(reply)
            if errors or "env" not in reply:
                raise _HeaderError("header failed: " + (errors or str(reply)[:300]))
            self.header_envs[header] = reply["env"]
        return self.header_envs[header]

    def needs_recycling(self) -> bool:
        if self.proc is None:
            return False
        if self.proc.requests >= self.cfg.max_requests:
            return True
        return bool(self.cfg.max_rss_bytes and self.proc.rss_bytes() > self.cfg.max_rss_bytes)


class _HeaderError(Exception):
    pass


@dataclass
class _StateRecord:
    theorem: Theorem
    path: tuple[str, ...]          # tactics from the theorem's initial state
    worker: int
    generation: int
    repl_id: int
    goals: tuple[str, ...] = field(default=())


def _errors(reply: dict[str, Any]) -> str:
    """The error text of a reply: a `message` key or any error-severity message."""
    if "message" in reply:
        return str(reply["message"])
    errs = [str(m.get("data", "")) for m in reply.get("messages") or [] if isinstance(m, dict) and m.get("severity") == "error"]
    return "\n".join(errs)


def classify_tactic_reply(reply: dict[str, Any]) -> tuple[str, Any]:
    """Reply -> ("error", msg) | ("given_up", msg) | ("finished", None) | ("state", goals).

    Exactly the protocol doc's rules: an empty goal list with an error is an error, not a proof."""
    err = _errors(reply)
    if err:
        return "error", err
    status = str(reply.get("proofStatus", ""))
    if reply.get("sorries") or "sorry" in status:
        return "given_up", "proof contains sorry"
    goals = reply.get("goals")
    if not isinstance(goals, list):
        return "error", f"malformed reply: {str(reply)[:200]}"
    if not goals:
        if status and status != "Completed":
            return "given_up", status
        return "finished", None
    return "state", tuple(str(g) for g in goals)


class ReplPool:
    """A `ProofEnv` over N REPL processes (real Lean or the embedded server)."""

    def __init__(self, command: ReplCommand, config: PoolConfig | None = None):
        self.cfg = config or PoolConfig()
        self.command = command
        self.workers = [_Worker(i, command, self.cfg) for i in range(self.cfg.workers)]
        self._states: dict[int, _StateRecord] = {}
        self._ids = itertools.count()

    # ------------------------------------------------------------ ProofEnv
    async def start(self, theorem: Theorem) -> StartResult:
        worker = min(self.workers, key=lambda w: w.pending)
        for attempt in range(2):
            try:
                rec_or_error = await self._start_on(worker, theorem)
            except ReplTimeoutError as e:
                await self._restart_quietly(worker)
                return TacticTimeout(self.cfg.start_timeout, f"starting {theorem.id}: {e}")
            except ReplError as e:
                await self._restart_quietly(worker)
                if attempt == 1:
                    return EnvFailure(f"starting {theorem.id}: {e}")
                continue
            except _HeaderError as e:
                return EnvFailure(str(e))
            if isinstance(rec_or_error, LeanError):
                return rec_or_error
            return self._register(rec_or_error)
        return EnvFailure(f"starting {theorem.id}: worker failed twice")

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        rec = self._states.get(state.id)
        if rec is None:
            return EnvFailure(f"unknown state handle {state.id}")
        bad = forbidden_tactic(tactic)
        if bad:
            return LeanError(f"forbidden tactic '{bad}' refused before reaching Lean")
        for attempt in range(2):
            worker = self.workers[rec.worker]
            try:
                async with self._use(worker):
                    if worker.generation != rec.generation or not (worker.proc and worker.proc.alive):
                        await worker.ensure_started()
                        rec = await self._replay(worker, rec)
                    reply = await worker.request({"tactic": tactic, "proofState": rec.repl_id}, self.cfg.tactic_timeout)
            except ReplTimeoutError:
                await self._restart_quietly(worker)
                return TacticTimeout(self.cfg.tactic_timeout, f"tactic {tactic[:80]!r} timed out")
            except (ReplError, _ReplayError, _HeaderError) as e:
                log.warning("worker %d failed on %r: %s", worker.index, tactic[:80], e)
                await self._restart_quietly(worker)
                if attempt == 1:
                    return EnvFailure(f"worker failed twice on this tactic: {str(e)[:300]}")
                continue
            await self._maybe_recycle(worker)
            kind, info = classify_tactic_reply(reply)
            if kind == "error":
                return LeanError(info)
            if kind == "given_up":
                return ProofGivenUp(info)
            new = _StateRecord(rec.theorem, rec.path + (tactic,), rec.worker, rec.generation, int(reply["proofState"]))
            if kind == "finished":
                handle = next(self._ids)
                self._states[handle] = new
                return ProofFinished(handle)
            new.goals = info
            return self._register(new)
        return EnvFailure("unreachable")

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        worker = min(self.workers, key=lambda w: w.pending)
        for attempt in range(2):
            try:
                async with self._use(worker):
                    env = await worker.header_env(theorem.header)

                    async def run(cmd: str, env_id: int) -> dict[str, Any]:
                        return await worker.request({"cmd": cmd, "env": env_id}, self.cfg.verify_timeout)

                    return await verify_proof(run, env, theorem, tactics)
            except ReplTimeoutError:
                await self._restart_quietly(worker)
                return Verdict(False, (f"verification timed out after {self.cfg.verify_timeout:.0f}s",))
            except (ReplError, _HeaderError) as e:
                await self._restart_quietly(worker)
                if attempt == 1:
                    return Verdict(False, (f"environment failure during verification: {str(e)[:300]}",))
        return Verdict(False, ("unreachable",))

    async def close(self) -> None:
        for w in self.workers:
            if w.proc is not None:
                await w.proc.close()

    async def __aenter__(self) -> "ReplPool":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ internals
    @contextlib.asynccontextmanager
    async def _use(self, worker: _Worker):
        """Hold a worker for one request; `pending` feeds least-loaded routing."""
        worker.pending += 1
        try:
            async with worker.lock:
                yield
        finally:
            worker.pending -= 1

    def _register(self, rec: _StateRecord) -> TacticState:
        handle = next(self._ids)
        self._states[handle] = rec
        return TacticState(goals=rec.goals, id=handle)

    async def _start_on(self, worker: _Worker, theorem: Theorem) -> _StateRecord | LeanError:
        async with self._use(worker):
            env = await worker.header_env(theorem.header)
            reply = await worker.request({"cmd": theorem.statement.rstrip() + " sorry", "env": env}, self.cfg.start_timeout)
        err = _errors(reply)
        if err:
            return LeanError(err)
        sorries = reply.get("sorries") or []
        if len(sorries) != 1 or "proofState" not in sorries[0]:
            return LeanError(f"statement did not produce exactly one goal: {str(reply)[:300]}")
        goal = str(sorries[0].get("goal", ""))
        return _StateRecord(theorem, (), worker.index, worker.generation, int(sorries[0]["proofState"]), (goal,))

    async def _replay(self, worker: _Worker, rec: _StateRecord) -> _StateRecord:
        """Rebuild a state on a fresh process: start its theorem again and rerun its tactic path."""
        env = await worker.header_env(rec.theorem.header)
        reply = await worker.request({"cmd": rec.theorem.statement.rstrip() + " sorry", "env": env}, self.cfg.start_timeout)
        sorries = reply.get("sorries") or []
        if _errors(reply) or len(sorries) != 1:
            raise _ReplayError(f"could not restart {rec.theorem.id} for replay")
        repl_id = int(sorries[0]["proofState"])
        for tac in rec.path:
            reply = await worker.request({"tactic": tac, "proofState": repl_id}, self.cfg.tactic_timeout)
            kind, _ = classify_tactic_reply(reply)
            if kind not in ("state", "finished"):
                raise _ReplayError(f"replay of {tac!r} diverged on a fresh worker")
            repl_id = int(reply["proofState"])
        rec.worker, rec.generation, rec.repl_id = worker.index, worker.generation, repl_id
        return rec

    async def _restart_quietly(self, worker: _Worker) -> None:
        try:
            async with self._use(worker):
                await worker.restart()
        except ReplError as e:  # the next request will report it
            log.warning("restart of worker %d failed: %s", worker.index, e)

    async def _maybe_recycle(self, worker: _Worker) -> None:
        if worker.needs_recycling():
            await self._restart_quietly(worker)


class _ReplayError(Exception):
    pass
