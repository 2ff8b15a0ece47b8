"""Score (prompt, tactic) pairs under a model: the summed log-probability of the tactic tokens (EOS
included) given the prompt, as the shared tokenisation convention defines them. Batched by length
(sort, batch, restore order), no gradients, on the model's device. Used by the perplexity filter,
DPO's reference pass, benchmarks and tests."""
from __future__ import annotations

import math
from typing import Sequence

import torch

from training.batching import forward_logits, label_logprobs, scoring_batches


def model_device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def tactic_logprobs(model, tokenizer, prompts: Sequence[str], tactics: Sequence[str],
                    batch_tokens: int = 8192, device: torch.device | str | None = None) -> list[tuple[float, int]]:
    """(sum of tactic-token log-probs, number of tactic tokens) per pair, in input order.
    Nothing is truncated: a score must be of the whole tactic or it means nothing."""
    device = torch.device(device) if device is not None else model_device(model)
    was_training = model.training
    model.eval()
    out: list[tuple[float, int]] = [(0.0, 0)] * len(prompts)
    for idx, batch in scoring_batches(tokenizer, prompts, tactics, batch_tokens, device):
        logp, mask = label_logprobs(forward_logits(model, batch), batch["labels"])
        sums, counts = logp.sum(-1).cpu(), mask.sum(-1).cpu()
        for r, i in enumerate(idx):
            out[i] = (float(sums[r]), int(counts[r]))
    model.train(was_training)
    return out


def perplexity(logprob: float, tokens: int) -> float:
    """exp of the mean negative log-likelihood per tactic token."""
    return math.exp(-logprob / max(tokens, 1))

