"""`prover report RUN`: the table of rounds and the learning curves of a campaign."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from lean_env.jsonl import read_jsonl
from prover.report_grpo import plot_grpo_telemetry


def print_report(run_dir: str | Path) -> None:
    run_dir = Path(run_dir)
    rows = list(read_jsonl(run_dir / "metrics.jsonl"))
    if not rows:
        raise FileNotFoundError(f"no metrics in {run_dir} (is it a campaign run directory?)")
    splits = sorted({k[5:] for r in rows for k in r if k.startswith("pass_")})
    table = Table(title=f"campaign {run_dir}")
    for col in ["round", *[f"pass@1 {s}" for s in splits], "entropy", "pairs kept/total", "searched", "soft reset", "time (s)"]:
        table.add_column(col)
    for r in rows:
        t = sum(v for k, v in r.items() if k.startswith("time_"))
        table.add_row(str(r["round"]), *[f"{r.get(f'pass_{s}', 0):.1%}" for s in splits], f"{r.get('entropy', 0):.3f}",
                      f"{r.get('pairs_kept', '-')}/{r.get('pairs_total', '-')}", str(r.get("theorems_searched", "-")),
                      "yes" if r.get("soft_reset") else "",
                      f"{t:.0f}")
    console = Console()
    if not console.is_terminal:   # a log or a pipe gets whole rows, not a wrapped 80-column table
        console = Console(width=180)
    console.print(table)
    resets = [r for r in rows if r.get("soft_reset")]
    if resets:
        console.print(resynthesis_table(rows, resets, splits[0] if splits else None))
    merged = [r for r in rows if r.get("merge")]
    if merged:
        console.print(merge_table(merged))
    plot_curves(rows, splits, run_dir / "plots")
    telemetry = sorted((run_dir / "rounds").glob("*/grpo/telemetry.jsonl"))
    if telemetry:
        plot_grpo_telemetry(telemetry, rows, run_dir / "plots" / "grpo_telemetry.png")
    print(f"plots: {run_dir / 'plots'}")


def resynthesis_table(rows: list[dict], resets: list[dict], split: str | None) -> Table:
    """Per soft reset: what re-synthesis did to the store, how the reset landed, and whether the
    model passed its pre-reset best (on the first eval split) and when."""
    table = Table(title="re-synthesis and soft resets")
    for col in ["round", "searchers", "re-proved", "newly proved", "kept", "proof length before -> after",
                "reset steps", "held-out loss (pre-reset)", "entropy before -> after", f"passed pre-reset best ({split})"]:
        table.add_column(col)
    for r in resets:
        before = [x for x in rows if x["round"] < r["round"]]
        prev = before[-1] if before else {}
        key = f"pass_{split}"
        best = max((x.get(key, 0) for x in before), default=0)
        passed = next((x["round"] for x in rows if x["round"] >= r["round"] and x.get(key, 0) > best), None)
        lengths = [r.get("resynth_mean_proof_length_before"), r.get("resynth_mean_proof_length_after")]
        table.add_row(str(r["round"]), ", ".join(r.get("searchers", [])), str(r.get("resynth_reproved", "-")),
                      str(r.get("resynth_newly_proved", "-")), str(r.get("resynth_kept", "-")),
                      " -> ".join("-" if x is None else f"{x:.2f}" for x in lengths),
                      str(r.get("reset_steps", "-")),
                      f"{_num(r.get('reset_heldout_loss'))} ({_num(r.get('pre_reset_heldout_loss'))})",
                      f"{_num(prev.get('entropy'))} -> {_num(r.get('entropy'))}",
                      "-" if passed is None else f"round {passed} (+{passed - r['round']})")
    return table


def merge_table(rows: list[dict]) -> Table:
    """Model merging: each seed run and their average on the same held-out theorems."""
    table = Table(title="model merging (pass@1, same theorems)")
    names = [k for k in rows[0]["merge"] if k not in ("split", "theorems")]
    for col in ["round", "split", *names]:
        table.add_column(col)
    for r in rows:
        m = r["merge"]
        table.add_row(str(r["round"]), f"{m['split']} ({m['theorems']})", *[f"{m.get(n, 0):.1%}" for n in names])
    return table


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def plot_curves(rows: list[dict], splits: list[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    rounds = [r["round"] for r in rows]
    resets = [r["round"] for r in rows if r.get("soft_reset")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for s in splits:
        axes[0].plot(rounds, [r.get(f"pass_{s}", 0) for r in rows], marker="o", label=s)
    axes[0].set_title("pass@1 per round")
    axes[0].legend()
    axes[1].plot(rounds, [r.get("entropy", 0) for r in rows], marker="o", color="#8172b2")
    axes[1].set_title("policy entropy on the probe set (nats)")
    axes[2].bar(rounds, [r.get("pairs_total", 0) for r in rows], color="#cccccc", label="collected")
    axes[2].bar(rounds, [r.get("pairs_kept", 0) for r in rows], color="#4c72b0", label="kept by the filter")
    axes[2].set_title("training pairs")
    axes[2].legend()
    for i, ax in enumerate(axes):
        ax.set_xlabel("round")
        for j, x in enumerate(resets):   # the soft resets: the dip, the entropy jump, the climb after
            ax.axvline(x - 0.5, color="#c44e52", linestyle="--", label="soft reset" if j == 0 and i < 2 else None)
        if resets and i < 2:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "learning_curves.png", dpi=100)
    plt.close(fig)
