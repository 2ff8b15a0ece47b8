"""Collapse detection and automatic recovery (MAI's self-distillation soft reset, without a person).

A GRPO round has collapsed when any configured signal fires (`RecoveryConfig`, each off at 0):

- gradient-norm spike: a step's norm exceeds `grad_norm_spike` x the median of the round's
  earlier steps (at least MIN_HISTORY of them, so the first noisy steps cannot fire it);
- entropy out of band: the step's entropy estimate stays outside `entropy_band` for
  `entropy_steps` consecutive optimiser steps;
- reward drop: the round's mean rollout reward is more than `reward_drop` below the best earlier
  GRPO round's;
- held-out drop: the round's pass@k on the first eval split is more than `heldout_drop` below
  the best earlier round's.

Recovery (prover/recipes/grpo.py runs it as a step of the next round, resumably): sample
`samples_per_theorem` attempts per pool theorem from each of the last `checkpoints` healthy
checkpoints, keep the verified ones, SFT a fresh copy of the run's base model on their accepted
(goal state, tactic) pairs (training/grpo/distill.py), and resume RL from that checkpoint with a
fresh entropy controller. When nothing succeeded there is nothing to distil: RL resumes from the
latest healthy checkpoint instead (a rollback), and the log says so.
"""
from __future__ import annotations

import statistics
from typing import Sequence

from training.grpo.config import RecoveryConfig

MIN_HISTORY = 3


def step_alarm(telemetry: Sequence[dict], cfg: RecoveryConfig) -> str | None:
    """The first step signal that fires in one round's telemetry, as a sentence, or None."""
    steps = [r for r in telemetry if not r.get("skipped")]
    if cfg.grad_norm_spike > 0:
        for i in range(MIN_HISTORY, len(steps)):
            median = statistics.median(float(r["grad_norm"]) for r in steps[:i])
            norm = float(steps[i]["grad_norm"])
            if median > 0 and norm > cfg.grad_norm_spike * median:
                return f"grad-norm spike at step {steps[i]['step']}: {norm:.3g} > {cfg.grad_norm_spike:g} x median {median:.3g}"
    lo, hi = cfg.entropy_band
    if hi > 0:
        run = 0
        for r in steps:
            run = run + 1 if not lo <= float(r["entropy"]) <= hi else 0
            if run >= cfg.entropy_steps:
                return f"entropy outside [{lo:g}, {hi:g}] for {run} steps (step {r['step']}: {float(r['entropy']):.3g})"
    return None


def round_alarm(metrics: Sequence[dict], cfg: RecoveryConfig, split: str | None) -> str | None:
    """Round signals of the LAST metrics row against the earlier rows, or None."""
    if len(metrics) < 2:
        return None
    last, earlier = metrics[-1], metrics[:-1]
    if cfg.reward_drop > 0 and "grpo_reward_mean" in last:
        best = max((float(m["grpo_reward_mean"]) for m in earlier if "grpo_reward_mean" in m), default=None)
        if best is not None and float(last["grpo_reward_mean"]) < best - cfg.reward_drop:
            return f"rollout reward {float(last['grpo_reward_mean']):.3f} fell more than {cfg.reward_drop:g} below {best:.3f}"
    key = f"pass_{split}"
    if cfg.heldout_drop > 0 and split and key in last:
        best = max((float(m[key]) for m in earlier if key in m), default=None)
        if best is not None and float(last[key]) < best - cfg.heldout_drop:
            return f"held-out {key} {float(last[key]):.3f} fell more than {cfg.heldout_drop:g} below {best:.3f}"
    return None


def detect_collapse(telemetry: Sequence[dict], metrics: Sequence[dict], cfg: RecoveryConfig,
                    split: str | None = None) -> str | None:
    """Why the round whose telemetry and metrics row (the last one) are given collapsed, or None."""
    if not cfg.enabled:
        return None
    return step_alarm(telemetry, cfg) or round_alarm(metrics, cfg, split)


def healthy_rounds(metrics: Sequence[dict], before: int, count: int) -> list[int]:
    """The last `count` rounds < `before` that no later round judged collapsed (round 0 counts)."""
    collapsed = {int(m["collapsed_round"]) for m in metrics if m.get("collapsed_round") is not None}
    return [r for r in range(before) if r not in collapsed][-count:]
