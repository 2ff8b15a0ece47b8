"""Expert-iteration SFT: next-token loss on the tactic tokens only (the goal state is context).

Examples are (prompt, tactic) pairs tokenised with the shared convention (training/batching.py).
Micro-batches are either length-bucketed padded rows or packed rows (several examples per row,
block-diagonal attention through restarting position ids; `SFTConfig.packing`). The loss of one
optimiser step is the summed NLL over all tactic tokens of its `grad_accum` micro-batches divided
by their total tactic-token count, so accumulating 2 micro-batches gives the same gradient as one
batch twice the size. AdamW, linear warmup then cosine (or linear) decay, gradient clipping,
bf16 autocast on GPU and fp32 on CPU.

The loop runs under `accelerate.Accelerator`: on one CPU or GPU it is a thin wrapper, and under
`accelerate launch` each process takes every n-th micro-batch and DDP averages gradients (the
per-step token normalisation is then per process, which is close to but not exactly global).
"""
from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from training.batching import (IGNORE, Tokenized, bucket_batches, collate_packed, collate_padded, forward_logits,
                               label_logprobs, pack_rows, tokenize_pairs)
from training.checkpoint import load_model, save_checkpoint

__all__ = ["SFTConfig", "SFTResult", "train_sft", "save_checkpoint", "token_nll", "window_backward", "make_micro_batches"]


@dataclass
class SFTConfig:
    lr: float = 1e-3
    epochs: float = 3.0
    max_steps: int | None = None        # optimiser steps; overrides `epochs` when set
    batch_tokens: int = 4096            # tokens per micro-batch (padded rows x width, or packed rows x max_len)
    grad_accum: int = 1
    warmup_steps: int = 10
    schedule: str = "cosine"            # "cosine" or "linear" decay after warmup
    min_lr_ratio: float = 0.1           # the decay ends at lr * min_lr_ratio
    weight_decay: float = 0.01
    max_len: int = 512                  # longest sequence; also the packed row width
    clip: float = 1.0
    seed: int = 0
    packing: bool = False

    def validate(self) -> None:
        if self.lr <= 0 or self.batch_tokens <= 0 or self.grad_accum < 1 or self.max_len < 2:
            raise ValueError(f"bad SFTConfig: {self}")
        if self.max_steps is None and self.epochs <= 0:
            raise ValueError("SFTConfig needs epochs > 0 or max_steps")
        if self.schedule not in ("cosine", "linear"):
            raise ValueError(f"unknown schedule {self.schedule!r} (cosine or linear)")


@dataclass
class SFTResult:
    final_loss: float                   # mean tactic-token NLL of the last optimiser step
    steps: int
    tokens: int                         # real (non-padding) tokens processed
    seconds: float
    tokens_per_s: float
    losses: list[float] = field(default_factory=list)   # one per optimiser step


def lr_factor(step: int, total: int, cfg: SFTConfig) -> float:
    """Multiplier of cfg.lr at optimiser step `step` (0-based)."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = min((step - cfg.warmup_steps) / max(total - cfg.warmup_steps, 1), 1.0)
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if cfg.schedule == "cosine" else 1 - progress
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * shape


def make_micro_batches(seqs: Sequence[Tokenized], cfg: SFTConfig, rng: random.Random, pad_id: int) -> list[dict]:
    """One epoch of collated micro-batches, in training order."""
    lengths = [len(s) for s in seqs]
    if cfg.packing:
        rows = pack_rows(lengths, cfg.max_len, rng)
        per_batch = max(1, cfg.batch_tokens // cfg.max_len)
        return [collate_packed([[seqs[i] for i in row] for row in rows[k: k + per_batch]], cfg.max_len, pad_id)
                for k in range(0, len(rows), per_batch)]
    return [collate_padded([seqs[i] for i in idx], pad_id) for idx in bucket_batches(lengths, cfg.batch_tokens, rng)]


def token_nll(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Summed NLL of the tactic tokens in a micro-batch (prompt positions carry label -100)."""
    logp, _ = label_logprobs(forward_logits(model, batch), batch["labels"])
    return -logp.sum()


def num_targets(batch: dict[str, torch.Tensor]) -> int:
    return int((batch["labels"][:, 1:] != IGNORE).sum())


def window_backward(model, batches: Sequence[dict], backward: Callable[[torch.Tensor], None] = torch.Tensor.backward,
                    no_sync: Callable = lambda m: contextlib.nullcontext()) -> tuple[float, int]:
    """Forward/backward every micro-batch of one optimiser step, each loss divided by the step's
    total tactic-token count. Returns (summed NLL, tokens). DDP syncs only on the last one."""
    n = sum(num_targets(b) for b in batches)
    total = 0.0
    for k, batch in enumerate(batches):
        with no_sync(model) if k < len(batches) - 1 else contextlib.nullcontext():
            loss = token_nll(model, batch)
            backward(loss / max(n, 1))
        total += float(loss.detach())
    return total, n


def train_sft(model_or_path, tokenizer, examples: Sequence[tuple[str, str]], cfg: SFTConfig,
              out_dir: str | Path | None = None) -> SFTResult:
    """Fine-tune on (prompt, tactic) pairs; with `out_dir`, save an HF model dir there (the model
    object passed in is trained in place)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    cfg.validate()
    model, tokenizer = load_model(model_or_path, tokenizer)
    seqs = tokenize_pairs(tokenizer, examples, cfg.max_len)
    if not seqs:
        raise ValueError(f"no training examples: {len(examples)} given, none fits max_len={cfg.max_len}")
    set_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    gpu = torch.cuda.is_available()
    accelerator = Accelerator(mixed_precision="bf16" if gpu else "no", cpu=not gpu)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    per_epoch = len(make_micro_batches(seqs, cfg, random.Random(cfg.seed), pad))
    total_steps = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs / cfg.grad_accum))
    needed = total_steps * cfg.grad_accum * accelerator.num_processes

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]   # norms and biases
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    model, opt = accelerator.prepare(model, opt)
    model.train()

    micro: list[dict] = []
    while len(micro) < needed:
        micro += make_micro_batches(seqs, cfg, rng, pad)
    mine = micro[:needed][accelerator.process_index:: accelerator.num_processes]

    t0, tokens, losses = time.perf_counter(), 0, []
    for step in range(total_steps):
        window = [{k: v.to(accelerator.device) for k, v in b.items()}
                  for b in mine[step * cfg.grad_accum: (step + 1) * cfg.grad_accum]]
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, total_steps, cfg)
        with accelerator.autocast():
            loss_sum, n_tok = window_backward(model, window, accelerator.backward, accelerator.no_sync)
        if cfg.clip:
            accelerator.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss_sum / max(n_tok, 1))
        tokens += sum(real_tokens(b) for b in window)
    seconds = time.perf_counter() - t0
    model = accelerator.unwrap_model(model)
    model.eval()
    result = SFTResult(losses[-1], total_steps, tokens, seconds, tokens / max(seconds, 1e-9), losses)
    if out_dir is not None and accelerator.is_main_process:
        save_checkpoint(model, tokenizer, out_dir, {"kind": "sft", "config": asdict(cfg), **asdict(result)})
    return result


def real_tokens(batch: dict[str, torch.Tensor]) -> int:
    """Non-padding tokens: the attention mask when padded; packed rows end in a padding tail
    whose labels are all ignored, so count up to each row's last real sequence."""
    if "attention_mask" in batch:
        return int(batch["attention_mask"].sum())
    ids = batch["input_ids"]
    pos = batch["position_ids"]
    # the padding tail starts at the last position-0 when that segment has no labels
    total = 0
    for r in range(ids.shape[0]):
        starts = (pos[r] == 0).nonzero().flatten().tolist() + [ids.shape[1]]
        for a, b in zip(starts, starts[1:]):
            if (batch["labels"][r, a:b] != IGNORE).any():
                total += b - a
    return total
