"""Turns -> tensors for one training forward pass.

Sequences are prompt + completion, right-padded. Position t of the shifted targets is trained
when input token t+1 is a completion token (the goal-state prompt is context only). The recorded
top-p kept sets become a boolean [N, V] mask over the N trained tokens only (in row-major order
of `valid`), never over padding, so memory is that of the logits we gather anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from training.grpo.records import Turn


@dataclass
class TurnBatch:
    input_ids: torch.Tensor        # [B, L]
    attention_mask: torch.Tensor   # [B, L]
    valid: torch.Tensor            # [B, L-1] bool: target t is a sampled completion token
    targets: torch.Tensor          # [B, L-1] the next token
    logp_infer: torch.Tensor       # [N] recorded sampler log-probs of the trained tokens
    advantages: torch.Tensor       # [N]
    temperatures: torch.Tensor     # [N]
    keep: torch.Tensor | None      # [N, V] recorded kept sets, None when nothing was truncated

    @property
    def num_tokens(self) -> int:
        return int(self.valid.sum())


def collate_turns(turns: Sequence[Turn], advantages: Sequence[float], pad_id: int, vocab_size: int) -> TurnBatch:
    if len(turns) != len(advantages):
        raise ValueError("one advantage per turn is required")
    if not turns:
        raise ValueError("no turns to collate")
    width = max(len(t.prompt_ids) + len(t.completion_ids) for t in turns)
    ids = torch.full((len(turns), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(turns), width), dtype=torch.long)
    valid = torch.zeros((len(turns), width - 1), dtype=torch.bool)
    infer, adv, temps, kept_rows = [], [], [], []
    for row, (turn, a) in enumerate(zip(turns, advantages)):
        seq = turn.prompt_ids + turn.completion_ids
        bad = [i for i in turn.completion_ids if not 0 <= i < vocab_size]
        if bad:
            raise ValueError(f"turn {turn.attempt_id}: token ids {bad[:5]} outside the vocab ({vocab_size})")
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
        p, c = len(turn.prompt_ids), len(turn.completion_ids)
        valid[row, p - 1 : p - 1 + c] = True
        infer += turn.infer_logprobs
        adv += [a] * c
        temps += [turn.temperature] * c
        kept_rows += turn.kept_ids
    keep = None
    if any(k is not None for k in kept_rows):
        keep = torch.ones((len(kept_rows), vocab_size), dtype=torch.bool)
        for n, k in enumerate(kept_rows):
            if k is not None:
                keep[n] = False
                keep[n, list(k)] = True
    return TurnBatch(ids, mask, valid, ids[:, 1:], torch.tensor(infer, dtype=torch.float32),
                     torch.tensor(adv, dtype=torch.float32), torch.tensor(temps, dtype=torch.float32), keep)


def train_logprobs(model, batch: TurnBatch) -> torch.Tensor:
    """Log-probs [N] of the trained tokens under the replayed (tempered, top-p) distribution."""
    from training.grpo.loss import replay_logprobs

    device = next(model.parameters()).device
    logits = model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device)).logits
    valid = batch.valid.to(device)
    picked = logits[:, :-1][valid]
    keep = None if batch.keep is None else batch.keep.to(device)
    return replay_logprobs(picked, batch.targets.to(device)[valid], keep, batch.temperatures.to(device))
