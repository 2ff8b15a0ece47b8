"""Expert-iteration SFT: next-token loss on the tactic tokens only (the goal state is context).

Examples are (prompt, tactic) pairs tokenised with the shared convention (training/batching.py).
Micro-batches are either length-bucketed padded rows or packed rows (several examples per row,
block-diagonal attention through restarting position ids; `SFTConfig.packing`). The objective is
the summed NLL of the tactic tokens, weighted by their count, so the shared loop
(training/trainer.py) divides each optimiser step by the step's total tactic-token count:
accumulating 2 micro-batches gives the same gradient as one batch twice the size.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import torch
from pydantic import Field

from lean_env.config import config_record

from training.batching import (IGNORE, Tokenized, bucket_batches, collate_packed, collate_padded, forward_logits,
                               label_logprobs, pack_rows, tokenize_pairs)
from training.trainer import Trainer, TrainerConfig, model_and_tokenizer

if TYPE_CHECKING:
    from policy.base import PromptFormat
    from training.store import Pair

__all__ = ["SFTConfig", "SFTResult", "SFTObjective", "sft_examples", "train_sft", "token_nll", "make_micro_batches"]


@config_record
class SFTConfig(TrainerConfig):
    epochs: float = Field(3.0, ge=0)
    max_steps: int | None = Field(None, ge=1)   # optimiser steps; overrides `epochs` when set
    batch_tokens: int = Field(4096, ge=1)       # tokens per micro-batch (padded rows x width, or packed rows x max_len)
    grad_accum: int = Field(1, ge=1)            # micro-batches per optimiser step
    max_len: int = Field(512, ge=2)             # longest sequence; also the packed row width
    packing: bool = False

    def __post_init__(self) -> None:
        if self.max_steps is None and not self.epochs > 0:
            raise ValueError("needs epochs > 0 or max_steps")


@dataclass
class SFTResult:
    final_loss: float                   # mean tactic-token NLL of the last optimiser step
    steps: int
    tokens: int                         # real (non-padding) tokens processed
    seconds: float
    tokens_per_s: float
    losses: list[float] = field(default_factory=list)   # one per optimiser step


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


class SFTObjective:
    """Summed tactic-token NLL, weighted by the number of tactic tokens."""

    def weight(self, batch: dict[str, torch.Tensor]) -> float:
        return int((batch["labels"][:, 1:] != IGNORE).sum())

    def loss(self, model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        return token_nll(model, {k: v.to(device) for k, v in batch.items()}), real_tokens(batch)


def sft_examples(pairs: Sequence["Pair"], prompt: "PromptFormat") -> list[tuple[str, str]]:
    """The (prompt, tactic) examples SFT trains on: each pair's goal state rendered as the policy
    sees it at search time, and its tactic."""
    return [(prompt.prompt(p.state), p.tactic) for p in pairs]


def train_sft(model_or_path, tokenizer, examples: Sequence[tuple[str, str]], cfg: SFTConfig,
              out_dir: str | Path | None = None, on_step=None) -> SFTResult:
    """Fine-tune on (prompt, tactic) pairs; with `out_dir`, save an HF model dir there (the model
    object passed in is trained in place). `on_step(step, total_steps, loss)` follows the run."""
    model, tokenizer = model_and_tokenizer(model_or_path, tokenizer)
    seqs = tokenize_pairs(tokenizer, examples, cfg.max_len)
    if not seqs:
        raise ValueError(f"no training examples: {len(examples)} given, none fits max_len={cfg.max_len}")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    per_epoch = len(make_micro_batches(seqs, cfg, random.Random(cfg.seed), pad))
    total_steps = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs / cfg.grad_accum))
    trainer = Trainer(model, cfg, total_steps)

    rng = random.Random(cfg.seed)
    micro: list[dict] = []
    while len(micro) < total_steps * cfg.grad_accum * trainer.accelerator.num_processes:
        micro += make_micro_batches(seqs, cfg, rng, pad)
    objective = SFTObjective()
    t0, tokens, losses = time.perf_counter(), 0, []
    for window in trainer.windows(micro, cfg.grad_accum):
        step = trainer.step(window, objective)
        losses.append(step.loss)
        tokens += sum(step.aux)
        if on_step is not None:
            on_step(len(losses), total_steps, step.loss)
    seconds = time.perf_counter() - t0
    trainer.unwrap().eval()
    result = SFTResult(losses[-1], total_steps, tokens, seconds, tokens / max(seconds, 1e-9), losses)
    if out_dir is not None:
        trainer.save(out_dir, tokenizer, {"kind": "sft", "config": asdict(cfg), **asdict(result)})
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
