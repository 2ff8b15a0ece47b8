"""Self-distillation, the soft reset for RL: sample many attempts from one or several late
checkpoints, keep the successful (verified) ones, and SFT a clean checkpoint on their
(goal-state prompt, tactic) pairs with the shared SFT trainer (`training.sft.train_sft`).
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Sequence

import torch

from lean_env.base import ProofEnv
from lean_env.types import Outcome, Theorem
from training.grpo.config import GRPOConfig
from training.grpo.records import Trajectory
from training.grpo.rollout import Policy, rollout_batch

ACCEPTED = (Outcome.STATE, Outcome.FINISHED)   # turns whose tactic the environment accepted


async def collect_successful_async(policies: Sequence[Policy], env: ProofEnv, theorems: Sequence[Theorem],
                                   samples_per_theorem: int, cfg: GRPOConfig, seed: int = 0) -> list[Trajectory]:
    """`samples_per_theorem` attempts per theorem from EACH policy; verified ones only."""
    if samples_per_theorem < 1:
        raise ValueError("samples_per_theorem must be >= 1")
    generator = torch.Generator().manual_seed(seed)
    out: list[Trajectory] = []
    for c, policy in enumerate(policies):   # one batched rollout over all theorems per checkpoint
        requests = [(theorem, samples_per_theorem, c * samples_per_theorem) for theorem in theorems]
        for group in await rollout_batch(policy, env, requests, cfg, generator):
            out += [t for t in group or [] if t.verified]
    return out


def collect_successful(checkpoints: Sequence[str | Path | Policy], env: ProofEnv, theorems: Sequence[Theorem],
                       samples_per_theorem: int, cfg: GRPOConfig | None = None, seed: int = 0) -> list[Trajectory]:
    """Synchronous wrapper: checkpoints are HF model dirs (or already-loaded Policies)."""
    from training.grpo.trainer import load_policy

    if not checkpoints:
        raise ValueError("no checkpoints to sample from")
    policies = [c if isinstance(c, Policy) else load_policy(c) for c in checkpoints]
    return asyncio.run(collect_successful_async(policies, env, theorems, samples_per_theorem, cfg or GRPOConfig(), seed))


def distill_examples(trajectories: Sequence[Trajectory], successful_only: bool = True) -> list[tuple[str, str]]:
    """(prompt, tactic) pairs of the turns the environment accepted, in attempt order.

    With successful_only=False, failed attempts contribute their accepted steps too (the docs
    report that all traces work about as well as successful ones)."""
    examples = []
    for t in trajectories:
        if successful_only and not t.verified:
            continue
        examples += [(turn.prompt, turn.tactic) for turn in t.turns if turn.outcome in ACCEPTED and turn.tactic]
    return examples


def self_distill(base: str | Path | Policy, trajectories: Sequence[Trajectory], out_dir: str | Path,
                 sft_cfg=None, successful_only: bool = True):
    """SFT the clean checkpoint `base` on the trajectories; writes an HF dir to out_dir and
    returns the `SFTResult`."""
    from training.grpo.trainer import load_policy
    from training.sft import SFTConfig, train_sft

    examples = distill_examples(trajectories, successful_only)
    if not examples:
        raise ValueError("no usable (prompt, tactic) pairs: nothing succeeded, or all turns were rejected")
    policy = base if isinstance(base, Policy) else load_policy(base)
    return train_sft(policy.model, policy.tokenizer, examples, sft_cfg or SFTConfig(), out_dir)
