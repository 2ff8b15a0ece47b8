"""What `prover report` adds for campaigns on real benchmarks: the rounds of a proving campaign
(cumulative statements proved, new ones, proof length, tactic mix, CPU), every statement's attempt
history, and statements solved against CPU time with the fixed closers' line for reference."""
from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from lean_env.jsonl import read_jsonl
from search.records import AttemptRecord, Failure


def cpu_of(row: dict) -> float:
    """CPU seconds a round's metrics row records (its steps and its evaluation)."""
    return sum(v for k, v in row.items() if k.startswith("cpu_") and isinstance(v, (int, float)))


def proving_table(rows: list[dict]) -> Table:
    refs = [f"{name} alone: {rows[0][key]}" for key, name in (("closers_proved", "closers"),
            ("templates_proved", "closers and hint templates")) if rows and key in rows[0]]
    title = "proving campaign: statements proved (cumulative)" + (f"; {', '.join(refs)}" if refs else "")
    table = Table(title=title)
    for col in ["round", "proved (new)", "with a model tactic", "searched", "did not start", "mean length new / all", "tactic mix of new proofs",
                "re-verify failed", "incidents", "CPU s (cum.)"]:
        table.add_column(col)
    cum = 0.0
    for r in rows:
        cum += cpu_of(r)
        mix = escape(", ".join(f"{k} {v}" for k, v in (r.get("mix_new") or {}).items()) or "-")
        table.add_row(str(r["round"]), f"{r['proved_total']}/{r['statements']} (+{r['proved_new']})",
                      str(r.get("proved_with_model_tactics", "-")), str(r["searched"]),
                      str(r.get("did_not_start", "-")),
                      f"{_num(r.get('proof_length_mean_new'))} / {_num(r.get('proof_length_mean_all'))}", mix,
                      str(r.get("reverify_failed", "-")), str(r.get("soundness_incidents_search", "-")),
                      f"{cpu_of(r):.0f} ({cum:.0f})")
    return table


def mix_table(rows: list[dict], key: str) -> Table | None:
    """Expert iteration: proof length and tactic mix of each round's search proofs."""
    if not any(key in r for r in rows):
        return None
    table = Table(title="proofs found by each round's search: length and tactic mix")
    for col in ["round", "proofs", "mean length", "tactic mix"]:
        table.add_column(col)
    for r in rows:
        if key in r:
            table.add_row(str(r["round"]), str(r.get("proofs_search", "-")), _num(r.get("proof_length_mean_search")),
                          escape(", ".join(f"{k} {v}" for k, v in r[key].items()) or "-"))
    return table


def eval_table(run_dir: Path, rows: list[dict], split: str) -> Table | None:
    """Expert iteration with a closers' reference: per round, the held-out proofs, how many have a
    step the model proposed (a fixed closer or template scores exactly `search.closer_logprob`),
    which statements the closers alone do not prove, and the tactic mix."""
    import yaml

    from prover.proofs import tactic_mix

    if not (run_dir / "config.yaml").exists():
        return None
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    reference = run_dir / "rounds" / "000" / f"closers_{cfg['eval']['benchmark']}_{split}" / "proofs.jsonl"
    if not reference.exists():
        return None
    search = cfg["search"]
    fixed_lp, closers = search.get("closer_logprob", -2.0), search.get("closers", [])
    by_closers = {r["id"] for r in read_jsonl(reference)}
    table = Table(title=f"held-out {split} proofs: what made them (closers alone: {len(by_closers)})")
    for col in ["round", "proved", "with a model step", "not proved by the closers", "closers' not proved", "tactic mix"]:
        table.add_column(col)
    for r in rows:
        recs = [AttemptRecord.from_dict(x) for x in read_jsonl(run_dir / "rounds" / f"{r['round']:03d}" / f"eval_{split}" / "attempts.jsonl")]
        proved = {x.theorem_id: x for x in recs if x.proved}
        model = sum(any(s.logprob != fixed_lp for s in x.steps) for x in proved.values())
        table.add_row(str(r["round"]), str(len(proved)), str(model),
                      escape(", ".join(sorted(set(proved) - by_closers)) or "-"), str(len(by_closers - set(proved))),
                      escape(", ".join(f"{k} {v}" for k, v in tactic_mix((x.proof for x in proved.values()), closers).items())))
    return table


def attempt_history(run_dir: Path) -> list[dict]:
    """Per statement, in every search a round made of it (the pool's searches, round 0's closers
    on the target): round, proved, expansions, why it failed. Written to attempt_history.tsv."""
    by_theorem: dict[str, list[dict]] = {}
    for rdir in sorted((run_dir / "rounds").glob("[0-9][0-9][0-9]")):
        r = int(rdir.name)
        paths = sorted((rdir / "search").rglob("attempts.jsonl"))
        if r == 0 and _is_proving(run_dir):
            paths = _target_closers(run_dir)
        for path in paths:
            for row in read_jsonl(path):
                rec = AttemptRecord.from_dict(row)
                by_theorem.setdefault(rec.theorem_id, []).append(
                    {"round": r, "proved": rec.proved, "expansions": rec.expansions,
                     "failure": rec.failure_kind.value if not rec.proved else "", "length": len(rec.proof or [])})
    return [{"id": t, "history": h} for t, h in sorted(by_theorem.items())]


def _is_proving(run_dir: Path) -> bool:
    return (run_dir / "proofs.jsonl").exists()


def _target_closers(run_dir: Path) -> list[Path]:
    """A proving campaign's round-0 searches of its target (not the seed splits'): the closers', and
    the closers' and templates' where the campaign has them."""
    import yaml

    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    name = f"{cfg['pool']['benchmark']}_{cfg['pool']['split']}"
    paths = [run_dir / "rounds" / "000" / f"{kind}_{name}" / "attempts.jsonl" for kind in ("closers", "templates")]
    return [p for p in paths if p.exists()]


def write_history(history: list[dict], path: Path) -> dict[str, int]:
    """attempt_history.tsv: one line per statement, one cell per search (round:outcome:expansions,
    outcome P proved, x failed, s did not start); returns the counts the report prints."""
    rounds = sorted({h["round"] for x in history for h in x["history"]})
    lines = ["id\tfirst proved\tsearches\texpansions\t" + "\t".join(f"round {r}" for r in rounds)]
    counts = {"proved": 0, "never proved, searched": 0, "did not start": 0}
    for x in history:
        cells = {}
        for h in x["history"]:
            mark = "P" if h["proved"] else ("s" if h["failure"] == Failure.START.value else "x")
            cells[h["round"]] = cells.get(h["round"], "") + f"{mark}{h['expansions']}"
        first = next((h["round"] for h in x["history"] if h["proved"]), None)
        started = any(h["failure"] != Failure.START.value for h in x["history"])
        counts["proved" if first is not None else ("never proved, searched" if started else "did not start")] += 1
        lines.append("\t".join([x["id"], "-" if first is None else str(first), str(len(x["history"])),
                                str(sum(h["expansions"] for h in x["history"])), *[cells.get(r, ".") for r in rounds]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return counts


def plot_solved_vs_cpu(rows: list[dict], out: Path, split: str | None = None) -> Path | None:
    """Statements solved against cumulative CPU minutes: a proving campaign's cumulative count, or
    an expert-iteration campaign's held-out proved count on `split`; the fixed closers' count as a
    dashed line (their CPU as its first point)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proving = "proved_total" in rows[0]
    key = "proved_total" if proving else f"proved_{split}"
    closers_key = "closers_proved" if proving else f"closers_proved_{split}"
    if not proving and not any(key in r for r in rows):
        return None
    cum, xs, ys = 0.0, [], []
    for r in rows:
        cum += cpu_of(r)
        xs.append(cum / 60)
        ys.append(r.get(key, 0))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(xs, ys, marker="o", label="cumulative proved" if proving else f"pass@1 {split} (proved)")
    for x, y, r in zip(xs, ys, rows):
        ax.annotate(str(r["round"]), (x, y), textcoords="offset points", xytext=(3, 4), fontsize=8)
    if proving:   # the honest part: statements whose kept proof has a tactic the model proposed
        ax.plot(xs, [r.get("proved_with_model_tactics", 0) for r in rows], marker=".", color="#55a868",
                label="of which with a model tactic")
    closers = rows[0].get(closers_key)
    if closers is not None:
        ax.axhline(closers, color="#c44e52", linestyle="--", label=f"fixed closers alone ({closers})")
        if proving and "cpu_closers" in rows[0] and "templates_proved" not in rows[0]:   # what they cost
            ax.plot([rows[0]["cpu_closers"] / 60], [closers], marker="s", color="#c44e52")
    fixed = rows[0].get("templates_proved") if proving else None
    if fixed is not None:   # everything the search runs without a model: the line the model must pass
        ax.axhline(fixed, color="#8172b3", linestyle=":", label=f"closers and hint templates alone ({fixed})")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.12 * max([*ys, closers or 0, fixed or 0, 1]))   # room for the round labels
    n = rows[0].get("statements") or rows[0].get(f"n_{split}")
    ax.set_title(f"statements solved vs CPU time{f' (of {n})' if n else ''}")
    ax.set_xlabel("CPU minutes (this process and its environment servers)")
    ax.set_ylabel("statements proved")
    ax.legend(fontsize=9)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "solved_vs_cpu.png", dpi=100)
    plt.close(fig)
    return out / "solved_vs_cpu.png"


def _num(x) -> str:
    return "-" if x is None else f"{x:.2f}"
