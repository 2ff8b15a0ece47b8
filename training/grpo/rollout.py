"""Multi-turn rollouts of the prover on its own task: attempts at many theorems at once.

An attempt repeats: render the current goal state as a prompt, sample one tactic, run it in the
environment. A proof reported finished in tactic mode is then checked with `env.verify`, and only
an ok Verdict earns reward 1. A rejected tactic ends the attempt with reward 0 (or is retried from
the same state, `error_retries` times per attempt); `max_turns` bounds the attempt. Optional
shaping (`step_bonus`, off by default) gives failed attempts a small reward per accepted tactic,
capped at SHAPING_CAP so that any verified proof outranks any failure.
An environment failure is not the policy's fault: the attempt is marked `env_failed` and the
trainer leaves it out instead of training on it as a negative.

Batching: `rollout_batch` advances every live attempt of every requested theorem in lockstep, one
turn at a time: one batched sampler call for all their goal states (the shared sampler, through a
`RolloutSampler`: `HFGenerator.sample_ids`, or vLLM, see training/grpo/engine.py), then all their
tactics run concurrently in the environment. Each row's sampling seed is a hash of (batch seed,
attempt id, turn), so an attempt samples the same tokens whatever else shares its batch.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import torch

from lean_env.base import ProofEnv, release
from lean_env.types import EnvFailure, LeanError, Outcome, TacticState, Theorem, outcome_of
from policy.base import PromptFormat
from policy.params import SamplingParams
from policy.sampling import Sample
from policy.tokens import encode_prompt, truncate_prompt
from training.grpo.config import GRPOConfig
from training.grpo.records import Trajectory, Turn

SHAPING_CAP = 0.5


@dataclass
class Policy:
    """The model being trained, with what it needs to turn goal states into tactics."""

    model: torch.nn.Module
    tokenizer: object
    fmt: PromptFormat = field(default_factory=PromptFormat)


class RolloutSampler(Protocol):
    """What rollouts need from an engine: one sample per prompt (token ids in) with per-token
    log-probs under the distribution sampled from and, where the engine can, top-p kept sets."""

    tokenizer: Any
    prompt: PromptFormat
    params: SamplingParams
    max_prompt_tokens: int | None

    def sample_ids(self, prompts: Sequence[list[int]], row_seeds: Sequence[int]) -> list[Sample]: ...


def policy_sampler(policy: Policy, cfg: GRPOConfig) -> RolloutSampler:
    """The HF sampler over the policy's own module (no copy: it sees every update at once)."""
    from policy.hf import HFGenerator

    r = cfg.rollout
    context = getattr(policy.model.config, "max_position_embeddings", None)
    limit = r.max_prompt_tokens
    if context and limit:
        limit = min(limit, context - r.sampling.max_tokens)
    return HFGenerator(policy.model, policy.tokenizer, r.sampling, policy.fmt, max_prompt_tokens=limit,
                       batch_size=r.batch_size)


def as_sampler(source: Policy | RolloutSampler, cfg: GRPOConfig) -> RolloutSampler:
    return policy_sampler(source, cfg) if isinstance(source, Policy) else source


def prompt_ids(policy: Policy | RolloutSampler, prompt: str, max_tokens: int) -> list[int]:
    """Shared tokenisation; an over-long prompt keeps BOS and its end (where the goal sits)."""
    return truncate_prompt(encode_prompt(policy.tokenizer, prompt), max_tokens, policy.tokenizer.bos_token_id)


def row_seed(batch_seed: int, attempt_id: str, turn: int) -> int:
    digest = hashlib.sha256(f"{batch_seed}\x00{attempt_id}\x00{turn}".encode()).digest()
    return int.from_bytes(digest[:7], "little")


def draw_seed(generator: torch.Generator | None) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator))


@dataclass
class _Attempt:
    theorem: Theorem
    traj: Trajectory
    state: TacticState
    retries_left: int
    proof: list[str] = field(default_factory=list)


def make_turn(sampler: RolloutSampler, attempt_id: str, prompt: str, ids: list[int], s: Sample) -> Turn:
    body = s.token_ids[:-1] if s.finished else s.token_ids
    tactic = sampler.prompt.postprocess(sampler.tokenizer.decode(body, skip_special_tokens=True), sampler.params.stop)
    kept = s.kept_ids if s.kept_ids is not None else [None] * len(s.token_ids)
    return Turn(attempt_id=attempt_id, prompt=prompt, tactic=tactic, prompt_ids=ids, completion_ids=s.token_ids,
                infer_logprobs=s.token_logprobs, kept_ids=kept, temperature=sampler.params.temperature)


async def _run(env: ProofEnv, state: TacticState, tactic: str):
    if not tactic:
        return LeanError("empty tactic")
    try:
        return await env.run_tactic(state, tactic)
    except Exception as e:  # the contract says envs never raise; do not lose the batch if one does
        return EnvFailure(f"run_tactic raised {type(e).__name__}: {e}")


async def _verify(env: ProofEnv, a: _Attempt, turn: Turn) -> None:
    try:
        a.traj.verified = (await env.verify(a.theorem, a.proof)).ok
        if not a.traj.verified:
            turn.outcome = Outcome.VERIFY_FAILED
    except Exception:
        turn.outcome = Outcome.ENV_FAILURE
        a.traj.env_failed = True


async def _start(env: ProofEnv, theorem: Theorem) -> TacticState | None:
    try:
        start = await env.start(theorem)
    except Exception:
        return None
    return start if isinstance(start, TacticState) else None


async def rollout_batch(source: Policy | RolloutSampler, env: ProofEnv, requests: Sequence[tuple[Theorem, int, int]],
                        cfg: GRPOConfig, generator: torch.Generator | None = None) -> list[list[Trajectory] | None]:
    """For each (theorem, n, first_index): n attempts (ids `theorem#first_index+i`), or None when
    the statement itself does not start (nothing to learn). All attempts share each sampler call."""
    sampler = as_sampler(source, cfg)
    seed = draw_seed(generator)
    limit = min(x for x in (cfg.rollout.max_prompt_tokens, sampler.max_prompt_tokens, 1 << 30) if x)
    starts = await asyncio.gather(*(_start(env, t) for t, _, _ in requests))
    groups: list[list[Trajectory] | None] = []
    live: list[_Attempt] = []
    for (theorem, n, first), start in zip(requests, starts):
        if start is None:
            groups.append(None)
            continue
        attempts = [_Attempt(theorem, Trajectory(theorem.id, f"{theorem.id}#{first + i}"), start, cfg.error_retries)
                    for i in range(n)]
        groups.append([a.traj for a in attempts])
        live += attempts
    everyone = list(live)
    try:
        await _turns(sampler, env, live, cfg, seed, limit)
    finally:   # per-attempt resources (a LeanDojo process per theorem) end with the batch
        await asyncio.gather(*(release(env, start) for start in starts if start is not None))
    for a in everyone:
        a.traj.reward = 1.0 if a.traj.verified else min(cfg.step_bonus * len(a.proof), SHAPING_CAP)
    return groups


async def _turns(sampler: RolloutSampler, env: ProofEnv, live: list[_Attempt], cfg: GRPOConfig, seed: int,
                 limit: int) -> None:
    """Every live attempt moves one tactic per turn; one sampler call per turn for all of them."""
    for turn_index in range(cfg.max_turns):
        if not live:
            break
        prompts = [sampler.prompt.prompt(a.state.pp) for a in live]
        ids = [prompt_ids(sampler, p, limit) for p in prompts]
        samples = sampler.sample_ids(ids, [row_seed(seed, a.traj.attempt_id, turn_index) for a in live])
        turns = [make_turn(sampler, a.traj.attempt_id, p, i, s) for a, p, i, s in zip(live, prompts, ids, samples)]
        results = await asyncio.gather(*(_run(env, a.state, t.tactic) for a, t in zip(live, turns)))
        still, finishing = [], []
        for a, turn, result in zip(live, turns, results):
            a.traj.turns.append(turn)
            turn.outcome = outcome_of(result)
            if turn.outcome == Outcome.STATE:
                a.state = result
                a.proof.append(turn.tactic)
                still.append(a)
            elif turn.outcome == Outcome.FINISHED:
                a.proof.append(turn.tactic)
                finishing.append((a, turn))
            elif turn.outcome == Outcome.ENV_FAILURE:
                a.traj.env_failed = True
            elif a.retries_left > 0:   # a Lean error, `sorry` or a timeout: retry from the same state, or stop
                a.retries_left -= 1
                still.append(a)
        await asyncio.gather(*(_verify(env, a, turn) for a, turn in finishing))
        live = still


async def rollout_group(source: Policy | RolloutSampler, env: ProofEnv, theorem: Theorem, n: int, cfg: GRPOConfig,
                        generator: torch.Generator | None = None, first_index: int = 0) -> list[Trajectory] | None:
    """n attempts at one theorem (a batch of one request)."""
    return (await rollout_batch(source, env, [(theorem, n, first_index)], cfg, generator))[0]
