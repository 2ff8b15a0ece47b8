"""Plan validation and the phases of a plan, each presented to the unchanged best-first search.

A phase is one best-first search (`search.best_first.search`) on a `PhaseEnv`: an environment
adapter whose `start` is the theorem's fresh root with the proven prefix and the current step's
`have` applied, so the search's root is the phase's root (cumulative log-prob 0; the plan step
itself enters with the fixed log-prob 0, since the planner, not the tactic model, wrote it). In a
step phase the adapter also does what Lean's `focus` does for a tactic block: a tactic may only
work on the focused `have` goal. A result whose goals after the focused ones are not exactly the
main goal left by `have` is refused, and one whose goals are exactly the main goal is "proof
finished" for the search (the step is closed and only the main goal remains), which the search
then checks with `verify`: here, the fresh-root re-validation of the prefix plus the new proof.
In the main phase (every step proven) the adapter passes tactics through and `verify` is the
whole-proof verification of the have-chain plus the main proof, the only authority.

(The adapter, not a `focus` wrapper around each tactic, because the embedded kernel's `focus`
demands that the block closes the goal, which Lean's does not; see the report in
search/planner/__init__.py. The check is the same on real Lean.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lean_env.base import ProofEnv, run_tactics
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, StartResult, TacticResult, TacticState, Theorem, Verdict,
)
from search.planner.plan import Plan, PlanStep, proved_have, with_hypotheses


@dataclass(frozen=True)
class Validation:
    ok: bool
    error: str = ""


def _why(res: object) -> str:
    return getattr(res, "message", "") or type(res).__name__


async def validate_plan(env: ProofEnv, theorem: Theorem, plan: Plan) -> Validation:
    """The plan elaborates: from a fresh root that has the earlier steps as hypotheses, each
    step's `have` runs as a tactic (statements are elaborated by tactics, never as binders alone,
    so an auto-bound implicit cannot make an unknown name look fine)."""
    for i, step in enumerate(plan.steps):
        try:
            root = await env.start(with_hypotheses(theorem, plan.steps[:i]))
        except Exception as e:  # an environment that raises is an environment failure
            return Validation(False, f"env: {type(e).__name__}: {e}"[:500])
        if not isinstance(root, TacticState):
            prefix = "env" if isinstance(root, EnvFailure) else f"step {i + 1}: the steps before it do not elaborate"
            return Validation(False, f"{prefix}: {_why(root)}"[:500])
        res = await _run(env, root, step.have())
        if not isinstance(res, TacticState):
            prefix = "env" if isinstance(res, EnvFailure) else f"step {i + 1} `{step.have()}`"
            return Validation(False, f"{prefix}: {_why(res)}"[:500])
    return Validation(True)


async def revalidate(env: ProofEnv, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
    """Proven steps (one tactic each) from a fresh root: they must run without error and leave
    exactly the main goal. This is a progress check, not a proof: only `env.verify` is that."""
    root = await _start(env, theorem)
    if not isinstance(root, TacticState):
        return Verdict(False, (f"re-validation: start: {_why(root)}"[:500],))
    if not tactics:
        return Verdict(True)
    res = await _run(env, root, "\n".join(tactics))
    if isinstance(res, TacticState) and len(res.goals) == 1:
        return Verdict(True)
    what = f"{len(res.goals)} goals left" if isinstance(res, TacticState) else _why(res)
    return Verdict(False, (f"re-validation of the proven steps failed: {what}"[:500],))


async def _start(env: ProofEnv, theorem: Theorem) -> StartResult:
    try:
        return await env.start(theorem)
    except Exception as e:
        return EnvFailure(f"{type(e).__name__}: {e}")


async def _run(env: ProofEnv, state: TacticState, tactic: str) -> TacticResult:
    try:
        return await env.run_tactic(state, tactic)
    except Exception as e:
        return EnvFailure(f"{type(e).__name__}: {e}")


class PhaseEnv:
    """The environment one phase's search sees (see the module docstring). `prefix` holds the
    proven steps as tactics; `step` is the step to prove, or None for the main goal."""

    def __init__(self, env: ProofEnv, prefix: Sequence[str], step: PlanStep | None):
        self.env, self.prefix, self.step = env, list(prefix), step
        self.main: tuple[str, ...] = ()    # the goals after the focused `have` goal (step phases)
        self.verify_failures = 0           # main phase: whole proofs that failed verification

    async def start(self, theorem: Theorem) -> StartResult:
        root = await self.env.start(theorem)
        lines = self.prefix + ([self.step.have()] if self.step is not None else [])
        if not isinstance(root, TacticState) or not lines:
            return root
        res = await self.env.run_tactic(root, "\n".join(lines))
        if isinstance(res, ProofFinished):
            return LeanError("the proven steps closed the goal on their own (nothing left to search)")
        if not isinstance(res, TacticState):
            return res
        if self.step is not None:
            if len(res.goals) != 2:
                return LeanError(f"`{self.step.have()}` gave {len(res.goals)} goals, expected the step's and the main goal")
            self.main = res.goals[1:]
        return res

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        return self._focused(await self.env.run_tactic(state, tactic))

    async def run_tactics(self, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
        return [self._focused(r) for r in await run_tactics(self.env, state, tactics)]

    def _focused(self, res: TacticResult) -> TacticResult:
        if self.step is None:
            return res
        if isinstance(res, TacticState):
            k = len(self.main)
            if len(res.goals) < k or res.goals[len(res.goals) - k:] != self.main:
                return LeanError("the tactic changed goals outside the focused `have` goal")
            if len(res.goals) == k:   # the step's goal is closed and only the main goal remains
                return ProofFinished(res.id, res.messages)
            return res
        if isinstance(res, ProofFinished):
            return LeanError("the tactic closed the main goal too, outside the focused `have` goal")
        return res

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        if self.step is None:
            verdict = await self.env.verify(theorem, self.prefix + list(tactics))
            self.verify_failures += not verdict.ok
            return verdict
        return await revalidate(self.env, theorem, self.prefix + [proved_have(self.step, tactics)])

    async def close(self) -> None:
        """The wrapped environment belongs to the caller."""


__all__ = ["Validation", "validate_plan", "revalidate", "PhaseEnv"]
