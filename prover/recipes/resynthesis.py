"""A re-synthesis round, the soft reset, top to bottom (BFS-Prover-V2 sec. 3.3; MAI-Thinking-1
on sampling from several strong checkpoints). Due every M rounds and/or after N rounds without a
held-out gain (`is_due`; prover/campaign.py asks once per round); otherwise the round is an
expert-iteration round (prover/recipes/expert_iteration.py), whose filter, DPO and evaluation
steps this one shares.

    1. search   the top-k checkpoints by held-out pass rate among the last rounds each search the
                *entire* pool (never-solved and long-solved theorems alike), optionally with a
                larger budget than a normal round
    2. store    each theorem's shortest new proof replaces its old ones; a theorem nobody re-proved
                keeps its newest earlier proof, so no theorem ever loses its only proof
                (`PairStore.resynthesize`; rounds/NNN/resynthesis.json says what happened)
    3. filter   as in expert iteration, under the previous checkpoint
    4. train    from a fresh base (the initial one, or a larger one: "scale-up") for a step budget
                tied to the data size (`epochs` passes over it, not the round's few), then a
                held-out check: the reset model's tactic loss on held-out proofs (the valid proofs
                the pre-reset model found) must come within `land_ratio` of the pre-reset model's,
                else it trains `extra_epochs` more, at most `max_extra_stages` times; optionally DPO
    5. eval     held-out pass@k and the entropy probe, the row marked `soft_reset`
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import read_jsonl
from policy.base import PromptFormat
from search.records import AttemptRecord

if TYPE_CHECKING:
    from prover.config import CampaignConfig, ResynthesisConfig
    from prover.recipes.shared import Searcher
    from prover.run_dir import RunDir


def resynthesis_round(run: "RunDir", cfg: "CampaignConfig", r: int, searcher: "Searcher") -> dict:
    from prover.recipes.expert_iteration import (filter_store, round_summary, search_records, train_dpo_step,
                                                 training_data)
    from prover.recipes.shared import evaluate_round
    from training.store import pairs_from_records, shortest_proofs

    progress, rdir, store = run.progress(r), run.round_dir(r), run.store()
    prompt = PromptFormat(cfg.generator.prompt_template)
    rcfg = cfg.resynthesis
    previous = run.checkpoint(r - 1)
    key = f"pass_{cfg.eval.splits[0]}"
    searchers = [run.checkpoint(q) for q in progress.plan(
        "searchers", lambda: strongest_rounds(run.metrics(), key, rcfg.top_k, rcfg.lookback))]

    # 1. search: every one of the strongest checkpoints over the entire pool, with its own budget
    if progress.todo("search"):
        pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
        search = dataclasses.replace(cfg.search, max_expansions=rcfg.max_expansions or cfg.search.max_expansions)
        for ckpt in searchers:
            run.log(f"round {r}: re-synthesis: searching all {len(pool)} theorems with {ckpt.name}")
            searcher.prove(ckpt, pool, rdir / "search" / ckpt.name, r, search=search)
        progress.done("search")

    # 2. store: rebuilt from each theorem's shortest new proof, losing no proof
    if progress.todo("store"):
        pairs, errors = pairs_from_records(shortest_proofs(search_records(rdir)), r, "")
        summary = dataclasses.asdict(store.resynthesize(r, pairs, errors))
        (rdir / "resynthesis.json").write_text(json.dumps(summary, indent=1))
        run.log(f"round {r}: re-synthesis with {', '.join(c.name for c in searchers)}: " + ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items()))
        progress.done("store")

    # 3. filter: as in expert iteration
    if progress.todo("filter"):
        filter_store(run, cfg, r, previous, prompt)
        progress.done("filter")

    # 4. train: a fresh base until its held-out loss lands (the soft reset), then optionally DPO
    if progress.todo("train"):
        data = training_data(run, cfg, r, prompt)
        sft_cfg = dataclasses.replace(cfg.sft, seed=cfg.seed + r)
        start = fresh_base(rcfg, run.base, cfg.seed)
        landing = train_to_land(start, data, sft_cfg, rcfg, heldout_examples(run, cfg, r - 1, prompt),
                                previous, rdir / "reset", run.checkpoint(r), run.log)
        (rdir / "landing.json").write_text(json.dumps(landing))
        run.log(f"round {r}: soft reset: trained from {start.name} on {len(data)} pairs, {landing['reset_steps']} steps")
        train_dpo_step(run, cfg, r, prompt)
        progress.done("train")

    # 5. eval
    resynth = {f"resynth_{k}": v for k, v in json.loads((rdir / "resynthesis.json").read_text()).items()}
    extra = round_summary(run, cfg, r, **resynth, **json.loads((rdir / "landing.json").read_text()),
                          searchers=[c.name for c in searchers])
    return evaluate_round(run, cfg, r, soft_reset=True, extra=extra, searcher=searcher)


def heldout_examples(run: "RunDir", cfg: "CampaignConfig", r: int, prompt: PromptFormat) -> list[tuple[str, str]]:
    """(prompt, tactic) of the held-out proofs round r's evaluation found on the first eval split:
    theorems no round trains on, so the soft reset's landing check is a held-out one."""
    path = run.round_dir(r) / f"eval_{cfg.eval.splits[0]}" / "attempts.jsonl"
    from training.sft import sft_examples
    from training.store import pairs_from_records

    records = [AttemptRecord.from_dict(x) for x in read_jsonl(path)]
    return sft_examples(pairs_from_records(records, r, "")[0], prompt)



def is_due(cfg: "ResynthesisConfig", round_: int, metrics: Sequence[dict], key: str) -> bool:
    """On schedule, or when the last `plateau_rounds` rounds (none of them a soft reset) did not
    beat the best before them on `key` (a pass-rate column of the metrics)."""
    if cfg.every and round_ % cfg.every == 0:
        return True
    if cfg.plateau_rounds and len(metrics) > cfg.plateau_rounds:
        recent = metrics[-cfg.plateau_rounds:]
        if any(m.get("soft_reset") for m in recent):   # a reset gets its rounds to climb back
            return False
        best_before = max(m.get(key, 0) for m in metrics[: -cfg.plateau_rounds])
        return max(m.get(key, 0) for m in recent) <= best_before
    return False


def strongest_rounds(metrics: Sequence[dict], key: str, k: int, lookback: int) -> list[int]:
    """The k rounds with the highest `key` among the last `lookback` finished rounds, strongest
    first (the later one on ties)."""
    recent = sorted(metrics, key=lambda m: m["round"])[-lookback:]
    ranked = sorted(recent, key=lambda m: (m.get(key, 0), m["round"]), reverse=True)
    return [m["round"] for m in ranked[:k]]


def fresh_base(cfg: "ResynthesisConfig", initial_base: Path, seed: int) -> Path:
    """Where a soft reset restarts: the initial base, or a larger model created once, next to it."""
    if cfg.base == "initial":
        return initial_base
    larger = initial_base.with_name(f"base_{cfg.larger_preset}")
    if not larger.exists():
        from policy.checkpoint import load_tokenizer, save_checkpoint
        from policy.tiny import create_model

        tokenizer = load_tokenizer(initial_base)
        model = create_model(tokenizer, cfg.larger_preset, seed=seed)
        save_checkpoint(model, tokenizer, larger, {"preset": cfg.larger_preset, "what": "larger base for scale-up"})
    return larger


def heldout_loss(checkpoint: Path, examples: Sequence[tuple[str, str]]) -> float:
    """Mean tactic-token NLL of (prompt, tactic) examples under a checkpoint."""
    from policy.checkpoint import load_checkpoint
    from training.scoring import tactic_logprobs

    model, tokenizer, _ = load_checkpoint(checkpoint)
    scores = tactic_logprobs(model, tokenizer, [p for p, _ in examples], [t for _, t in examples])
    return -sum(lp for lp, _ in scores) / max(1, sum(n for _, n in scores))


def train_to_land(start: Path, data: Sequence[tuple[str, str]], sft_cfg, cfg: "ResynthesisConfig",
                  heldout: Sequence[tuple[str, str]], pre_reset: Path, work: Path, out: Path,
                  log: Callable[[str], None]) -> dict:
    """Train from `start` until the held-out check passes (or the stages run out); the landed
    model is copied to `out`. Each stage saves its model and then its landing.json, so a killed
    reset resumes at the stage it was in and retrains it from the same input with the same seed.
    Returns the landing record: stages, steps, held-out loss per stage and the pre-reset target."""
    from training.sft import train_sft

    sft_cfg = replace(sft_cfg, lr=cfg.lr or sft_cfg.lr)
    work.mkdir(parents=True, exist_ok=True)
    target_path = work / "target.json"
    if not target_path.exists():
        target = heldout_loss(pre_reset, heldout) if heldout else None
        _write_json(target_path, {"pre_reset_loss": target, "heldout_pairs": len(heldout)})
    target = json.loads(target_path.read_text())["pre_reset_loss"]
    stages, stage_in = [], start
    for i in range(1 + cfg.max_extra_stages):
        stage_dir = work / f"stage_{i}"
        if not (stage_dir / "landing.json").exists():
            epochs = cfg.epochs if i == 0 else cfg.extra_epochs
            result = train_sft(stage_in, None, data, replace(sft_cfg, epochs=epochs, seed=sft_cfg.seed + 100 * i), stage_dir)
            loss = heldout_loss(stage_dir, heldout) if heldout else None
            _write_json(stage_dir / "landing.json", {"stage": i, "epochs": epochs, "steps": result.steps,
                                                     "train_loss": result.final_loss, "heldout_loss": loss})
        stages.append(json.loads((stage_dir / "landing.json").read_text()))
        landed = target is None or stages[-1]["heldout_loss"] <= cfg.land_ratio * target
        log(f"soft reset stage {i}: {stages[-1]['steps']} steps, held-out loss {_fmt(stages[-1]['heldout_loss'])} "
            f"(pre-reset {_fmt(target)}, land at <= {cfg.land_ratio} x): {'landed' if landed else 'not yet'}")
        if landed:
            break
        stage_in = stage_dir
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(stage_dir, tmp)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return {"reset_stages": len(stages), "reset_steps": sum(s["steps"] for s in stages),
            "reset_heldout_loss": stages[-1]["heldout_loss"], "pre_reset_heldout_loss": target}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)
