"""Best-first search over tactic states, as BFS-Prover-V2 runs it.

A tactic's score is the mean log-probability of its tokens; a node's score is the sum of its
tactics' scores from the root; the queue pops the open node with the highest
`score / depth ** alpha` (the root, depth 0, is popped first). Each expansion samples n tactics,
drops empty, forbidden and repeated ones, runs the rest in the environment concurrently, and merges
states with the same goal text. A tactic that closes every goal is only a candidate: the whole
proof is re-checked with `env.verify`, and only a passing verdict ends the attempt.

Never raises for Lean or environment trouble (an exception from the environment is recorded as an
environment failure): the `AttemptRecord` says what happened. It does raise when the generator
does, because an attempt that never got its tactics is not a result and must be rerun.
"""
from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import time
from typing import Awaitable, Sequence

from pydantic import Field

from lean_env.config import config_record
from lean_env.base import ProofEnv, release, run_tactics
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, Outcome, StartResult, TacticResult, TacticState, TacticTimeout, Theorem, Verdict,
    outcome_of,
)
from policy.base import PromptInput, TacticCandidate
from policy.scripted import hint_templates
from search.batcher import Propose
from search.records import AttemptRecord, ErrorSibling, Failure, ProofStep
from search.tree import FAILED, OPEN, QED, Node, SearchTree



@config_record
class SearchConfig:
    """One attempt's budget. The per-tactic timeout belongs to the environment (`EnvConfig`).
    Validated by pydantic on construction (a config record: the campaign YAML's `search:`)."""

    tactics_per_expansion: int = Field(8, ge=1)
    max_expansions: int = Field(32, ge=1)
    alpha: float = Field(2.0, ge=0)           # depth normalisation of the priority (BFS-Prover-V2's script: 2.0)
    wall_seconds: float = Field(120.0, gt=0)  # checked between steps: a running tactic finishes (or times out)
    max_env_failures: int = Field(8, ge=1)    # give up an attempt whose environment keeps failing
    # fixed tactics run at every expanded node besides the sampled ones (a small model's search is
    # then never weaker than these closers alone), each scored `closer_logprob` as a mean
    # token log-prob; they count in the budget ("8+4x32") and in what the proofs are made of
    closers: tuple[str, ...] = ()
    closer_logprob: float = Field(-2.0, le=0)
    # ... and the node's hint templates (policy.scripted.hint_templates: its hypotheses and variables
    # in norm_num [h₀, h₁] at *, rw [h₀], nlinarith [sq_nonneg (a - b)], ...), scored the same way
    closer_templates: bool = False

    @property
    def budget(self) -> str:
        """The per-attempt budget in the field's notation, tactics per expansion (+ fixed closers)
        x expansions."""
        closers = f"+{len(self.closers)}" if self.closers else ""
        templates = "+templates" if self.closer_templates else ""
        return f"{self.tactics_per_expansion}{closers}{templates}x{self.max_expansions}"

    def fixed_tactics(self, state: str) -> list[str]:
        """What runs at a node of this goal state whatever the model samples: the closers, then the
        state's hint templates."""
        return list(dict.fromkeys([*self.closers, *(hint_templates(state) if self.closer_templates else ())]))


def priority(score: float, depth: int, alpha: float) -> float:
    """Queue priority of a node; the root (depth 0, score 0) gets its raw score."""
    return score / (depth ** alpha) if depth > 0 else score


def unique_tactics(candidates: Sequence[TacticCandidate]) -> list[TacticCandidate]:
    """Drop empty, forbidden and repeated tactics, keeping the best-scored copy of each; best first."""
    return [c for _, _, c in _ranked(candidates)]


def _ranked(candidates: Sequence[TacticCandidate]) -> list[tuple[float, int, TacticCandidate]]:
    """`unique_tactics` as (mean log-prob, -position, candidate), so the search reads each score once."""
    best: dict[str, tuple[float, int, TacticCandidate]] = {}
    for i, c in enumerate(candidates):
        tac = c.tactic.strip()
        if not tac or forbidden_tactic(tac):  # memoised: a search samples the same tactics again and again
            continue
        score, kept = c.mean_logprob, best.get(tac)
        if kept is None or score > kept[0]:
            first = -i if kept is None else kept[1]  # ties rank by first appearance
            best[tac] = (score, first, c if tac == c.tactic else dataclasses.replace(c, tactic=tac))
    return sorted(best.values(), reverse=True)  # ties: the earlier sample first


async def search(
    theorem: Theorem,
    env: ProofEnv,
    propose: Propose,
    cfg: SearchConfig,
    attempt: int = 0,
    cancel: asyncio.Event | None = None,
) -> tuple[AttemptRecord, SearchTree | None]:
    """One best-first search attempt. Returns its record and its graph (None if `start` failed)."""
    return await _Attempt(theorem, env, propose, cfg, attempt, cancel).run()


class _Attempt:
    """The mutable state of one attempt, so each step of the loop can be a small method."""

    def __init__(self, theorem: Theorem, env: ProofEnv, propose: Propose, cfg: SearchConfig,
                 attempt: int, cancel: asyncio.Event | None):
        self.theorem, self.env, self.propose, self.cfg, self.cancel = theorem, env, propose, cfg, cancel
        self.rec = AttemptRecord(theorem_id=theorem.id, benchmark=theorem.benchmark, split=theorem.split,
                                 attempt=attempt, proved=False, proof=None)
        self.t_start = time.perf_counter()
        self.t_gen = self.t_env = 0.0
        self.tree: SearchTree | None = None
        self.queue: list[tuple[float, int, str]] = []    # (-priority, push count, goal text)
        self.tie = itertools.count()
        self.last_env_error = ""

    # ------------------------------------------------------------ the loop
    async def run(self) -> tuple[AttemptRecord, SearchTree | None]:
        root = await self._env(self.env.start(self.theorem))
        if not isinstance(root, TacticState):
            self.rec.failure = _start_failure(root)
            self.rec.env_failures += isinstance(root, EnvFailure)
            return await self._finish(None), None
        self.tree = SearchTree(root.pp, self.theorem.id, handle=root)
        self._push(self.tree.nodes[root.pp])

        proof = None
        try:
            while proof is None:
                stop = self._stop_reason()
                if stop:
                    self.rec.failure = stop
                    break
                node = self._pop()
                if node is None:
                    self.rec.failure = Failure.EXHAUSTED.value
                    break
                proof = await self._expand(node)
        finally:  # done or cancelled: the environment may free this attempt's states (LeanDojo's Lean process)
            await release(self.env, root)
        return await self._finish(proof), self.tree

    def _stop_reason(self) -> str:
        """Why the search stops before the next expansion (the record's `failure`), or ""."""
        if self.cancel is not None and self.cancel.is_set():
            return Failure.CANCELLED.value
        if self.rec.env_failures >= self.cfg.max_env_failures:
            return Failure.ENV.because(f"{self.rec.env_failures} environment failures, last: {self.last_env_error}")
        if self.rec.expansions >= self.cfg.max_expansions:
            return Failure.BUDGET.because("expansions")
        if time.perf_counter() - self.t_start > self.cfg.wall_seconds:
            return Failure.BUDGET.because("time")
        if self.tree.nodes[self.tree.root].status == FAILED:
            return Failure.EXHAUSTED.value
        return Failure.NONE.value

    def _push(self, node: Node) -> None:
        heapq.heappush(self.queue, (-priority(node.score, node.depth, self.cfg.alpha), next(self.tie), node.key))

    def _pop(self) -> Node | None:
        """The best open, unexpanded node (stale entries of merged nodes are skipped)."""
        while self.queue:
            node = self.tree.nodes[heapq.heappop(self.queue)[2]]
            if not node.expanded and node.status == OPEN:
                return node
        return None

    async def _expand(self, node: Node) -> list[str] | None:
        """Sample, run and record the tactics at `node`; returns a verified proof if one was found."""
        t0 = time.perf_counter()
        # the goal state, with the context some released provers' prompts hold (policy/presets.py)
        request = PromptInput(node.key, name=self.theorem.name, header=self.theorem.header,
                              statement=self.theorem.statement, proof_before=node.handle_path)
        sampled = await self.propose(request, self.cfg.tactics_per_expansion)
        t1 = time.perf_counter()
        self.t_gen += t1 - t0
        if self.cancel is not None and self.cancel.is_set():
            return None  # the loop records "cancelled"; the node stays open and is not counted
        self.rec.expansions += 1
        ranked = _ranked(sampled)[: self.cfg.tactics_per_expansion]
        if self.cfg.closers or self.cfg.closer_templates:
            ranked += self._closers(node.key, ranked)
        self.rec.tactics_tried += len(ranked)

        results = await run_tactics(self.env, node.handle, [c.tactic for _, _, c in ranked])
        self.t_env += time.perf_counter() - t1

        # The hot loop: new goal states go into the graph and the queue, and Lean errors into
        # the graph, here in line (this runs for every tactic of every expansion); everything else
        # goes through `_record_other`.
        tree, key, queue, tie, alpha = self.tree, node.key, self.queue, self.tie, self.cfg.alpha
        push = heapq.heappush
        finished = []
        for (lp, _, cand), res in zip(ranked, results):
            if isinstance(res, TacticState):
                child = tree.add_child(key, res.pp, cand.tactic, lp, res)
                if child is not None and child.parent is node and not child.expanded:
                    # new, or reached by a better route: (re)ranked; `priority` for depth >= 1
                    push(queue, (-child.score / child.depth ** alpha, next(tie), child.key))
            elif type(res) is LeanError:
                self.rec.lean_errors += 1
                tree.add_error(key, cand.tactic, lp, Outcome.LEAN_ERROR, res.message[:2000])
            elif self._record_other(node, cand, lp, res):
                finished.append(cand)

        proof = None
        for cand in finished:
            proof = await self._try_proof(node, cand)
            if proof is not None:
                break
        self.tree.mark_expanded(node.key)
        return proof

    def _closers(self, state: str, ranked: list) -> list:
        """The fixed closers (and the state's hint templates) the sample did not already hold,
        ranked after it."""
        have = {c.tactic for _, _, c in ranked}
        lp = self.cfg.closer_logprob
        return [(lp, -len(ranked) - i, TacticCandidate(t, lp, 1))
                for i, t in enumerate(self.cfg.fixed_tactics(state)) if t not in have]

    def _record_other(self, node: Node, cand: TacticCandidate, lp: float, res: TacticResult) -> bool:
        """Record a tactic (`lp` its mean log-prob) that gave something other than a TacticState;
        True if it closed all goals (then it still has to pass verification)."""
        outcome = outcome_of(res)
        if outcome is Outcome.FINISHED:
            return True
        if outcome is Outcome.TIMEOUT:
            self.rec.timeouts += 1
            error = f"timeout after {res.seconds:g}s {res.message}".strip()
        elif outcome is Outcome.ENV_FAILURE:
            self.rec.env_failures += 1
            error = res.message if isinstance(res, EnvFailure) else f"unknown outcome {type(res).__name__}"
            self.last_env_error = error[:300]
        else:  # a proof given up with sorry, or a Lean error of a subclass (plain ones: `_expand`)
            self.rec.lean_errors += 1
            error = res.message
        self.tree.add_error(node.key, cand.tactic, lp, outcome, error[:2000])
        return False

    async def _try_proof(self, node: Node, cand: TacticCandidate) -> list[str] | None:
        """Verify the tactics that produced `node`'s state plus `cand`; a failing verdict is a
        failed edge."""
        tactics = list(node.handle_path) + [cand.tactic]
        verdict = await self._verify(tactics)
        if verdict.ok:
            self.tree.add_child(node.key, QED, cand.tactic, cand.mean_logprob)
            return tactics
        self.rec.lean_errors += 1
        self.tree.add_error(node.key, cand.tactic, cand.mean_logprob, Outcome.VERIFY_FAILED,
                            "verification: " + "; ".join(verdict.reasons)[:2000])
        return None

    # ------------------------------------------------------------ environment calls, timed
    async def _env(self, aw: Awaitable):
        t0 = time.perf_counter()
        try:
            return await aw
        except Exception as e:  # the protocol says envs never raise; one that does is a failure
            return EnvFailure(f"{type(e).__name__}: {e}")
        finally:
            self.t_env += time.perf_counter() - t0

    async def _verify(self, tactics: list[str]) -> Verdict:
        res = await self._env(self.env.verify(self.theorem, tactics))
        if isinstance(res, EnvFailure):
            self.rec.env_failures += 1
            self.last_env_error = res.message[:300]
            return Verdict(False, (f"env: {res.message}",))
        self.rec.soundness_incidents += bool(res.incident)
        return res

    # ------------------------------------------------------------ the record
    async def _finish(self, proof: list[str] | None) -> AttemptRecord:
        rec = self.rec
        if proof is not None:
            shortest = self.tree.shortest_proof()
            # A shorter route through merged states counts only if it verifies too.
            if shortest and len(shortest) < len(proof) and (await self._verify(shortest)).ok:
                proof = shortest
            rec.proved, rec.proof, rec.failure = True, proof, Failure.NONE.value
            rec.steps, rec.error_siblings = _proof_steps(self.tree, proof), _error_siblings(self.tree, proof)
        rec.time_generate, rec.time_env = self.t_gen, self.t_env
        rec.wall = time.perf_counter() - self.t_start
        rec.time_bookkeeping = max(rec.wall - self.t_gen - self.t_env, 0.0)
        return rec


def _start_failure(res: StartResult) -> str:
    if isinstance(res, LeanError):
        return Failure.START.because(res.message)
    if isinstance(res, TacticTimeout):
        return Failure.START.because(f"timeout after {res.seconds:g}s {res.message}".strip())
    if isinstance(res, EnvFailure):
        return Failure.ENV.because(res.message)
    return Failure.START.because(f"unexpected {type(res).__name__}")


def _proof_steps(tree: SearchTree, proof: list[str]) -> list[ProofStep]:
    states = tree.path_states(proof)
    return [ProofStep(state=key, tactic=e.tactic, logprob=e.logprob, depth=depth)
            for depth, (key, e) in enumerate(zip(states, tree.follow(proof)))]


def _error_siblings(tree: SearchTree, proof: list[str]) -> list[ErrorSibling]:
    """Tactics Lean rejected (or that failed verification) at states on the proof path."""
    out = []
    for depth, key in enumerate(tree.path_states(proof)):
        for r in tree.rejected(key):
            if r.outcome in (Outcome.LEAN_ERROR, Outcome.VERIFY_FAILED):
                out.append(ErrorSibling(state=key, tactic=r.tactic, error=r.error[:500], depth=depth))
    return out


__all__ = ["SearchConfig", "search", "priority", "unique_tactics", "Propose", "QED"]
