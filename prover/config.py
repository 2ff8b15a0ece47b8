"""Typed settings for evaluations and campaigns, validated by pydantic (unknown keys are errors).

A campaign is described by one YAML file (see `configs/embedded.yaml`); `load_config` turns it into
a `CampaignConfig` or raises `ConfigError` naming every bad key and value.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvSettings(Strict):
    """Which environment runs the tactics."""

    kind: Literal["embedded", "lean-repl", "dojo"] = "embedded"
    workers: int = Field(2, ge=1)
    lean_project: Optional[str] = None       # a Lean project with Mathlib (lean-repl, dojo)
    repl_path: Optional[str] = None          # a leanprover-community/repl checkout (lean-repl)
    tactic_timeout: float = Field(12.0, gt=0)
    verify_timeout: float = Field(60.0, gt=0)


class GeneratorSettings(Strict):
    """Which model proposes tactics, and how it samples."""

    kind: Literal["hf", "vllm", "openai", "scripted"] = "hf"
    model: Optional[str] = None              # local HF dir (hf, vllm) or model name (openai)
    base_url: Optional[str] = None           # openai-compatible server
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(48, ge=1)
    batch_size: int = Field(256, ge=1)
    device: str = "cpu"
    prompt_template: str = "{state}:::"


class SearchSettings(Strict):
    """One best-first search attempt (BFS-Prover-V2's knobs)."""

    tactics_per_expansion: int = Field(8, ge=1)
    max_expansions: int = Field(32, ge=1)
    alpha: float = Field(2.0, ge=0)
    wall_seconds: float = Field(120.0, gt=0)
    concurrency: int = Field(32, ge=1)        # attempts in flight at once


class EvalSettings(Strict):
    benchmark: str = "embedded"
    splits: list[str] = ["test"]
    pass_k: int = Field(1, ge=1)
    limit: Optional[int] = Field(None, ge=1)      # only the first N theorems of each split (smoke runs)


class FilterSettings(Strict):
    """Perplexity filter: drop the easy (low) and noisy (high) quantile tails."""

    low_quantile: float = Field(0.0, ge=0, lt=1)
    high_quantile: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _tails_leave_data(self) -> "FilterSettings":
        if self.low_quantile + self.high_quantile >= 1:
            raise ValueError("low_quantile + high_quantile must be < 1 (they would drop everything)")
        return self


class TrainSettings(Strict):
    lr: float = Field(1e-3, gt=0)
    epochs: float = Field(3.0, gt=0)
    batch_tokens: int = Field(4096, ge=64)
    grad_accum: int = Field(1, ge=1)
    warmup_steps: int = Field(10, ge=0)
    max_len: int = Field(512, ge=16)
    include_seed_proofs: bool = True          # keep the human seed proofs in every round's data
    dpo: bool = False                         # after SFT, DPO on (state, proof tactic, erroring sibling) (BFS-Prover v1)
    dpo_beta: float = Field(0.1, gt=0)
    dpo_lr: float = Field(1e-4, gt=0)


class ResynthesisSettings(Strict):
    """Periodic re-synthesis (soft reset): re-prove everything with the best checkpoint, retrain fresh."""

    every: int = Field(0, ge=0)               # 0 = never on schedule
    plateau_rounds: int = Field(0, ge=0)      # 0 = no plateau rule; else reset after this many rounds without gain
    base: Literal["initial", "larger"] = "initial"
    larger_preset: str = "small"


class ModelSettings(Strict):
    """The embedded model, created from scratch when `init` is set (no download ever)."""

    init: Literal["embedded", "path"] = "embedded"
    path: Optional[str] = None
    preset: str = "tiny"
    seed_epochs: float = Field(20.0, gt=0)


class GRPOSettings(Strict):
    """The GRPO learner's round: `steps` optimiser steps on the problem pool; any other
    `training.grpo.config.GRPOConfig` field may be set in `options` (checked when the round starts)."""

    steps: int = Field(10, ge=1)
    G: int = Field(8, ge=2)
    G_early: int = Field(0, ge=0)
    problems_per_step: int = Field(8, ge=1)
    lr: float = Field(1e-4, gt=0)
    tensorboard: bool = False                 # also log the per-step telemetry to TensorBoard
    options: dict = {}

    @model_validator(mode="after")
    def _options_are_grpo_fields(self) -> "GRPOSettings":
        from training.grpo.config import GRPOConfig

        self.to_grpo_config(0)  # raises ValueError listing every bad value or unknown key
        del GRPOConfig
        return self

    def to_grpo_config(self, seed: int):
        from training.grpo.config import GRPOConfig

        return GRPOConfig.from_dict({"steps": self.steps, "G": self.G, "G_early": self.G_early,
                                     "problems_per_step": self.problems_per_step, "lr": self.lr, "seed": seed,
                                     **self.options})


class CampaignConfig(Strict):
    name: str = "embedded"
    seed: int = 0
    rounds: int = Field(3, ge=0)
    learner: Literal["expert-iteration", "grpo"] = "expert-iteration"
    pool_benchmark: str = "embedded"
    pool_split: str = "train"
    pool_limit: Optional[int] = Field(None, ge=1)  # only the first N problems of the pool (smoke runs)
    drop_solved: bool = False                 # drop problems already solved from the next round's pool
    env: EnvSettings = EnvSettings()
    generator: GeneratorSettings = GeneratorSettings()
    search: SearchSettings = SearchSettings()
    eval: EvalSettings = EvalSettings(splits=["valid", "test"])
    filter: FilterSettings = FilterSettings()
    train: TrainSettings = TrainSettings()
    resynthesis: ResynthesisSettings = ResynthesisSettings()
    model: ModelSettings = ModelSettings()
    grpo: GRPOSettings = GRPOSettings()


class ConfigError(ValueError):
    """A config file is missing, not YAML, or fails validation; the message lists every problem."""


def load_config(path: str | Path) -> CampaignConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    try:
        return CampaignConfig.model_validate(raw)
    except ValidationError as e:
        problems = [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError(f"{path}: invalid config:\n" + "\n".join(problems)) from e


def dump_config(cfg: CampaignConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.model_dump(), sort_keys=False), encoding="utf-8")
