"""Periodic re-synthesis (BFS-Prover-V2's soft reset): when it is due, the round re-proves the whole
pool with the best checkpoint so far, the pair store is replaced by exactly that round's pairs, and
the model is retrained from a fresh base (the initial one, or a larger one created from scratch
with the same tokenizer: "scale-up").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from pydantic import ConfigDict


@dataclass(frozen=True)
class ResynthesisConfig:
    """The campaign YAML's `resynthesis:` section."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    every: int = 0                    # re-synthesise on rounds every, 2*every, ...; 0 = never on schedule
    plateau_rounds: int = 0           # also when this many rounds brought no gain; 0 = no plateau rule
    base: Literal["initial", "larger"] = "initial"
    larger_preset: str = "small"      # base: larger only

    def __post_init__(self) -> None:
        if self.every < 0 or self.plateau_rounds < 0:
            raise ValueError(f"every and plateau_rounds must be >= 0, got {self.every} and {self.plateau_rounds}")
        if self.base == "initial" and self.larger_preset != "small":
            raise ValueError("larger_preset is only read with base: larger")


def is_due(cfg: ResynthesisConfig, round_: int, metrics: Sequence[dict], key: str) -> bool:
    """On schedule, or when the last `plateau_rounds` rounds did not beat the best before them on
    `key` (a pass-rate column of the metrics)."""
    if cfg.every and round_ % cfg.every == 0:
        return True
    if cfg.plateau_rounds and len(metrics) > cfg.plateau_rounds:
        recent = [m.get(key, 0) for m in metrics[-cfg.plateau_rounds:]]
        best_before = max(m.get(key, 0) for m in metrics[: -cfg.plateau_rounds])
        return max(recent) <= best_before
    return False


def best_round(metrics: Sequence[dict], key: str) -> int:
    """The round with the highest `key` (the later one on ties)."""
    return max(metrics, key=lambda m: (m.get(key, 0), m["round"]))["round"]


def fresh_base(cfg: ResynthesisConfig, initial_base: Path, seed: int) -> Path:
    """Where a soft reset restarts: the initial base, or a larger model created once, next to it."""
    if cfg.base == "initial":
        return initial_base
    larger = initial_base.with_name(f"base_{cfg.larger_preset}")
    if not larger.exists():
        from search.generators.checkpoint import load_tokenizer, save_checkpoint
        from search.generators.tiny import create_model

        tokenizer = load_tokenizer(initial_base)
        model = create_model(tokenizer, cfg.larger_preset, seed=seed)
        save_checkpoint(model, tokenizer, larger, {"preset": cfg.larger_preset, "what": "larger base for scale-up"})
    return larger
