"""DPO on (goal state, proof tactic, erroring sibling) triples, as in BFS-Prover v1.

The proof's tactic at a state is "chosen", a sibling Lean rejected at that same state is
"rejected". Loss per triple (Rafailov et al. 2023), on the tactic tokens only (EOS included):

    -log sigmoid(beta * ((logp(chosen) - ref(chosen)) - (logp(rejected) - ref(rejected))))

The reference model is the policy as it was when training starts, frozen. Because it never
changes, its log-probs are computed once up front (no second model in memory during training).
The optimiser step is the shared loop's (training/trainer.py), weighted by triples.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from pydantic import Field

from lean_env.config import config_record

from policy.base import PromptFormat
from training.batching import Tokenized, collate_padded, forward_logits, label_logprobs, tokenize_pair
from training.scoring import tactic_logprobs
from training.trainer import Trainer, TrainerConfig, model_and_tokenizer


@config_record
class DPOConfig(TrainerConfig):
    lr: float = Field(1e-5, gt=0)
    warmup_steps: int = Field(5, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    beta: float = Field(0.1, gt=0)
    epochs: float = Field(1.0, ge=0)
    max_steps: int | None = Field(None, ge=1)
    batch_pairs: int = Field(16, ge=1)  # triples per micro-batch
    grad_accum: int = Field(1, ge=1)    # micro-batches per optimiser step
    max_len: int = Field(512, ge=2)     # triples longer than this (either side) are skipped

    def __post_init__(self) -> None:
        if self.max_steps is None and not self.epochs > 0:
            raise ValueError("needs epochs > 0 or max_steps")


@dataclass
class DPOResult:
    final_loss: float
    steps: int
    pairs: int                          # triples used
    seconds: float
    losses: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)     # mean beta-scaled reward margin per step
    accuracy: float = 0.0               # last step: share of triples with a positive margin


@dataclass
class Triple:
    chosen: Tokenized
    rejected: Tokenized
    ref_chosen: float
    ref_rejected: float


def triples_from_store(errors: Sequence[dict], prompt: PromptFormat | None = None) -> list[tuple[str, str, str]]:
    """(prompt, chosen, rejected) from `PairStore.errors()` rows."""
    prompt = prompt or PromptFormat()
    return [(prompt.prompt(e["state"]), e["chosen"], e["rejected"]) for e in errors]


def prepare_triples(model, tokenizer, examples: Sequence[tuple[str, str, str]], max_len: int) -> list[Triple]:
    """Tokenise and attach the reference (current model) log-probs; drops over-long triples and
    ones whose chosen and rejected tactics are identical."""
    keep = []
    for ex in examples:
        if len(ex) != 3:
            raise ValueError(f"DPO examples are (prompt, chosen, rejected), got {ex!r:.200}")
        p, c, r = ex
        tc, tr = tokenize_pair(tokenizer, p, c, 10**9), tokenize_pair(tokenizer, p, r, 10**9)
        if c != r and len(tc) <= max_len and len(tr) <= max_len:
            keep.append((ex, tc, tr))
    ref = tactic_logprobs(model, tokenizer, [ex[0] for ex, _, _ in keep] * 2,
                          [ex[1] for ex, _, _ in keep] + [ex[2] for ex, _, _ in keep])
    n = len(keep)
    return [Triple(tc, tr, ref[i][0], ref[n + i][0]) for i, (_, tc, tr) in enumerate(keep)]


def dpo_loss(model, triples: Sequence[Triple], beta: float, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-triple losses and beta-scaled margins for one micro-batch (chosen and rejected share
    one padded forward pass)."""
    batch = collate_padded([t.chosen for t in triples] + [t.rejected for t in triples], pad_id)
    batch = {k: v.to(next(model.parameters()).device) for k, v in batch.items()}
    logp, _ = label_logprobs(forward_logits(model, batch), batch["labels"])
    seq = logp.sum(-1)
    n = len(triples)
    ref_c = torch.tensor([t.ref_chosen for t in triples], device=seq.device)
    ref_r = torch.tensor([t.ref_rejected for t in triples], device=seq.device)
    margin = beta * ((seq[:n] - ref_c) - (seq[n:] - ref_r))
    return -F.logsigmoid(margin), margin.detach()


class DPOObjective:
    """Summed per-triple DPO losses, weighted by the number of triples; returns the margins."""

    def __init__(self, beta: float, pad_id: int):
        self.beta, self.pad_id = beta, pad_id

    def weight(self, batch: Sequence[Triple]) -> float:
        return len(batch)

    def loss(self, model, batch: Sequence[Triple]) -> tuple[torch.Tensor, list[float]]:
        losses, margins = dpo_loss(model, batch, self.beta, self.pad_id)
        return losses.sum(), margins.float().cpu().tolist()


def train_dpo(model_or_path, tokenizer, examples: Sequence[tuple[str, str, str]], cfg: DPOConfig,
              out_dir: str | Path | None = None) -> DPOResult:
    """Train on (prompt, chosen tactic, rejected tactic) triples; the model is trained in place
    and, with `out_dir`, saved there as an HF model dir."""
    model, tokenizer = model_and_tokenizer(model_or_path, tokenizer)
    triples = prepare_triples(model, tokenizer, examples, cfg.max_len)
    if not triples:
        raise ValueError(f"no usable DPO triples among {len(examples)} (identical or longer than max_len={cfg.max_len})")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    per_epoch = math.ceil(len(triples) / cfg.batch_pairs)
    total_steps = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs / cfg.grad_accum))
    trainer = Trainer(model, cfg, total_steps)

    rng = random.Random(cfg.seed)
    micro: list[list[Triple]] = []
    while len(micro) < total_steps * cfg.grad_accum * trainer.accelerator.num_processes:
        order = list(range(len(triples)))
        rng.shuffle(order)
        micro += [[triples[i] for i in order[k: k + cfg.batch_pairs]] for k in range(0, len(order), cfg.batch_pairs)]
    objective = DPOObjective(cfg.beta, pad)
    t0, losses, margins, accuracy = time.perf_counter(), [], [], 0.0
    for window in trainer.windows(micro, cfg.grad_accum):
        step = trainer.step(window, objective)
        step_margins = [m for batch in step.aux for m in batch]
        losses.append(step.loss)
        margins.append(sum(step_margins) / len(step_margins))
        accuracy = sum(m > 0 for m in step_margins) / len(step_margins)
    seconds = time.perf_counter() - t0
    trainer.unwrap().eval()
    result = DPOResult(losses[-1], total_steps, len(triples), seconds, losses, margins, accuracy)
    if out_dir is not None:
        trainer.save(out_dir, tokenizer, {"kind": "dpo", "config": asdict(cfg), **asdict(result)})
    return result
