"""Planner + search vs search alone at the same total budget (issue 13's evidence).

    python bench/bench_planner.py --benchmark embedded-havechain --split test \
        --generator closers --generator runs/models/embedded-tiny [--expansions 16] [--tactics 8]

For each generator, one pass@1 evaluation of plain best-first search and one of the planner-
driven search (the embedded planner, fallback to plain search with what is left of the budget
when it has no plan or gets stuck), both with the same tactics x expansions per attempt, the
same seed and the same environment; prints a Markdown table. `closers` is the scripted
generator's list with `simp [*]` after `simp` (a closer that uses the hypotheses, so that a goal is
closable once its values are known); a path is an HF checkpoint sampled at temperature 1.
Results go to runs/planner-bench/<benchmark>-<split>-<generator>-<arm>/ (resumable).
"""
from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from search.evaluate import evaluate
from search.best_first import SearchConfig
from search.planner.backends import PlannerConfig
from policy.scripted import DEFAULT_TACTICS, ScriptedGenerator


def generator(name: str):
    if name == "closers":
        tactics = list(DEFAULT_TACTICS)
        tactics.insert(tactics.index("simp") + 1, "simp [*]")   # within the first 8, which an expansion tries
        return ScriptedGenerator(tactics)
    from policy.factory import GeneratorConfig, make_generator

    return make_generator(GeneratorConfig(kind="hf", model=name))


async def one(theorems, gen_name, arm, cfg, out_root: Path):
    env = make_env(workers=2)
    planner = PlannerConfig(kind="embedded") if arm == "planner" else None
    out = out_root / f"{gen_name.replace('/', '_')}-{arm}"
    t0 = time.perf_counter()
    try:
        summary, records = await evaluate(theorems, env, generator(gen_name), cfg, out, planner=planner)
    finally:
        await env.close()
    planned = sum(1 for r in records if r.planner and any(p.valid for p in r.planner.plans))
    via_plan = sum(1 for r in records if r.proved and r.planner and r.proof and r.proof[0].startswith("have ")
                   and any(p.valid for p in r.planner.plans))
    return summary, records, planned, via_plan, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default="embedded-havechain")
    ap.add_argument("--split", default="test")
    ap.add_argument("--generator", action="append", default=None)
    ap.add_argument("--expansions", type=int, default=16)
    ap.add_argument("--tactics", type=int, default=8)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    theorems = load_benchmark(args.benchmark, args.split)[: args.limit]
    cfg = SearchConfig(tactics_per_expansion=args.tactics, max_expansions=args.expansions, wall_seconds=60)
    out_root = Path("runs/planner-bench") / f"{args.benchmark}-{args.split}"
    print(f"| generator | arm | pass@1 ({args.benchmark} {args.split}, {len(theorems)}) | with a valid plan | "
          f"proved through the plan | expansions | wall |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for gen_name in args.generator or ["closers"]:
        for arm in ("search", "planner"):
            summary, records, planned, via_plan, wall = asyncio.run(one(theorems, gen_name, arm, cfg, out_root))
            exp = sum(r.expansions for r in records)
            plan_cols = f"{planned} | {via_plan}" if arm == "planner" else "- | -"
            print(f"| {gen_name} | {arm} | {summary.pass_at_k:.1%} ({summary.proved}/{summary.theorems}) | {plan_cols} | "
                  f"{exp} | {wall:.0f}s |", flush=True)


if __name__ == "__main__":
    main()
