"""One planner-driven attempt, BFS-Prover-V2's multi-agent search, top to bottom:

1. Plan. The root goal and the theorem go to the planner; its reply is parsed and validated in a
   fresh environment (`phases.validate_plan`); an invalid plan is redrawn, up to
   `max_regenerations` times, with the reason in the prompt.
2. Prove the steps in order. Each phase is one best-first search from a fresh root (the proven
   prefix and the step's `have` applied, cumulative log-prob 0) that sees only the step's goal
   (`plan.prompt_state`); it ends when the step's goal is closed and only the main goal remains.
   The found proof is re-validated from a fresh root with the proven prefix, and the progress
   store takes it only if that prefix is still the stored one (`store.py`). Several searchers
   (`searchers`) run this loop at once on one store, so each phase starts from whatever prefix
   anyone has proven.
3. Prove the main goal with every `have` in context. Its proof counts only after whole-proof
   verification of the chain plus the main proof, from scratch (`env.verify`); a failure there
   wipes the theorem's progress (the proven prefix is not trusted any more).
A phase that exhausts its budget ends the searcher, or with `replan` asks for a new plan that
keeps the proven prefix verbatim. Without a valid plan, or stuck, what is left of the budget goes
to a plain best-first search of the theorem (`fallback`), so planner + search and search alone
spend the same number of expansions.
"""
from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from typing import Sequence

from lean_env.base import ProofEnv
from lean_env.types import EnvFailure, TacticState, Theorem
from search.best_first import Propose, SearchConfig, search
from search.planner.backends import PlannerConfig
from search.planner.phases import PhaseEnv, validate_plan
from search.planner.plan import (
    Plan, PlanError, Planner, PlanRequest, PlanStep, parse_plan, prompt_state, proved_have, proved_prefix,
)
from search.planner.store import LocalProgressStore, ProgressStore
from search.records import AttemptRecord, Failure, PlanAttempt, PlannerTrace, ProofStep, StepProgress
from search.tree import SearchTree

_COUNTERS = ("expansions", "tactics_tried", "lean_errors", "timeouts", "env_failures", "soundness_incidents",
             "time_generate", "time_env")


class PlannerSearch:
    """`search.best_first.search`'s signature with a planner behind it, so the scheduler runs
    planner attempts as it runs plain ones. One instance per evaluation: its store is shared by
    every attempt (and every searcher) on a theorem."""

    def __init__(self, planner: Planner, cfg: PlannerConfig = PlannerConfig(), store: ProgressStore | None = None):
        self.planner, self.cfg = planner, cfg
        self.store = store if store is not None else LocalProgressStore()

    async def __call__(self, theorem: Theorem, env: ProofEnv, propose: Propose, cfg: SearchConfig, attempt: int = 0,
                       cancel: asyncio.Event | None = None) -> tuple[AttemptRecord, list[tuple[str, SearchTree]]]:
        return await _PlannerAttempt(self, theorem, env, propose, cfg, attempt, cancel).run()


class _PlannerAttempt:
    def __init__(self, owner: PlannerSearch, theorem: Theorem, env: ProofEnv, propose: Propose, cfg: SearchConfig,
                 attempt: int, cancel: asyncio.Event | None):
        self.planner, self.pcfg, self.store = owner.planner, owner.cfg, owner.store
        self.theorem, self.env, self.propose, self.cfg, self.cancel = theorem, env, propose, cfg, cancel
        self.trace = PlannerTrace()
        self.rec = AttemptRecord(theorem_id=theorem.id, benchmark=theorem.benchmark, split=theorem.split,
                                 attempt=attempt, proved=False, proof=None, planner=self.trace)
        self.t0 = time.perf_counter()
        self.trees: list[tuple[str, SearchTree]] = []
        self.goal = ""
        self.steps_of: dict[str, list[ProofStep]] = {}   # a proven step's tactic -> its (state, tactic) pairs
        self.found = asyncio.Event()    # one searcher's verified proof stops the others
        self.draws: dict[int, int] = {}  # searcher -> its plan draws so far (names each request)

    # ------------------------------------------------------------ the attempt
    async def run(self) -> tuple[AttemptRecord, list[tuple[str, SearchTree]]]:
        root = await self._start()
        if not isinstance(root, TacticState):
            self.rec.failure = Failure.START.because(getattr(root, 'message', type(root).__name__))
            self.rec.env_failures += isinstance(root, EnvFailure)
            return self._finish(None, ""), self.trees
        self.goal = root.pp
        n, total = self.pcfg.searchers, self.cfg.max_expansions
        budgets = [total // n + (k < total % n) for k in range(n)]
        results = await asyncio.gather(*(self._searcher(k, b) for k, b in enumerate(budgets)))
        proof = next((p for p, _, _ in results if p is not None), None)
        why = next((w for p, _, w in results if p is None and w), "")
        left = sum(b for _, b, _ in results)
        if proof is None and self.pcfg.fallback and left > 0 and not self._stopped():
            proof, why = await self._fallback(left, why)
        return self._finish(proof, why), self.trees

    async def _searcher(self, k: int, budget: int) -> tuple[list[str] | None, int, str]:
        """One searcher's loop over the shared progress: (verified proof or None, budget left, why not)."""
        replans = 0
        while budget > 0 and not self._stopped():
            prog = await self.store.get(self.theorem.id)
            if not prog.plan:
                plan = await self._draw(PlanRequest(self.theorem, self.goal), "initial", k)
                if plan is None:
                    return None, budget, Failure.PLAN.because("no valid plan")
                await self.store.set_plan(self.theorem.id, plan.steps, prog.version)  # refused: someone else's is in
                continue
            i, plan = prog.step, prog.plan
            prefix = proved_prefix(plan[:i], prog.proofs)
            step = plan[i] if i < len(plan) else None
            cap = self.pcfg.phase_expansions or math.ceil(budget / (len(plan) - i + 1))
            phase_env = PhaseEnv(self.env, prefix, step)
            rec, tree = await self._phase(phase_env, min(cap, budget), f"searcher {k} step {i + 1}" if step else
                                          f"searcher {k} main goal")
            budget -= rec.expansions
            progress = StepProgress(i, step.have() if step else "main goal", rec.proved, False, rec.expansions,
                                    rec.proof, rec.failure, k)
            self.trace.progress.append(progress)
            if rec.proved and step is not None:
                # the phase's `verify` re-validated prefix + proof from a fresh root; the store
                # takes it only if that prefix is still the stored one
                accepted = await self.store.submit(self.theorem.id, i, rec.proof, prog.version)
                progress.accepted = accepted is not None
                self.steps_of[proved_have(step, rec.proof)] = rec.steps
                continue
            if rec.proved:   # the main goal: `verify` was the whole-proof verification
                progress.accepted = not self.found.is_set()   # the first verified proof is the attempt's
                self.found.set()
                self.rec.steps = self._proof_steps(prefix, rec.steps)
                self.rec.error_siblings = rec.error_siblings   # the main phase's (its states are whole goals)
                return prefix + rec.proof, budget, ""
            if rec.failure_kind is Failure.CANCELLED or self._stopped():
                return None, budget, Failure.CANCELLED.value
            if step is None and phase_env.verify_failures:
                # the chain closed the main goal in tactic mode but the whole proof failed: the
                # proven prefix is not trusted any more
                if await self.store.wipe(self.theorem.id, prog.version) is not None:
                    self.trace.wiped += 1
                continue
            if rec.expansions == 0 and rec.failure_kind is not Failure.START:
                return None, budget, Failure.PLAN.because(f"step {i + 1}: {rec.failure}")
            if self.pcfg.replan and replans < self.pcfg.max_replans:
                replans += 1
                what = f"step {i + 1} `{step.have()}`" if step else "the main goal after the last step"
                feedback = f"{what} was not proved ({rec.failure})"
                new = await self._draw(PlanRequest(self.theorem, self.goal, plan[:i], feedback), "replan", k, plan[:i])
                if new is not None:
                    await self.store.set_plan(self.theorem.id, new.steps, prog.version)
                continue
            where = f"step {i + 1} of {len(plan)}" if step else f"the main goal after {len(plan)} steps"
            return None, budget, Failure.PLAN.because(f"stuck at {where} ({rec.failure})")
        return None, budget, Failure.BUDGET.because("expansions") if budget <= 0 else ""

    async def _phase(self, phase_env: PhaseEnv, expansions: int, label: str) -> tuple[AttemptRecord, SearchTree | None]:
        async def focused(state: str, n: int):
            return await self.propose(prompt_state(state), n)

        wall = max(self.cfg.wall_seconds - (time.perf_counter() - self.t0), 1e-3)
        cfg = dataclasses.replace(self.cfg, max_expansions=max(expansions, 1), wall_seconds=wall)
        rec, tree = await search(self.theorem, phase_env, focused, cfg, self.rec.attempt, self.cancel)
        self._add_counters(rec)
        if tree is not None:
            self.trees.append((label, tree))
        return rec, tree

    async def _fallback(self, left: int, why: str) -> tuple[list[str] | None, str]:
        wall = max(self.cfg.wall_seconds - (time.perf_counter() - self.t0), 1e-3)
        cfg = dataclasses.replace(self.cfg, max_expansions=left, wall_seconds=wall)
        rec, tree = await search(self.theorem, self.env, self.propose, cfg, self.rec.attempt, self.cancel)
        self._add_counters(rec)
        if tree is not None:
            self.trees.append(("fallback search", tree))
        if rec.proved:
            self.rec.steps, self.rec.error_siblings = rec.steps, rec.error_siblings
            return rec.proof, ""
        return None, f"{why}; fallback: {rec.failure}" if why else rec.failure

    # ------------------------------------------------------------ plans
    async def _draw(self, req: PlanRequest, reason: str, searcher: int, keep: Sequence[PlanStep] = ()) -> Plan | None:
        """A validated plan (keeping `keep` verbatim), or None after 1 + max_regenerations tries.
        A planner that cannot be reached raises: the attempt did not happen and must be rerun.
        Each request is named by (theorem, attempt, searcher, its draw, its try), which a sampling
        planner seeds from: the same run asks the same questions and gets the same plans."""
        draw = self.draws[searcher] = self.draws.get(searcher, -1) + 1
        for j in range(1 + self.pcfg.max_regenerations):
            key = "\x00".join(map(str, (self.theorem.id, self.rec.attempt, "plan", searcher, draw, j)))
            text = await asyncio.to_thread(self.planner.plan, dataclasses.replace(req, key=key))
            label = reason if j == 0 else "regenerate"
            try:
                plan = parse_plan(text)
            except PlanError as e:
                self.trace.plans.append(PlanAttempt([], False, f"not a plan: {e}"[:500], label, len(keep)))
                req = dataclasses.replace(req, feedback=f"the reply was not a plan: {e}"[:500])
                continue
            if keep and not plan.keeps_prefix(keep):
                plan = Plan(tuple(keep) + tuple(s for s in plan.steps if s not in keep))
            check = await validate_plan(self.env, self.theorem, plan)
            self.trace.plans.append(PlanAttempt(plan.lines(), check.ok, check.error, label, len(keep)))
            if check.ok:
                return plan
            req = dataclasses.replace(req, feedback=f"the plan did not elaborate: {check.error}"[:500])
        return None

    # ------------------------------------------------------------ bookkeeping
    async def _start(self):
        try:
            return await self.env.start(self.theorem)
        except Exception as e:
            return EnvFailure(f"{type(e).__name__}: {e}")

    def _stopped(self) -> bool:
        return self.found.is_set() or (self.cancel is not None and self.cancel.is_set())

    def _add_counters(self, rec: AttemptRecord) -> None:
        for name in _COUNTERS:
            setattr(self.rec, name, getattr(self.rec, name) + getattr(rec, name))

    def _finish(self, proof: list[str] | None, why: str) -> AttemptRecord:
        rec = self.rec
        if proof is not None:
            rec.proved, rec.proof, rec.failure = True, proof, ""
        else:
            rec.failure = rec.failure or why or Failure.EXHAUSTED.value
        if self.cancel is not None and self.cancel.is_set() and not rec.proved:
            rec.failure = Failure.CANCELLED.value
        rec.wall = time.perf_counter() - self.t0
        rec.time_bookkeeping = max(rec.wall - rec.time_generate - rec.time_env, 0.0)
        return rec

    def _proof_steps(self, prefix: list[str], main: list[ProofStep]) -> list[ProofStep]:
        """The (state, tactic) pairs of a planner proof as the tactic model saw them (each phase's
        first goal, cleaned); a step proven in another process has none here."""
        out = [s for tactic in prefix for s in self.steps_of.get(tactic, [])] + list(main)
        return [dataclasses.replace(s, state=prompt_state(s.state), depth=d) for d, s in enumerate(out)]


__all__ = ["PlannerSearch"]
