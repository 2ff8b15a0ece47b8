"""Policy entropy on a fixed probe set, measured every round to watch for entropy collapse.

Which tokens: the *given* tactic tokens (teacher forcing), not freshly sampled ones. At each
position of the probe tactic (EOS included) we take the entropy of the model's full next-token
distribution and average over all positions of all probes. Using fixed tactics keeps the number
comparable across rounds (the same contexts every time) and deterministic (no sampling noise).
"""
from __future__ import annotations

from typing import Sequence

import torch

from training.batching import IGNORE, forward_logits, scoring_batches


@torch.no_grad()
def policy_entropy(model, tokenizer, prompts: Sequence[str], tactics: Sequence[str], batch_tokens: int = 8192) -> float:
    """Mean per-token entropy in nats (log V for a uniform model, 0 for a deterministic one)."""
    if not prompts:
        raise ValueError("empty probe set")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for _, batch in scoring_batches(tokenizer, prompts, tactics, batch_tokens, device):
        logp = torch.log_softmax(forward_logits(model, batch)[:, :-1].float(), dim=-1)
        ent = -(logp.exp() * logp).sum(-1)                      # entropy at every position
        mask = batch["labels"][:, 1:] != IGNORE                 # positions that predict a tactic token
        total += float(ent[mask].sum())
        count += int(mask.sum())
    model.train(was_training)
    return total / count
