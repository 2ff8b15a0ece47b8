"""One expert-iteration round, top to bottom (BFS-Prover-V2):

    1. search  prove the pool with the previous round's checkpoint (best-first search); theorems
               mastered in their recent searches wait for a revisit round (`pool.mastered_after`)
    2. store   keep the (state, tactic) pairs of every verified proof in the pair store
    3. filter  cap pairs per theorem and goal state, score them under the previous checkpoint,
               drop both perplexity tails
    4. train   SFT the previous checkpoint on the kept pairs (+ the seed proofs), optionally as m
               merged seed runs, optionally DPO
    5. eval    held-out pass@k and the entropy probe: the round's metrics row

With a `whole:` section (configs/embedded-whole.yaml) the same round runs on whole proofs: step 1
samples a whole proof per theorem with its Lean-error repairs (search/whole_proof.py), step 2
keeps each verified one (a repaired one as the proof that verified) as one (statement prompt,
whole proof) pair, and steps 3-5 are unchanged.

A re-synthesis round (prover/recipes/resynthesis.py, when it is due) has the same five steps:
the entire pool searched by the top-k checkpoints, the store rebuilt without losing a proof, the
same filter, a fresh base trained until it lands (the soft reset), the same evaluation.

Every step writes its outputs, then records itself as done (prover/run_dir.py), so a killed round
resumes at the step it was in.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import read_jsonl, write_jsonl_atomic
from policy.base import PromptFormat
from prover.config import CampaignConfig
from prover.progress import TrainProgress
from prover.proofs import tactic_mix
from prover.recipes.shared import (Searcher, evaluate_round, policy_prompt, seed_pairs, whole_attempts,
                                   without_fixed_tactics)
from prover.run_dir import RunDir
from search.records import AttemptRecord, Failure
from training.store import shortest_proofs


def expert_iteration_round(run: RunDir, cfg: CampaignConfig, r: int, searcher: Searcher) -> dict:
    from training.sft import train_sft
    from training.store import pairs_from_records, whole_proof_pairs

    progress, rdir, store = run.progress(r), run.round_dir(r), run.store()
    prompt = policy_prompt(cfg)
    previous = run.checkpoint(r - 1)

    # 1. search: the pool (less the mastered theorems) with the previous round's checkpoint
    if progress.todo("search"):
        pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
        if cfg.pool.drop_solved:
            solved = {p.theorem_id for p in store.pairs()}
            pool = [t for t in pool if t.id not in solved]
        search_pool(run, cfg, r, pool, previous, searcher)
        progress.done("search")

    # 2. store: the (state, tactic) pairs of verified proofs (whole proofs: one pair per proof)
    if progress.todo("store"):
        run.log(f"round {r}: store: adding the pairs of the verified proofs")
        records = search_records(rdir)
        if cfg.whole is None:
            pairs, errors = pairs_from_records(records, r, previous.name)
        else:
            pairs, errors = whole_proof_pairs(records, r, previous.name, whole_example(cfg)), []
        store.add(r, pairs, errors)
        run.log(f"round {r}: {sum(x.proved for x in records)}/{len(records)} proved, {len(pairs)} pairs stored")
        progress.done("store")

    # 3. filter: cap per theorem and goal state, then drop the too-easy and the noisy tails by
    #    perplexity under the previous checkpoint
    if progress.todo("filter"):
        run.log(f"round {r}: filter: scoring the stored pairs under {previous.name}")
        filter_store(run, cfg, r, previous, prompt)
        progress.done("filter")

    # 4. train: SFT the previous checkpoint (or m merged seed runs of it), then optionally DPO
    if progress.todo("train"):
        data = training_data(run, cfg, r, prompt)
        sft_cfg = dataclasses.replace(cfg.sft, seed=cfg.seed + r)
        if cfg.merge is None:
            with TrainProgress(f"round {r} · train on {len(data)} pairs") as bar:
                result = train_sft(previous, None, data, sft_cfg, run.checkpoint(r), on_step=bar)
            run.log(f"round {r}: trained from {previous.name} on {len(data)} pairs, loss {result.final_loss:.3f}, "
                    f"{result.tokens_per_s:.0f} tokens/s")
        else:
            merge_runs(run, cfg, r, previous, data, sft_cfg, searcher)
        train_dpo_step(run, cfg, r, prompt)
        progress.done("train")

    # 5. eval
    extra = round_summary(run, cfg, r, **({} if cfg.whole is None else repair_summary(search_records(rdir), cfg)))
    return evaluate_round(run, cfg, r, soft_reset=False, extra=extra, searcher=searcher)


def whole_example(cfg: CampaignConfig):
    """(theorem id, proof) -> (the statement prompt, the whole proof): a verified whole proof as a pair."""
    theorems = {t.id: t for t in load_benchmark(cfg.pool.benchmark, cfg.pool.split)}
    drafter = whole_attempts(cfg)
    return lambda theorem_id, proof: drafter.example(theorems[theorem_id], proof)


def repair_summary(records: list[AttemptRecord], cfg: CampaignConfig) -> dict:
    """Whole proofs: the pool's proofs found by the first sample, those repair found per round, and
    the tokens generated."""
    from search.whole_proof import repair_fixes

    first = sum(1 for x in records if (x.whole or {}).get("fixed_in_round") == 0)
    return {"pool_first_proofs": first, "pool_repair_fixed": repair_fixes(records, cfg.whole.repair_rounds),
            "pool_tokens": sum(x.tokens for x in records)}


def filter_store(run: RunDir, cfg: CampaignConfig, r: int, previous: Path, prompt: PromptFormat) -> None:
    """The store's pairs, capped and perplexity-filtered under `previous`: rounds/NNN/kept.jsonl,
    with filter.json (and filter.png) saying what went."""
    from policy.checkpoint import load_checkpoint
    from training.ppl_filter import cap_pairs, filter_pairs

    rdir = run.round_dir(r)
    model, tokenizer, _ = load_checkpoint(previous)
    stored = without_fixed_tactics(run.store().pairs(), cfg)
    capped = cap_pairs(stored, cfg.filter.max_pairs_per_theorem, cfg.filter.max_pairs_per_state)
    kept, _, report = filter_pairs(model, tokenizer, capped, prompt, cfg.filter.low_quantile,
                                   cfg.filter.high_quantile, rdir / "filter.png")
    report.capped = len(stored) - len(capped)
    (rdir / "filter.json").write_text(json.dumps(dataclasses.asdict(report), indent=1))
    write_jsonl_atomic(rdir / "kept.jsonl", [p.to_dict() for p in kept])


def training_data(run: RunDir, cfg: CampaignConfig, r: int, prompt: PromptFormat) -> list[tuple[str, str]]:
    """(prompt, tactic) SFT examples: the round's kept pairs, and the seed proofs when included."""
    from training.sft import sft_examples
    from training.store import Pair

    kept = [Pair.from_dict(row) for row in read_jsonl(run.round_dir(r) / "kept.jsonl")]
    if cfg.include_seed_proofs:
        kept += without_fixed_tactics(seed_pairs(run, cfg), cfg)
    return sft_examples(kept, prompt)


def train_dpo_step(run: RunDir, cfg: CampaignConfig, r: int, prompt: PromptFormat) -> None:
    """With a `dpo:` section: DPO round r's checkpoint in place on (proof tactic, erroring sibling) pairs."""
    from training.dpo import train_dpo, triples_from_store

    if cfg.dpo is None:
        return
    triples = triples_from_store(run.store().errors(), prompt)
    if not triples:
        run.log(f"round {r}: no (proof tactic, erroring sibling) pairs: DPO skipped")
        return
    dpo = train_dpo(run.checkpoint(r), None, triples, dataclasses.replace(cfg.dpo, seed=cfg.seed + r), run.checkpoint(r))
    run.log(f"round {r}: DPO on {len(triples)} (proof tactic, erroring sibling) pairs, loss {dpo.final_loss:.3f}")


def round_summary(run: RunDir, cfg: CampaignConfig, r: int, **more) -> dict:
    """The round's own columns of its metrics row: step timings, pairs, theorems searched (then `more`)."""
    rdir = run.round_dir(r)
    filter_report = json.loads((rdir / "filter.json").read_text())
    extra = {f"time_{step}": seconds for step, seconds in run.progress(r).timings.items()}
    extra.update({f"cpu_{step}": seconds for step, seconds in run.progress(r).cpu.items()})
    extra["pairs_total"], extra["pairs_kept"] = filter_report["total"], filter_report["kept"]
    extra["theorems_searched"] = len({x.theorem_id for x in search_records(rdir)})
    extra["soundness_incidents_search"] = sum(x.soundness_incidents for x in search_records(rdir))
    proofs = [x.proof for x in shortest_proofs(search_records(rdir))]   # what the round's proofs are made of
    extra["proofs_search"] = len(proofs)
    extra["proof_length_mean_search"] = sum(map(len, proofs)) / len(proofs) if proofs else None
    extra["mix_search"] = tactic_mix(proofs, cfg.search.closers)
    extra.update(more)
    if (rdir / "merge.json").exists():
        extra["merge"] = json.loads((rdir / "merge.json").read_text())
    return extra


def search_records(rdir: Path) -> list[AttemptRecord]:
    """Every search attempt of a round (a re-synthesis keeps one folder per checkpoint)."""
    return [AttemptRecord.from_dict(x) for path in sorted((rdir / "search").rglob("attempts.jsonl"))
            for x in read_jsonl(path)]


def frontier(run: RunDir, cfg: CampaignConfig, r: int, pool: list) -> tuple[list, list]:
    """The pool split by its search history (`pool.mastered_after`, `pool.hard_after`): the
    theorems to search with the round's budget, and the hard ones to search with
    `pool.hard_expansions`. Mastered theorems (proved in each of their last `mastered_after`
    searches) and, with hard_expansions 0, hard ones (failed in each of their last `hard_after`)
    wait for a revisit round (every `revisit_every`-th), where everything is searched normally."""
    p = cfg.pool
    if (not p.mastered_after and not p.hard_after) or r % p.revisit_every == 0:
        return pool, []
    history = search_history(run, r)
    mastered = {t for t, outs in history.items() if p.mastered_after and len(outs) >= p.mastered_after
                and all(outs[-p.mastered_after:])}
    hard = {t for t, outs in history.items() if p.hard_after and len(outs) >= p.hard_after
            and not any(outs[-p.hard_after:])}
    waiting = mastered | (hard if not p.hard_expansions else set())
    if waiting:
        run.log(f"round {r}: frontier: {len(mastered)} mastered" + (f" and {len(hard)} hard" if not p.hard_expansions else "")
                + f" theorems wait for round {(r // p.revisit_every + 1) * p.revisit_every}")
    widened = [t for t in pool if t.id in hard and t.id not in waiting]
    if widened:
        run.log(f"round {r}: frontier: {len(widened)} hard theorems get {p.hard_expansions} expansions per attempt")
    return [t for t in pool if t.id not in waiting and t.id not in hard], widened


def search_history(run: RunDir, r: int) -> dict[str, list[bool]]:
    """theorem -> proved or not in each round that searched it before round r, oldest first (with
    `pool.attempts`, by any of its attempts; statements that did not start are left out: no budget
    changes that)."""
    history: dict[str, list[bool]] = {}
    for q in range(1, r):
        proved: dict[str, bool] = {}   # a round's search of a theorem proves it if one of its attempts does
        for rec in search_records(run.round_dir(q)):
            if rec.failure_kind is not Failure.START:
                proved[rec.theorem_id] = proved.get(rec.theorem_id, False) or rec.proved
        for t, ok in proved.items():
            history.setdefault(t, []).append(ok)
    return history


def search_pool(run: RunDir, cfg: CampaignConfig, r: int, pool: list, checkpoint: Path, searcher: Searcher) -> None:
    """Search the pool's frontier with `checkpoint`: rounds/NNN/search, and the hard theorems at
    their larger budget in rounds/NNN/search/hard."""
    normal, hard = frontier(run, cfg, r, pool)
    run.log(f"round {r}: searching {len(normal) + len(hard)} theorems with {checkpoint.name}")
    searcher.prove(checkpoint, normal, run.round_dir(r) / "search", r, attempts=cfg.pool.attempts)
    if hard:
        wide = dataclasses.replace(cfg.search, max_expansions=cfg.pool.hard_expansions)
        searcher.prove(checkpoint, hard, run.round_dir(r) / "search" / "hard", r, attempts=cfg.pool.attempts, search=wide)


def merge_runs(run: RunDir, cfg: CampaignConfig, r: int, start: Path, data: list, sft_cfg, searcher: Searcher) -> None:
    """m SFT runs of `start` with their own seeds (and so data orders), averaged into round r's
    checkpoint; each run is scored next to the average on the first eval split."""
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
        scores[name] = searcher.prove(ckpt, theorems, rdir / "merge" / f"eval_{name}", r).pass_at_k
    (rdir / "merge.json").write_text(json.dumps({"split": split, "theorems": len(theorems), **scores}))
    run.log(f"round {r}: merged {cfg.merge.runs} seed runs: pass@1 {split} " +
            ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
