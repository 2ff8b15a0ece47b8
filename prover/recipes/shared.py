"""What every round does the same way: prove a list of theorems with a checkpoint (`Searcher`),
the seed proofs and the fixed closers' searches, create round 0's model, and evaluate a round
into its metrics row.

With a `whole:` section every attempt is a whole proof with repair turns (search/whole_proof.py)
instead of a search, and a pair is (the statement prompt, the whole proof): `whole_attempts`,
`policy_prompt` and `seed_pairs` are where the two kinds of attempt differ."""
from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Sequence

from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.factory import make_env
from lean_env.types import Theorem
from lean_env.jsonl import read_jsonl
from prover.config import CampaignConfig
from prover.progress import StepProgress
from prover.run_dir import RunDir, cpu_seconds
from policy.base import PromptFormat
from policy.factory import CampaignGenerators
from search.best_first import SearchConfig
from search.passk import PassAtK
from search.records import AttemptRecord
from search.whole_proof import WholeProofSearch, raw_generator_config, top_level_tactics, whole_proof_examples
from training.sft import sft_examples
from training.store import Pair

PROBE_SIZE = 64          # seed pairs in the fixed entropy probe


class SoundnessIncident(RuntimeError):
    """The environment accepted proofs of statements the refutation screen refutes."""


class Searcher:
    """How every round proves theorems: best-first search with the config's env, search, planner
    and concurrency (with `whole:`, whole proofs with repair turns), sampling from one checkpoint with the round's seed (hf, vllm: loaded from it;
    openai: the server is asked for it by path). Made once per campaign, so its generators (one
    vLLM engine, or Ray actors with `distributed:`) serve every round; close it at the end."""

    def __init__(self, cfg: CampaignConfig):
        self.cfg = cfg
        # whole-proof attempts render their preset's prompts themselves: the generator sends them as given
        generator = cfg.generator if cfg.whole is None else raw_generator_config(cfg.generator)
        self.generators = CampaignGenerators(generator, cfg.distributed)

    def prove(self, checkpoint: Path, theorems: Sequence[Theorem], out_dir: Path, round_: int, attempts: int = 1,
              search: SearchConfig | None = None) -> PassAtK:
        """pass@`attempts` of `checkpoint` on `theorems` (`search` overrides the config's budget).
        Resumable: attempts already in out_dir/attempts.jsonl are not rerun."""
        from search.evaluate import evaluate

        cfg = self.cfg

        async def go(generator, bar: StepProgress) -> PassAtK:
            env = make_env(cfg.env, distributed=cfg.distributed)   # local, or actors over a Ray cluster
            attempt_fn = None if cfg.whole is None else whole_attempts(cfg, getattr(generator, "tokenizer", None))
            try:
                summary, _ = await evaluate(theorems, env, generator, search or cfg.search, out_dir, attempts,
                                            concurrency=cfg.concurrency, progress=bar,
                                            tag={"checkpoint": checkpoint.name, "round": round_}, planner=cfg.planner,
                                            search_fn=attempt_fn)
                return summary
            finally:
                await env.close()

        done = [AttemptRecord.from_dict(r) for r in read_jsonl(out_dir / "attempts.jsonl")]
        with self.generators.use(checkpoint, seed=cfg.seed + round_) as generator, \
                StepProgress(f"round {round_} · {out_dir.name} ({checkpoint.name})", [t.id for t in theorems],
                             attempts, done=done) as bar:
            summary = asyncio.run(go(generator, bar))
        if summary.soundness_incidents and not cfg.continue_on_incident:
            raise SoundnessIncident(
                f"{summary.soundness_incidents} soundness incident(s) in {out_dir}: the environment accepted proofs of "
                f"statements the refutation screen refutes (see 'verification:' reasons in attempts.jsonl); the campaign "
                f"stops here (continue_on_incident: true goes on)")
        return summary

    def close(self) -> None:
        self.generators.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def whole_attempts(cfg: CampaignConfig, tokenizer=None) -> WholeProofSearch:
    """The attempt of a campaign with a `whole:` section: one whole proof and its repairs, a sample
    dropped at the generator's `max_tokens` counted as that many tokens."""
    import dataclasses

    whole = dataclasses.replace(cfg.whole, max_tokens=cfg.generator.sampling.max_tokens)
    return WholeProofSearch(cfg.generator.preset, whole, tokenizer=tokenizer)


def policy_prompt(cfg: CampaignConfig) -> PromptFormat:
    """How SFT, the filter and the entropy probe render a pair's state: as the generator prompts
    (search), or as it is (whole proofs: the state is already the whole-proof prompt)."""
    return PromptFormat(cfg.generator.prompt_template if cfg.whole is None else "{state}")


def seed_pairs(run: RunDir, cfg: CampaignConfig) -> list[Pair]:
    """The seed proofs as pairs (`seeds:`), made once per run: the human seed proofs replayed on
    their splits, then the closers' verified proofs (round -1: no round's checkpoint found them);
    with `whole:`, as whole-proof examples (`whole_seed_pairs`)."""
    from prover.model_init import load_proofs, replay_pairs
    from training.store import pairs_from_records

    def replay() -> list[Pair]:
        async def go():
            env = make_env("embedded", workers=1)   # the human seed proofs are in the embedded fragment
            try:
                proofs = load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl")
                return [p for theorems in human_seed_splits(cfg) for p in await replay_pairs(env, theorems, proofs)]
            finally:
                await env.close()
        pairs = asyncio.run(go())
        for ref in cfg.seeds.closers:
            records = closer_search(run, cfg, ref.benchmark, ref.split, templates=cfg.seeds.templates)
            pairs += pairs_from_records(records, -1, "closers")[0]
        return pairs

    pairs = run.seed_pairs(replay)
    return pairs if cfg.whole is None else whole_seed_pairs(pairs, cfg)


def without_fixed_tactics(pairs: Sequence[Pair], cfg: CampaignConfig) -> list[Pair]:
    """With `filter.drop_fixed_tactics`: the pairs whose tactic is not one the search runs at that
    state anyway (its closers and hint templates)."""
    if not cfg.filter.drop_fixed_tactics:
        return list(pairs)
    return [p for p in pairs if p.tactic not in cfg.search.fixed_tactics(p.state)]


def whole_seed_pairs(steps: Sequence[Pair], cfg: CampaignConfig) -> list[Pair]:
    """The seed proofs, from their replayed steps, as the whole-proof model learns them
    (bench/whole_proof.py's recipe): the statement prompt -> the whole proof, and one resume
    example (the statement + a proof prefix + the `/- tactic state -/` there -> the rest), its cut
    drawn from the run's seed and the theorem, for the resume turns of repair."""
    import random

    theorems = {t.id: t for t in load_benchmark(cfg.pool.benchmark, cfg.pool.split)}
    drafter = whole_attempts(cfg)
    by_theorem: dict[str, list[Pair]] = {}
    for p in steps:
        by_theorem.setdefault(p.theorem_id, []).append(p)
    out = []
    for tid in sorted(by_theorem):
        rows = sorted(by_theorem[tid], key=lambda p: p.depth)
        theorem, tactics = theorems[tid], [p.tactic for p in rows]
        state, proof = drafter.example(theorem, tactics)
        out.append(Pair(theorem_id=tid, benchmark=theorem.benchmark, state=state, tactic=proof,
                        proof_length=len(tactics)))
        if len(top_level_tactics(theorem, tactics)) == len(tactics) and len(tactics) > 1:   # the states line up
            cut = random.Random(f"{cfg.seed}:{tid}").randrange(1, len(tactics))   # tactics already played
            state, rest = whole_proof_examples(theorem, tactics, [p.state for p in rows])[cut]
            out.append(Pair(theorem_id=tid, benchmark=theorem.benchmark, state=state, tactic=rest, depth=cut,
                            proof_length=len(tactics)))
    return out


def human_seed_splits(cfg: CampaignConfig) -> list[list[Theorem]]:
    """The theorems the human seed proofs are replayed on: `seeds.human`'s splits, or the pool."""
    refs = [(r.benchmark, r.split) for r in cfg.seeds.human] if cfg.seeds.human is not None \
        else [(cfg.pool.benchmark, cfg.pool.split)]
    return [load_benchmark(b, s) for b, s in refs]


def closer_search(run: RunDir, cfg: CampaignConfig, benchmark: str, split: str,
                  theorems: Sequence[Theorem] | None = None, templates: bool = False) -> list[AttemptRecord]:
    """What the fixed closers alone prove on a split (the scripted generator's first 8 tactics at
    the campaign's expansion cap and env: `prover eval --model scripted`), once per run in
    rounds/000/closers_BENCHMARK_SPLIT (resumable like every search): seed proofs, and the
    reference line of the reports. With `templates`: 8 closers and the state's hint templates
    (policy.scripted.closers_and_templates), in rounds/000/templates_BENCHMARK_SPLIT."""
    from policy.scripted import ScriptedGenerator, closers_and_templates
    from search.evaluate import evaluate

    theorems = load_benchmark(benchmark, split) if theorems is None else theorems
    out = run.round_dir(0) / f"{'templates' if templates else 'closers'}_{benchmark}_{split}"
    generator, search = ScriptedGenerator(), closers_search_config(cfg.search)
    if templates:   # every template of a state: no cut at 8
        generator, search = ScriptedGenerator(closers_and_templates), dataclasses.replace(search, tactics_per_expansion=64)

    async def go():
        env = make_env(cfg.env, distributed=cfg.distributed)
        try:
            _, records = await evaluate(theorems, env, generator, search, out, concurrency=cfg.concurrency,
                                        tag={"checkpoint": "closers", "round": 0})
            return records
        finally:
            await env.close()
    records = asyncio.run(go())
    run.log(f"{'closers and templates' if templates else 'closers'} on {benchmark}/{split}: "
            f"{sum(r.proved for r in records)}/{len(records)} proved")
    return records


def closers_search_config(search: SearchConfig) -> SearchConfig:
    """The closers' budget: 8 tactics per expansion (the scripted baseline, whatever the campaign's
    model search samples) at the campaign's expansion cap."""
    return dataclasses.replace(search, closers=(), closer_templates=False, tactics_per_expansion=8)


def round_zero_model(run: RunDir, cfg: CampaignConfig) -> None:
    """Round 0's checkpoint: a given model, or the embedded tiny model trained from scratch on the
    seed proofs (its tokenizer on their text and the statements of the splits it may see)."""
    from policy.checkpoint import load_checkpoint, save_checkpoint

    if not run.checkpoint(0).exists():
        if cfg.model.init == "path":
            model, tokenizer, _ = load_checkpoint(cfg.model.path)
            save_checkpoint(model, tokenizer, run.base, {"from": cfg.model.path})
            save_checkpoint(model, tokenizer, run.checkpoint(0), {"from": cfg.model.path})
        else:
            from prover.model_init import train_seed_model

            pairs = without_fixed_tactics(seed_pairs(run, cfg), cfg)
            seen = [t for ts in human_seed_splits(cfg) for t in ts]
            seen += [t for ref in cfg.seeds.closers for t in load_benchmark(ref.benchmark, ref.split)]
            seen += load_benchmark(cfg.pool.benchmark, cfg.pool.split)
            corpus = list({(t.benchmark, t.id): t for t in seen}.values())   # each statement once, first-seen order
            train_seed_model(run.checkpoint(0), pairs, corpus, preset=cfg.model.preset, seed=cfg.seed,
                             epochs=cfg.model.seed_epochs, prompt=policy_prompt(cfg))
    built_base = run.checkpoint(0).with_name(run.checkpoint(0).name + "-base")   # train_seed_model's
    if built_base.exists() and not run.base.exists():   # also after a kill between its two saves
        built_base.rename(run.base)


def round_zero(run: RunDir, cfg: CampaignConfig, searcher: Searcher) -> dict:
    """Round 0: the seed-proof SFT checkpoint (or a given model), evaluated; with closer seeds,
    the closers' own pass rate on each eval split is recorded beside it (a reference, never data)."""
    progress = run.progress(0)
    if progress.todo("model"):
        round_zero_model(run, cfg)
        progress.done("model")
    extra = {**{f"time_{k}": v for k, v in progress.timings.items()}, **{f"cpu_{k}": v for k, v in progress.cpu.items()}}
    if cfg.seeds.closers:
        for split in cfg.eval.splits:
            theorems = load_benchmark(cfg.eval.benchmark, split)[: cfg.eval.limit]
            records = closer_search(run, cfg, cfg.eval.benchmark, split, theorems)
            extra[f"closers_proved_{split}"] = sum(r.proved for r in records)
    return evaluate_round(run, cfg, 0, soft_reset=False, extra=extra, searcher=searcher)


def evaluate_round(run: RunDir, cfg: CampaignConfig, r: int, soft_reset: bool, extra: dict, searcher: Searcher) -> dict:
    """Held-out pass@k of round r's checkpoint on each eval split and the policy entropy on the
    fixed probe (the first seed pairs): the round's metrics row, appended once."""
    from policy.checkpoint import load_checkpoint
    from training.entropy import policy_entropy

    row = {"round": r, "soft_reset": soft_reset, **extra}
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    for split in cfg.eval.splits:
        theorems = load_benchmark(cfg.eval.benchmark, split)[: cfg.eval.limit]
        summary = searcher.prove(run.checkpoint(r), theorems, run.round_dir(r) / f"eval_{split}", r, cfg.eval.pass_k)
        row[f"pass_{split}"] = summary.pass_at_k
        row[f"n_{split}"], row[f"proved_{split}"] = summary.theorems, summary.proved   # for the plots' intervals
        row[f"env_failures_{split}"] = summary.env_failures
        row[f"soundness_incidents_{split}"] = summary.soundness_incidents
        row["budget"] = summary.budget if cfg.whole is None else \
            f"1+{cfg.whole.repair_rounds} whole proof(s) x {cfg.generator.sampling.max_tokens} tokens"
    model, tokenizer, _ = load_checkpoint(run.checkpoint(r))
    probe = seed_pairs(run, cfg)[:PROBE_SIZE]
    examples = sft_examples(probe, policy_prompt(cfg))
    row["entropy"] = policy_entropy(model, tokenizer, [x for x, _ in examples], [t for _, t in examples])
    row["time_eval"] = time.perf_counter() - t0
    row["cpu_eval"] = cpu_seconds() - cpu0
    run.finish_round(row)
    run.log("round %d: %s" % (r, ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in row.items())))
    return row
