"""A proving campaign (test-time expert iteration): the pool is the target split itself, and the
headline is how many of its statements are proved, cumulatively, round after round.

Round 0:
    1. closers  what the fixed closers alone prove on the target, and with `closer_templates` what
                the search's fixed tactics alone prove (closers and hint templates, no model): the
                reference lines; their proofs count, marked `closers`
    2. model    round 0's checkpoint, trained from scratch on the seed proofs (`seeds:`)
    3. keep     every proof re-verified whole; the shortest verified proof of each statement goes
                into the proof book: proofs.jsonl and proofs.lean at the run's root
    4. store    the (state, tactic) pairs of the kept proofs

Round r >= 1:
    1. search   the statements not proved yet (the frontier: hard ones get `pool.hard_expansions`)
                with round r-1's checkpoint
    2. keep     as in round 0: re-verified, the shortest proof per statement into the proof book
    3. store    the pairs of the newly kept proofs
    4. filter   the expert-iteration filter over every stored proof (all rounds)
    5. train    SFT round r-1's checkpoint on them (+ the seed proofs): every verified proof so far
    6. row      cumulative statements proved, new ones, CPU seconds, proof length, tactic mix

There is no held-out evaluation: nothing here is held out. Every step writes its outputs before
it records itself as done (prover/run_dir.py), so a killed round resumes where it was.
"""
from __future__ import annotations

import asyncio
import dataclasses

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from lean_env.types import Theorem
from policy.base import PromptFormat
from prover.config import CampaignConfig
from prover.proofs import KeptProof, ProofBook, keep_shortest, tactic_heads, tactic_mix
from prover.recipes.expert_iteration import filter_store, search_pool, search_records, training_data
from prover.recipes.shared import Searcher, closer_search, round_zero_model
from prover.run_dir import RunDir
from search.records import AttemptRecord, Failure


def proving_round(run: RunDir, cfg: CampaignConfig, r: int, searcher: Searcher) -> dict:
    from training.sft import train_sft

    progress, rdir = run.progress(r), run.round_dir(r)
    target = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
    book = proof_book(run)
    previous = run.checkpoint(r - 1)

    # 1. search: what is still unproved, with the previous round's checkpoint
    if progress.todo("search"):
        proved = book.proofs()
        search_pool(run, cfg, r, [t for t in target if t.id not in proved], previous, searcher)
        progress.done("search")

    # 2. keep: re-verified, the shortest proof of each statement into the proof book
    if progress.todo("keep"):
        keep(run, cfg, r, target, search_records(rdir))
        progress.done("keep")

    # 3. store: the pairs of the proofs this round kept
    if progress.todo("store"):
        store_kept(run, r, search_records(rdir))
        progress.done("store")

    # 4. filter: every stored proof, scored under the previous checkpoint
    if progress.todo("filter"):
        filter_store(run, cfg, r, previous, PromptFormat(cfg.generator.prompt_template))
        progress.done("filter")

    # 5. train: the previous checkpoint on every verified proof so far (+ the seed proofs)
    if progress.todo("train"):
        data = training_data(run, cfg, r, PromptFormat(cfg.generator.prompt_template))
        result = train_sft(previous, None, data, dataclasses.replace(cfg.sft, seed=cfg.seed + r), run.checkpoint(r))
        run.log(f"round {r}: trained from {previous.name} on {len(data)} pairs, loss {result.final_loss:.3f}")
        progress.done("train")

    # 6. the round's row
    return finish(run, cfg, r, target, search_records(rdir))


def proving_round_zero(run: RunDir, cfg: CampaignConfig) -> dict:
    progress = run.progress(0)
    target = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
    templates = cfg.search.closer_templates

    # 1. closers: the reference lines (the 8 closers alone; with closer_templates, the search's fixed
    #    tactics alone: closers and hint templates), and the first proofs
    if progress.todo("closers"):
        closer_search(run, cfg, cfg.pool.benchmark, cfg.pool.split, target)
        if templates:
            closer_search(run, cfg, cfg.pool.benchmark, cfg.pool.split, target, templates=True)
        progress.done("closers")
    closers = closer_search(run, cfg, cfg.pool.benchmark, cfg.pool.split, target)   # read back: all on disk
    fixed = closer_search(run, cfg, cfg.pool.benchmark, cfg.pool.split, target, templates=True) if templates else []

    # 2. model: round 0's checkpoint from the seed proofs
    if progress.todo("model"):
        round_zero_model(run, cfg)
        progress.done("model")

    # 3. keep, 4. store: as in every round
    if progress.todo("keep"):
        keep(run, cfg, 0, target, [*closers, *fixed])
        progress.done("keep")
    if progress.todo("store"):
        store_kept(run, 0, [*closers, *fixed])
        progress.done("store")
    more = {"closers_proved": sum(r.proved for r in closers)}
    if templates:
        more["templates_proved"] = sum(r.proved for r in fixed)
    return finish(run, cfg, 0, target, [*closers, *fixed], **more)


def proof_book(run: RunDir) -> ProofBook:
    return ProofBook(run.root / "proofs")


def keep(run: RunDir, cfg: CampaignConfig, r: int, target: list[Theorem], records: list[AttemptRecord]) -> None:
    """Re-verify round r's proofs whole (a fresh environment, the refutation screen included) and
    merge the verified ones into the book as it stood before round r; what failed is recorded in
    rounds/NNN/keep.json (it must stay empty: the search verified every proof already)."""
    import json

    book = proof_book(run)
    before = {k: p for k, p in book.proofs().items() if p.round < r}   # a rerun after a kill: the same result
    by_id = {t.id: t for t in target}
    found = [x for x in records if x.proved and x.proof]
    verdicts = asyncio.run(reverify(cfg, [(by_id[x.theorem_id], x.proof) for x in found]))
    failed = [{"id": x.theorem_id, "tactics": x.proof, "reasons": list(v.reasons), "incident": v.incident}
              for x, v in zip(found, verdicts) if not v.ok or v.incident]
    new = [KeptProof(x.theorem_id, list(x.proof), r, x.checkpoint or "closers", model_steps(cfg, x))
           for x, v in zip(found, verdicts) if v.ok and not v.incident]
    after = keep_shortest(before, sorted(new, key=lambda p: (p.id, p.length)))
    (run.round_dir(r) / "keep.json").write_text(json.dumps(
        {"found": len(found), "verified": len(new), "failed": failed,
         "new_statements": sorted(set(after) - set(before))}, indent=1))
    book.write(after, target)
    run.log(f"round {r}: kept {len(after) - len(before)} newly proved statements ({len(after)} in all); "
            f"{len(failed)} proofs failed re-verification")


def model_steps(cfg: CampaignConfig, rec: AttemptRecord) -> int:
    """Steps of a proof the model proposed: a fixed closer or template carries exactly the search's
    `closer_logprob` (a tactic the model sampled too keeps the model's score: it proposed it); the
    round-0 closers' proofs have none."""
    if rec.checkpoint == "closers":
        return 0
    return sum(s.logprob != cfg.search.closer_logprob for s in rec.steps)


async def reverify(cfg: CampaignConfig, proofs: list[tuple[Theorem, list[str]]]) -> list:
    env = make_env(cfg.env, distributed=cfg.distributed)
    try:
        return [await env.verify(t, tactics) for t, tactics in proofs]
    finally:
        await env.close()


def store_kept(run: RunDir, r: int, records: list[AttemptRecord]) -> None:
    """The pairs of the attempts whose proofs round r kept in the book."""
    from training.store import pairs_from_records

    kept = {k: p for k, p in proof_book(run).proofs().items() if p.round == r}
    chosen = [x for x in records if x.proved and x.theorem_id in kept and x.proof == kept[x.theorem_id].tactics]
    pairs, errors = pairs_from_records(chosen, r, "")
    run.store().add(r, pairs, errors)
    run.log(f"round {r}: {len(pairs)} pairs of {len(kept)} proofs stored")


def finish(run: RunDir, cfg: CampaignConfig, r: int, target: list[Theorem], records: list[AttemptRecord],
           **more) -> dict:
    """Round r's metrics row: the cumulative count (the headline), what this round added, its
    search and CPU time, and what the proofs are made of."""
    import json

    book = proof_book(run).proofs()
    new = [p for p in book.values() if p.round == r]
    progress = run.progress(r)
    keep_report = json.loads((run.round_dir(r) / "keep.json").read_text())
    row = {"round": r, "statements": len(target), "proved_total": len(book), "proved_new": len(new),
           "searched": len({x.theorem_id for x in records}),
           "did_not_start": len({x.theorem_id for x in records if x.failure_kind is Failure.START}),
           "reverify_failed": len(keep_report["failed"]),
           "soundness_incidents_search": sum(x.soundness_incidents for x in records),
           "proof_length_mean_new": sum(p.length for p in new) / len(new) if new else None,
           "proof_length_mean_all": sum(p.length for p in book.values()) / len(book) if book else None,
           # the honest part of the headline: statements whose kept proof uses a tactic no fixed list holds
           "proved_with_model_tactics": sum(p.model_steps > 0 for p in book.values()),
           "mix_new": tactic_mix((p.tactics for p in new), cfg.search.closers),
           "heads_new": tactic_heads(p.tactics for p in new),
           "budget": records_budget(cfg), **more}
    row.update({f"time_{k}": v for k, v in progress.timings.items()})
    row.update({f"cpu_{k}": v for k, v in progress.cpu.items()})
    run.finish_round(row)
    run.log(f"round {r}: {len(book)}/{len(target)} statements proved ({len(new)} new), "
            f"cpu {sum(progress.cpu.values()):.0f}s, mix {row['mix_new']}")
    return row


def records_budget(cfg: CampaignConfig) -> str:
    return cfg.search.budget
