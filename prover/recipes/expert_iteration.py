"""One expert-iteration round, top to bottom (BFS-Prover-V2):

    1. search  prove the pool with the previous round's checkpoint (best-first search)
    2. store   keep the (state, tactic) pairs of every verified proof in the pair store
    3. filter  score all stored pairs under the previous checkpoint, drop the perplexity tails
    4. train   SFT the previous checkpoint on the kept pairs (+ the seed proofs), optionally DPO
    5. eval    held-out pass@k and the entropy probe: the round's metrics row

A re-synthesis round (prover/recipes/resynthesis.py) searches with the best checkpoint so far,
replaces the store with what it finds, and trains from a fresh base instead.

Every step writes its outputs, then records itself as done (prover/run_dir.py), so a killed round
resumes at the step it was in.
"""
from __future__ import annotations

import dataclasses
import json

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import read_jsonl, write_jsonl_atomic
from prover.config import CampaignConfig
from prover.recipes import resynthesis
from prover.recipes.shared import evaluate_round, prove, seed_pairs
from prover.run_dir import RunDir
from search.generators.base import PromptFormat
from search.generators.factory import CampaignGenerators
from search.records import AttemptRecord


def expert_iteration_round(run: RunDir, cfg: CampaignConfig, r: int, generators: CampaignGenerators | None = None) -> dict:
    from search.generators.checkpoint import load_checkpoint
    from training.dpo import train_dpo, triples_from_store
    from training.ppl_filter import filter_pairs
    from training.sft import train_sft
    from training.store import pairs_from_records

    progress, rdir, store = run.progress(r), run.round_dir(r), run.store()
    prompt = PromptFormat(cfg.generator.prompt_template)
    key = f"pass_{cfg.eval.splits[0]}"
    resynth = progress.plan("resynthesis", lambda: resynthesis.is_due(cfg.resynthesis, r, run.metrics(), key))
    previous = run.checkpoint(r - 1)
    searcher = run.checkpoint(resynthesis.best_round(run.metrics(), key)) if resynth else previous

    # 1. search
    if progress.todo("search"):
        pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
        if cfg.pool.drop_solved and not resynth:
            solved = {p["theorem_id"] for p in store.pairs()}
            pool = [t for t in pool if t.id not in solved]
        run.log(f"round {r}: searching {len(pool)} theorems with {searcher.name}" + (" (re-synthesis)" if resynth else ""))
        prove(cfg, searcher, pool, rdir / "search", r, generators=generators)
        progress.done("search")

    # 2. store: the (state, tactic) pairs of verified proofs (re-synthesis: they replace the store)
    if progress.todo("store"):
        records = [AttemptRecord.from_dict(x) for x in read_jsonl(rdir / "search" / "attempts.jsonl")]
        pairs, errors = pairs_from_records(records, r, searcher.name)
        (store.replace_all if resynth else store.add)(r, pairs, errors)
        run.log(f"round {r}: {sum(x.proved for x in records)}/{len(records)} proved, {len(pairs)} pairs stored")
        progress.done("store")

    # 3. filter: drop the too-easy and the noisy tails by perplexity under the previous checkpoint
    if progress.todo("filter"):
        model, tokenizer, _ = load_checkpoint(previous)
        pairs = [{"state": p["state"], "tactic": p["tactic"]} for p in store.pairs()]
        kept, report = filter_pairs(model, tokenizer, pairs, prompt, cfg.filter.low_quantile,
                                    cfg.filter.high_quantile, rdir / "filter.png")
        (rdir / "filter.json").write_text(json.dumps(dataclasses.asdict(report), indent=1))
        write_jsonl_atomic(rdir / "kept.jsonl", kept)
        progress.done("filter")

    # 4. train: SFT (from a fresh base on re-synthesis), then optionally DPO on erroring siblings
    if progress.todo("train"):
        kept = read_jsonl(rdir / "kept.jsonl")
        if cfg.include_seed_proofs:
            kept += seed_pairs(run, cfg)
        data = [(prompt.prompt(p["state"]), p["tactic"]) for p in kept]
        start = resynthesis.fresh_base(cfg.resynthesis, run.base, cfg.seed) if resynth else previous
        result = train_sft(start, None, data, dataclasses.replace(cfg.sft, seed=cfg.seed + r), run.checkpoint(r))
        run.log(f"round {r}: trained from {start.name} on {len(data)} pairs, loss {result.final_loss:.3f}, "
                f"{result.tokens_per_s:.0f} tokens/s")
        if cfg.dpo is not None:
            triples = triples_from_store(store.errors(), prompt)
            if triples:
                dpo = train_dpo(run.checkpoint(r), None, triples, dataclasses.replace(cfg.dpo, seed=cfg.seed + r),
                                run.checkpoint(r))
                run.log(f"round {r}: DPO on {len(triples)} (proof tactic, erroring sibling) pairs, loss {dpo.final_loss:.3f}")
            else:
                run.log(f"round {r}: no (proof tactic, erroring sibling) pairs: DPO skipped")
        progress.done("train")

    # 5. eval
    data_counts = {"pairs_total": json.loads((rdir / "filter.json").read_text())["total"],
                   "pairs_kept": len(read_jsonl(rdir / "kept.jsonl"))}
    timings = {f"time_{step}": seconds for step, seconds in progress.timings.items()}
    return evaluate_round(run, cfg, r, soft_reset=resynth, extra={**timings, **data_counts}, generators=generators)
