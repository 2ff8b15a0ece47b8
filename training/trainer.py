"""The one training loop that SFT, DPO and GRPO share: AdamW, the LR schedule, gradient
accumulation, clipping, `accelerate` for multi-device, and checkpoint saving.

A learner plugs in an `Objective`: for each micro-batch, a *summed* loss and a *weight* (how many
units the loss sums over: tactic tokens for SFT, triples for DPO, sampled tokens for GRPO). One
optimiser step takes a window of micro-batches, divides every micro-batch's loss by the window's
total weight and accumulates, so accumulating two micro-batches gives exactly the gradient of one
batch twice the size (the per-step normalisation the three learners need; see the tests).

    trainer = Trainer(model, cfg, total_steps)
    for window in trainer.windows(micro_batches, cfg.grad_accum):
        result = trainer.step(window, objective)
    trainer.save(out_dir, tokenizer, meta)

Under `accelerate launch`, `windows` gives each process every n-th micro-batch and DDP averages
the gradients (the normalisation is then per process: close to, not exactly, global). On one CPU
or GPU the accelerator is a thin wrapper. A step whose gradient norm is not finite is not applied.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, Sequence, TypeVar

import torch
from pydantic import Field

from lean_env.config import config_record

Batch = TypeVar("Batch")


@config_record
class TrainerConfig:
    """Optimiser and schedule: the fields every learner's config inherits."""

    lr: float = Field(1e-3, gt=0)
    warmup_steps: int = Field(10, ge=0)   # linear warmup from lr / warmup_steps
    # after warmup: cosine or linear decay to lr * min_lr_ratio, or constant
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    weight_decay: float = Field(0.01, ge=0)   # on matrices only, never on norms and biases
    clip: float = Field(1.0, ge=0)       # max gradient norm; 0 turns clipping off
    mixed_precision: Literal["auto", "no", "bf16"] = "auto"   # auto: bf16 autocast on GPU, fp32 on CPU; "no": always fp32
    seed: int = 0


def lr_factor(step: int, total: int, cfg: TrainerConfig) -> float:
    """Multiplier of cfg.lr at optimiser step `step` (0-based) of `total`."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return 1.0
    progress = min((step - cfg.warmup_steps) / max(total - cfg.warmup_steps, 1), 1.0)
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if cfg.schedule == "cosine" else 1 - progress
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * shape


def model_and_tokenizer(model_or_path, tokenizer=None):
    """(model, tokenizer) from a checkpoint directory, or the given objects unchanged."""
    if isinstance(model_or_path, (str, Path)):
        from policy.checkpoint import load_checkpoint

        model, own_tokenizer, _ = load_checkpoint(model_or_path)
        return model, tokenizer if tokenizer is not None else own_tokenizer
    if tokenizer is None:
        raise ValueError("a model object needs its tokenizer")
    return model_or_path, tokenizer


class Objective(Protocol[Batch]):
    """What a learner provides: per micro-batch, its weight and its loss summed over that weight."""

    def weight(self, batch: Batch) -> float: ...

    def loss(self, model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, Any]:
        """(summed loss, anything the learner wants back per micro-batch, e.g. statistics)."""
        ...


@dataclass
class StepResult:
    loss: float                         # the window's summed loss / its total weight
    weight: float                       # total weight of the window (tokens, triples)
    grad_norm: float                    # before clipping
    lr: float
    skipped: bool = False               # nothing to train on, or a non-finite gradient: no update
    aux: list = field(default_factory=list)   # the objective's second return value, per micro-batch


class Trainer(Generic[Batch]):
    """Owns the optimiser, the schedule and the accelerator for one training run of `model`."""

    def __init__(self, model: torch.nn.Module, cfg: TrainerConfig, total_steps: int, dropout: bool = True):
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        gpu = torch.cuda.is_available()
        precision = ("bf16" if gpu else "no") if cfg.mixed_precision == "auto" else cfg.mixed_precision
        set_seed(cfg.seed)
        self.cfg, self.total_steps, self.step_index = cfg, total_steps, 0
        self.accelerator = Accelerator(mixed_precision=precision, cpu=not gpu)
        decay = [p for p in model.parameters() if p.ndim >= 2]
        no_decay = [p for p in model.parameters() if p.ndim < 2]   # norms and biases
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        # GRPO trains without dropout: with unchanged weights the replayed ratio must be exactly 1
        self.model.train(dropout)

    def windows(self, micro_batches: Sequence[Batch], grad_accum: int) -> list[list[Batch]]:
        """This process's share of `total_steps * grad_accum` micro-batches (every n-th, in
        order), grouped into one window per optimiser step. Needs enough micro-batches."""
        n = self.accelerator.num_processes
        needed = self.total_steps * grad_accum * n
        if len(micro_batches) < needed:
            raise ValueError(f"{len(micro_batches)} micro-batches for {needed} ({self.total_steps} steps x "
                             f"{grad_accum} x {n} processes)")
        mine = list(micro_batches[:needed][self.accelerator.process_index:: n])
        return [mine[k * grad_accum: (k + 1) * grad_accum] for k in range(self.total_steps)]

    def step(self, window: Sequence[Batch], objective: Objective[Batch]) -> StepResult:
        """One optimiser step on a window of micro-batches (DDP syncs only on the last one)."""
        lr = self.cfg.lr * lr_factor(self.step_index, self.total_steps, self.cfg)
        self.step_index += 1
        weight = float(sum(objective.weight(b) for b in window))
        if weight <= 0:
            return StepResult(0.0, 0.0, 0.0, lr, skipped=True)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        total, aux = 0.0, []
        for k, batch in enumerate(window):
            sync = self.accelerator.no_sync(self.model) if k < len(window) - 1 else contextlib.nullcontext()
            with sync, self.accelerator.autocast():
                loss, extra = objective.loss(self.model, batch)
                self.accelerator.backward(loss / weight)
            total += float(loss.detach())
            aux.append(extra)
        norm = self.accelerator.clip_grad_norm_(self.model.parameters(), self.cfg.clip if self.cfg.clip else math.inf)
        grad_norm = float(norm)
        skipped = not math.isfinite(grad_norm)   # never apply a poisoned update
        if not skipped:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return StepResult(total / weight, weight, grad_norm, lr, skipped, aux)

    def unwrap(self) -> torch.nn.Module:
        return self.accelerator.unwrap_model(self.model)

    def save(self, out_dir: str | Path, tokenizer, meta: dict) -> Path | None:
        """An HF model dir (atomic), written by the main process only."""
        from policy.checkpoint import save_checkpoint

        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return None
        return save_checkpoint(self.unwrap(), tokenizer, out_dir, meta)
