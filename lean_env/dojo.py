"""LeanDojo backend (optional extra `[dojo]`): `lean_dojo.Dojo` behind the `ProofEnv` interface.

LeanDojo runs one Lean process per theorem and needs the repository traced first, so a theorem
must name where it lives: `DojoEnv(locations={theorem_id: (repo_url, commit, file_path, full_name)})`.
LeanDojo is synchronous; every call runs in a worker thread. Whole-proof verification goes
through `lean_env.verify` with a REPL-style command runner when one is given (recommended: a
`ReplPool` over the same project); without one, proofs are checked by LeanDojo's own
`ProofFinished` plus our text prechecks, and the verdict says so.
"""
from __future__ import annotations

import asyncio
import itertools
from typing import Any, Sequence

from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState, TacticTimeout,
    Theorem, Verdict,
)
from lean_env.verify import precheck

INSTALL_HINT = "LeanDojo is not installed: pip install 'bfs-prover[dojo]' (and trace your repository first)"


def import_lean_dojo():
    try:
        import lean_dojo  # noqa: F401
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return lean_dojo


class DojoEnv:
    def __init__(self, locations: dict[str, tuple[str, str, str, str]] | None = None, timeout: float = 600,
                 verifier: Any | None = None):
        self.ld = import_lean_dojo()
        self.locations = locations or {}
        self.timeout = timeout
        self.verifier = verifier          # a ProofEnv whose `verify` is authoritative (e.g. ReplPool)
        self._dojos: dict[str, Any] = {}  # theorem id -> entered Dojo context
        self._states: dict[int, tuple[str, Any]] = {}
        self._ids = itertools.count()

    async def start(self, theorem: Theorem) -> StartResult:
        if theorem.id not in self.locations:
            return EnvFailure(f"no LeanDojo location for {theorem.id}: pass locations={{id: (repo, commit, path, name)}}")
        url, commit, path, name = self.locations[theorem.id]

        def _enter():
            repo = self.ld.LeanGitRepo(url, commit)
            dojo = self.ld.Dojo(self.ld.Theorem(repo, path, name), timeout=int(self.timeout))
            return dojo, dojo.__enter__()

        try:
            dojo, (_, s0) = await asyncio.to_thread(_enter)
        except Exception as e:  # DojoInitError and friends: a failed attempt, never dropped
            return EnvFailure(f"LeanDojo could not start {theorem.id}: {type(e).__name__}: {e}")
        self._dojos[theorem.id] = dojo
        return self._register(theorem.id, s0)

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        if state.id not in self._states:
            return EnvFailure(f"unknown state handle {state.id}")
        bad = forbidden_tactic(tactic)
        if bad:
            return LeanError(f"forbidden tactic '{bad}' refused before reaching Lean")
        tid, dojo_state = self._states[state.id]
        dojo = self._dojos[tid]
        try:
            result = await asyncio.to_thread(dojo.run_tac, dojo_state, tactic)
        except Exception as e:
            kind = type(e).__name__
            if "Timeout" in kind:
                return TacticTimeout(self.timeout, str(e))
            return EnvFailure(f"LeanDojo {kind}: {e}")
        name = type(result).__name__
        if name == "TacticState":
            return self._register(tid, result)
        if name == "ProofFinished":
            handle = next(self._ids)
            self._states[handle] = (tid, result)
            return ProofFinished(handle)
        if name == "ProofGivenUp":
            return ProofGivenUp()
        return LeanError(str(getattr(result, "error", result)))

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        if self.verifier is not None:
            return await self.verifier.verify(theorem, tactics)
        reasons = precheck(theorem, tactics)
        return Verdict(False, tuple(reasons) or ("no authoritative verifier configured for LeanDojo: pass verifier=ReplPool(...)",))

    async def close(self) -> None:
        for dojo in self._dojos.values():
            await asyncio.to_thread(dojo.__exit__, None, None, None)
        self._dojos.clear()

    def _register(self, tid: str, dojo_state: Any) -> TacticState:
        handle = next(self._ids)
        self._states[handle] = (tid, dojo_state)
        goals = tuple(g for g in str(dojo_state.pp).split("\n\n") if g.strip())
        return TacticState(goals=goals, id=handle)
