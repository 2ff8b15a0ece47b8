"""A KV-cached sampling loop that records, per sampled token, its log-prob under the distribution
actually sampled from and the top-p kept set, so the trainer can rebuild the same distribution.

Order matters: temperature is applied FIRST, then top-p truncation on the tempered probabilities,
then renormalisation. Truncating first and tempering afterwards gives a different kept set.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SampledCompletion:
    token_ids: list[int]
    logprobs: list[float]
    kept_ids: list[tuple[int, ...] | None]   # None: nothing truncated (top_p == 1)
    finished: bool                           # EOS was sampled before the length cap


def topp_keep_mask(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """Boolean mask over the vocab (last dim) of tokens that survive top-p after tempering.

    A token is dropped once the tempered probability mass strictly before it (in descending
    order) already reaches top_p, so the most likely token is always kept."""
    tempered = logits.float() / temperature
    if top_p >= 1.0:
        return torch.ones_like(tempered, dtype=torch.bool)
    sorted_logits, order = torch.sort(tempered, descending=True, dim=-1)
    probs = torch.softmax(sorted_logits, dim=-1)
    drop_sorted = (probs.cumsum(-1) - probs) >= top_p
    return ~torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)


def sampling_logprobs(logits: torch.Tensor, temperature: float, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probs of the tempered, truncated, renormalised distribution; its keep mask)."""
    keep = topp_keep_mask(logits, temperature, top_p)
    tempered = logits.float() / temperature
    return torch.log_softmax(tempered.masked_fill(~keep, float("-inf")), dim=-1), keep


@torch.no_grad()
def sample_completion(
    model,
    prompt_ids: list[int],
    eos_id: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    generator: torch.Generator | None = None,
) -> SampledCompletion:
    """Sample one completion for one prompt (a single sequence: no padding to get wrong)."""
    if not prompt_ids:
        raise ValueError("prompt_ids is empty: nothing to condition on")
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
    cache, logits = out.past_key_values, out.logits[0, -1]
    tokens: list[int] = []
    logprobs: list[float] = []
    kept: list[tuple[int, ...] | None] = []
    for _ in range(max_new_tokens):
        lp, keep = sampling_logprobs(logits, temperature, top_p)
        tok = int(torch.multinomial(lp.exp().cpu(), 1, generator=generator))
        tokens.append(tok)
        logprobs.append(float(lp[tok]))
        kept.append(None if top_p >= 1.0 else tuple(torch.nonzero(keep).flatten().tolist()))
        if tok == eos_id:
            return SampledCompletion(tokens, logprobs, kept, finished=True)
        out = model(input_ids=torch.tensor([[tok]], device=device), past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[0, -1]
    return SampledCompletion(tokens, logprobs, kept, finished=False)
