"""The GRPO telemetry plot of `prover report`: one point per optimiser step, across rounds.

Round boundaries are dotted grey; a round that started with a collapse recovery (its metrics row
has `soft_reset`) gets a red dotted line, as the soft resets on the learning curves do. The
mismatch panel draws mean, p99 and max |epsilon_t| (means cancel out: alert on the max), and the
entropy panel draws the controller's target next to the estimate.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from lean_env.jsonl import read_jsonl

PANELS = (
    ("reward", ("reward_mean",)),
    ("|eps_t| = |log pi_old - log pi_infer|", ("eps_mean", "eps_p99", "eps_max")),
    ("k3 of the mismatch", ("eps_k3",)),
    ("entropy estimate vs target", ("entropy", "target_entropy")),
    ("upper clip k", ("k",)),
    ("fraction clipped / outer-capped", ("frac_clipped", "frac_outer_capped")),
    ("max |log ratio| (vs denominator)", ("logp_diff_max",)),
    ("gradient norm", ("grad_norm",)),
    ("truncated IS: mean weight / fraction capped", ("is_weight_mean", "frac_is_capped")),
    ("kept theorems", ("kept_theorems",)),
)


def _round_of(path: Path) -> int:
    return int(path.parent.parent.name)   # rounds/NNN/grpo/telemetry.jsonl


def plot_grpo_telemetry(files: Sequence[Path], metrics: Sequence[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    resets = {int(m["round"]) for m in metrics if m.get("soft_reset")}
    rows, starts = [], []
    for f in sorted(files, key=_round_of):
        cfg_file = f.parent / "grpo_config.json"
        target = float(json.loads(cfg_file.read_text()).get("target_entropy", 0.0)) if cfg_file.exists() else 0.0
        starts.append((len(rows), _round_of(f)))
        rows.extend({**r, "target_entropy": target} for r in read_jsonl(f))
    fig, axes = plt.subplots(2, 5, figsize=(19, 6.5))
    for ax, (title, keys) in zip(axes.flat, PANELS):
        for key in keys:
            ax.plot([float(r.get(key, 0.0)) for r in rows], label=key, linewidth=1)
        if len(keys) > 1:
            ax.legend(fontsize=9)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("optimiser step", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for x, r in starts[1:]:
            ax.axvline(x - 0.5, color="#c44e52" if r in resets else "#999999", linestyle=":")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
