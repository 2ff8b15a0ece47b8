"""A KV-cached batched sampler for causal LMs that returns each sampled token's log-probability
under the distribution actually sampled from (temperature first, then top-p, renormalised).

Each distinct prompt is prefilled once and its cache copied n times, so asking for 8 tactics per
state costs one prefill, not eight; HF `generate` overhead dominated on small CPU models.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Sequence

import torch


@dataclass
class Sample:
    token_ids: list[int]        # generated tokens, EOS included when it was sampled
    token_logprobs: list[float]
    finished: bool              # EOS sampled before the length cap


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


def sampling_logprobs(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """Log-probabilities of the distribution we sample from: tempered, then top-p truncated."""
    logits = logits.float() / max(temperature, 1e-6)
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        # drop a token once the mass *before* it already reaches top_p (the first is always kept)
        drop_sorted = (probs.cumsum(-1) - probs) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return torch.log_softmax(logits, dim=-1)


@torch.no_grad()
def sample(
    model,
    prompts: list[list[int]],
    n: int,
    eos_id: int,
    pad_id: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_new_tokens: int = 48,
    generator: torch.Generator | None = None,
    row_seeds: Sequence[int] | None = None,
) -> list[list[Sample]]:
    """n samples for each prompt (token ids); greedy when temperature == 0.

    With `row_seeds` (one per sample, prompt-major) each sequence draws its own noise (Gumbel-max
    over the same log-probs), so what a request samples does not depend on which other requests
    share its batch: runs are reproducible under the scheduler's dynamic batching.

    Result [p][j] is the j-th sample of prompt p. Rows of finished samples keep running through the
    model (batch shapes stay fixed) but their tokens and log-probs are masked out.
    """
    if not prompts:
        return []
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token (encode_prompt adds BOS)")
    device = next(model.parameters()).device
    row_gens = None
    if row_seeds is not None:
        if len(row_seeds) != len(prompts) * n:
            raise ValueError(f"need {len(prompts) * n} row seeds, got {len(row_seeds)}")
        row_gens = [torch.Generator(device=device).manual_seed(int(r) % (2**63)) for r in row_seeds]
    ids, mask = left_pad(prompts, pad_id)
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = out.past_key_values
    logits = out.logits[:, -1, :]
    if n > 1:
        cache.batch_repeat_interleave(n)
        logits = logits.repeat_interleave(n, dim=0)
        mask = mask.repeat_interleave(n, dim=0)
    batch = logits.shape[0]
    next_pos = mask.sum(-1, keepdim=True)
    tokens = torch.full((batch, max_new_tokens), pad_id, dtype=torch.long, device=device)
    logps = torch.zeros((batch, max_new_tokens), device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    length = torch.zeros(batch, dtype=torch.long, device=device)
    for t in range(max_new_tokens):
        if temperature == 0:
            lp = torch.log_softmax(logits.float(), dim=-1)
            tok = lp.argmax(-1)
        else:
            lp = sampling_logprobs(logits, temperature, top_p)
            if row_gens is not None:
                uniform = torch.stack([torch.rand(lp.shape[-1], generator=g, device=device) for g in row_gens])
                tok = (lp - torch.log(-torch.log(uniform.clamp(1e-12, 1 - 1e-7)))).argmax(-1)
            else:
                tok = torch.multinomial(lp.exp(), 1, generator=generator).squeeze(-1)
        tok = torch.where(done, torch.full_like(tok, pad_id), tok)
        tokens[:, t] = tok
        logps[:, t] = torch.where(done, torch.zeros_like(logps[:, t]), lp.gather(-1, tok[:, None]).squeeze(-1))
        length += (~done).long()
        done |= tok == eos_id
        if bool(done.all()):
            break
        mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=-1)
        out = model(input_ids=tok[:, None], attention_mask=mask, position_ids=next_pos, past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits = out.logits[:, -1, :]
        next_pos = next_pos + 1
    result: list[list[Sample]] = []
    tokens, logps, length, done = tokens.cpu(), logps.cpu(), length.cpu(), done.cpu()
    for p in range(len(prompts)):
        group = []
        for j in range(n):
            i = p * n + j
            L = int(length[i])
            group.append(Sample(tokens[i, :L].tolist(), logps[i, :L].tolist(), bool(done[i])))
        result.append(group)
    return result
