"""The GRPO learner: one optimiser step from a batch of trajectories (`grpo_step`), and the loop
that samples, filters, trains, logs and checkpoints (`train_grpo` / `run_grpo`).

One step: drop environment failures, group attempts by theorem, drop groups whose rewards are
all equal, give every turn of attempt i the advantage A_i, then hand the turns, in micro-batches,
to the shared loop (training/trainer.py) with `GRPOObjective`: each micro-batch's summed clipped
objective is divided by the TOTAL trained tokens of the step, gradients accumulate, are clipped,
and the step is applied; then the entropy controller moves once. Dropout stays off (the trainer
is built with dropout=False), as in sampling: with unchanged weights the ratio must be exactly 1.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from lean_env.base import ProofEnv
from lean_env.jsonl import append_jsonl
from lean_env.types import Theorem
from training.grpo.batch import collate_turns, train_logprobs
from training.grpo.config import GRPOConfig
from training.grpo.controller import EntropyController
from training.grpo.filter import count_bounds, count_successes, is_degenerate
from training.grpo.loss import TokenStats, clipped_objective, group_advantages, k3_kl
from training.grpo.records import Trajectory, Turn
from training.grpo.rollout import Policy, rollout_group
from training.trainer import Trainer

__all__ = ["GRPOConfig", "GRPOObjective", "StepStats", "grpo_step", "collect_groups", "train_grpo", "run_grpo",
           "make_controller", "make_trainer"]

Item = tuple[Turn, float]   # a trained turn and its advantage


@dataclass
class StepStats:
    step: int = 0
    loss: float = 0.0
    logp_diff_mean: float = 0.0      # mean |logp_train - logp_infer|
    logp_diff_max: float = 0.0
    k3_mismatch: float = 0.0         # mean(r - log r - 1)
    frac_clipped: float = 0.0
    frac_outer_capped: float = 0.0
    entropy: float = 0.0             # importance-weighted estimate, before the update
    k: float = 0.0                   # upper clip bound used in this step
    k_next: float = 0.0              # after the controller moved it
    grad_norm: float = 0.0
    kl: float = 0.0                  # mean k3 KL to the reference (0 when off)
    reward_mean: float = 0.0         # over every trajectory handed to the step
    kept_theorems: int = 0           # groups actually trained on
    dropped_degenerate: int = 0
    env_failed: int = 0
    trajectories: int = 0
    tokens: int = 0
    skipped: bool = False            # nothing to train on: no optimiser step was taken
    rollout: dict = field(default_factory=dict)   # filter counts from the sampling phase

    def to_dict(self) -> dict:
        return asdict(self)


def make_controller(cfg: GRPOConfig) -> EntropyController:
    return EntropyController(k=cfg.k_init, k_max=cfg.k_max, delta=cfg.delta, target=cfg.target_entropy)


def make_trainer(model, cfg: GRPOConfig) -> Trainer:
    """The shared loop for `cfg.steps` GRPO steps, without dropout."""
    return Trainer(model, cfg, total_steps=max(cfg.steps, 1), dropout=False)


def turns_with_advantages(trajectories: Sequence[Trajectory], cfg: GRPOConfig) -> tuple[list[Item], int, int]:
    """(turn, A) for every trained turn; also the numbers of kept and degenerate groups."""
    groups: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        if not t.env_failed:
            groups[t.theorem_id].append(t)
    items, kept, degenerate = [], 0, 0
    for group in groups.values():
        rewards = [t.reward for t in group]
        if is_degenerate(rewards):
            degenerate += 1
            continue
        kept += 1
        for traj, a in zip(group, group_advantages(rewards, cfg.adv_eps, cfg.normalise_std)):
            items += [(turn, a) for turn in traj.turns if turn.completion_ids]
    return items, kept, degenerate


class GRPOObjective:
    """A micro-batch of (turn, advantage) items: the summed clipped objective (plus the k3 KL to
    a reference when kl_coef > 0), weighted by its sampled tokens; returns (TokenStats, KL sum)."""

    def __init__(self, cfg: GRPOConfig, k: float, ref_model=None):
        if cfg.kl_coef > 0 and ref_model is None:
            raise ValueError("kl_coef > 0 needs a reference model")
        self.cfg, self.k, self.ref_model = cfg, k, ref_model

    def weight(self, items: Sequence[Item]) -> float:
        return sum(len(turn.completion_ids) for turn, _ in items)

    def loss(self, model, items: Sequence[Item]) -> tuple[torch.Tensor, tuple[TokenStats, float]]:
        vocab = model.get_output_embeddings().weight.shape[0]
        pad = getattr(model.config, "pad_token_id", None)
        batch = collate_turns([t for t, _ in items], [a for _, a in items], 0 if pad is None else pad, vocab)
        logp = train_logprobs(model, batch)
        device = logp.device
        every = torch.ones_like(logp, dtype=torch.bool)
        loss, stats = clipped_objective(logp, batch.logp_infer.to(device), batch.advantages.to(device), every,
                                        self.k, self.cfg.eps_low, self.cfg.r_max)
        kl = 0.0
        if self.cfg.kl_coef > 0:
            with torch.no_grad():
                ref_logp = train_logprobs(self.ref_model, batch)
            kl_sum = k3_kl(logp, ref_logp, every)
            kl = float(kl_sum.detach())
            loss = loss + self.cfg.kl_coef * kl_sum
        return loss, (stats, kl)


def micro_batches(items: Sequence[Item], size: int) -> list[list[Item]]:
    return [list(items[i: i + size]) for i in range(0, len(items), size)]


def grpo_step(trainer: Trainer, trajectories: Sequence[Trajectory], cfg: GRPOConfig,
              controller: EntropyController, ref_model=None) -> StepStats:
    """One optimiser step on `trajectories` (any number of theorems, grouped by theorem_id)."""
    objective = GRPOObjective(cfg, controller.k, ref_model)
    stats = StepStats(k=controller.k, k_next=controller.k, trajectories=len(trajectories),
                      env_failed=sum(t.env_failed for t in trajectories))
    if trajectories:
        stats.reward_mean = sum(t.reward for t in trajectories) / len(trajectories)
    items, stats.kept_theorems, stats.dropped_degenerate = turns_with_advantages(trajectories, cfg)
    if objective.weight(items) == 0:
        stats.skipped = True
        return stats
    result = trainer.step(micro_batches(items, cfg.micro_batch_size), objective)
    sums, kl_total = TokenStats(), 0.0
    for token_stats, kl in result.aux:
        sums.add(token_stats)
        kl_total += kl
    stats.skipped = result.skipped
    stats.loss = result.loss
    stats.grad_norm = result.grad_norm
    stats.tokens = sums.tokens
    stats.logp_diff_mean = sums.mean(sums.abs_diff_sum)
    stats.logp_diff_max = sums.abs_diff_max
    stats.k3_mismatch = sums.mean(sums.k3_sum)
    stats.frac_clipped = sums.clipped / sums.tokens
    stats.frac_outer_capped = sums.capped / sums.tokens
    stats.entropy = sums.entropy
    stats.kl = kl_total / sums.tokens
    if not stats.skipped:
        stats.k_next = controller.update(stats.entropy)
    return stats


async def collect_groups(policy: Policy, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                         generator: torch.Generator | None = None) -> tuple[list[Trajectory], dict]:
    """Two-stage pass-rate filtering: G_early attempts must land in `early_bounds`, then the full
    group of G must land in `bounds`. Counts are over attempts the environment did not fail."""
    out: list[Trajectory] = []
    counts = {"theorems": len(theorems), "start_failed": 0, "dropped_early": 0, "dropped_final": 0, "kept": 0,
              "rollouts": 0, "rollout_reward_mean": 0.0}
    reward_sum = 0.0

    def in_bounds(group: list[Trajectory], bounds: tuple[float, float]) -> bool:
        usable = [t for t in group if not t.env_failed]
        return bool(usable) and count_bounds(len(usable), *bounds).keeps(count_successes([t.reward for t in usable]))

    for theorem in theorems:
        early: list[Trajectory] = []
        if cfg.G_early > 0:
            got = await rollout_group(policy, env, theorem, cfg.G_early, cfg, generator)
            if got is None:
                counts["start_failed"] += 1
                continue
            early = got
            counts["rollouts"] += len(got)
            reward_sum += sum(t.reward for t in got)
            if not in_bounds(early, cfg.early_bounds):
                counts["dropped_early"] += 1
                continue
        n_more = cfg.G - len(early) if cfg.reuse_early else cfg.G
        rest = await rollout_group(policy, env, theorem, n_more, cfg, generator, first_index=len(early))
        if rest is None:
            counts["start_failed"] += 1
            continue
        counts["rollouts"] += len(rest)
        reward_sum += sum(t.reward for t in rest)
        group = early + rest if cfg.reuse_early else rest
        if not in_bounds(group, cfg.bounds):
            counts["dropped_final"] += 1
            continue
        counts["kept"] += 1
        out += group
    counts["rollout_reward_mean"] = reward_sum / max(counts["rollouts"], 1)
    return out, counts


def save_policy(policy: Policy, path: Path, meta: dict) -> Path:
    from search.generators.checkpoint import save_checkpoint

    return save_checkpoint(policy.model, policy.tokenizer, path, meta)


def open_tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter(str(out_dir / "tensorboard"))
    except Exception as e:  # tensorboard not installed: JSON lines still have everything
        print(f"grpo: TensorBoard disabled ({type(e).__name__}: {e})", file=sys.stderr)
        return None


async def train_grpo(policy: Policy, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                     out_dir: str | Path, ref_model=None) -> Path:
    """The loop: sample and filter groups, one GRPO step, log `telemetry.jsonl`, checkpoint.
    Returns the final checkpoint directory (`out_dir/final`)."""
    if not theorems:
        raise ValueError("no theorems to train on")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grpo_config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    trainer = make_trainer(policy.model, cfg)
    controller = make_controller(cfg)
    writer = open_tensorboard(out) if cfg.tensorboard else None
    order: list[Theorem] = []
    for step in range(cfg.steps):
        batch_theorems = []
        while len(batch_theorems) < min(cfg.theorems_per_step, len(theorems)):
            if not order:
                order = list(theorems)
                rng.shuffle(order)
            batch_theorems.append(order.pop())
        trajectories, counts = await collect_groups(policy, env, batch_theorems, cfg, generator)
        stats = grpo_step(trainer, trajectories, cfg, controller, ref_model)
        stats.step, stats.rollout = step, counts
        append_jsonl(out / "telemetry.jsonl", [stats.to_dict()])
        if writer is not None:
            for key, value in stats.to_dict().items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    writer.add_scalar(f"grpo/{key}", value, step)
        if cfg.save_every and (step + 1) % cfg.save_every == 0:
            save_policy(policy, out / f"step-{step + 1:05d}", {"grpo": cfg.to_dict(), "step": step + 1, "k": controller.k})
    if writer is not None:
        writer.close()
    return save_policy(policy, out / "final", {"grpo": cfg.to_dict(), "step": cfg.steps, "k": controller.k})


def load_policy(model_dir: str | Path) -> Policy:
    from search.generators.checkpoint import load_checkpoint

    model, tokenizer, _ = load_checkpoint(model_dir, dtype="float32")
    return Policy(model=model, tokenizer=tokenizer)


async def grpo_from_checkpoint(model_dir: str | Path, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                               out_dir: str | Path) -> Path:
    """Load the checkpoint (and a frozen copy as the reference when kl_coef > 0) and train."""
    policy = load_policy(model_dir)
    ref = None
    if cfg.kl_coef > 0:
        ref = load_policy(model_dir).model
        ref.requires_grad_(False)
    return await train_grpo(policy, env, theorems, cfg, out_dir, ref)


def run_grpo(model_dir: str | Path, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
             out_dir: str | Path) -> Path:
    """Synchronous entry point: `grpo_from_checkpoint` in a fresh event loop. Callers already inside
    an event loop (or whose env is bound to one) should await it instead."""
    return asyncio.run(grpo_from_checkpoint(model_dir, env, theorems, cfg, out_dir))
