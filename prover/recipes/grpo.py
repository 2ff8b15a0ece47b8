"""One GRPO round (MAI-Thinking-1 changes): `grpo.steps` optimiser steps of multi-turn rollouts on
the pool, from the previous round's checkpoint, then the same evaluation as expert iteration.

There is no separate search or store: the learner samples its own trajectories. The round's GRPO
directory is cleared before training, so a round killed half-way restarts cleanly from the
previous checkpoint with the same seed.
"""
from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from lean_env.jsonl import read_jsonl
from prover.config import CampaignConfig
from prover.recipes.shared import evaluate_round
from prover.run_dir import RunDir

SUMMARY_KEYS = ("reward_mean", "loss", "entropy", "k_next", "frac_clipped", "logp_diff_max", "kept_theorems", "tokens")


def grpo_round(run: RunDir, cfg: CampaignConfig, r: int) -> dict:
    from search.generators.checkpoint import load_checkpoint, save_checkpoint
    from training.grpo.trainer import grpo_from_checkpoint

    progress, previous = run.progress(r), run.checkpoint(r - 1)
    out = run.round_dir(r) / "grpo"
    grpo = dataclasses.replace(cfg.grpo_config, seed=cfg.seed + r)

    if progress.todo("train"):
        if out.exists():
            shutil.rmtree(out)
        pool = load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]

        async def train() -> Path:
            env = make_env(cfg.env)
            try:
                return await grpo_from_checkpoint(previous, env, pool, grpo, out)
            finally:
                await env.close()

        model, tokenizer, _ = load_checkpoint(asyncio.run(train()))
        save_checkpoint(model, tokenizer, run.checkpoint(r), {"grpo": grpo.to_dict(), "from": previous.name})
        summary = telemetry_summary(out / "telemetry.jsonl")
        run.log(f"round {r}: GRPO {grpo.steps} steps from {previous.name}, "
                + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))
        progress.done("train")

    timings = {f"time_{step}": seconds for step, seconds in progress.timings.items()}
    return evaluate_round(run, cfg, r, soft_reset=False, extra={**timings, **telemetry_summary(out / "telemetry.jsonl")})


def telemetry_summary(path: Path) -> dict:
    """Per-round means of the step telemetry, for the metrics row."""
    rows = read_jsonl(path)
    if not rows:
        return {}
    out = {f"grpo_{k}": sum(float(r[k]) for r in rows) / len(rows) for k in SUMMARY_KEYS}
    out["grpo_steps_taken"] = float(sum(not r["skipped"] for r in rows))
    return out
