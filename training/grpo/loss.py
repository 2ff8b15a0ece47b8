"""The GRPO objective with the MAI-Thinking-1 changes, per token.

    r_t   = exp(logp_train - logp_infer)          (denominator: the sampler's recorded log-prob)
    J_t   = min(r_t * A, clip(r_t, 1 - eps_low, 1 + k) * A)
    J_t   = max(J_t, r_max * A)   when A < 0      (dual clip: constant, no gradient, beyond r_max)
    loss  = -sum_t w_t J_t / total_tokens         (total trained tokens of the whole optimiser step)

w_t is 1, or with truncated importance sampling (`tis_cap` > 0) the ratio's denominator is the
trainer's own log-prob at rollout time (pi_old) and w_t = min(pi_old / pi_infer, cap), a constant
that corrects for the sampler/trainer mismatch without letting one token's weight explode.

`clipped_objective` returns the sum; the shared loop (training/trainer.py) divides it by the
step's total token count (never the micro-batch's), which gives every token the same weight
whatever the sequence lengths and makes the accumulated gradient of micro-batches equal to the
gradient of the whole batch. Padding is removed with `torch.where`
before any arithmetic, so -inf/NaN values there cannot reach the loss or the gradients.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch


def group_advantages(rewards: Sequence[float], eps: float = 1e-6, normalise_std: bool = True) -> list[float]:
    """A_i = (R_i - mean) / (std + eps) over one theorem's group (population std, ddof 0)."""
    if not rewards:
        return []
    mean = sum(rewards) / len(rewards)
    centred = [r - mean for r in rewards]
    if not normalise_std:
        return centred
    std = math.sqrt(sum(c * c for c in centred) / len(rewards))
    return [c / (std + eps) for c in centred]


def replay_logprobs(logits: torch.Tensor, tokens: torch.Tensor, keep: torch.Tensor | None,
                    temperature: float | torch.Tensor) -> torch.Tensor:
    """Log-prob of `tokens` under the sampler's distribution rebuilt from training logits.

    logits [N, V], tokens [N], keep [N, V] bool (the recorded top-p set) or None, temperature a
    float or a per-row tensor [N] (each turn records the temperature it was sampled at). Temperature
    first, then the recorded exclusions as -inf, with the sampled token always kept (so each row
    has a finite entry even if the record is damaged), then log_softmax and gather."""
    if isinstance(temperature, torch.Tensor):
        temperature = temperature.to(logits.device, torch.float32).unsqueeze(-1)
    tempered = logits.float() / temperature
    if keep is not None:
        keep = keep.clone()
        keep[torch.arange(tokens.shape[0], device=tokens.device), tokens] = True
        tempered = torch.where(keep, tempered, torch.full_like(tempered, float("-inf")))
    return torch.log_softmax(tempered, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


@dataclass
class TokenStats:
    """Sums over trained tokens, so micro-batches can be added up and divided once per step."""

    tokens: int = 0
    abs_diff_sum: float = 0.0
    abs_diff_max: float = 0.0
    k3_sum: float = 0.0
    clipped: int = 0
    capped: int = 0
    entropy_sum: float = 0.0          # sum of -logp_train * r (importance-weighted entropy)

    def add(self, other: "TokenStats") -> None:
        self.tokens += other.tokens
        self.abs_diff_sum += other.abs_diff_sum
        self.abs_diff_max = max(self.abs_diff_max, other.abs_diff_max)
        self.k3_sum += other.k3_sum
        self.clipped += other.clipped
        self.capped += other.capped
        self.entropy_sum += other.entropy_sum

    def mean(self, total: float) -> float:
        return total / max(self.tokens, 1)

    @property
    def entropy(self) -> float:
        return self.mean(self.entropy_sum)


def clipped_objective(
    logp_train: torch.Tensor,
    logp_infer: torch.Tensor,
    advantages: torch.Tensor,
    valid: torch.Tensor,
    k: float,
    eps_low: float,
    r_max: float,
    is_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, TokenStats]:
    """Loss (to minimise) of these tokens, summed: -sum_t w_t J_t.

    All tensors share one shape; `valid` marks trained tokens; `logp_infer` is the ratio's
    denominator (the sampler's log-probs, or pi_old with truncated IS, whose weights are
    `is_weight`, no gradient). Returns the loss and the sums the telemetry needs."""
    if not (logp_train.shape == logp_infer.shape == advantages.shape == valid.shape):
        raise ValueError("logp_train, logp_infer, advantages and valid must have the same shape")
    if is_weight is not None and is_weight.shape != valid.shape:
        raise ValueError("is_weight must have the shape of the tokens")
    valid = valid.bool()
    zero = torch.zeros((), dtype=logp_train.dtype, device=logp_train.device)
    # Sanitise first: nothing computed below ever sees a padding value.
    lt = torch.where(valid, logp_train, zero)
    li = torch.where(valid, logp_infer.to(lt.dtype), zero)
    adv = torch.where(valid, advantages.to(lt.dtype), zero)

    log_ratio = lt - li
    # exp is taken of a log-ratio capped at log(r_max): beyond it every branch is constant
    # (clipped for A > 0, dual-clipped for A < 0), and an overflowing exp would turn the zero
    # gradient of the unselected branch into 0 * inf = NaN.
    ratio = torch.exp(torch.clamp(log_ratio, max=math.log(r_max)))
    clipped_ratio = torch.clamp(ratio, 1.0 - eps_low, 1.0 + k)
    surrogate = torch.minimum(ratio * adv, clipped_ratio * adv)
    # Dual clip: for A < 0 and r > r_max the min above picks r*A, unbounded; cap it to r_max*A,
    # a constant, so a stale or mismatched token cannot dominate the step.
    capped = (adv < 0) & (log_ratio.detach() > math.log(r_max)) & valid
    surrogate = torch.where(capped, (r_max * adv).detach(), surrogate)
    if is_weight is not None:
        surrogate = surrogate * torch.where(valid, is_weight.detach().to(lt.dtype), zero)
    surrogate = torch.where(valid, surrogate, zero)
    loss = -surrogate.sum()

    with torch.no_grad():
        raw = log_ratio.double()
        true_ratio = torch.exp(raw)
        clipped = valid & ~capped & (((adv > 0) & (true_ratio > 1.0 + k)) | ((adv < 0) & (true_ratio < 1.0 - eps_low)))
        diff = torch.where(valid, raw.abs(), 0.0)
        k3 = torch.where(valid, true_ratio - raw - 1.0, 0.0)
        # pi_train / pi_infer: with truncated IS the ratio's denominator is pi_old, and w_t carries
        # pi_old / pi_infer (capped, so the estimate is then slightly biased towards pi_old)
        to_infer = true_ratio if is_weight is None else true_ratio * is_weight.double()
        ent = torch.where(valid, -lt.double() * to_infer, 0.0)
        stats = TokenStats(
            tokens=int(valid.sum()),
            abs_diff_sum=float(diff.sum()),
            abs_diff_max=float(diff.max()) if diff.numel() else 0.0,
            k3_sum=float(k3.sum()),
            clipped=int(clipped.sum()),
            capped=int(capped.sum()),
            entropy_sum=float(ent.sum()),
        )
    return loss, stats


def k3_kl(logp_train: torch.Tensor, logp_ref: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Sum over valid tokens of the k3 estimator of KL(pi_train || pi_ref): e^x - x - 1 with
    x = logp_ref - logp_train (non-negative, unbiased when tokens come from pi_train)."""
    valid = valid.bool()
    zero = torch.zeros((), dtype=logp_train.dtype, device=logp_train.device)
    x = torch.where(valid, logp_ref.to(logp_train.dtype) - logp_train, zero)
    return torch.where(valid, torch.exp(x) - x - 1.0, zero).sum()
