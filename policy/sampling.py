"""The one sampler: batched and KV-cached, with per-row seeds, used by the search's `HFGenerator`
and by the GRPO rollouts.

- Each distinct prompt is prefilled once and its cache copied n times (8 tactics per state cost one
  prefill, not eight).
- Rows that sampled EOS leave the batch, KV cache and all, once they are a quarter of it, so the
  later steps run on the rows still going instead of carrying finished ones to the longest sample.
- Every row draws its noise from its own seed (Gumbel-max with counter-based noise hashed from
  (row seed, step, token id)), so a row samples the same tokens whichever rows share its batch,
  on any device and however the batch shrinks around it.
- Per token it returns the log-prob under the distribution actually sampled from (temperature
  first, then top-p on the tempered probabilities, renormalised) and, on request, the top-p kept
  set, which the GRPO trainer uses to rebuild that distribution (training/grpo/loss.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from policy.params import SamplingParams


@dataclass
class Sample:
    token_ids: list[int]        # generated tokens, EOS included when it was sampled
    token_logprobs: list[float]
    finished: bool              # EOS sampled before the length cap
    kept_ids: list[tuple[int, ...] | None] | None = None  # per token the top-p kept set (None: all kept)
    raw_logprobs: list[float] | None = None   # per token the model's own log-prob (temperature 1, no top-p)


def topp_keep_mask(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """Boolean mask (last dim) of the tokens that survive top-p on the *tempered* probabilities.
    A token is dropped once the mass strictly before it (in descending order) reaches top_p, so
    the most likely token is always kept. Tempering after truncating would keep a different set."""
    tempered = logits.float() / max(temperature, 1e-6)
    if top_p >= 1.0:
        return torch.ones_like(tempered, dtype=torch.bool)
    sorted_logits, order = torch.sort(tempered, descending=True, dim=-1)
    probs = torch.softmax(sorted_logits, dim=-1)
    drop_sorted = (probs.cumsum(-1) - probs) >= top_p
    return ~torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)


def sampling_logprobs(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """Log-probabilities of the distribution we sample from: tempered, top-p truncated, renormalised."""
    tempered = logits.float() / max(temperature, 1e-6)
    if top_p < 1.0:
        tempered = tempered.masked_fill(~topp_keep_mask(logits, temperature, top_p), float("-inf"))
    return torch.log_softmax(tempered, dim=-1)


def _signed(c: int) -> int:
    return c - (1 << 64) if c >= 1 << 63 else c


_MIX1, _MIX2, _GOLDEN = _signed(0xBF58476D1CE4E5B9), _signed(0x94D049BB133111EB), _signed(0x9E3779B97F4A7C15)


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic: it copies the sign bit)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def gumbel_noise(row_seeds: torch.Tensor, step: int, vocab: int) -> torch.Tensor:
    """[rows, vocab] standard Gumbel noise that depends only on (row seed, step, token id):
    the splitmix64 finaliser over a counter, in int64 arithmetic that wraps like uint64."""
    counter = torch.arange(vocab, device=row_seeds.device, dtype=torch.int64) + step * vocab
    z = row_seeds[:, None] * _GOLDEN + counter[None, :] * _MIX2
    z = (z ^ _shr(z, 30)) * _MIX1
    z = (z ^ _shr(z, 27)) * _MIX2
    z = z ^ _shr(z, 31)
    uniform = (_shr(z, 40).float() + 0.5) / float(1 << 24)   # 24 bits: exact in float32, never 0 or 1
    return -torch.log(-torch.log(uniform))


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    return ids, mask


@torch.no_grad()
def sample(
    model,
    prompts: list[list[int]],
    n: int,
    params: SamplingParams,
    eos_id: int,
    pad_id: int,
    row_seeds: Sequence[int] | None = None,
    generator: torch.Generator | None = None,
    record_kept: bool = False,
    raw: bool = False,
) -> list[list[Sample]]:
    """n samples for each prompt (token ids); result [p][j] is the j-th sample of prompt p.

    `row_seeds` gives one seed per sample (prompt-major); without it the seeds are drawn from
    `generator` (or torch's global RNG). `record_kept` returns each token's top-p kept set (None
    per token when top_p == 1); `raw` each token's raw log-prob as well (`SamplingParams.logprobs`).
    Greedy when params.temperature == 0. Generation stops at EOS or
    after params.max_tokens; stop strings are applied to the decoded text by the caller.
    """
    if not prompts:
        return []
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token (encode_prompt adds BOS)")
    rows = len(prompts) * n
    device = next(model.parameters()).device
    if row_seeds is None:
        seeds = torch.randint(0, 2**62, (rows,), generator=generator, dtype=torch.int64)
    elif len(row_seeds) != rows:
        raise ValueError(f"need {rows} row seeds ({len(prompts)} prompts x {n}), got {len(row_seeds)}")
    else:
        seeds = torch.tensor([_signed(int(s) % (1 << 64)) for s in row_seeds], dtype=torch.int64)
    seeds = seeds.to(device)

    ids, mask = left_pad(prompts, pad_id)
    ids, mask = ids.to(device), mask.to(device)
    out = model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0), use_cache=True)
    cache, logits = out.past_key_values, out.logits[:, -1, :]
    if n > 1:
        cache.batch_repeat_interleave(n)
        logits, mask = logits.repeat_interleave(n, dim=0), mask.repeat_interleave(n, dim=0)
    position = mask.sum(-1, keepdim=True)
    alive = torch.arange(rows, device=device)           # original row of each row still in the batch
    done = torch.zeros(rows, dtype=torch.bool, device=device)
    tokens: list[list[int]] = [[] for _ in range(rows)]
    logps: list[list[float]] = [[] for _ in range(rows)]
    raws: list[list[float]] = [[] for _ in range(rows)]
    kept: list[list[tuple[int, ...] | None]] = [[] for _ in range(rows)]
    finished = [False] * rows
    truncating = record_kept and params.top_p < 1.0 and not params.greedy
    for step in range(params.max_tokens):
        if params.greedy:
            lp = torch.log_softmax(logits.float(), dim=-1)
            tok = lp.argmax(-1)
        else:
            lp = sampling_logprobs(logits, params.temperature, params.top_p)
            tok = (lp + gumbel_noise(seeds, step, lp.shape[-1])).argmax(-1)
        tok_lp = lp.gather(-1, tok[:, None]).squeeze(-1)
        raw_lp = (torch.log_softmax(logits.float(), dim=-1).gather(-1, tok[:, None]).squeeze(-1).tolist()
                  if raw else None)
        kept_mask = torch.isfinite(lp) if truncating else None
        for i, (r, t, x) in enumerate(zip(alive.tolist(), tok.tolist(), tok_lp.tolist())):
            if finished[r]:
                continue   # finished, still in the batch until the next compaction: ignored
            tokens[r].append(t)
            logps[r].append(x)
            if raw:
                raws[r].append(raw_lp[i])
            if record_kept:
                kept[r].append(tuple(torch.nonzero(kept_mask[i]).flatten().tolist()) if truncating else None)
            finished[r] = t == eos_id
        done = done | (tok == eos_id)
        if bool(done.all()) or step == params.max_tokens - 1:
            break   # at the cap: no forward pass for a token that will never be sampled
        if int(done.sum()) * 4 >= len(done):
            # finished rows leave the batch (cache and all) once they are a quarter of it: copying
            # the cache on every single EOS would cost more than carrying a few dead rows
            index = torch.nonzero(~done).flatten()
            cache.batch_select_indices(index)
            alive, seeds, tok, mask, position = alive[index], seeds[index], tok[index], mask[index], position[index]
            done = done[index]
        mask = torch.cat([mask, torch.ones((mask.shape[0], 1), dtype=mask.dtype, device=device)], dim=-1)
        out = model(input_ids=tok[:, None], attention_mask=mask, position_ids=position, past_key_values=cache,
                    use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1, :]
        position = position + 1
    return [[Sample(tokens[r], logps[r], finished[r], kept[r] if record_kept else None, raws[r] if raw else None)
             for r in range(p * n, (p + 1) * n)] for p in range(len(prompts))]
