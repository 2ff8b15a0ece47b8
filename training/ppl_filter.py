"""The perplexity filter: score every collected (state, tactic) pair under the current policy and
drop the two tails. Very low perplexity means the policy already knows the step ("too easy", no
signal left); very high means a lucky or odd step ("noisy"). The tails are given as fractions of
the pairs (`low_q`, `high_q`, either may be 0) and cut by rank, so exactly round(q * n) pairs go
from each side; the reported cut-off is the midpoint between the last dropped and first kept
perplexity.

Before scoring, `cap_pairs` keeps at most N pairs per theorem and per goal state (newest rounds
first), so a few easy theorems proved every round do not dominate the data: diversity over volume."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from pydantic import Field

from lean_env.config import config_record
from policy.base import PromptFormat
from training.scoring import perplexity, tactic_logprobs
from training.store import Pair

MAX_EXAMPLES = 50        # dropped pairs kept in the report, per tail


@config_record(frozen=True)
class FilterConfig:
    """The two tails to drop, as fractions of the pairs (the campaign YAML's `filter:` section)."""

    # both tails by default, at the cut-offs bench/filter_sweep.py measured on the embedded campaign
    low_quantile: float = Field(0.05, ge=0, lt=1)   # "too easy": the policy already knows these steps
    high_quantile: float = Field(0.05, ge=0, lt=1)  # "noisy": lucky or odd steps
    max_pairs_per_theorem: Optional[int] = Field(None, ge=1)   # None = no cap
    max_pairs_per_state: Optional[int] = Field(None, ge=1)     # tactics kept per goal state
    # drop the pairs whose tactic the search runs at that state anyway (search.closers and, with
    # closer_templates, the state's hint templates): the model then learns only the steps the fixed
    # tactics do not take, and its samples are not spent proposing what runs beside them
    drop_fixed_tactics: bool = False

    def __post_init__(self) -> None:
        tail_sizes(0, self.low_quantile, self.high_quantile)   # the two together must leave something


@dataclass
class FilterReport:
    total: int
    kept: int
    dropped_low: int
    dropped_high: int
    low_cut: float | None                # perplexity below this: "too easy"
    high_cut: float | None               # perplexity above this: "noisy"
    dropped: list[dict] = field(default_factory=list)   # {"state", "tactic", "ppl", "reason"}: the easiest, then the noisiest
    capped: int = 0                      # pairs over the per-theorem / per-state caps (before scoring)


def cap_pairs(pairs: Sequence[Pair], per_theorem: int | None, per_state: int | None) -> list[Pair]:
    """At most `per_theorem` pairs of each theorem and `per_state` of each goal state, preferring
    the newest rounds (then input order); the result keeps the input order."""
    order = sorted(range(len(pairs)), key=lambda i: (-pairs[i].round, i))
    per_t: dict[str, int] = {}
    per_s: dict[str, int] = {}
    keep = set()
    for i in order:
        t, s = pairs[i].theorem_id, pairs[i].state
        if per_theorem is not None and not t:
            raise ValueError(f"pair {i} has no theorem_id: the per-theorem cap needs it")
        if (per_theorem is not None and per_t.get(t, 0) >= per_theorem) or \
                (per_state is not None and per_s.get(s, 0) >= per_state):
            continue
        per_t[t] = per_t.get(t, 0) + 1
        per_s[s] = per_s.get(s, 0) + 1
        keep.add(i)
    return [p for i, p in enumerate(pairs) if i in keep]


def tail_sizes(n: int, low_q: float, high_q: float) -> tuple[int, int]:
    for name, q in (("low_quantile", low_q), ("high_quantile", high_q)):
        if not 0.0 <= q < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {q}")
    if low_q + high_q >= 1.0:
        raise ValueError(f"low_quantile + high_quantile must be < 1 (would drop everything), got {low_q} + {high_q}")
    return round(low_q * n), round(high_q * n)


def filter_pairs(model, tokenizer, pairs: Sequence[Pair], prompt: PromptFormat | None = None,
                 low_q: float = 0.0, high_q: float = 0.0, plot_path: str | Path | None = None,
                 batch_tokens: int = 8192) -> tuple[list[Pair], list[float], FilterReport]:
    """The kept pairs, in input order, their perplexities, and the report."""
    prompt = prompt or PromptFormat()
    n_low, n_high = tail_sizes(len(pairs), low_q, high_q)
    scores = tactic_logprobs(model, tokenizer, [prompt.prompt(p.state) for p in pairs],
                             [p.tactic for p in pairs], batch_tokens=batch_tokens)
    ppls = [perplexity(lp, n) for lp, n in scores]
    ranked = sorted(range(len(pairs)), key=lambda i: ppls[i])
    low_set, high_set = set(ranked[:n_low]), set(ranked[len(ranked) - n_high:]) if n_high else set()
    keep_ranked = ranked[n_low: len(ranked) - n_high]
    low_cut = _midpoint(ppls, ranked[n_low - 1], keep_ranked[0]) if n_low and keep_ranked else None
    high_cut = _midpoint(ppls, keep_ranked[-1], ranked[len(ranked) - n_high]) if n_high and keep_ranked else None

    kept, kept_ppl, dropped = [], [], []
    for i, p in enumerate(pairs):
        if i in low_set or i in high_set:
            reason = f"too easy: ppl < {low_cut:.4g}" if i in low_set else f"noisy: ppl > {high_cut:.4g}"
            dropped.append({"state": p.state[:300], "tactic": p.tactic, "ppl": ppls[i], "reason": reason})
        else:
            kept.append(p)
            kept_ppl.append(ppls[i])
    # what each tail looks like: the easiest dropped steps first, then the noisiest
    sample = sorted((d for d in dropped if d["reason"].startswith("too")), key=lambda d: d["ppl"])[:MAX_EXAMPLES] + \
             sorted((d for d in dropped if d["reason"].startswith("noisy")), key=lambda d: -d["ppl"])[:MAX_EXAMPLES]
    report = FilterReport(len(pairs), len(kept), n_low, n_high, low_cut, high_cut, sample)
    if plot_path is not None and ppls:
        plot_distribution(ppls, low_cut, high_cut, plot_path)
    return kept, kept_ppl, report


def _midpoint(ppls: Sequence[float], a: int, b: int) -> float:
    return (ppls[a] + ppls[b]) / 2


def plot_distribution(ppls: Sequence[float], low: float | None, high: float | None, path: str | Path) -> Path:
    """Histogram of log-perplexity with the cut-offs, as a PNG (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    logs = [math.log(max(p, 1e-12)) for p in ppls]
    ax.hist(logs, bins=40, color="#4c72b0", label="pairs kept or dropped")
    # two cut-offs that look different, each saying where it is on this axis (log perplexity) and what it dropped
    styles = ((low, "too easy: dropped below", "#2a9d8f", ":", lambda x: x < low),
              (high, "noisy: dropped above", "#c44e52", "--", lambda x: x > high))
    for cut, label, color, style, dropped in styles:
        if cut is not None:
            n = sum(1 for p in ppls if dropped(p))
            ax.axvline(math.log(cut), color=color, linestyle=style, linewidth=2,
                       label=f"{label} log-ppl {math.log(cut):.2f} (ppl {cut:.3g}): {n} pairs")
    ax.set_xlabel("log perplexity of the tactic under the policy")
    ax.set_ylabel("pairs")
    ax.set_title(f"perplexity filter: {len(ppls)} pairs")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)   # room for the legend above the bars
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
