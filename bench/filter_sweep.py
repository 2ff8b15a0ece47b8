"""Perplexity-filter quantile sweep on one round of an embedded campaign: the same collected pairs
(a finished campaign's store), filtered at each (low, high) pair of tail quantiles under the
round's input checkpoint, fine-tuned as the campaign's round would be (its sft config, + seed
proofs), and scored by held-out pass@1 with the campaign's search. Only the filter differs.

    python bench/filter_sweep.py RUN --round 2 --grid 0:0 0:0.05 0.05:0.05 0.1:0.05 0.1:0.1 [--split test] [--limit N]

Prints a table (and writes RUN/filter_sweep/results.jsonl; rerunning resumes).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import append_jsonl, read_jsonl
from prover.recipes.shared import Searcher, seed_pairs
from prover.run_dir import RunDir
from policy.base import PromptFormat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("--round", type=int, default=2, help="the round to redo: its store rows up to it, its input checkpoint")
    ap.add_argument("--grid", nargs="+", default=["0:0", "0:0.05", "0.05:0.05", "0.1:0.05", "0.1:0.1"])
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None, help="only the first N theorems of the split")
    args = ap.parse_args()

    from policy.checkpoint import load_checkpoint
    from training.ppl_filter import filter_pairs
    from training.sft import sft_examples, train_sft

    run, cfg = RunDir.open(args.run)
    r, out = args.round, args.run / "filter_sweep"
    prompt = PromptFormat(cfg.generator.prompt_template)
    pairs = run.store().pairs(rounds=range(1, r + 1))
    model, tokenizer, _ = load_checkpoint(run.checkpoint(r - 1))
    done = {(x["low"], x["high"]) for x in read_jsonl(out / "results.jsonl")}
    theorems = load_benchmark(cfg.eval.benchmark, args.split)[: args.limit or cfg.eval.limit]
    for cell in args.grid:
        low, high = map(float, cell.split(":"))
        if (low, high) in done:
            continue
        kept, _, report = filter_pairs(model, tokenizer, pairs, prompt, low, high)
        data = sft_examples(kept + seed_pairs(run, cfg), prompt)
        ckpt = out / f"low{low}_high{high}"
        train_sft(run.checkpoint(r - 1), None, data, dataclasses.replace(cfg.sft, seed=cfg.seed + r), ckpt)
        with Searcher(cfg) as searcher:
            summary = searcher.prove(ckpt, theorems, ckpt / f"eval_{args.split}", r, cfg.eval.pass_k)
        row = {"low": low, "high": high, "pairs": len(pairs), "kept": len(kept), "low_cut": report.low_cut,
               "high_cut": report.high_cut, f"pass_{args.split}": summary.pass_at_k}
        append_jsonl(out / "results.jsonl", [row])
        print(json.dumps(row), flush=True)
    print(f"| low quantile | high quantile | pairs kept | pass@1 {args.split} |\n| --- | --- | --- | --- |")
    for x in read_jsonl(out / "results.jsonl"):
        print(f"| {x['low']} | {x['high']} | {x['kept']}/{x['pairs']} | {x[f'pass_{args.split}']:.1%} |")


if __name__ == "__main__":
    main()
