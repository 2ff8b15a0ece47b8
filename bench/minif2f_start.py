"""How many statements of a benchmark (miniF2F, PutnamBench, FATE-M/H, CombiBench ...) the embedded
environment can start, per split and per category.

    python bench/minif2f_start.py [--benchmark minif2f] [--split test] [--top 25] [--json out.json]
                                  [--show "unknown identifier 'ℝ'"]

"Start" is exactly what `ReplPool.start` does: elaborate the header, then `statement sorry` in
the header's env; the statement starts when the reply has no error and exactly one sorry (the
root goal). It runs the embedded kernel in-process (no worker processes), so the whole benchmark
takes seconds. Failures are grouped by the first line of Lean's message with identifiers kept
(`unknown identifier 'ℝ'`, `unexpected token '∑'; expected term`), so the histogram says which
piece of the fragment is missing; `--show MSG` lists the statements of one group.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lean_env.benchmarks import load_benchmark  # noqa: E402
from lean_env.embedded.session import Session  # noqa: E402
from lean_env.pool import start_header  # noqa: E402
from lean_env.repl import reply_errors  # noqa: E402
from lean_env.types import Theorem  # noqa: E402

# miniF2F names carry their source: mathd_algebra_107, amc12a_2019_p21, imo_1959_p1, ...
_CATEGORIES = ("mathd_algebra", "mathd_numbertheory", "amc12", "aime", "imo", "induction", "algebra",
               "numbertheory")


def category(name: str) -> str:
    for c in _CATEGORIES:
        if name.startswith(c):
            return c
    return name.split("_")[0]


@dataclass(frozen=True)
class StartOutcome:
    theorem: Theorem
    error: str    # "" when the statement started

    @property
    def started(self) -> bool:
        return not self.error


def start_outcome(session: Session, theorem: Theorem, header_envs: dict[str, int]) -> StartOutcome:
    """Start `theorem` as `ReplPool.start` does (header env, with an answer to fill as `sorry`,
    then `statement sorry`)."""
    header = start_header(theorem)
    if header not in header_envs:
        reply = session.command(header)
        err = reply_errors(reply)
        if err:
            return StartOutcome(theorem, "header failed: " + err)
        header_envs[header] = reply["env"]
    reply = session.command(theorem.statement.rstrip() + " sorry", header_envs[header])
    err = reply_errors(reply)
    if not err and len(reply.get("sorries") or []) != 1:
        err = "statement did not produce exactly one goal"
    return StartOutcome(theorem, err)


# Messages whose first line says nothing about the cause: the group also names the term's head.
_GENERIC = ("type expected, got", "failed to synthesize", "type mismatch")


def failure_group(error: str) -> str:
    """The first line of the message (its position cut off), so that like failures meet; for a
    generic one (`type expected, got`) with the head of the offending term (`ZMod`, `Equiv`)."""
    lines = error.strip().splitlines() or ["(empty message)"]
    line = re.sub(r"^<input>:\d+:\d+: ", "", lines[0])
    if line in _GENERIC and len(lines) > 1 and lines[1].split():
        line += ": " + lines[1].split()[0].lstrip("(")
    return line[:90]


def run(benchmark: str, split: str | None) -> list[StartOutcome]:
    session = Session()
    header_envs: dict[str, int] = {}
    return [start_outcome(session, t, header_envs) for t in load_benchmark(benchmark, split)]


def report(outcomes: list[StartOutcome], top: int) -> dict:
    by_split: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    by_cat: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0])
    groups: collections.Counter[str] = collections.Counter()
    for o in outcomes:
        for key, table in ((o.theorem.split, by_split), ((o.theorem.split, category(o.theorem.name)), by_cat)):
            table[key][0] += o.started
            table[key][1] += 1
        if not o.started:
            groups[failure_group(o.error)] += 1
    print("| split | category | start | of | rate |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (split, cat), (ok, n) in sorted(by_cat.items()):
        print(f"| {split} | {cat} | {ok} | {n} | {100 * ok / n:.0f}% |")
    for split, (ok, n) in sorted(by_split.items()):
        print(f"| {split} | **all** | {ok} | {n} | {100 * ok / n:.0f}% |")
    print(f"\nstart failures by message (top {top} of {len(groups)} groups):")
    for msg, k in groups.most_common(top):
        print(f"{k:5d}  {msg}")
    return {
        "splits": {s: {"started": ok, "total": n} for s, (ok, n) in by_split.items()},
        "categories": {f"{s}/{c}": {"started": ok, "total": n} for (s, c), (ok, n) in by_cat.items()},
        "failures": dict(groups.most_common()),
        "started": sorted(o.theorem.id for o in outcomes if o.started),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default="minif2f")
    ap.add_argument("--split", default=None, help="valid or test (default: both)")
    ap.add_argument("--top", type=int, default=25, help="how many failure groups to print")
    ap.add_argument("--json", default=None, help="also write the counts and started ids here")
    ap.add_argument("--show", default=None, help="list the statements whose failure group starts with this")
    args = ap.parse_args()
    outcomes = run(args.benchmark, args.split)
    summary = report(outcomes, args.top)
    if args.show is not None:
        print(f"\nstatements failing with {args.show!r}:")
        for o in outcomes:
            if not o.started and failure_group(o.error).startswith(args.show):
                print(f"  {o.theorem.id}: {o.theorem.statement[:160]!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
