"""The GRPO learner: optimiser steps on a rollout batch (`grpo_batch`, one step: `grpo_step`), and
the loop that samples, filters, trains, logs and checkpoints (`train_grpo` / `run_grpo`).

A rollout batch: drop environment failures, group attempts by theorem, drop groups whose rewards
are all equal, give every turn of attempt i the advantage A_i. Then, once, the trainer's own
(fp32) log-probs of every sampled token at the weights that start the batch, pi_old: their gap to
the sampler's recorded log-probs is the train/inference mismatch epsilon_t (telemetry; and the
truncated-IS weights when `tis_cap` > 0). Then `epochs` passes over the batch, each split into
`mini_batches` optimiser steps (PPO-style): from the second step on the policy has moved, so the
ratios depart from 1 and the clip, the outer cap and the entropy controller act. Each step hands
its turns, in micro-batches, to the shared loop (training/trainer.py) with `GRPOObjective`: each
micro-batch's summed clipped objective is divided by the TOTAL trained tokens of the step,
gradients accumulate, are clipped, and the step is applied; then the entropy controller moves
once. Dropout stays off (the trainer is built with dropout=False), as in sampling.

The controller's state (k and its history) is saved in every checkpoint's meta and read back by
the next round (`grpo_from_checkpoint`), so k persists across steps, rounds and resumes.
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
from lean_env.config import dump_record
from lean_env.types import Theorem
from training.grpo.batch import collate_turns, train_logprobs
from training.grpo.config import GRPOConfig
from training.grpo.controller import EntropyController
from training.grpo.engine import RolloutEngine
from training.grpo.filter import count_bounds, count_successes, is_degenerate
from training.grpo.loss import TokenStats, clipped_objective, group_advantages, k3_kl
from training.grpo.records import Trajectory, Turn
from training.grpo.rollout import Policy, RolloutSampler, rollout_batch
from training.trainer import Trainer

__all__ = ["GRPOConfig", "GRPOObjective", "StepStats", "Item", "grpo_step", "grpo_batch", "collect_groups",
           "train_grpo", "run_grpo", "make_controller", "make_trainer"]

CONTROLLER_KEY = "controller"     # checkpoint meta key of the entropy controller's state


@dataclass
class Item:
    """A trained turn, its advantage and, once computed, pi_old of its tokens (the trainer's
    log-probs at the weights that started the rollout batch)."""

    turn: Turn
    advantage: float
    logp_old: torch.Tensor | None = None


@dataclass
class StepStats:
    step: int = 0                    # optimiser step of the run
    batch: int = 0                   # rollout batch
    epoch: int = 0
    mini_batch: int = 0
    loss: float = 0.0
    logp_diff_mean: float = 0.0      # mean |log ratio| (against the ratio's denominator)
    logp_diff_max: float = 0.0
    k3_mismatch: float = 0.0         # mean(r - log r - 1) of the ratio r
    eps_mean: float = 0.0            # train/inference mismatch |logp_old - logp_infer|: mean,
    eps_p99: float = 0.0             # 99th percentile
    eps_max: float = 0.0             # and max (means cancel out; alert on the max)
    eps_k3: float = 0.0              # mean(e^x - x - 1), x = logp_old - logp_infer
    is_weight_mean: float = 1.0      # truncated-IS weight (1 when off)
    frac_is_capped: float = 0.0      # tokens whose IS weight hit tis_cap
    frac_clipped: float = 0.0
    frac_outer_capped: float = 0.0
    entropy: float = 0.0             # importance-weighted estimate, before the update
    k: float = 0.0                   # upper clip bound used in this step
    k_next: float = 0.0              # after the controller moved it
    grad_norm: float = 0.0
    kl: float = 0.0                  # mean k3 KL to the reference (0 when off)
    reward_mean: float = 0.0         # over every trajectory handed to the batch
    kept_theorems: int = 0           # groups actually trained on
    dropped_degenerate: int = 0
    env_failed: int = 0
    trajectories: int = 0
    tokens: int = 0
    sampler_step: int = 0            # the optimiser step whose weights sampled the batch (policy lag)
    skipped: bool = False            # nothing to train on: no optimiser step was taken
    rollout: dict = field(default_factory=dict)   # filter counts and bounds from the sampling phase

    def to_dict(self) -> dict:
        return asdict(self)


def make_controller(cfg: GRPOConfig, state: dict | None = None) -> EntropyController:
    return EntropyController(k=cfg.k_init, k_max=cfg.k_max, delta=cfg.delta, target=cfg.target_entropy).restore(state)


def make_trainer(model, cfg: GRPOConfig) -> Trainer:
    """The shared loop for all of the run's optimiser steps, without dropout."""
    return Trainer(model, cfg, total_steps=max(cfg.optimiser_steps, 1), dropout=False)


def turns_with_advantages(trajectories: Sequence[Trajectory], cfg: GRPOConfig) -> tuple[list[Item], int, int]:
    """An Item for every trained turn; also the numbers of kept and degenerate groups."""
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
            items += [Item(turn, a) for turn in traj.turns if turn.completion_ids]
    return items, kept, degenerate


def _collate(model, items: Sequence[Item]):
    vocab = model.get_output_embeddings().weight.shape[0]
    pad = getattr(model.config, "pad_token_id", None)
    return collate_turns([it.turn for it in items], [it.advantage for it in items], 0 if pad is None else pad, vocab)


@torch.no_grad()
def attach_old_logprobs(trainer: Trainer, items: Sequence[Item], micro_batch_size: int) -> None:
    """pi_old of every item's tokens: the trainer's forward at the current weights, no gradient."""
    for chunk in micro_batches(items, micro_batch_size):
        with trainer.accelerator.autocast():
            logp = train_logprobs(trainer.model, _collate(trainer.model, chunk)).float().cpu()
        for it, part in zip(chunk, logp.split([len(it.turn.completion_ids) for it in chunk])):
            it.logp_old = part


class GRPOObjective:
    """A micro-batch of Items: the summed clipped objective (plus the k3 KL to a reference when
    kl_coef > 0), weighted by its sampled tokens; returns (TokenStats, KL sum)."""

    def __init__(self, cfg: GRPOConfig, k: float, ref_model=None):
        if cfg.kl_coef > 0 and ref_model is None:
            raise ValueError("kl_coef > 0 needs a reference model")
        self.cfg, self.k, self.ref_model = cfg, k, ref_model

    def weight(self, items: Sequence[Item]) -> float:
        return sum(len(it.turn.completion_ids) for it in items)

    def loss(self, model, items: Sequence[Item]) -> tuple[torch.Tensor, tuple[TokenStats, float]]:
        batch = _collate(model, items)
        logp = train_logprobs(model, batch)
        device = logp.device
        infer = batch.logp_infer.to(device)
        denominator, is_weight = infer, None
        if self.cfg.tis_cap > 0:
            if any(it.logp_old is None for it in items):
                raise ValueError("truncated IS needs pi_old: call attach_old_logprobs first")
            old = torch.cat([it.logp_old for it in items]).to(device)
            denominator = old
            is_weight = torch.clamp(torch.exp(old - infer), max=self.cfg.tis_cap)
        every = torch.ones_like(logp, dtype=torch.bool)
        loss, stats = clipped_objective(logp, denominator, batch.advantages.to(device), every,
                                        self.k, self.cfg.eps_low, self.cfg.r_max, is_weight)
        kl = 0.0
        if self.cfg.kl_coef > 0:
            with torch.no_grad():
                ref_logp = train_logprobs(self.ref_model, batch)
            kl_sum = k3_kl(logp, ref_logp, every)
            kl = float(kl_sum.detach())
            loss = loss + self.cfg.kl_coef * kl_sum
        return loss, (stats, kl)


def micro_batches(items: Sequence, size: int) -> list[list]:
    return [list(items[i: i + size]) for i in range(0, len(items), size)]


def mismatch_stats(items: Sequence[Item], cfg: GRPOConfig, stats: StepStats) -> None:
    """epsilon_t = logp_old - logp_infer over the step's tokens (needs pi_old)."""
    if not items or any(it.logp_old is None for it in items):
        return
    old = torch.cat([it.logp_old for it in items]).double()
    infer = torch.tensor([x for it in items for x in it.turn.infer_logprobs], dtype=torch.float64)
    eps = old - infer
    size = eps.abs()
    stats.eps_mean, stats.eps_max = float(size.mean()), float(size.max())
    stats.eps_p99 = float(torch.quantile(size, 0.99))
    stats.eps_k3 = float((torch.exp(eps) - eps - 1).mean())
    if cfg.tis_cap > 0:
        w = torch.exp(eps)
        stats.is_weight_mean = float(torch.clamp(w, max=cfg.tis_cap).mean())
        stats.frac_is_capped = float((w >= cfg.tis_cap).double().mean())


def grpo_update(trainer: Trainer, items: Sequence[Item], cfg: GRPOConfig, controller: EntropyController,
                ref_model=None, stats: StepStats | None = None) -> StepStats:
    """One optimiser step on `items`; fills (a copy of) `stats` and moves the controller."""
    stats = StepStats(**{**(stats or StepStats()).to_dict(), "k": controller.k, "k_next": controller.k})
    objective = GRPOObjective(cfg, controller.k, ref_model)
    if objective.weight(items) == 0:
        stats.skipped = True
        return stats
    mismatch_stats(items, cfg, stats)
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


def batch_stats(trajectories: Sequence[Trajectory], cfg: GRPOConfig) -> tuple[list[Item], StepStats]:
    items, kept, degenerate = turns_with_advantages(trajectories, cfg)
    stats = StepStats(trajectories=len(trajectories), env_failed=sum(t.env_failed for t in trajectories),
                      kept_theorems=kept, dropped_degenerate=degenerate)
    if trajectories:
        stats.reward_mean = sum(t.reward for t in trajectories) / len(trajectories)
    return items, stats


def grpo_batch(trainer: Trainer, trajectories: Sequence[Trajectory], cfg: GRPOConfig, controller: EntropyController,
               ref_model=None, rng: random.Random | None = None) -> list[StepStats]:
    """`epochs` x `mini_batches` optimiser steps on one rollout batch (one skipped row when the
    batch has nothing to train on). Mini-batches are a fresh shuffle of the turns each epoch."""
    items, base = batch_stats(trajectories, cfg)
    if not items:
        return [StepStats(**{**base.to_dict(), "k": controller.k, "k_next": controller.k, "skipped": True})]
    attach_old_logprobs(trainer, items, cfg.micro_batch_size)
    rng = rng or random.Random(cfg.seed)
    out = []
    for epoch in range(cfg.epochs):
        order = list(items)
        if cfg.mini_batches > 1:
            rng.shuffle(order)
        size = -(-len(order) // cfg.mini_batches)
        for m, part in enumerate(micro_batches(order, size)):
            out.append(grpo_update(trainer, part, cfg, controller, ref_model,
                                   StepStats(**{**base.to_dict(), "epoch": epoch, "mini_batch": m})))
    return out


def grpo_step(trainer: Trainer, trajectories: Sequence[Trajectory], cfg: GRPOConfig,
              controller: EntropyController, ref_model=None) -> StepStats:
    """One optimiser step on all of `trajectories` (any number of theorems, grouped by theorem_id)."""
    items, base = batch_stats(trajectories, cfg)
    if items:
        attach_old_logprobs(trainer, items, cfg.micro_batch_size)
    return grpo_update(trainer, items, cfg, controller, ref_model, base)


async def collect_groups(sampler: Policy | RolloutSampler, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                         generator: torch.Generator | None = None) -> tuple[list[Trajectory], dict]:
    """Two-stage pass-rate filtering: G_early attempts must land in `early_bounds`, then the full
    group of G must land in `bounds`. Counts are over attempts the environment did not fail. Each
    stage is one batched rollout over all its theorems. The counts record the integer success
    bounds each stage applied (for the full usable group; env failures shrink it)."""
    counts = {"theorems": len(theorems), "start_failed": 0, "dropped_early": 0, "dropped_final": 0, "kept": 0,
              "rollouts": 0, "rollout_reward_mean": 0.0,
              "early_bounds": list(_bounds(cfg.G_early, cfg.early_bounds)) if cfg.G_early else None,
              "final_bounds": list(_bounds(cfg.G, cfg.bounds))}
    reward_sum = 0.0

    def in_bounds(group: list[Trajectory], bounds: tuple[float, float]) -> bool:
        usable = [t for t in group if not t.env_failed]
        return bool(usable) and count_bounds(len(usable), *bounds).keeps(count_successes([t.reward for t in usable]))

    early: dict[str, list[Trajectory]] = {t.id: [] for t in theorems}
    survivors = list(theorems)
    if cfg.G_early > 0:
        groups = await rollout_batch(sampler, env, [(t, cfg.G_early, 0) for t in theorems], cfg, generator)
        survivors = []
        for theorem, got in zip(theorems, groups):
            if got is None:
                counts["start_failed"] += 1
                continue
            counts["rollouts"] += len(got)
            reward_sum += sum(t.reward for t in got)
            if not in_bounds(got, cfg.early_bounds):
                counts["dropped_early"] += 1
                continue
            early[theorem.id] = got
            survivors.append(theorem)
    requests = [(t, cfg.G - len(early[t.id]) if cfg.reuse_early else cfg.G, len(early[t.id])) for t in survivors]
    groups = await rollout_batch(sampler, env, requests, cfg, generator) if requests else []
    out: list[Trajectory] = []
    for theorem, rest in zip(survivors, groups):
        if rest is None:
            counts["start_failed"] += 1
            continue
        counts["rollouts"] += len(rest)
        reward_sum += sum(t.reward for t in rest)
        group = early[theorem.id] + rest if cfg.reuse_early else rest
        if not in_bounds(group, cfg.bounds):
            counts["dropped_final"] += 1
            continue
        counts["kept"] += 1
        out += group
    counts["rollout_reward_mean"] = reward_sum / max(counts["rollouts"], 1)
    return out, counts


def _bounds(G: int, bounds: tuple[float, float]) -> tuple[int, int]:
    b = count_bounds(G, *bounds)
    return b.lo, b.hi


def save_policy(policy: Policy, path: Path, meta: dict) -> Path:
    from policy.checkpoint import save_checkpoint

    return save_checkpoint(policy.model, policy.tokenizer, path, meta)


def open_tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter(str(out_dir / "tensorboard"))
    except Exception as e:  # tensorboard not installed: JSON lines still have everything
        print(f"grpo: TensorBoard disabled ({type(e).__name__}: {e})", file=sys.stderr)
        return None


async def train_grpo(policy: Policy, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                     out_dir: str | Path, ref_model=None, controller_state: dict | None = None,
                     model_dir: str | Path | None = None) -> Path:
    """The loop: sample and filter groups, the batch's optimiser steps, log `telemetry.jsonl` (one
    row per optimiser step), checkpoint. `controller_state` continues the entropy controller of
    an earlier run. Returns the final checkpoint directory (`out_dir/final`)."""
    if not theorems:
        raise ValueError("no theorems to train on")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grpo_config.json").write_text(json.dumps(dump_record(cfg), indent=1))
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    trainer = make_trainer(policy.model, cfg)
    controller = make_controller(cfg, controller_state)
    engine = RolloutEngine(policy, cfg, model_dir)
    writer = open_tensorboard(out) if cfg.tensorboard else None
    order: list[Theorem] = []
    steps_done = 0

    def meta() -> dict:
        return {"grpo": dump_record(cfg), "step": steps_done, "k": controller.k, CONTROLLER_KEY: controller.state()}

    for b in range(cfg.steps):
        batch_theorems = []
        while len(batch_theorems) < min(cfg.theorems_per_step, len(theorems)):
            if not order:
                order = list(theorems)
                rng.shuffle(order)
            batch_theorems.append(order.pop())
        sampler_step = engine.sync(trainer.unwrap(), steps_done)
        trajectories, counts = await collect_groups(engine.sampler, env, batch_theorems, cfg, generator)
        for stats in grpo_batch(trainer, trajectories, cfg, controller, ref_model, rng):
            stats.step, stats.batch, stats.rollout, stats.sampler_step = steps_done, b, counts, sampler_step
            append_jsonl(out / "telemetry.jsonl", [stats.to_dict()])
            if writer is not None:
                for key, value in stats.to_dict().items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        writer.add_scalar(f"grpo/{key}", value, steps_done)
            steps_done += 1
            engine.record(trainer.unwrap(), steps_done)
        if cfg.save_every and (b + 1) % cfg.save_every == 0:
            save_policy(policy, out / f"step-{b + 1:05d}", meta())
    if writer is not None:
        writer.close()
    (out / "controller.json").write_text(json.dumps(controller.state()))
    return save_policy(policy, out / "final", meta())


def load_policy(model_dir: str | Path, prompt_template: str | None = None) -> Policy:
    from policy.base import PromptFormat
    from policy.checkpoint import load_checkpoint

    model, tokenizer, _ = load_checkpoint(model_dir, dtype="float32")
    return Policy(model=model, tokenizer=tokenizer, fmt=PromptFormat(prompt_template or PromptFormat().template))


def saved_controller(model_dir: str | Path) -> dict | None:
    """The entropy controller state a GRPO checkpoint carries (None for any other checkpoint)."""
    from policy.checkpoint import META_FILE

    path = Path(model_dir) / META_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text()).get(CONTROLLER_KEY)


async def grpo_from_checkpoint(model_dir: str | Path, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
                               out_dir: str | Path, controller_state: dict | None = None) -> Path:
    """Load the checkpoint (and a frozen copy as the reference when kl_coef > 0) and train,
    continuing the controller state the checkpoint carries unless one is given."""
    policy = load_policy(model_dir, cfg.rollout.prompt_template)
    ref = None
    if cfg.kl_coef > 0:
        ref = load_policy(model_dir).model
        ref.requires_grad_(False)
    state = controller_state if controller_state is not None else saved_controller(model_dir)
    return await train_grpo(policy, env, theorems, cfg, out_dir, ref, state, model_dir)


def run_grpo(model_dir: str | Path, env: ProofEnv, theorems: Sequence[Theorem], cfg: GRPOConfig,
             out_dir: str | Path) -> Path:
    """Synchronous entry point: `grpo_from_checkpoint` in a fresh event loop. Callers already inside
    an event loop (or whose env is bound to one) should await it instead."""
    return asyncio.run(grpo_from_checkpoint(model_dir, env, theorems, cfg, out_dir))
