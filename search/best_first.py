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
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from lean_env.base import ProofEnv
from lean_env.rules import forbidden_tactic
from lean_env.types import (
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, StartResult, TacticResult, TacticState,
    TacticTimeout, Theorem, Verdict,
)
from search.generators.base import TacticCandidate
from search.records import AttemptRecord, ErrorSibling, ProofStep
from search.tree import (
    ENV_FAILURE, FAILED, GIVEN_UP, LEAN_ERROR, OPEN, QED, TIMEOUT, VERIFY_FAILED, SearchTree,
)

# (goal state text, n) -> sampled tactics; in practice the scheduler's cross-search batcher.
Propose = Callable[[str, int], Awaitable[Sequence[TacticCandidate]]]


@dataclass
class SearchConfig:
    """One attempt's budget. The per-tactic timeout belongs to the environment (`EnvConfig`)."""

    tactics_per_expansion: int = 8
    max_expansions: int = 32
    alpha: float = 2.0               # depth normalisation of the priority (BFS-Prover-V2's script: 2.0)
    wall_seconds: float = 120.0      # checked between steps: a running tactic finishes (or times out)
    max_env_failures: int = 8        # give up an attempt whose environment keeps failing

    def __post_init__(self) -> None:
        if self.tactics_per_expansion < 1 or self.max_expansions < 1:
            raise ValueError(f"tactics_per_expansion and max_expansions must be >= 1, got "
                             f"{self.tactics_per_expansion} and {self.max_expansions}")
        if self.wall_seconds <= 0 or self.alpha < 0 or self.max_env_failures < 1:
            raise ValueError(f"need wall_seconds > 0, alpha >= 0, max_env_failures >= 1; got {self}")

    @property
    def budget(self) -> str:
        """The per-attempt budget in the field's notation, tactics per expansion x expansions."""
        return f"{self.tactics_per_expansion}x{self.max_expansions}"


def priority(score: float, depth: int, alpha: float) -> float:
    """Queue priority of a node; the root (depth 0, score 0) gets its raw score."""
    return score / (depth ** alpha) if depth > 0 else score


def unique_tactics(candidates: Sequence[TacticCandidate]) -> list[TacticCandidate]:
    """Drop empty, forbidden and repeated tactics, keeping the best-scored copy of each; best first."""
    best: dict[str, TacticCandidate] = {}
    for c in candidates:
        tac = c.tactic.strip()
        if not tac or forbidden_tactic(tac):
            continue
        if tac not in best or c.mean_logprob > best[tac].mean_logprob:
            best[tac] = c if tac == c.tactic else dataclasses.replace(c, tactic=tac)
    return sorted(best.values(), key=lambda c: -c.mean_logprob)


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
        self.handles: dict[str, TacticState] = {}        # goal text -> the env's state for it
        self.handle_paths: dict[str, tuple[str, ...]] = {}  # the tactics that produced that state
        self.queue: list[tuple[float, int, str]] = []
        self.tie = itertools.count()
        self.last_env_error = ""

    # ------------------------------------------------------------ the loop
    async def run(self) -> tuple[AttemptRecord, SearchTree | None]:
        root = await self._env(self.env.start(self.theorem))
        if not isinstance(root, TacticState):
            self.rec.failure = _start_failure(root)
            self.rec.env_failures += isinstance(root, EnvFailure)
            return await self._finish(None), None
        self.tree = SearchTree(root.pp, self.theorem.id)
        self.handles[root.pp], self.handle_paths[root.pp] = root, ()
        self._push(root.pp)

        proof = None
        while proof is None:
            stop = self._stop_reason()
            if stop:
                self.rec.failure = stop
                break
            key = self._pop()
            if key is None:
                self.rec.failure = "exhausted"
                break
            proof = await self._expand(key)
        return await self._finish(proof), self.tree

    def _stop_reason(self) -> str:
        if self.cancel is not None and self.cancel.is_set():
            return "cancelled"
        if self.rec.env_failures >= self.cfg.max_env_failures:
            return f"env: {self.rec.env_failures} environment failures, last: {self.last_env_error}"[:500]
        if self.rec.expansions >= self.cfg.max_expansions:
            return "budget: expansions"
        if time.perf_counter() - self.t_start > self.cfg.wall_seconds:
            return "budget: time"
        if self.tree.node(self.tree.root)["status"] == FAILED:
            return "exhausted"
        return ""

    def _push(self, key: str) -> None:
        n = self.tree.node(key)
        heapq.heappush(self.queue, (-priority(n["score"], n["depth"], self.cfg.alpha), next(self.tie), key))

    def _pop(self) -> str | None:
        """The best open, unexpanded node (stale queue entries of merged nodes are skipped)."""
        while self.queue:
            _, _, key = heapq.heappop(self.queue)
            n = self.tree.node(key)
            if not n["expanded"] and n["status"] == OPEN:
                return key
        return None

    async def _expand(self, key: str) -> list[str] | None:
        """Sample, run and record the tactics at `key`; returns a verified proof if one was found."""
        t0 = time.perf_counter()
        sampled = await self.propose(key, self.cfg.tactics_per_expansion)
        self.t_gen += time.perf_counter() - t0
        if self.cancel is not None and self.cancel.is_set():
            return None  # the loop records "cancelled"; the node stays open and is not counted
        self.rec.expansions += 1
        candidates = unique_tactics(sampled)[: self.cfg.tactics_per_expansion]
        self.rec.tactics_tried += len(candidates)

        state = self.handles[key]
        t0 = time.perf_counter()
        results = await asyncio.gather(*(self._run_tactic(state, c.tactic) for c in candidates))
        self.t_env += time.perf_counter() - t0
        finished = [c for c, r in zip(candidates, results) if self._record(key, c, r)]

        proof = None
        for cand in finished:
            proof = await self._try_proof(key, cand)
            if proof is not None:
                break
        self.tree.mark_expanded(key)
        return proof

    def _record(self, key: str, cand: TacticCandidate, res: TacticResult) -> bool:
        """Put one tactic's outcome into the graph and the counters; True if it closed all goals."""
        tree, lp = self.tree, cand.mean_logprob
        if isinstance(res, ProofFinished):
            return True
        if isinstance(res, TacticState):
            child = res.pp
            if tree.add_child(key, child, cand.tactic, lp):
                if child not in self.handles:
                    self.handles[child] = res
                    self.handle_paths[child] = self.handle_paths[key] + (cand.tactic,)
                if not tree.node(child)["expanded"]:
                    self._push(child)
            return False
        if isinstance(res, LeanError):
            self.rec.lean_errors += 1
            tree.add_error(key, cand.tactic, lp, LEAN_ERROR, res.message[:2000])
        elif isinstance(res, ProofGivenUp):
            self.rec.lean_errors += 1
            tree.add_error(key, cand.tactic, lp, GIVEN_UP, res.message[:2000])
        elif isinstance(res, TacticTimeout):
            self.rec.timeouts += 1
            tree.add_error(key, cand.tactic, lp, TIMEOUT, f"timeout after {res.seconds:g}s {res.message}".strip())
        elif isinstance(res, EnvFailure):
            self.rec.env_failures += 1
            self.last_env_error = res.message[:300]
            tree.add_error(key, cand.tactic, lp, ENV_FAILURE, res.message[:2000])
        else:
            self.rec.env_failures += 1
            self.last_env_error = f"unknown outcome {type(res).__name__}"
            tree.add_error(key, cand.tactic, lp, ENV_FAILURE, self.last_env_error)
        return False

    async def _try_proof(self, key: str, cand: TacticCandidate) -> list[str] | None:
        """Verify the tactics that led to `key` plus `cand`; a failing verdict is a failed edge."""
        tactics = list(self.handle_paths[key]) + [cand.tactic]
        verdict = await self._verify(tactics)
        if verdict.ok:
            self.tree.add_child(key, QED, cand.tactic, cand.mean_logprob)
            return tactics
        self.rec.lean_errors += 1
        self.tree.add_error(key, cand.tactic, cand.mean_logprob, VERIFY_FAILED,
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

    async def _run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        try:
            return await self.env.run_tactic(state, tactic)
        except Exception as e:  # one crashed call fails one tactic, not its siblings
            return EnvFailure(f"{type(e).__name__}: {e}")

    async def _verify(self, tactics: list[str]) -> Verdict:
        res = await self._env(self.env.verify(self.theorem, tactics))
        if isinstance(res, EnvFailure):
            self.rec.env_failures += 1
            self.last_env_error = res.message[:300]
            return Verdict(False, (f"env: {res.message}",))
        return res

    # ------------------------------------------------------------ the record
    async def _finish(self, proof: list[str] | None) -> AttemptRecord:
        rec = self.rec
        if proof is not None:
            shortest = self.tree.shortest_proof()
            # A shorter route through merged states counts only if it verifies too.
            if shortest and len(shortest) < len(proof) and (await self._verify(shortest)).ok:
                proof = shortest
            rec.proved, rec.proof, rec.failure = True, proof, ""
            rec.steps, rec.error_siblings = _proof_steps(self.tree, proof), _error_siblings(self.tree, proof)
        rec.time_generate, rec.time_env = self.t_gen, self.t_env
        rec.wall = time.perf_counter() - self.t_start
        rec.time_bookkeeping = max(rec.wall - self.t_gen - self.t_env, 0.0)
        return rec


def _start_failure(res: StartResult) -> str:
    if isinstance(res, LeanError):
        return f"start: {res.message}"[:500]
    if isinstance(res, TacticTimeout):
        return f"start: timeout after {res.seconds:g}s {res.message}".strip()[:500]
    if isinstance(res, EnvFailure):
        return f"env: {res.message}"[:500]
    return f"start: unexpected {type(res).__name__}"


def _proof_steps(tree: SearchTree, proof: list[str]) -> list[ProofStep]:
    keys = tree.follow(proof)
    return [ProofStep(state=a, tactic=tac, logprob=tree.g.edges[a, b]["logprob"], depth=depth)
            for depth, (a, b, tac) in enumerate(zip(keys, keys[1:], proof))]


def _error_siblings(tree: SearchTree, proof: list[str]) -> list[ErrorSibling]:
    """Tactics Lean rejected (or that failed verification) at states on the proof path."""
    out = []
    for depth, key in enumerate(tree.path_states(proof)):
        for e in tree.rejected(key):
            if e["outcome"] in (LEAN_ERROR, VERIFY_FAILED):
                out.append(ErrorSibling(state=key, tactic=e["tactic"], error=e["error"][:500], depth=depth))
    return out


__all__ = ["SearchConfig", "search", "priority", "unique_tactics", "Propose", "QED"]
