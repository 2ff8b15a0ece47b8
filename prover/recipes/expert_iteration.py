"""One expert-iteration round, top to bottom (BFS-Prover-V2):

    1. search  prove the pool with the previous round's checkpoint (best-first search); theorems
               mastered in their recent searches wait for a revisit round (`pool.mastered_after`)
    2. store   keep the (state, tactic) pairs of every verified proof in the pair store
    3. filter  cap pairs per theorem and goal state, score them under the previous checkpoint,
               drop both perplexity tails
    4. train   SFT the previous checkpoint on the kept pairs (+ the seed proofs), optionally as m
               merged seed runs, optionally DPO
    5. eval    held-out pass@k and the entropy probe: the round's metrics row

A re-synthesis round (prover/recipes/resynthesis.py) searches the entire pool with the top-k
checkpoints, rebuilds the store without losing a proof, and trains a fresh base until it lands
(the soft reset).

Every step writes its outputs, then records itself as done (prover/run_dir.py), so a killed round
resumes at the step it was in.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import read_jsonl, write_jsonl_atomic
from prover.config import CampaignConfig
from prover.recipes import resynthesis
from prover.recipes.shared import evaluate_round, prove, seed_pairs
from prover.run_dir import RunDir
from policy.base import PromptFormat
from policy.factory import CampaignGenerators
from search.records import AttemptRecord


def expert_iteration_round(run: RunDir, cfg: CampaignConfig, r: int, generators: CampaignGenerators | None = None) -> dict:
    from policy.checkpoint import load_checkpoint
    from training.dpo import train_dpo, triples_from_store
    from training.ppl_filter import cap_pairs, filter_pairs
    from training.store import pairs_from_records, shortest_proofs

    progress, rdir, store = run.progress(r), run.round_dir(r), run.store()
    prompt = PromptFormat(cfg.generator.prompt_template)
    key = f"pass_{cfg.eval.splits[0]}"
    rcfg = cfg.resynthesis
    resynth = progress.plan("resynthesis", lambda: resynthesis.is_due(rcfg, r, run.metrics(), key))
    previous = run.checkpoint(r - 1)
    searchers = [run.checkpoint(q) for q in progress.plan(
        "searchers", lambda: resynthesis.strongest_rounds(run.metrics(), key, rcfg.top_k, rcfg.lookback)
        if resynth else [r - 1])]
    extra: dict = {}

    # 1. search (re-synthesis: every checkpoint over the entire pool, with its own budget)
    if progress.todo("search"):
        pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
        if resynth:
            search_cfg = cfg.model_copy(update={"search": dataclasses.replace(
                cfg.search, max_expansions=rcfg.max_expansions or cfg.search.max_expansions)})
            for ckpt in searchers:
                run.log(f"round {r}: re-synthesis: searching all {len(pool)} theorems with {ckpt.name}")
                prove(search_cfg, ckpt, pool, rdir / "search" / ckpt.name, r, generators=generators)
        else:
            if cfg.pool.drop_solved:
                solved = {p["theorem_id"] for p in store.pairs()}
                pool = [t for t in pool if t.id not in solved]
            pool = frontier(run, cfg, r, pool)
            run.log(f"round {r}: searching {len(pool)} theorems with {previous.name}")
            prove(cfg, previous, pool, rdir / "search", r, generators=generators)
        progress.done("search")

    # 2. store: the (state, tactic) pairs of verified proofs (re-synthesis: rebuilt, losing no proof)
    if progress.todo("store"):
        records = search_records(rdir)
        if resynth:
            pairs, errors = pairs_from_records(shortest_proofs(records), r, "")
            kept, kept_errors, summary = store.plan_resynthesis(pairs)
            summary_path = rdir / "resynthesis.json"
            if not summary_path.exists():   # a rerun after the swap would see the rebuilt store
                summary_path.write_text(json.dumps(dataclasses.asdict(summary), indent=1))
            store.replace_all(r, pairs, errors, extra={"kept": (kept, kept_errors)})
            run.log(f"round {r}: re-synthesis with {', '.join(c.name for c in searchers)}: " + ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in dataclasses.asdict(summary).items()))
        else:
            pairs, errors = pairs_from_records(records, r, previous.name)
            store.add(r, pairs, errors)
            run.log(f"round {r}: {sum(x.proved for x in records)}/{len(records)} proved, {len(pairs)} pairs stored")
        progress.done("store")

    # 3. filter: cap per theorem and goal state, then drop the too-easy and the noisy tails by
    #    perplexity under the previous checkpoint
    if progress.todo("filter"):
        model, tokenizer, _ = load_checkpoint(previous)
        stored = store.pairs()
        capped = cap_pairs(stored, cfg.filter.max_pairs_per_theorem, cfg.filter.max_pairs_per_state)
        pairs = [{"state": p["state"], "tactic": p["tactic"]} for p in capped]
        kept, report = filter_pairs(model, tokenizer, pairs, prompt, cfg.filter.low_quantile,
                                    cfg.filter.high_quantile, rdir / "filter.png")
        report.capped = len(stored) - len(capped)
        (rdir / "filter.json").write_text(json.dumps(dataclasses.asdict(report), indent=1))
        write_jsonl_atomic(rdir / "kept.jsonl", kept)
        progress.done("filter")

    # 4. train: SFT (a soft reset on re-synthesis), then optionally DPO on erroring siblings
    if progress.todo("train"):
        kept = read_jsonl(rdir / "kept.jsonl")
        if cfg.include_seed_proofs:
            kept += seed_pairs(run, cfg)
        data = [(prompt.prompt(p["state"]), p["tactic"]) for p in kept]
        sft_cfg = dataclasses.replace(cfg.sft, seed=cfg.seed + r)
        if resynth:
            start = resynthesis.fresh_base(rcfg, run.base, cfg.seed)
            landing = resynthesis.train_to_land(start, data, sft_cfg, rcfg, heldout_examples(run, cfg, r - 1, prompt),
                                                previous, rdir / "reset", run.checkpoint(r), run.log)
            (rdir / "landing.json").write_text(json.dumps(landing))
            run.log(f"round {r}: soft reset: trained from {start.name} on {len(data)} pairs, {landing['reset_steps']} steps")
        else:
            train_round(run, cfg, r, previous, data, sft_cfg, generators)
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
    filter_report = json.loads((rdir / "filter.json").read_text())
    extra["pairs_total"], extra["pairs_kept"] = filter_report["total"], filter_report["kept"]
    extra["theorems_searched"] = len({x.theorem_id for x in search_records(rdir)})
    extra["soundness_incidents_search"] = sum(x.soundness_incidents for x in search_records(rdir))
    if resynth:
        extra.update({f"resynth_{k}": v for k, v in json.loads((rdir / "resynthesis.json").read_text()).items()})
        extra.update(json.loads((rdir / "landing.json").read_text()))
        extra["searchers"] = [c.name for c in searchers]
    if (rdir / "merge.json").exists():
        extra["merge"] = json.loads((rdir / "merge.json").read_text())
    timings = {f"time_{step}": seconds for step, seconds in progress.timings.items()}
    return evaluate_round(run, cfg, r, soft_reset=resynth, extra={**timings, **extra}, generators=generators)


def search_records(rdir: Path) -> list[AttemptRecord]:
    """Every search attempt of a round (a re-synthesis keeps one folder per checkpoint)."""
    return [AttemptRecord.from_dict(x) for path in sorted((rdir / "search").rglob("attempts.jsonl"))
            for x in read_jsonl(path)]


def frontier(run: RunDir, cfg: CampaignConfig, r: int, pool: list) -> list:
    """The pool without its mastered theorems: those proved in each of their last
    `mastered_after` searches, except on revisit rounds (every `revisit_every`-th)."""
    n = cfg.pool.mastered_after
    if not n or r % cfg.pool.revisit_every == 0:
        return pool
    history: dict[str, list[bool]] = {}
    for q in range(1, r):
        for rec in search_records(run.round_dir(q)):
            history.setdefault(rec.theorem_id, []).append(rec.proved)
    mastered = {t for t, outcomes in history.items() if len(outcomes) >= n and all(outcomes[-n:])}
    if mastered:
        run.log(f"round {r}: frontier: {len(mastered)} mastered theorems wait for round "
                f"{(r // cfg.pool.revisit_every + 1) * cfg.pool.revisit_every}")
    return [t for t in pool if t.id not in mastered]


def heldout_examples(run: RunDir, cfg: CampaignConfig, r: int, prompt: PromptFormat) -> list[tuple[str, str]]:
    """(prompt, tactic) of the held-out proofs round r's evaluation found on the first eval split:
    theorems no round trains on, so the soft reset's landing check is a held-out one."""
    path = run.round_dir(r) / f"eval_{cfg.eval.splits[0]}" / "attempts.jsonl"
    records = [AttemptRecord.from_dict(x) for x in read_jsonl(path)]
    return [(prompt.prompt(s.state), s.tactic) for rec in records if rec.proved and rec.proof for s in rec.steps]


def train_round(run: RunDir, cfg: CampaignConfig, r: int, start: Path, data: list, sft_cfg,
                generators: CampaignGenerators | None = None) -> None:
    """SFT `start` on the round's data into round r's checkpoint; with `merge`, m runs with their
    own seeds (and so data orders) are averaged, and each run is scored next to the average."""
    from training.sft import train_sft

    if cfg.merge is None:
        result = train_sft(start, None, data, sft_cfg, run.checkpoint(r))
        run.log(f"round {r}: trained from {start.name} on {len(data)} pairs, loss {result.final_loss:.3f}, "
                f"{result.tokens_per_s:.0f} tokens/s")
        return
    merge_runs(run, cfg, r, start, data, sft_cfg, generators)


def merge_runs(run: RunDir, cfg: CampaignConfig, r: int, start: Path, data: list, sft_cfg,
               generators: CampaignGenerators | None = None) -> None:
    from training.merge import merge_checkpoints
    from training.sft import train_sft

    rdir = run.round_dir(r)
    members = [rdir / "merge" / f"run_{i}" for i in range(cfg.merge.runs)]
    for i, out in enumerate(members):
        if not (out / "model.safetensors").exists():
            train_sft(start, None, data, dataclasses.replace(sft_cfg, seed=sft_cfg.seed + 1000 * i), out)
    merge_checkpoints(members, run.checkpoint(r))
    split = cfg.eval.splits[0]
    theorems = load_benchmark(cfg.eval.benchmark, split)[: cfg.merge.eval_limit]
    scores = {}
    for ckpt in [*members, run.checkpoint(r)]:
        name = "merged" if ckpt == run.checkpoint(r) else ckpt.name
        scores[name] = prove(cfg, ckpt, theorems, rdir / "merge" / f"eval_{name}", r,
                              generators=generators).pass_at_k
    (rdir / "merge.json").write_text(json.dumps({"split": split, "theorems": len(theorems), **scores}))
    run.log(f"round {r}: merged {cfg.merge.runs} seed runs: pass@1 {split} " +
            ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
