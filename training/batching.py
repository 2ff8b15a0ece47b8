"""Turning (prompt, tactic) pairs into model batches, shared by scoring, SFT and DPO.

A sequence is `encode_prompt(prompt) + encode_tactic(tactic)` (policy/tokens.py); the
labels copy the tactic tokens (EOS included) and mask the prompt with -100, so every learner
scores exactly the tokens the sampler generated. Two batch layouts:

- padded: rows of similar length ("length bucketing"), right-padded, with an attention mask;
- packed: several sequences concatenated into one fixed-width row, position ids restarting at 0
  for each. With `attention_mask=None` and no KV cache, transformers (>= 4.5x, `masking_utils`)
  turns restarting position ids into a block-diagonal causal mask, so packed sequences do not
  attend to each other (tests/test_sft.py checks packed logits equal unpacked ones).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import torch

from policy.tokens import encode_prompt, encode_tactic, truncate_prompt

IGNORE = -100


@dataclass
class Tokenized:
    ids: list[int]
    labels: list[int]        # IGNORE on prompt positions, the token id on tactic positions

    def __len__(self) -> int:
        return len(self.ids)


def tokenize_pair(tokenizer, prompt: str, tactic: str, max_len: int) -> Tokenized | None:
    """None when the tactic alone does not fit; an over-long prompt keeps BOS and its end (the
    goal line `⊢ ...` is last, and it matters most)."""
    if not isinstance(prompt, str) or not isinstance(tactic, str):
        raise TypeError(f"expected (prompt: str, tactic: str), got ({type(prompt).__name__}, {type(tactic).__name__})")
    p, t = encode_prompt(tokenizer, prompt), encode_tactic(tokenizer, tactic)
    if len(t) >= max_len:
        return None
    p = truncate_prompt(p, max_len - len(t), tokenizer.bos_token_id)
    return Tokenized(p + t, [IGNORE] * len(p) + t)


def tokenize_pairs(tokenizer, pairs: Sequence[tuple[str, str]], max_len: int) -> list[Tokenized]:
    out = [tokenize_pair(tokenizer, p, t, max_len) for p, t in pairs]
    return [x for x in out if x is not None]


def bucket_batches(lengths: Sequence[int], batch_tokens: int, rng: random.Random | None) -> list[list[int]]:
    """Indices grouped by similar length, each group's padded size (rows x longest) at most
    `batch_tokens` (a single over-long row still gets its own group). Group order is shuffled
    when `rng` is given, otherwise kept shortest-first (deterministic scoring)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random() if rng else 0.0))
    batches: list[list[int]] = []
    cur: list[int] = []
    longest = 0
    for i in order:
        if cur and max(longest, lengths[i]) * (len(cur) + 1) > batch_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, lengths[i])
    if cur:
        batches.append(cur)
    if rng is not None:
        rng.shuffle(batches)
    return batches


def collate_padded(seqs: Sequence[Tokenized], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    labels = torch.full((len(seqs), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s.ids)
        labels[r, : len(s)] = torch.tensor(s.labels)
        mask[r, : len(s)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def pack_rows(lengths: Sequence[int], row_len: int, rng: random.Random) -> list[list[int]]:
    """Greedy first-fit packing of shuffled sequences into rows of at most `row_len` tokens."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    rows: list[list[int]] = []
    space: list[int] = []
    for i in order:
        for r, free in enumerate(space):
            if lengths[i] <= free:
                rows[r].append(i)
                space[r] -= lengths[i]
                break
        else:
            rows.append([i])
            space.append(row_len - lengths[i])
    return rows


def collate_packed(rows: Sequence[Sequence[Tokenized]], row_len: int, pad_id: int) -> dict[str, torch.Tensor]:
    """Each row: its sequences back to back, positions restarting per sequence; the padding tail
    is its own (ignored) sequence. No attention mask on purpose: see the module docstring."""
    ids = torch.full((len(rows), row_len), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), row_len), IGNORE, dtype=torch.long)
    pos = torch.zeros((len(rows), row_len), dtype=torch.long)
    tokens = 0
    for r, seqs in enumerate(rows):
        at = 0
        for s in seqs:
            n = len(s)
            ids[r, at: at + n] = torch.tensor(s.ids)
            labels[r, at: at + n] = torch.tensor(s.labels)
            pos[r, at: at + n] = torch.arange(n)
            at += n
            tokens += n
        pos[r, at:] = torch.arange(row_len - at)
    return {"input_ids": ids, "labels": labels, "position_ids": pos}


def forward_logits(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits for a padded or packed batch (labels are not passed: we compute our own losses)."""
    inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "position_ids")}
    return model(**inputs, use_cache=False).logits


def label_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of the next-token labels, and the mask of scored positions; position t
    predicts label t+1. Computed in fp32 whatever the model dtype."""
    logits, targets = logits[:, :-1].float(), labels[:, 1:]
    mask = targets != IGNORE
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return logp * mask, mask


def segment_sums(values: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """Split per-position values (from `label_logprobs`) into one sum per sequence, in the order
    the sequences were collated: one per row when padded, several per row when packed."""
    if "position_ids" not in batch:
        return list(values.sum(-1))
    starts = batch["position_ids"][:, 1:] == 0       # value t belongs to the token at t+1
    out: list[torch.Tensor] = []
    for r in range(values.shape[0]):
        seq_id = starts[r].long().cumsum(0)
        scored = batch["labels"][r, 1:] != IGNORE
        for k in seq_id[scored].unique(sorted=True).tolist():
            out.append(values[r][(seq_id == k) & scored].sum())
    return out


def scoring_batches(tokenizer, prompts: Sequence[str], tactics: Sequence[str], batch_tokens: int, device):
    """Teacher-forced (prompt, tactic) batches for scoring, length-bucketed, never truncated:
    yields (indices into the inputs, padded batch on `device`). Shared by scoring and the entropy probe."""
    from policy.tokens import encode_prompt, encode_tactic

    if len(prompts) != len(tactics):
        raise ValueError(f"{len(prompts)} prompts but {len(tactics)} tactics")
    seqs = []
    for p, t in zip(prompts, tactics):
        pi, ti = encode_prompt(tokenizer, p), encode_tactic(tokenizer, t)
        seqs.append(Tokenized(pi + ti, [IGNORE] * len(pi) + ti))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    for idx in bucket_batches([len(s) for s in seqs], batch_tokens, rng=None):
        yield idx, {k: v.to(device) for k, v in collate_padded([seqs[i] for i in idx], pad).items()}
