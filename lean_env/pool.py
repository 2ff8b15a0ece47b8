"""`ReplPool`: N REPL processes behind the `ProofEnv` interface.

- Each process pays for a header once and reuses its env id (`ReplProcess.header_env`).
- A proof state lives on the worker that created it (state-sticky routing); new theorems go to
  the least-loaded worker. Each worker serves one request at a time behind its own lock, so a
  slow worker never blocks requests routed to the others (no global lock around I/O).
- The pool remembers every state's tactic path from its theorem. When a worker dies (timeout,
  crash, garbage output) or is recycled (request count, memory), it is restarted and the states
  it owned are rebuilt on demand by replaying their paths: a search never loses a node. Replays
  share prefixes through a per-process cache, so siblings replay their common path once.

Missing binaries: a `ReplPool` never raises for a request; a command that cannot start gives
`EnvFailure` outcomes. Builders for real Lean (`lean_repl_command`, `make_env`) check `lake`, the
REPL binary and the toolchains up front and raise `LeanNotFoundError` before any pool exists.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Sequence

from pydantic import Field

from lean_env.config import config_record
from lean_env.repl import (
    HeaderError, LeanNotFoundError, ReplCommand, ReplError, ReplProcess, ReplTimeoutError, reply_errors,
)
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState, TacticTimeout,
    Theorem, Verdict,
)
from lean_env.verify import verify_proof

log = logging.getLogger(__name__)

# (header, statement), tactic path -> proofState id on one process
_PathKey = tuple[tuple[str, str], tuple[str, ...]]


@config_record
class ReplPoolConfig:
    workers: int = Field(2, ge=1)
    tactic_timeout: float = Field(12.0, gt=0)    # wall-clock seconds per tactic
    start_timeout: float = Field(120.0, gt=0)    # header import + statement (import Mathlib costs 10-20 s)
    verify_timeout: float = Field(60.0, gt=0)
    max_requests: int = Field(5000, ge=1)        # recycle a worker after this many requests
    max_rss_bytes: int | None = Field(None, ge=1)   # ... or past this resident memory
    rss_check_every: int = Field(25, ge=1)       # psutil is not free: look at memory every k requests
    stderr_dir: str | None = None


class _Worker:
    """One REPL slot: the live process, its generation (bumped on every restart) and its lock."""

    def __init__(self, index: int, command: ReplCommand, cfg: ReplPoolConfig):
        self.index = index
        self.command = command
        self.cfg = cfg
        self.proc: ReplProcess | None = None
        self.generation = 0
        self.lock = asyncio.Lock()
        self.pending = 0                       # requests waiting for or holding the lock
        self.owned = 0                         # state handles routed to this worker
        self.paths: dict[_PathKey, int] = {}   # replay cache, valid for this generation only
        self.closed = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive

    async def ensure_started(self) -> None:
        if not self.alive:
            await self.restart()

    async def restart(self) -> None:
        if self.closed:
            raise ReplError("the pool is closed")
        if self.proc is not None:
            await self.proc.close()
            self.proc = None
        self.generation += 1
        self.paths = {}
        proc = ReplProcess(self.command, self.cfg.stderr_dir)
        await proc.start()
        self.proc = proc

    def needs_recycling(self) -> bool:
        if self.proc is None:
            return False
        if self.proc.requests >= self.cfg.max_requests:
            return True
        if self.cfg.max_rss_bytes and self.proc.requests % self.cfg.rss_check_every == 0:
            return self.proc.rss_bytes() > self.cfg.max_rss_bytes
        return False


@dataclass
class _StateRecord:
    """Where a pool handle lives now, and how to rebuild it anywhere."""

    theorem: Theorem
    path: tuple[str, ...]          # tactics from the theorem's initial state
    worker: int
    generation: int
    repl_id: int
    goals: tuple[str, ...] = field(default=())

    @property
    def key(self) -> _PathKey:
        return _theorem_key(self.theorem), self.path


class _ReplayError(Exception):
    """A state could not be rebuilt on a fresh process."""


def _theorem_key(theorem: Theorem) -> tuple[str, str]:
    return start_header(theorem), theorem.statement


def start_header(theorem: Theorem) -> str:
    """What the search explores under: the header, and an answer to fill still as `sorry` (the
    statement mentions it; only verification fills it in)."""
    return theorem.header + (theorem.answer.rstrip() + "\n\n" if theorem.answer else "")


def _start_command(theorem: Theorem) -> str:
    return theorem.statement.rstrip() + " sorry"


def _info_messages(reply: dict[str, Any]) -> tuple[str, ...]:
    messages = reply.get("messages") or []
    return tuple(str(m.get("data", "")) for m in messages if isinstance(m, dict) and m.get("severity") != "error")


def classify_tactic_reply(reply: dict[str, Any]) -> tuple[str, Any]:
    """Reply -> ("error", msg) | ("given_up", msg) | ("finished", None) | ("state", goals).

    The protocol doc's rules, in order: a `message` key or any error-severity message is an error
    (even with an empty goal list: the REPL's error recovery); sorries or a "contains sorry" status
    is given up; no goals with `Completed` (or no status at all, older REPLs) is finished; any
    other status with no goals (metavariables, `Error: ...`) is an error; otherwise a new state."""
    err = reply_errors(reply)
    if err:
        return "error", err
    status = str(reply.get("proofStatus", ""))
    if reply.get("sorries") or "contains sorry" in status:
        return "given_up", "proof contains sorry"
    goals = reply.get("goals")
    if not isinstance(goals, list) or not isinstance(reply.get("proofState"), int):
        return "error", f"malformed tactic reply: {str(reply)[:200]}"
    if not goals:
        if status in ("", "Completed"):
            return "finished", None
        return "error", f"no goals left but the proof was not accepted: {status}"
    return "state", tuple(str(g) for g in goals)


class ReplPool:
    """A `ProofEnv` over N REPL processes (real Lean or the embedded server)."""

    def __init__(self, command: ReplCommand, config: ReplPoolConfig | None = None):
        self.cfg = config or ReplPoolConfig()
        self.command = command
        self.workers = [_Worker(i, command, self.cfg) for i in range(self.cfg.workers)]
        self._states: dict[int, _StateRecord] = {}
        self._ids = itertools.count()
        self._closed = False

    # ------------------------------------------------------------ ProofEnv
    async def start(self, theorem: Theorem) -> StartResult:
        if self._closed:
            return EnvFailure("the pool is closed")
        worker = self._least_loaded()
        failure = ""
        for _attempt in range(2):
            async with self._use(worker):
                try:
                    await worker.ensure_started()
                    repl_id_or_error = await self._start_on(worker, theorem)
                except ReplTimeoutError as e:
                    await self._restart(worker)
                    return TacticTimeout(self.cfg.start_timeout, f"starting {theorem.id}: {e}")
                except (LeanNotFoundError, HeaderError) as e:
                    return EnvFailure(f"starting {theorem.id}: {e}")
                except ReplError as e:
                    failure = str(e)
                    await self._restart(worker)
                    continue
            if isinstance(repl_id_or_error, LeanError):
                return repl_id_or_error
            repl_id, goal = repl_id_or_error
            rec = _StateRecord(theorem, (), worker.index, worker.generation, repl_id, (goal,))
            return self._register(rec)
        return EnvFailure(f"starting {theorem.id}: worker failed twice: {failure[:300]}")

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        if not isinstance(state, TacticState):
            return EnvFailure(f"run_tactic needs a TacticState, got {type(state).__name__}")
        rec = self._states.get(state.id)
        if rec is None:
            return EnvFailure(f"unknown state handle {state.id} (not issued by this pool)")
        bad = forbidden_tactic(tactic)
        if bad:
            return LeanError(f"forbidden tactic '{bad}' refused before reaching Lean")
        if self._closed:
            return EnvFailure("the pool is closed")
        failure = ""
        for _attempt in range(2):
            worker = self.workers[rec.worker]
            async with self._use(worker):
                try:
                    repl_id = await self._locate(worker, rec)
                    reply = await worker.proc.run_tactic(tactic, repl_id, self.cfg.tactic_timeout)
                except ReplTimeoutError:
                    await self._restart(worker)
                    return TacticTimeout(self.cfg.tactic_timeout, f"tactic {tactic[:80]!r} timed out")
                except LeanNotFoundError as e:
                    return EnvFailure(str(e))
                except (ReplError, _ReplayError) as e:
                    # garbage, crash, flood, or a replay that failed: fresh process, replay, once more
                    log.warning("worker %d failed on %r: %s", worker.index, tactic[:80], e)
                    failure = str(e)
                    await self._restart(worker)
                    continue
                kind, info = classify_tactic_reply(reply)
                if kind in ("state", "finished"):
                    worker.paths[(rec.key[0], rec.path + (tactic,))] = int(reply["proofState"])
                if worker.needs_recycling():
                    await self._restart(worker)
            if kind == "error":
                return LeanError(info)
            if kind == "given_up":
                return ProofGivenUp(info)
            if kind == "finished":
                return ProofFinished(next(self._ids), _info_messages(reply))
            new = _StateRecord(rec.theorem, rec.path + (tactic,), rec.worker, rec.generation,
                               int(reply["proofState"]), info)
            return self._register(new, _info_messages(reply))
        return EnvFailure(f"worker failed twice on tactic {tactic[:80]!r}: {failure[:300]}")

    async def verify(self, theorem: Theorem, tactics: Sequence[str], answer: str | None = None) -> Verdict:
        """Whole-proof check in the header's env on any worker: a fresh environment, since commands
        never change an existing env and exploration's sorried declarations live in other envs."""
        if self._closed:
            return Verdict(False, ("environment failure: the pool is closed",))
        worker = self._least_loaded()
        failure = ""
        for _attempt in range(2):
            async with self._use(worker):

                async def run(cmd: str, timeout: float) -> dict[str, Any]:
                    # called only once the prechecks pass: a refused proof starts no process
                    await worker.ensure_started()
                    env = await worker.proc.header_env(theorem.header, self.cfg.start_timeout)
                    return await worker.proc.run_command(cmd, env, timeout)

                try:
                    verdict = await verify_proof(run, theorem, tactics, self.cfg.verify_timeout, answer=answer)
                    if worker.proc is not None and not worker.proc.alive:  # a timeout killed it
                        await self._restart(worker)
                    return verdict
                except (LeanNotFoundError, HeaderError) as e:
                    return Verdict(False, (f"environment failure during verification: {str(e)[:300]}",))
                except ReplError as e:
                    failure = str(e)
                    await self._restart(worker)
        return Verdict(False, (f"environment failure during verification (twice): {failure[:300]}",))

    async def warm(self, header: str | None = None) -> None:
        """Start every worker now (and elaborate `header` on each), instead of on first use."""

        async def one(worker: _Worker) -> None:
            async with self._use(worker):
                await worker.ensure_started()
                if header is not None:
                    await worker.proc.header_env(header, self.cfg.start_timeout)

        await asyncio.gather(*(one(w) for w in self.workers))

    async def close(self) -> None:
        self._closed = True
        for w in self.workers:
            w.closed = True
            if w.proc is not None:
                await w.proc.close()

    async def __aenter__(self) -> "ReplPool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ internals
    def _least_loaded(self) -> _Worker:
        # fewest requests in flight; ties go to the worker owning fewer states (less memory to grow)
        return min(self.workers, key=lambda w: (w.pending, w.owned, w.index))

    @contextlib.asynccontextmanager
    async def _use(self, worker: _Worker) -> AsyncIterator[None]:
        """Hold a worker for one request; `pending` feeds least-loaded routing."""
        worker.pending += 1
        try:
            async with worker.lock:
                yield
        finally:
            worker.pending -= 1

    def _register(self, rec: _StateRecord, messages: tuple[str, ...] = ()) -> TacticState:
        handle = next(self._ids)
        self._states[handle] = rec
        self.workers[rec.worker].owned += 1
        return TacticState(goals=rec.goals, id=handle, messages=messages)

    async def _start_on(self, worker: _Worker, theorem: Theorem) -> tuple[int, str] | LeanError:
        """Elaborate `statement sorry` in the header env: the sorry's proof state is the root."""
        env = await worker.proc.header_env(start_header(theorem), self.cfg.start_timeout)
        reply = await worker.proc.run_command(_start_command(theorem), env, self.cfg.start_timeout)
        err = reply_errors(reply)
        if err:
            return LeanError(err)
        sorries = reply.get("sorries") or []
        if len(sorries) != 1 or not isinstance(sorries[0], dict) or not isinstance(sorries[0].get("proofState"), int):
            return LeanError(f"statement did not produce exactly one goal: {str(reply)[:300]}")
        repl_id = sorries[0]["proofState"]
        worker.paths[(_theorem_key(theorem), ())] = repl_id
        return repl_id, str(sorries[0].get("goal", ""))

    async def _locate(self, worker: _Worker, rec: _StateRecord) -> int:
        """The proofState id of `rec` on `worker`'s live process, replaying it if it was lost."""
        if worker.alive and rec.generation == worker.generation:
            return rec.repl_id
        await worker.ensure_started()
        repl_id = await self._replay(worker, rec)
        rec.worker, rec.generation, rec.repl_id = worker.index, worker.generation, repl_id
        return repl_id

    async def _replay(self, worker: _Worker, rec: _StateRecord) -> int:
        """Rebuild a state on a fresh process from the longest cached prefix of its tactic path."""
        tkey = _theorem_key(rec.theorem)
        done = len(rec.path)
        while done >= 0 and (tkey, rec.path[:done]) not in worker.paths:
            done -= 1
        try:
            if done < 0:
                started = await self._start_on(worker, rec.theorem)
                if isinstance(started, LeanError):
                    raise _ReplayError(f"could not restart {rec.theorem.id} for replay: {started.message[:200]}")
                repl_id, done = started[0], 0
            else:
                repl_id = worker.paths[(tkey, rec.path[:done])]
            for i in range(done, len(rec.path)):
                reply = await worker.proc.run_tactic(rec.path[i], repl_id, self.cfg.tactic_timeout)
                kind, info = classify_tactic_reply(reply)
                if kind != "state":
                    raise _ReplayError(f"replay of {rec.path[i]!r} diverged on a fresh worker ({kind}: {str(info)[:100]})")
                repl_id = int(reply["proofState"])
                worker.paths[(tkey, rec.path[: i + 1])] = repl_id
        except ReplTimeoutError as e:
            # a tactic that passed before timed out now: not the caller's tactic, so not a TacticTimeout
            raise _ReplayError(f"replay timed out: {e}") from e
        if done < len(rec.path) and info != rec.goals:
            raise _ReplayError("replay diverged: the rebuilt state has different goals")
        return repl_id

    async def _restart(self, worker: _Worker) -> None:
        """Replace the worker's process (caller holds its lock). Failures surface on the next use."""
        try:
            await worker.restart()
        except ReplError as e:
            log.warning("restart of worker %d failed: %s", worker.index, e)
