"""`prover report RUN`: the table of rounds and the learning curves of a campaign."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from lean_env.jsonl import read_jsonl
from prover.report_grpo import plot_grpo_telemetry
from prover.report_proving import attempt_history, eval_table, mix_table, plot_solved_vs_cpu, proving_table, write_history
from search.passk import wilson_interval


def print_report(run_dir: str | Path) -> None:
    run_dir = Path(run_dir)
    rows = list(read_jsonl(run_dir / "metrics.jsonl"))
    if not rows:
        raise FileNotFoundError(f"no metrics in {run_dir} (is it a campaign run directory?)")
    console = Console()
    if not console.is_terminal:   # a log or a pipe gets whole rows, not a wrapped 80-column table
        console = Console(width=180)
    if "proved_total" in rows[0]:   # a proving campaign: no held-out splits
        console.print(proving_table(rows))
        print_history(console, run_dir)
        print(f"proofs: {run_dir / 'proofs.lean'} and {run_dir / 'proofs.jsonl'}")
        print(f"plot: {plot_solved_vs_cpu(rows, run_dir / 'plots')}")
        return
    splits = sorted({k[5:] for r in rows for k in r if k.startswith("pass_")})
    table = Table(title=f"campaign {run_dir}")
    for col in ["round", *[f"pass@1 {s} [95% CI]" for s in splits], "entropy", "pairs kept/total", "searched", "soft reset", "time (s)"]:
        table.add_column(col)
    counts = {s: split_counts(rows, s, run_dir) for s in splits}
    for i, r in enumerate(rows):
        t = sum(v for k, v in r.items() if k.startswith("time_"))
        table.add_row(str(r["round"]), *[_rate(r.get(f"pass_{s}", 0), *counts[s][i]) for s in splits], f"{r.get('entropy', 0):.3f}",
                      f"{r.get('pairs_kept', '-')}/{r.get('pairs_total', '-')}", str(r.get("theorems_searched", "-")),
                      "yes" if r.get("soft_reset") else "",
                      f"{t:.0f}")
    console.print(table)
    for extra in (mix_table(rows, "mix_search"), *(eval_table(run_dir, rows, s) for s in splits)):
        if extra is not None:
            console.print(extra)
    print_history(console, run_dir)
    resets = [r for r in rows if r.get("soft_reset")]
    if resets:
        console.print(resynthesis_table(rows, resets, splits[0] if splits else None))
    whole = [r for r in rows if "pool_repair_fixed" in r]
    if whole:
        console.print(whole_table(whole))
    merged = [r for r in rows if r.get("merge")]
    if merged:
        console.print(merge_table(merged))
    plot_curves(rows, splits, run_dir / "plots", run_dir)
    if splits:
        plot_solved_vs_cpu(rows, run_dir / "plots", splits[0])
    telemetry = sorted((run_dir / "rounds").glob("*/grpo/telemetry.jsonl"))
    if telemetry:
        plot_grpo_telemetry(telemetry, rows, run_dir / "plots" / "grpo_telemetry.png")
    print(f"plots: {run_dir / 'plots'}")


def print_history(console: Console, run_dir: Path) -> None:
    """Every statement's searches to attempt_history.tsv, and their counts."""
    history = attempt_history(run_dir)
    if history:
        counts = write_history(history, run_dir / "attempt_history.tsv")
        console.print("statements searched: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                      + f" (each one's searches: {run_dir / 'attempt_history.tsv'})")


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


def whole_table(rows: list[dict]) -> Table:
    """Whole-proof campaigns: per round, the pool's proofs by the first sample and by each repair turn."""
    table = Table(title="whole proofs on the pool (first sample, then repair turns)")
    for col in ["round", "sampled", "proved first", "fixed by repair (per turn)", "tokens per theorem"]:
        table.add_column(col)
    for r in rows:
        n = r.get("theorems_searched", 0)
        table.add_row(str(r["round"]), str(n), str(r["pool_first_proofs"]),
                      " + ".join(str(x) for x in r["pool_repair_fixed"]) or "-", f"{r['pool_tokens'] / max(n, 1):.0f}")
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


def _rate(rate: float, proved: int, n: int) -> str:
    """"55.2% [45.3-64.8] n=96": the pass rate, its 95% Wilson interval and n."""
    if not n:
        return f"{rate:.1%}"
    lo, hi = wilson_interval(proved, n)
    return f"{rate:.1%} [{100 * lo:.0f}-{100 * hi:.0f}] n={n}"


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def split_counts(rows: list[dict], split: str, run_dir: Path | None = None) -> list[tuple[int, int]]:
    """(proved, n) of `split` per row: recorded in the row since rows carry them; for an older row,
    n is the number of theorems in the round's eval attempts and proved is pass x n."""
    out = []
    for r in rows:
        n, proved = r.get(f"n_{split}"), r.get(f"proved_{split}")
        if n is None and run_dir is not None:
            ids = {a["theorem_id"] for a in read_jsonl(run_dir / "rounds" / f"{r['round']:03d}" / f"eval_{split}" / "attempts.jsonl")}
            n = len(ids)
        n = int(n or 0)
        out.append((int(proved) if proved is not None else round(r.get(f"pass_{split}", 0) * n), n))
    return out


def learning_curves_figure(rows: list[dict], splits: list[str], counts: dict[str, list[tuple[int, int]]] | None = None):
    """pass@1 per round in % with a 95% Wilson band and n in the legend, the probe entropy and the
    training pairs; integer round ticks; soft resets as red dashed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    counts = counts or {s: split_counts(rows, s) for s in splits}
    rounds = [r["round"] for r in rows]
    resets = [r["round"] for r in rows if r.get("soft_reset")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for s in splits:
        rate = [100 * r.get(f"pass_{s}", 0) for r in rows]
        ns = sorted({n for _, n in counts[s]})
        line, = axes[0].plot(rounds, rate, marker="o", label=f"{s} (n={'/'.join(map(str, ns))})")
        bands = [wilson_interval(p, n) if n else (float("nan"), float("nan")) for p, n in counts[s]]
        axes[0].fill_between(rounds, [100 * lo for lo, _ in bands], [100 * hi for _, hi in bands],
                             color=line.get_color(), alpha=0.18, linewidth=0)
    axes[0].set_title("pass@1 per round (band: 95% Wilson interval)")
    axes[0].set_ylabel("pass@1 (%)")
    axes[0].yaxis.set_major_formatter(PercentFormatter(100))
    axes[0].set_ylim(0, 100)
    axes[1].plot(rounds, [r.get("entropy", 0) for r in rows], marker="o", color="#8172b2")
    axes[1].set_title("policy entropy on the probe set")
    axes[1].set_ylabel("nats")
    axes[2].bar(rounds, [r.get("pairs_total", 0) for r in rows], color="#cccccc", label="collected")
    axes[2].bar(rounds, [r.get("pairs_kept", 0) for r in rows], color="#4c72b0", label="kept by the filter")
    axes[2].set_title("training pairs")
    axes[2].set_ylabel("pairs")
    for i, ax in enumerate(axes):
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for j, x in enumerate(resets):   # the soft resets: the dip, the entropy jump, the climb after
            ax.axvline(x - 0.5, color="#c44e52", linestyle="--", label="soft reset" if j == 0 else None)
        ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_curves(rows: list[dict], splits: list[str], out: Path, run_dir: Path | None = None) -> Path:
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig = learning_curves_figure(rows, splits, {s: split_counts(rows, s, run_dir) for s in splits})
    fig.savefig(out / "learning_curves.png", dpi=100)
    plt.close(fig)
    return out / "learning_curves.png"
