"""The perplexity filter: drop the easy (low-perplexity) and noisy (high-perplexity) tails of the
collected (state, tactic) pairs, by configurable quantiles, and say what was dropped and why."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from training.scoring import perplexity, tactic_logprobs


@dataclass
class FilterReport:
    total: int
    kept: int
    low_cut: float | None            # perplexity below this: "too easy"
    high_cut: float | None           # perplexity above this: "noisy"
    dropped: list[dict] = field(default_factory=list)   # {"state", "tactic", "ppl", "reason"}, a sample


def quantile(sorted_vals: Sequence[float], q: float) -> float:
    if not sorted_vals:
        return float("nan")
    pos = q * (len(sorted_vals) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def filter_pairs(model, tokenizer, pairs: Sequence[dict], prompt, low_q: float = 0.0, high_q: float = 0.0,
                 plot_path: str | Path | None = None) -> tuple[list[dict], FilterReport]:
    """`pairs` are dicts with "state" and "tactic"; returns the kept ones (with "ppl" added)."""
    scores = tactic_logprobs(model, tokenizer, [prompt.prompt(p["state"]) for p in pairs], [p["tactic"] for p in pairs])
    ppls = [perplexity(lp, n) for lp, n in scores]
    ranked = sorted(ppls)
    low = quantile(ranked, low_q) if low_q > 0 else None
    high = quantile(ranked, 1 - high_q) if high_q > 0 else None
    kept, dropped = [], []
    for p, ppl in zip(pairs, ppls):
        row = {**p, "ppl": ppl}
        if low is not None and ppl < low:
            dropped.append({"state": p["state"][:200], "tactic": p["tactic"], "ppl": ppl, "reason": f"too easy: ppl < {low:.3f}"})
        elif high is not None and ppl > high:
            dropped.append({"state": p["state"][:200], "tactic": p["tactic"], "ppl": ppl, "reason": f"noisy: ppl > {high:.3f}"})
        else:
            kept.append(row)
    report = FilterReport(len(pairs), len(kept), low, high, dropped[:50])
    if plot_path is not None and ppls:
        plot_distribution(ppls, low, high, plot_path)
    return kept, report


def plot_distribution(ppls: Sequence[float], low: float | None, high: float | None, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([math.log(max(p, 1e-9)) for p in ppls], bins=40, color="#4c72b0")
    for cut, label in ((low, "low cut"), (high, "high cut")):
        if cut is not None:
            ax.axvline(math.log(cut), color="#c44e52", linestyle="--", label=label)
    ax.set_xlabel("log perplexity of the tactic")
    ax.set_ylabel("pairs")
    if low is not None or high is not None:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
