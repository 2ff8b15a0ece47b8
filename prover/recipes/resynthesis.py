"""Periodic re-synthesis and the soft reset (BFS-Prover-V2 sec. 3.3; MAI-Thinking-1 on sampling
from several strong checkpoints).

When it is due (every M rounds and/or after N rounds without a held-out gain):

    1. search   the top-k checkpoints by held-out pass rate among the last rounds each search the
                *entire* pool (never-solved and long-solved theorems alike), optionally with a
                larger budget than a normal round
    2. store    each theorem's shortest new proof replaces its old ones; a theorem nobody re-proved
                keeps its newest earlier proof, so no theorem ever loses its only proof
                (`PairStore.resynthesize`; rounds/NNN/resynthesis.json says what happened)
    3. train    from a fresh base (the initial one, or a larger one: "scale-up") for a step budget
                tied to the data size (`epochs` passes over it, not the round's few), then a
                held-out check: the reset model's tactic loss on held-out proofs (the valid proofs
                the pre-reset model found) must come within `land_ratio` of the pre-reset model's,
                else it trains `extra_epochs` more, at most `max_extra_stages` times

prover/recipes/expert_iteration.py calls these steps in its numbered places.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Literal, Optional, Sequence

from pydantic import ConfigDict


@dataclass(frozen=True)
class ResynthesisConfig:
    """The campaign YAML's `resynthesis:` section."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    every: int = 0                    # re-synthesise on rounds every, 2*every, ...; 0 = never on schedule
    plateau_rounds: int = 0           # also when this many rounds brought no gain; 0 = no plateau rule
    top_k: int = 2                    # checkpoints that search the pool: the strongest of ...
    lookback: int = 3                 # ... the last this many rounds (by held-out pass rate)
    max_expansions: Optional[int] = None   # search budget per attempt; None = the round's
    epochs: float = 10.0              # passes over the rebuilt data when training from the fresh base
    lr: Optional[float] = None        # the reset's peak learning rate; None = the sft section's
    land_ratio: float = 1.15          # held-out loss must come within this factor of the pre-reset model's
    extra_epochs: float = 4.0         # more training while it has not landed ...
    max_extra_stages: int = 2         # ... at most this many times
    base: Literal["initial", "larger"] = "initial"
    larger_preset: str = "small"      # base: larger only

    def __post_init__(self) -> None:
        if self.every < 0 or self.plateau_rounds < 0:
            raise ValueError(f"every and plateau_rounds must be >= 0, got {self.every} and {self.plateau_rounds}")
        if self.top_k < 1 or self.lookback < 1 or self.max_extra_stages < 0:
            raise ValueError(f"need top_k >= 1, lookback >= 1, max_extra_stages >= 0; got {self}")
        if not (self.epochs > 0 and self.extra_epochs > 0 and self.land_ratio >= 1.0):
            raise ValueError(f"need epochs > 0, extra_epochs > 0, land_ratio >= 1; got {self}")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.max_expansions is not None and self.max_expansions < 1:
            raise ValueError(f"max_expansions must be >= 1, got {self.max_expansions}")
        if self.base == "initial" and self.larger_preset != "small":
            raise ValueError("larger_preset is only read with base: larger")


def is_due(cfg: ResynthesisConfig, round_: int, metrics: Sequence[dict], key: str) -> bool:
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


def fresh_base(cfg: ResynthesisConfig, initial_base: Path, seed: int) -> Path:
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


def train_to_land(start: Path, data: Sequence[tuple[str, str]], sft_cfg, cfg: ResynthesisConfig,
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
