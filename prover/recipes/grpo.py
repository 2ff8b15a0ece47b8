"""One GRPO round (MAI-Thinking-1 changes): `grpo.steps` rollout batches of multi-turn rollouts on
the pool (each giving grpo.epochs x grpo.mini_batches optimiser steps), from the previous round's
checkpoint, then the same evaluation as expert iteration.

There is no separate search or store: the learner samples its own trajectories. The entropy
controller's k continues from the previous round's checkpoint. The round's GRPO directory is
cleared before training, so a round killed half-way restarts cleanly from its start checkpoint
with the same seed.

Recovery (training/grpo/recovery.py, when `grpo.recovery.enabled`): at the start of the round the
previous round is judged once (the verdict is kept in progress.json); if it collapsed, this round
first distils a fresh checkpoint from the recent healthy ones (a resumable step, `distill`) and
trains from it. Its metrics row is marked `soft_reset` with the reason in `recovery`, and names the
collapsed round in `collapsed_round`, so later recoveries skip it as a source.
"""
from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from lean_env.jsonl import read_jsonl, write_jsonl_atomic
from prover.config import CampaignConfig
from prover.recipes.shared import Searcher, evaluate_round
from prover.run_dir import RoundProgress, RunDir

SUMMARY_KEYS = ("reward_mean", "loss", "entropy", "k_next", "frac_clipped", "frac_outer_capped", "logp_diff_max",
                "eps_max", "grad_norm", "kept_theorems", "tokens")


def grpo_round(run: RunDir, cfg: CampaignConfig, r: int, searcher: Searcher) -> dict:
    from policy.checkpoint import load_checkpoint, save_checkpoint
    from training.grpo.trainer import grpo_from_checkpoint

    progress = run.progress(r)
    out = run.round_dir(r) / "grpo"
    grpo = dataclasses.replace(cfg.grpo_config, seed=cfg.seed + r)
    pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]
    reason = progress.plan("recovery", lambda: judge_previous_round(run, cfg, r))
    start, controller = run.checkpoint(r - 1), None
    if reason:
        start = recovery_checkpoint(run, cfg, r, progress, pool)
        controller = {"k": grpo.k_init, "history": []}   # the collapsed run's k is not evidence for the new one

    if progress.todo("train"):
        if out.exists():
            shutil.rmtree(out)

        async def train() -> Path:
            env = make_env(cfg.env)
            try:
                return await grpo_from_checkpoint(start, env, pool, grpo, out, controller)
            finally:
                await env.close()

        model, tokenizer, meta = load_checkpoint(asyncio.run(train()))
        save_checkpoint(model, tokenizer, run.checkpoint(r), {**meta, "from": str(start)})
        summary = telemetry_summary(out / "telemetry.jsonl")
        run.log(f"round {r}: GRPO {grpo.steps} batches ({grpo.optimiser_steps} optimiser steps) from {start.name}, "
                + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))
        progress.done("train")

    timings = {f"time_{step}": seconds for step, seconds in progress.timings.items()}
    extra = {**timings, **telemetry_summary(out / "telemetry.jsonl")}
    if reason:
        extra.update(recovery=reason, collapsed_round=r - 1)
    return evaluate_round(run, cfg, r, soft_reset=bool(reason), extra=extra, searcher=searcher)


def judge_previous_round(run: RunDir, cfg: CampaignConfig, r: int) -> str | None:
    """Why round r-1 collapsed, or None (also when recovery is off or r-1 was not a GRPO round)."""
    from training.grpo.recovery import detect_collapse

    telemetry = run.round_dir(r - 1) / "grpo" / "telemetry.jsonl"
    if r < 2 or not telemetry.exists():
        return None
    split = cfg.eval.splits[0] if cfg.eval.splits else None
    reason = detect_collapse(read_jsonl(telemetry), run.metrics()[:r], cfg.grpo_config.recovery, split)
    if reason:
        run.log(f"round {r}: round {r - 1} collapsed ({reason}): recovering by self-distillation")
    return reason


def recovery_checkpoint(run: RunDir, cfg: CampaignConfig, r: int, progress: RoundProgress, pool) -> Path:
    """The distilled checkpoint RL restarts from (built once: the `distill` step is resumable)."""
    from policy.checkpoint import load_checkpoint, save_checkpoint
    from training.grpo.distill import collect_successful_async, self_distill
    from training.grpo.recovery import healthy_rounds
    from training.grpo.trainer import load_policy
    from training.sft import SFTConfig

    rec = cfg.grpo_config.recovery
    out = run.round_dir(r) / "recovery"
    distilled = out / "distilled"
    if not progress.todo("distill"):
        return Path(progress.state["plan"]["recovery_start"])
    sources = healthy_rounds(run.metrics(), r - 1, rec.checkpoints)
    grpo = dataclasses.replace(cfg.grpo_config, seed=cfg.seed + r)

    async def collect():
        env = make_env(cfg.env)
        try:
            return await collect_successful_async([load_policy(run.checkpoint(s), grpo.rollout.prompt_template) for s in sources], env, pool,
                                                  rec.samples_per_theorem, grpo, seed=cfg.seed + r)
        finally:
            await env.close()

    trajectories = asyncio.run(collect())
    write_jsonl_atomic(out / "trajectories.jsonl", [t.to_dict() for t in trajectories])
    base = run.base if run.base.exists() else run.checkpoint(0)
    try:
        sft = SFTConfig(lr=rec.sft_lr, epochs=rec.sft_epochs, warmup_steps=1, seed=cfg.seed + r)
        result = self_distill(base, trajectories, distilled, sft, rec.successful_only)
        start = distilled
        run.log(f"round {r}: distilled {base.name} on {len(trajectories)} successful attempts from rounds {sources} "
                f"(loss {result.final_loss:.3f})")
    except ValueError as e:   # nothing succeeded: nothing to distil, roll back to the last healthy checkpoint
        model, tokenizer, _ = load_checkpoint(run.checkpoint(sources[-1]))
        start = save_checkpoint(model, tokenizer, distilled, {"rollback_to": sources[-1]})
        run.log(f"round {r}: no distillation ({e}); RL resumes from round {sources[-1]}'s checkpoint")
    progress.plan("recovery_start", lambda: str(start))
    progress.done("distill")
    return start


def telemetry_summary(path: Path) -> dict:
    """Per-round means of the step telemetry (max of eps_max and grad_norm), for the metrics row."""
    rows = read_jsonl(path)
    if not rows:
        return {}
    out = {f"grpo_{k}": sum(float(r.get(k, 0.0)) for r in rows) / len(rows) for k in SUMMARY_KEYS}
    out["grpo_eps_max"] = max(float(r.get("eps_max", 0.0)) for r in rows)
    out["grpo_grad_norm_max"] = max(float(r.get("grad_norm", 0.0)) for r in rows)
    out["grpo_steps_taken"] = float(sum(not r["skipped"] for r in rows))
    return out
