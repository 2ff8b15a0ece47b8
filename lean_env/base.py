"""The one interface that search code sees, whatever runs the tactics."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from lean_env.types import StartResult, TacticResult, TacticState, Theorem, Verdict


@runtime_checkable
class ProofEnv(Protocol):
    """An asynchronous proof environment shared by many concurrent searches.

    Proof states are immutable: `run_tactic` may be called on any state returned earlier (branching
    and backtracking, as the Lean REPL allows). Implementations must be safe to call from many
    asyncio tasks at once and must never raise for a bad tactic or a failed worker: those come back
    as `LeanError`, `TacticTimeout` or `EnvFailure` outcomes.
    """

    async def start(self, theorem: Theorem) -> StartResult:
        """Elaborate the statement with `sorry` and return its initial goal state."""
        ...

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        """Run one tactic on an earlier state."""
        ...

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        """Check a whole proof from scratch (see `lean_env.verify`)."""
        ...

    async def close(self) -> None:
        """Stop every worker process."""
        ...
