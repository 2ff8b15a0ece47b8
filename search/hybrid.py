"""Draft, then search: DeepSeek-Prover-V1.5's truncate-and-resume with best-first step search.

One attempt: a whole-proof model writes a draft (search/whole_proof.py); a draft that verifies is
the proof. Otherwise the draft is replayed tactic by tactic, cut before its first failing tactic,
and best-first search (search/best_first.py) continues from the goal state the good prefix reached,
with the step model's tactics and the attempt's budget. The search sees the prefix as already
played (`PrefixEnv`): its root is that state and every proof it verifies is prefix + its tactics,
checked by the environment's one whole-proof verification.

`mode_search` builds what an evaluation mode runs: plain search, whole proofs, or this hybrid.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Sequence

from lean_env.base import ProofEnv, release, run_tactics
from lean_env.types import TacticResult, TacticState, Theorem, Verdict
from policy.factory import make_generator
from policy.presets import get_preset
from search.batcher import GenerationBatcher, request_key
from search.best_first import Propose, SearchConfig, search
from search.records import AttemptRecord
from search.whole_proof import Turn, WholeProofConfig, WholeProofSearch, diagnose, raw_generator_config


class PrefixEnv:
    """`env` with a proof prefix already played: `start` gives the state after it, `verify` checks
    prefix + the tactics. Releasing is the owner's (the attempt releases the real root)."""

    def __init__(self, env: ProofEnv, prefix: Sequence[str], state: TacticState):
        self.env, self.prefix, self.state = env, list(prefix), state

    async def start(self, theorem: Theorem) -> TacticState:
        return self.state

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        return await self.env.run_tactic(state, tactic)

    async def run_tactics(self, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
        return await run_tactics(self.env, state, tactics)

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        return await self.env.verify(theorem, self.prefix + list(tactics))

    async def release(self, root: TacticState) -> None:
        return None

    async def close(self) -> None:
        return None


class HybridSearch:
    """A `search_fn`: `draft_propose(prompt, n, key)` samples the whole-proof model (through
    `drafter`'s prompts; a `GenerationBatcher.propose`, so each attempt's draft has its own request
    key), the `propose` the scheduler passes samples the step model."""

    def __init__(self, drafter: WholeProofSearch, draft_propose):
        self.drafter, self.draft_propose = drafter, draft_propose

    async def __call__(self, theorem: Theorem, env: ProofEnv, propose: Propose, cfg: SearchConfig, attempt: int = 0,
                       cancel: asyncio.Event | None = None) -> tuple[AttemptRecord, object]:
        t0 = time.perf_counter()
        d = self.drafter
        # keyed by (theorem, attempt): each attempt draws its own draft, the same one on a resume
        async def draft_propose(state: str, n: int):
            return await self.draft_propose(state, n, request_key(theorem.id, attempt, state, 0))

        output, draft_tokens = await d.draft(theorem, draft_propose, d.first_messages(theorem))
        tactics, reasons = d.proof_of(theorem, output) if output is not None else ([], ["no output"])
        verdict = await env.verify(theorem, tactics) if tactics else None
        turn = Turn(0, draft_tokens, bool(verdict and verdict.ok), list(verdict.reasons if verdict else reasons)[:3])
        info = {"mode": "hybrid", "turns": [asdict(turn)], "draft_verified": turn.verified}
        if verdict is not None and verdict.ok:
            rec = AttemptRecord(theorem_id=theorem.id, benchmark=theorem.benchmark, split=theorem.split,
                                attempt=attempt, proved=True, proof=list(tactics))
            rec.tokens, rec.whole, rec.wall = draft_tokens, {**info, "resumed_from": None}, time.perf_counter() - t0
            return rec, None
        diag = await diagnose(env, theorem, tactics, verdict, keep_root=True)
        try:
            counted = _Counting(propose)
            if diag.state is None:   # the statement did not start, or the draft closed the goals early
                rec, tree = await search(theorem, env, counted, cfg, attempt, cancel)
                prefix: list[str] = []
            else:
                prefix = diag.tactics[: diag.good]
                rec, tree = await search(theorem, PrefixEnv(env, prefix, diag.state), counted, cfg, attempt, cancel)
        finally:
            if diag.root is not None:
                await release(env, diag.root)
        if rec.proved:
            rec.proof = prefix + list(rec.proof or [])
        rec.tokens = draft_tokens + counted.tokens
        rec.whole = {**info, "resumed_from": len(prefix), "draft_tactics": len(diag.tactics)}
        rec.wall = time.perf_counter() - t0
        return rec, tree


class _Counting:
    """`propose`, counting the tokens of the tactics it returns."""

    def __init__(self, propose: Propose):
        self.propose, self.tokens = propose, 0

    async def __call__(self, state: str, n: int):
        got = await self.propose(state, n)
        self.tokens += sum(c.num_tokens for c in got)
        return got


class CountingSearch:
    """Plain best-first search with the attempt's generated tokens recorded (for budget tables)."""

    async def __call__(self, theorem, env, propose, cfg, attempt=0, cancel=None):
        counted = _Counting(propose)
        rec, tree = await search(theorem, env, counted, cfg, attempt, cancel)
        rec.tokens = counted.tokens
        return rec, tree


# ---------------------------------------------------------------- the evaluation modes

def mode_search(mode: str, generator_cfg, repair_rounds: int = 0, draft_cfg=None, distributed=None):
    """(search_fn, generator, draft batcher or None) of an evaluation mode: `search` (best-first,
    tokens counted), `whole` (`generator_cfg` is a whole-proof preset) or `hybrid` (`draft_cfg` is)."""
    if mode not in ("search", "whole", "hybrid"):
        raise ValueError(f"unknown mode {mode!r}; choose search, whole or hybrid")
    if mode == "search":
        return CountingSearch(), make_generator(generator_cfg, distributed=distributed), None

    def whole(cfg, what: str):
        if cfg is None or cfg.preset is None or get_preset(cfg.preset).output != "proof":
            raise ValueError(f"{what} needs a whole-proof preset (deepseek-prover-v1.5, deepseek-prover-v2, "
                             "goedel-prover-v2, kimina-prover, tiny-whole)")
        gen = make_generator(raw_generator_config(cfg), distributed=distributed)
        return gen, WholeProofSearch(cfg.preset, WholeProofConfig(repair_rounds, max_tokens=cfg.sampling.max_tokens),
                                     tokenizer=getattr(gen, "tokenizer", None))

    if mode == "whole":
        gen, fn = whole(generator_cfg, "--mode whole")
        return fn, gen, None
    if draft_cfg is None:
        raise ValueError("--mode hybrid needs a whole-proof draft model (--draft-model DIR)")
    if repair_rounds:
        raise ValueError("--repair-rounds applies to --mode whole; the hybrid continues a draft by search")
    draft_gen, drafter = whole(draft_cfg, "--mode hybrid's draft model")
    batcher = GenerationBatcher(draft_gen, max_batch=64)
    return HybridSearch(drafter, batcher.propose), make_generator(generator_cfg, distributed=distributed), batcher


__all__ = ["PrefixEnv", "HybridSearch", "CountingSearch", "mode_search"]
