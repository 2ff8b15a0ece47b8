"""LeanDojo backend (optional extra `[dojo]`): `lean_dojo.Dojo` behind the `ProofEnv` interface.

LeanDojo runs one Lean process per theorem and needs the repository traced first, so a theorem
must name where it lives: `DojoEnv(locations={theorem_id: (repo_url, commit, file_path, full_name)})`.
LeanDojo is synchronous: every call runs in a worker thread, one at a time per theorem.

Verification: LeanDojo cannot elaborate free-standing commands, so whole-proof checks go through
`lean_env.verify` on a REPL-style backend passed as `verifier` (a `ReplPool` over the same Lean
project; `make_env("dojo", lean_project=..., repl_path=...)` builds one). Without a verifier every
proof is rejected with a reason saying so: a LeanDojo `ProofFinished` alone never counts.
"""
from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any, Sequence

from lean_env.base import ProofEnv
from lean_env.optional import require
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState, TacticTimeout,
    Theorem, Verdict,
)
from lean_env.verify import precheck


Location = tuple[str, str, str, str]   # repo url, commit, file path, full theorem name


def import_lean_dojo() -> Any:
    """The `lean_dojo` module, or an ImportError that names the extra to install."""
    return require("lean_dojo", extra="dojo", hint="and trace your repository first")


class _Opened:
    """One entered Dojo context: the Dojo, its initial state, and a lock (a Dojo is not thread-safe).

    The lock is a thread lock taken inside the worker thread: a cancelled caller stops waiting but
    its thread keeps the Dojo until `run_tac` returns, so no second call can interleave with it."""

    def __init__(self, dojo: Any, initial: Any):
        self.dojo = dojo
        self.initial = initial
        self.lock = threading.Lock()

    def run_tac(self, state: Any, tactic: str) -> Any:
        with self.lock:
            return self.dojo.run_tac(state, tactic)


class DojoEnv:
    def __init__(self, locations: dict[str, Location] | None = None, timeout: float = 600,
                 verifier: ProofEnv | None = None):
        self.ld = import_lean_dojo()
        self.locations = dict(locations or {})
        self.timeout = timeout
        self.verifier = verifier
        self._opened: dict[str, _Opened] = {}            # theorem id -> entered Dojo
        self._entering: dict[str, asyncio.Lock] = {}
        self._states: dict[int, tuple[str, Any]] = {}    # handle -> (theorem id, LeanDojo state)
        self._ids = itertools.count()

    async def start(self, theorem: Theorem) -> StartResult:
        if theorem.id not in self.locations:
            return EnvFailure(f"no LeanDojo location for {theorem.id}: pass locations={{id: (repo, commit, path, name)}}")
        # concurrent starts of one theorem must enter one Dojo, not race to enter two
        async with self._entering.setdefault(theorem.id, asyncio.Lock()):
            opened = self._opened.get(theorem.id) or await self._enter(theorem)
        if isinstance(opened, EnvFailure):
            return opened
        return self._register(theorem.id, opened.initial)

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        if state.id not in self._states:
            return EnvFailure(f"unknown state handle {state.id}")
        bad = forbidden_tactic(tactic)
        if bad:
            return LeanError(f"forbidden tactic '{bad}' refused before reaching Lean")
        tid, dojo_state = self._states[state.id]
        opened = self._opened.get(tid)
        if opened is None:
            return EnvFailure(f"the LeanDojo context of {tid} is closed")
        try:
            result = await asyncio.to_thread(opened.run_tac, dojo_state, tactic)
        except Exception as e:
            if self._is(e, "DojoTacticTimeoutError"):
                return TacticTimeout(self.timeout, str(e))
            return EnvFailure(f"LeanDojo {type(e).__name__}: {e}")
        return self._outcome(tid, result)

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        if self.verifier is not None:
            return await self.verifier.verify(theorem, tactics)
        reasons = precheck(theorem, tactics)
        return Verdict(False, tuple(reasons) + (
            "no authoritative verifier configured for LeanDojo: pass verifier=ReplPool(...) "
            "or make_env('dojo', lean_project=..., repl_path=...)",))

    async def close(self) -> None:
        opened, self._opened = list(self._opened.values()), {}
        for o in opened:
            try:
                await asyncio.to_thread(o.dojo.__exit__, None, None, None)
            except Exception:  # a crashed Dojo may fail to exit; nothing left to free
                pass
        if self.verifier is not None:
            await self.verifier.close()

    # ------------------------------------------------------------ internals
    async def _enter(self, theorem: Theorem) -> _Opened | EnvFailure:
        """Enter the theorem's Dojo context in a worker thread (LeanDojo starts Lean there)."""
        url, commit, path, name = self.locations[theorem.id]

        def enter() -> tuple[Any, Any]:
            repo = self.ld.LeanGitRepo(url, commit)
            dojo = self.ld.Dojo(self.ld.Theorem(repo, path, name), timeout=int(self.timeout))
            _, s0 = dojo.__enter__()
            return dojo, s0

        try:
            dojo, s0 = await asyncio.to_thread(enter)
        except Exception as e:  # DojoInitError and friends: an environment failure, never dropped
            return EnvFailure(f"LeanDojo could not start {theorem.id}: {type(e).__name__}: {e}")
        opened = self._opened[theorem.id] = _Opened(dojo, s0)
        return opened

    def _is(self, error: Exception, name: str) -> bool:
        """isinstance against lean_dojo's exception class, by name (it moved between versions)."""
        cls = getattr(self.ld, name, None)
        return isinstance(error, cls) if isinstance(cls, type) else type(error).__name__ == name

    def _outcome(self, tid: str, result: Any) -> TacticResult:
        ld = self.ld
        if isinstance(result, ld.TacticState):
            return self._register(tid, result)
        if isinstance(result, ld.ProofFinished):
            return ProofFinished(next(self._ids))
        if isinstance(result, ld.ProofGivenUp):
            return ProofGivenUp()
        if isinstance(result, ld.LeanError):
            return LeanError(str(result.error))
        return EnvFailure(f"unexpected LeanDojo result {type(result).__name__}")

    def _register(self, tid: str, dojo_state: Any) -> TacticState:
        handle = next(self._ids)
        self._states[handle] = (tid, dojo_state)
        # LeanDojo prints all goals in one string, separated by blank lines
        goals = tuple(g for g in str(dojo_state.pp).split("\n\n") if g.strip())
        return TacticState(goals=goals, id=handle)
