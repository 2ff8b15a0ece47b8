"""An in-process ProofEnv over a toy world, for search tests: the goal is `⊢ n` (an integer),
`dec` subtracts one, `inc` adds one (back to an ancestor: a cycle), `half` halves an even n (error
if odd), `zero` closes `⊢ 0`, `same` returns the same state, `cheat` closes any goal in tactic mode
but fails verification, `boom` raises, `envfail` is an environment failure, `slow` sleeps and
times out. `verify` replays the tactics from scratch. Every call is counted."""
from __future__ import annotations

import asyncio
import itertools

from lean_env.types import EnvFailure, LeanError, ProofFinished, TacticState, TacticTimeout, Theorem, Verdict


def theorem(n: int, name: str | None = None) -> Theorem:
    return Theorem(name=name or f"toy{n}", header="", statement=f"theorem toy{n} : {n} := by", split="test")


def _start_value(t: Theorem) -> int:
    return int(t.statement.split(":")[1].split(":=")[0])


def step(n: int, tactic: str):
    if tactic == "dec":
        return n - 1 if n > 0 else LeanError("cannot dec 0")
    if tactic == "half":
        return n // 2 if n % 2 == 0 and n > 0 else LeanError("odd")
    if tactic == "zero":
        return "done" if n == 0 else LeanError("not zero")
    if tactic == "same":
        return n
    if tactic == "inc":
        return n + 1
    if tactic == "cheat":
        return "done"  # finishes in tactic mode but fails verification
    return LeanError(f"unknown tactic '{tactic}'")


class FakeEnv:
    def __init__(self, slow_seconds: float = 0.0):
        self.states: dict[int, int] = {}
        self.ids = itertools.count()
        self.calls: list[str] = []            # every tactic that reached the env, in order
        self.starts: list[str] = []
        self.verified: list[list[str]] = []
        self.slow_seconds = slow_seconds

    async def start(self, t: Theorem):
        self.starts.append(t.id)
        if "bad" in t.name:
            return LeanError("malformed statement")
        return self._state(_start_value(t))

    def _state(self, n: int) -> TacticState:
        h = next(self.ids)
        self.states[h] = n
        return TacticState((f"⊢ {n}",), h)

    async def run_tactic(self, s: TacticState, tactic: str):
        self.calls.append(tactic)
        if tactic == "boom":
            raise RuntimeError("environment exploded")
        if tactic == "slow":
            await asyncio.sleep(self.slow_seconds)
            return TacticTimeout(self.slow_seconds)
        if tactic == "envfail":
            return EnvFailure("worker died")
        r = step(self.states[s.id], tactic)
        if isinstance(r, LeanError):
            return r
        if r == "done":
            return ProofFinished(next(self.ids))
        return self._state(r)

    async def verify(self, t: Theorem, tactics):
        self.verified.append(list(tactics))
        n = _start_value(t)
        for tac in tactics:
            r = step(n, tac) if tac != "cheat" else LeanError("cheat")
            if isinstance(r, LeanError):
                return Verdict(False, (r.message,))
            if r == "done":
                return Verdict(True)
            n = r
        return Verdict(False, ("unsolved goals",))

    async def close(self):
        pass
