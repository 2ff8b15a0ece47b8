"""`prover report RUN`: the table of rounds and the learning curves of a campaign."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from search.records import read_jsonl


def print_report(run_dir: str | Path) -> None:
    run_dir = Path(run_dir)
    rows = list(read_jsonl(run_dir / "metrics.jsonl"))
    if not rows:
        raise FileNotFoundError(f"no metrics in {run_dir} (is it a campaign run directory?)")
    splits = sorted({k[5:] for r in rows for k in r if k.startswith("pass_")})
    table = Table(title=f"campaign {run_dir}")
    for col in ["round", *[f"pass@1 {s}" for s in splits], "entropy", "pairs kept/total", "soft reset", "time (s)"]:
        table.add_column(col)
    for r in rows:
        t = sum(v for k, v in r.items() if k.startswith("time_"))
        table.add_row(str(r["round"]), *[f"{r.get(f'pass_{s}', 0):.1%}" for s in splits], f"{r.get('entropy', 0):.3f}",
                      f"{r.get('pairs_kept', '-')}/{r.get('pairs_total', '-')}", "yes" if r.get("soft_reset") else "",
                      f"{t:.0f}")
    Console().print(table)
    plot_curves(rows, splits, run_dir / "plots")
    print(f"plots: {run_dir / 'plots'}")


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
    for ax in axes:
        ax.set_xlabel("round")
        for x in resets:
            ax.axvline(x, color="#c44e52", linestyle=":", label=None)
    fig.tight_layout()
    fig.savefig(out / "learning_curves.png", dpi=100)
    plt.close(fig)
