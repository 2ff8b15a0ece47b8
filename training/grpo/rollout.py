"""Multi-turn rollouts of the prover on its own task: G independent attempts at one theorem.

An attempt repeats: render the current goal state as a prompt, sample one tactic, run it in the
environment. A proof reported finished in tactic mode is then checked with `env.verify`, and only
an ok Verdict earns reward 1. A rejected tactic ends the attempt with reward 0 (or is retried from
the same state, `error_retries` times per attempt); `max_turns` bounds the attempt. Optional
shaping (`step_bonus`, off by default) gives failed attempts a small reward per accepted tactic,
capped at SHAPING_CAP so that any verified proof outranks any failure.
An environment failure is not the policy's fault: the attempt is marked `env_failed` and the
trainer leaves it out instead of training on it as a negative.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lean_env.base import ProofEnv
from lean_env.types import EnvFailure, LeanError, Outcome, TacticState, Theorem, outcome_of
from search.generators.base import PromptFormat
from search.generators.sampling import sample
from search.generators.tokens import encode_prompt, truncate_prompt
from training.grpo.config import GRPOConfig
from training.grpo.records import Trajectory, Turn

SHAPING_CAP = 0.5


@dataclass
class Policy:
    """The model being trained, with what it needs to turn goal states into tactics."""

    model: torch.nn.Module
    tokenizer: object
    fmt: PromptFormat = field(default_factory=PromptFormat)


def prompt_ids(policy: Policy, prompt: str, max_tokens: int) -> list[int]:
    """Shared tokenisation; an over-long prompt keeps BOS and its end (where the goal sits)."""
    return truncate_prompt(encode_prompt(policy.tokenizer, prompt), max_tokens, policy.tokenizer.bos_token_id)


def sample_turn(policy: Policy, state: TacticState, attempt_id: str, cfg: GRPOConfig,
                generator: torch.Generator | None) -> Turn:
    prompt = policy.fmt.prompt(state.pp)
    ids = prompt_ids(policy, prompt, cfg.max_prompt_tokens)
    eos, pad = policy.tokenizer.eos_token_id, policy.tokenizer.pad_token_id
    params = cfg.sampling
    s = sample(policy.model, [ids], 1, params, eos, eos if pad is None else pad, generator=generator,
               record_kept=True)[0][0]
    body = s.token_ids[:-1] if s.finished else s.token_ids
    tactic = policy.fmt.postprocess(policy.tokenizer.decode(body, skip_special_tokens=True), params.stop)
    return Turn(attempt_id=attempt_id, prompt=prompt, tactic=tactic, prompt_ids=ids,
                completion_ids=s.token_ids, infer_logprobs=s.token_logprobs, kept_ids=s.kept_ids,
                temperature=params.temperature)


async def rollout_attempt(policy: Policy, env: ProofEnv, theorem: Theorem, start: TacticState,
                          attempt_id: str, cfg: GRPOConfig, generator: torch.Generator | None = None) -> Trajectory:
    traj = Trajectory(theorem_id=theorem.id, attempt_id=attempt_id)
    state, proof, retries_left = start, [], cfg.error_retries
    for _ in range(cfg.max_turns):
        turn = sample_turn(policy, state, attempt_id, cfg, generator)
        traj.turns.append(turn)
        if not turn.tactic:
            result = LeanError("empty tactic")
        else:
            try:
                result = await env.run_tactic(state, turn.tactic)
            except Exception as e:  # the contract says envs never raise; do not lose the batch if one does
                result = EnvFailure(f"run_tactic raised {type(e).__name__}: {e}")
        turn.outcome = outcome_of(result)
        if turn.outcome == Outcome.STATE:
            state = result
            proof.append(turn.tactic)
            continue
        if turn.outcome == Outcome.FINISHED:
            proof.append(turn.tactic)
            try:
                traj.verified = (await env.verify(theorem, proof)).ok
                if not traj.verified:
                    turn.outcome = Outcome.VERIFY_FAILED
            except Exception:
                turn.outcome = Outcome.ENV_FAILURE
                traj.env_failed = True
            break
        if turn.outcome == Outcome.ENV_FAILURE:
            traj.env_failed = True
            break
        if retries_left == 0:   # a Lean error, `sorry` or a timeout: retry from the same state, or stop
            break
        retries_left -= 1
    traj.reward = 1.0 if traj.verified else min(cfg.step_bonus * len(proof), SHAPING_CAP)
    return traj


async def rollout_group(policy: Policy, env: ProofEnv, theorem: Theorem, n: int, cfg: GRPOConfig,
                        generator: torch.Generator | None = None, first_index: int = 0) -> list[Trajectory] | None:
    """n attempts at `theorem`; None when the statement itself does not start (nothing to learn)."""
    try:
        start = await env.start(theorem)
    except Exception:
        return None
    if not isinstance(start, TacticState):
        return None
    return [await rollout_attempt(policy, env, theorem, start, f"{theorem.id}#{first_index + i}", cfg, generator)
            for i in range(n)]
