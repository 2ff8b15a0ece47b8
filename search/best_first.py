"""Best-first search over tactic states, as BFS-Prover-V2 runs it.

A tactic's score is the mean log-probability of its tokens; a node's score is the sum of its
tactics' scores from the root; the queue pops the open node with the highest
`score / depth ** alpha`. Each expansion samples n tactics, drops duplicates and forbidden ones,
runs the rest in the environment, and merges states with the same goal text. The first proof that
passes whole-proof verification ends the attempt.
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
    EnvFailure, LeanError, ProofFinished, ProofGivenUp, TacticState, TacticTimeout, Theorem,
)
from search.generators.base import TacticCandidate
from search.records import AttemptRecord, ErrorSibling, ProofStep
from search.tree import FAILED, OPEN, QED, SearchTree

# (goal state text, n) -> sampled tactics; in practice the scheduler's cross-search batcher.
Propose = Callable[[str, int], Awaitable[Sequence[TacticCandidate]]]


@dataclass
class SearchConfig:
    tactics_per_expansion: int = 8
    max_expansions: int = 32
    alpha: float = 2.0               # depth normalisation of the priority (BFS-Prover-V2's script: 2.0)
    wall_seconds: float = 120.0
    max_env_failures: int = 8        # give up an attempt whose environment keeps failing

    @property
    def budget(self) -> str:
        """The budget in the field's notation, tactics per expansion x expansions."""
        return f"{self.tactics_per_expansion}x{self.max_expansions}"


def priority(score: float, depth: int, alpha: float) -> float:
    return score / (depth ** alpha) if depth > 0 else 0.0


def unique_tactics(candidates: Sequence[TacticCandidate]) -> list[TacticCandidate]:
    """Drop empty, forbidden and repeated tactics, keeping the best-scored copy of each."""
    best: dict[str, TacticCandidate] = {}
    for c in candidates:
        tac = c.tactic.strip()
        if not tac or forbidden_tactic(tac):
            continue
        if tac not in best or c.mean_logprob > best[tac].mean_logprob:
            best[tac] = dataclasses.replace(c, tactic=tac)
    return sorted(best.values(), key=lambda c: -c.mean_logprob)


async def search(
    theorem: Theorem,
    env: ProofEnv,
    propose: Propose,
    cfg: SearchConfig,
    attempt: int = 0,
    cancel: asyncio.Event | None = None,
) -> tuple[AttemptRecord, SearchTree | None]:
    """One best-first search attempt. Never raises for Lean or environment trouble: the record says."""
    t_start = time.perf_counter()
    rec = AttemptRecord(theorem_id=theorem.id, benchmark=theorem.benchmark, split=theorem.split,
                        attempt=attempt, proved=False, proof=None)
    t_gen = t_env = 0.0

    t0 = time.perf_counter()
    root = await env.start(theorem)
    t_env += time.perf_counter() - t0
    if not isinstance(root, TacticState):
        rec.failure = f"start: {type(root).__name__}: {getattr(root, 'message', '')}"[:500]
        rec.env_failures += isinstance(root, EnvFailure)
        rec.wall = time.perf_counter() - t_start
        rec.time_env = t_env
        return rec, None

    tree = SearchTree(root.pp)
    handles: dict[str, TacticState] = {root.pp: root}
    errors_at: dict[str, list[ErrorSibling]] = {}
    tie = itertools.count()
    queue: list[tuple[float, int, str]] = [(-0.0, next(tie), root.pp)]
    proof: list[str] | None = None

    while queue:
        if cancel is not None and cancel.is_set():
            rec.failure = "cancelled"
            break
        if rec.expansions >= cfg.max_expansions:
            rec.failure = "budget: expansions"
            break
        if time.perf_counter() - t_start > cfg.wall_seconds:
            rec.failure = "budget: time"
            break
        if rec.env_failures >= cfg.max_env_failures:
            rec.failure = "env: too many environment failures"
            break
        _, _, key = heapq.heappop(queue)
        node = tree.node(key)
        if node["expanded"] or node["status"] != OPEN:
            continue
        rec.expansions += 1

        t0 = time.perf_counter()
        candidates = unique_tactics(await propose(key, cfg.tactics_per_expansion))
        t_gen += time.perf_counter() - t0
        rec.tactics_tried += len(candidates)

        t0 = time.perf_counter()
        results = await asyncio.gather(*(env.run_tactic(handles[key], c.tactic) for c in candidates))
        t_env += time.perf_counter() - t0

        finished: list[TacticCandidate] = []
        for cand, res in zip(candidates, results):
            if isinstance(res, TacticState):
                child = res.pp
                if tree.add_child(key, child, cand.tactic, cand.mean_logprob):
                    handles.setdefault(child, res)
                    c = tree.node(child)
                    if not c["expanded"]:
                        heapq.heappush(queue, (-priority(c["score"], c["depth"], cfg.alpha), next(tie), child))
            elif isinstance(res, ProofFinished):
                finished.append(cand)
            else:
                if isinstance(res, LeanError) or isinstance(res, ProofGivenUp):
                    rec.lean_errors += 1
                    message = getattr(res, "message", "")
                    errors_at.setdefault(key, []).append(ErrorSibling(key, cand.tactic, message[:500], node["depth"]))
                elif isinstance(res, TacticTimeout):
                    rec.timeouts += 1
                elif isinstance(res, EnvFailure):
                    rec.env_failures += 1
                tree.node(key)["errors"] += 1

        for cand in finished:
            tactics = list(node["path"]) + [cand.tactic]
            t0 = time.perf_counter()
            verdict = await env.verify(theorem, tactics)
            t_env += time.perf_counter() - t0
            if verdict.ok:
                tree.add_child(key, QED, cand.tactic, cand.mean_logprob)
                proof = tactics
                break
            errors_at.setdefault(key, []).append(ErrorSibling(key, cand.tactic, "verification: " + "; ".join(verdict.reasons)[:500], node["depth"]))
            rec.lean_errors += 1
        tree.mark_expanded(key)
        if proof is not None:
            break
        if tree.node(tree.root)["status"] == FAILED:
            rec.failure = "exhausted"
            break
    else:
        rec.failure = rec.failure or "exhausted"

    if proof is not None:
        shortest = tree.shortest_proof()
        if shortest and len(shortest) < len(proof):
            t0 = time.perf_counter()
            if (await env.verify(theorem, shortest)).ok:
                proof = shortest
            t_env += time.perf_counter() - t0
        rec.proved, rec.proof, rec.failure = True, proof, ""
        rec.steps = _proof_steps(tree, proof)
        on_path = set(tree.path_states(proof))
        rec.error_siblings = [e for k, errs in errors_at.items() if k in on_path for e in errs]
    rec.time_generate, rec.time_env = t_gen, t_env
    rec.wall = time.perf_counter() - t_start
    rec.time_bookkeeping = max(rec.wall - t_gen - t_env, 0.0)
    return rec, tree


def _proof_steps(tree: SearchTree, proof: list[str]) -> list[ProofStep]:
    steps, key = [], tree.root
    for depth, tac in enumerate(proof):
        nxt = next((c for c in tree.g.successors(key) if tree.g.edges[key, c]["tactic"] == tac), None)
        logprob = tree.g.edges[key, nxt]["logprob"] if nxt is not None else 0.0
        steps.append(ProofStep(state=key, tactic=tac, logprob=logprob, depth=depth))
        if nxt is None:
            break
        key = nxt
    return steps


__all__ = ["SearchConfig", "search", "priority", "unique_tactics", "Propose", "QED"]
