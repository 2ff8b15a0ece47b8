"""Score (prompt, tactic) pairs under a model: the summed log-probability of the tactic tokens (EOS
included) given the prompt, as the shared tokenisation convention defines them. Batched by length
(sort, batch, restore order), no gradients, on the model's device. Used by the perplexity filter,
DPO's reference pass, benchmarks and tests."""
from __future__ import annotations

import math
from typing import Sequence

import torch

from search.generators.tokens import encode_prompt, encode_tactic
from training.batching import IGNORE, Tokenized, bucket_batches, collate_padded, forward_logits, label_logprobs


def model_device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def tactic_logprobs(model, tokenizer, prompts: Sequence[str], tactics: Sequence[str],
                    batch_tokens: int = 8192, device: torch.device | str | None = None) -> list[tuple[float, int]]:
    """(sum of tactic-token log-probs, number of tactic tokens) per pair, in input order.
    Nothing is truncated: a score must be of the whole tactic or it means nothing."""
    if len(prompts) != len(tactics):
        raise ValueError(f"{len(prompts)} prompts but {len(tactics)} tactics")
    device = torch.device(device) if device is not None else model_device(model)
    was_training = model.training
    model.eval()
    seqs = []
    for p, t in zip(prompts, tactics):
        pi, ti = encode_prompt(tokenizer, p), encode_tactic(tokenizer, t)
        seqs.append(Tokenized(pi + ti, [IGNORE] * len(pi) + ti))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[tuple[float, int]] = [(0.0, 0)] * len(seqs)
    for idx in bucket_batches([len(s) for s in seqs], batch_tokens, rng=None):
        batch = {k: v.to(device) for k, v in collate_padded([seqs[i] for i in idx], pad).items()}
        logp, mask = label_logprobs(forward_logits(model, batch), batch["labels"])
        sums, counts = logp.sum(-1).cpu(), mask.sum(-1).cpu()
        for r, i in enumerate(idx):
            out[i] = (float(sums[r]), int(counts[r]))
    model.train(was_training)
    return out


def perplexity(logprob: float, tokens: int) -> float:
    """exp of the mean negative log-likelihood per tactic token."""
    return math.exp(-logprob / max(tokens, 1))


def tactic_perplexities(model, tokenizer, prompts: Sequence[str], tactics: Sequence[str], **kw) -> list[float]:
    return [perplexity(lp, n) for lp, n in tactic_logprobs(model, tokenizer, prompts, tactics, **kw)]
