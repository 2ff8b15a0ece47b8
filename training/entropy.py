"""Policy entropy on a fixed probe set, measured every round to watch for entropy collapse.

Which tokens: the *given* tactic tokens (teacher forcing), not freshly sampled ones. At each
position of the probe tactic (EOS included) we take the entropy of the model's full next-token
distribution and average over all positions of all probes. Using fixed tactics keeps the number
comparable across rounds (the same contexts every time) and deterministic (no sampling noise).
"""
from __future__ import annotations

from typing import Sequence

import torch

from search.generators.tokens import encode_prompt, encode_tactic
from training.batching import IGNORE, Tokenized, bucket_batches, collate_padded, forward_logits


@torch.no_grad()
def policy_entropy(model, tokenizer, prompts: Sequence[str], tactics: Sequence[str], batch_tokens: int = 8192) -> float:
    """Mean per-token entropy in nats (log V for a uniform model, 0 for a deterministic one)."""
    if len(prompts) != len(tactics):
        raise ValueError(f"{len(prompts)} prompts but {len(tactics)} tactics")
    if not prompts:
        raise ValueError("empty probe set")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    seqs = []
    for p, t in zip(prompts, tactics):
        pi, ti = encode_prompt(tokenizer, p), encode_tactic(tokenizer, t)
        seqs.append(Tokenized(pi + ti, [IGNORE] * len(pi) + ti))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    total, count = 0.0, 0
    for idx in bucket_batches([len(s) for s in seqs], batch_tokens, rng=None):
        batch = {k: v.to(device) for k, v in collate_padded([seqs[i] for i in idx], pad).items()}
        logp = torch.log_softmax(forward_logits(model, batch)[:, :-1].float(), dim=-1)
        ent = -(logp.exp() * logp).sum(-1)                      # entropy at every position
        mask = batch["labels"][:, 1:] != IGNORE                 # positions that predict a tactic token
        total += float(ent[mask].sum())
        count += int(mask.sum())
    model.train(was_training)
    return total / count
