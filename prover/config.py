"""A campaign's YAML file, validated by pydantic (unknown keys and bad values are errors).

Each section *is* the config of the library piece that reads it, not a copy of its fields:

    env:        lean_env.factory.EnvConfig             (make_env)
    generator:  policy.factory.GeneratorConfig (make_generator: hf | vllm | openai | scripted)
    search:     search.best_first.SearchConfig         (one best-first attempt)
    filter:     training.ppl_filter.FilterConfig       (expert iteration)
    sft:        training.sft.SFTConfig                 (expert iteration)
    dpo:        training.dpo.DPOConfig                 (expert iteration, optional: DPO after SFT)
    grpo:       training.grpo.config.GRPOConfig        (learner: grpo)
    resynthesis: prover.config.ResynthesisConfig (prover/recipes/resynthesis.py)
    planner:    search.planner.backends.PlannerConfig   (optional: planner-driven search in every search and eval)
    distributed: lean_env.cluster.DistributedConfig (optional: search over a Ray cluster)
    merge:      prover.config.MergeConfig                (expert iteration, optional: model merging)
    model, pool, eval: the campaign's own (below)

The campaign alone seeds things: round r samples, trains and evaluates with `seed + r`, so the
library configs' own `seed` fields must stay unset here (an error says so). A section the chosen
learner never reads is an error too, rather than silently ignored.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lean_env.config import config_record
from lean_env.factory import EnvConfig
from lean_env.cluster import DistributedConfig
from search.best_first import SearchConfig
from policy.factory import GeneratorConfig
from search.planner.backends import PlannerConfig
from training.dpo import DPOConfig
from training.grpo.config import GRPOConfig
from training.ppl_filter import FilterConfig
from training.sft import SFTConfig


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TheoremPoolConfig(Strict):
    """The theorems every round tries to prove (and GRPO samples from)."""

    benchmark: str = "embedded"
    split: str = "train"
    limit: Optional[int] = Field(None, ge=1)    # only the first N theorems (smoke runs)
    # search attempts per theorem and round (each its own sampling draws; a proof stops the rest):
    # the pool's pass@k, where a small model's searches end early because every sample failed
    attempts: int = Field(1, ge=1)
    drop_solved: bool = False                   # expert iteration: skip theorems the store already proves
    # the problem-level frontier (expert iteration): a theorem proved in each of its last
    # `mastered_after` searches is not searched again until a round divisible by `revisit_every`
    # (or a re-synthesis); the rounds' compute goes to the theorems still unsolved. 0 = off.
    mastered_after: int = Field(0, ge=0)
    revisit_every: int = Field(3, ge=1)
    # ... and its other side: a theorem failed in each of its last `hard_after` searches is "hard":
    # it is searched with `hard_expansions` expansions per attempt (the normal budget keeps failing
    # it), or, with hard_expansions 0, it waits for a revisit round like a mastered one. 0 = off.
    hard_after: int = Field(0, ge=0)
    hard_expansions: int = Field(0, ge=0)


@config_record(frozen=True)
class SplitRef:
    """One split of a benchmark, e.g. {benchmark: minif2f, split: valid} (defaults: the pool's)."""

    benchmark: str = "embedded"
    split: str = "train"


@config_record(frozen=True)
class SeedsConfig:
    """The seed proofs: round 0's model is trained on them from scratch (model.init: embedded),
    and with include_seed_proofs they join every round's SFT data.

    human:   the human seed proofs (data/embedded/seed_proofs.jsonl) replayed on these splits'
             theorems; unset = on the pool (the embedded campaigns: their train split)
    closers: the verified proofs the fixed closers (the scripted generator, 8 tactics per
             expansion at the `search` expansion cap) find on these splits in round 0: real-statement
             syntax for a model that has only seen the embedded fragment. A held-out campaign
             must not name its evaluation split here (checked)."""

    human: Optional[tuple[SplitRef, ...]] = None
    closers: tuple[SplitRef, ...] = ()
    # the closers' seed searches also try hint templates built from each goal state's hypotheses and
    # variables (policy.scripted.hint_templates: norm_num [h₀, h₁] at *, rw [h₀], nlinarith [sq_nonneg
    # (a - b), ...]), 8 closers + the templates per expansion: seed proofs that show the hint syntax
    templates: bool = False


class EvalConfig(Strict):
    """Held-out pass@k after every round, on each split."""

    benchmark: str = "embedded"
    splits: list[str] = Field(["valid", "test"], min_length=1)
    pass_k: int = Field(1, ge=1)
    limit: Optional[int] = Field(None, ge=1)    # only the first N theorems of each split (smoke runs)


class ModelConfig(Strict):
    """Round 0's model: the embedded tiny model created from scratch (no download ever) and
    fine-tuned on the seed proofs, or an existing HF directory."""

    init: Literal["embedded", "path"] = "embedded"
    path: Optional[str] = None
    preset: str = "tiny"
    seed_epochs: float = Field(20.0, gt=0)

    @model_validator(mode="after")
    def _path_iff_path(self) -> "ModelConfig":
        if (self.init == "path") != bool(self.path):
            raise ValueError("model.path is needed with init: path, and only then")
        defaults = ModelConfig.model_fields
        if self.init == "path" and (self.preset, self.seed_epochs) != (defaults["preset"].default,
                                                                       defaults["seed_epochs"].default):
            raise ValueError("model.preset and model.seed_epochs are only read with init: embedded")
        return self


class MergeConfig(Strict):
    """Expert iteration: train `runs` SFT runs of each round from the same checkpoint with seeds
    (and so data orders) seed + r + 1000 i, average their weights (training/merge.py) and keep
    the average as the round's checkpoint; each run is evaluated next to it."""

    runs: int = Field(2, ge=2)
    eval_limit: Optional[int] = Field(None, ge=1)   # theorems of the first eval split each run is scored on


@config_record(frozen=True)
class ResynthesisConfig:
    """The campaign YAML's `resynthesis:` section: when a re-synthesis round is due and how it
    trains (prover/recipes/resynthesis.py)."""

    every: int = Field(0, ge=0)               # re-synthesise on rounds every, 2*every, ...; 0 = never on schedule
    plateau_rounds: int = Field(0, ge=0)      # also when this many rounds brought no gain; 0 = no plateau rule
    top_k: int = Field(2, ge=1)               # checkpoints that search the pool: the strongest of ...
    lookback: int = Field(3, ge=1)            # ... the last this many rounds (by held-out pass rate)
    max_expansions: Optional[int] = Field(None, ge=1)   # search budget per attempt; None = the round's
    epochs: float = Field(10.0, gt=0)         # passes over the rebuilt data when training from the fresh base
    lr: Optional[float] = Field(None, gt=0)   # the reset's peak learning rate; None = the sft section's
    land_ratio: float = Field(1.15, ge=1)     # held-out loss must come within this factor of the pre-reset model's
    extra_epochs: float = Field(4.0, gt=0)    # more training while it has not landed ...
    max_extra_stages: int = Field(2, ge=0)    # ... at most this many times
    base: Literal["initial", "larger"] = "initial"
    larger_preset: str = "small"              # base: larger only

    def __post_init__(self) -> None:
        if self.base == "initial" and self.larger_preset != "small":
            raise ValueError("larger_preset is only read with base: larger")


EXPERT_ITERATION_ONLY = ("filter", "sft", "dpo", "resynthesis", "include_seed_proofs", "merge")
# a proving campaign's pool is its target: no held-out evaluation, re-synthesis or merging
NOT_READ_BY_PROVING = ("eval", "resynthesis", "merge", "grpo", "dpo")


class CampaignConfig(Strict):
    name: str = "embedded"
    seed: int = 0
    rounds: int = Field(3, ge=0)
    # expert-iteration: rounds train on the pool and evaluate on held-out splits (prover/recipes/expert_iteration.py)
    # proving: the pool is the target; rounds search what is still unproved (prover/recipes/proving.py)
    learner: Literal["expert-iteration", "grpo", "proving"] = "expert-iteration"
    concurrency: int = Field(32, ge=1)          # search attempts in flight at once
    include_seed_proofs: bool = True            # the human seed proofs join every round's SFT data
    # a soundness incident (a proof accepted of a statement the refutation screen refutes) stops
    # the campaign after the search or evaluation that met it, unless this is true
    continue_on_incident: bool = False
    pool: TheoremPoolConfig = TheoremPoolConfig()
    seeds: SeedsConfig = SeedsConfig()
    eval: EvalConfig = EvalConfig()
    model: ModelConfig = ModelConfig()
    env: EnvConfig = EnvConfig()
    generator: GeneratorConfig = GeneratorConfig()
    search: SearchConfig = SearchConfig()
    filter: FilterConfig = FilterConfig()
    sft: SFTConfig = SFTConfig()
    dpo: Optional[DPOConfig] = None
    grpo: Optional[GRPOConfig] = None
    resynthesis: ResynthesisConfig = ResynthesisConfig()
    planner: Optional[PlannerConfig] = None     # present = planner-driven search (search/planner/)
    distributed: Optional[DistributedConfig] = None   # absent: the search runs in this process
    merge: Optional[MergeConfig] = None         # present = model merging of several seed runs per round

    @field_validator("env")
    @classmethod
    def _env_is_usable(cls, env: EnvConfig) -> EnvConfig:
        env.validate_search()
        return env

    @model_validator(mode="after")
    def _every_field_is_read(self) -> "CampaignConfig":
        seeded = {"generator.sampling": self.generator.sampling, "sft": self.sft, "dpo": self.dpo, "grpo": self.grpo}
        for name, section in seeded.items():
            if section is not None and section.seed != 0:
                raise ValueError(f"{name}.seed: the campaign seeds round r with `seed + r`; set the top-level seed")
        if self.generator.model is not None:
            raise ValueError("generator.model: a campaign samples from its own round checkpoints "
                             "(model.path sets round 0's; openai servers are asked for them by path)")
        if self.learner == "grpo":
            unread = sorted(set(EXPERT_ITERATION_ONLY) & self.model_fields_set)
            if unread or self.pool.drop_solved or self.pool.mastered_after:
                raise ValueError(f"learner: grpo does not read {', '.join(unread) or 'pool.drop_solved / mastered_after'}")
        elif self.grpo is not None:
            raise ValueError("grpo: only read with learner: grpo")
        if self.learner == "proving":
            unread = sorted(set(NOT_READ_BY_PROVING) & self.model_fields_set)
            if unread or self.pool.drop_solved:
                raise ValueError(f"learner: proving does not read {', '.join(unread) or 'pool.drop_solved'} "
                                 "(its pool is the target: solved statements are never searched again)")
        else:
            held_out = {(self.eval.benchmark, s) for s in self.eval.splits}
            leaked = [f"{s.benchmark}/{s.split}" for s in self.seeds.closers if (s.benchmark, s.split) in held_out]
            if leaked:
                raise ValueError(f"seeds.closers: {', '.join(leaked)} is an evaluation split: training on its "
                                 "proofs would make the evaluation not held out")
        return self

    @property
    def grpo_config(self) -> GRPOConfig:
        return self.grpo or GRPOConfig()


class ConfigError(ValueError):
    """A config file is missing, not YAML, or fails validation; the message lists every problem."""


def load_config(path: str | Path) -> CampaignConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if raw is None:   # an empty file would silently be the whole default campaign
        raise ConfigError(f"{path}: the config is empty; start from configs/embedded.yaml (every field of it "
                          "is optional, but a file must set at least one, e.g. `name:`)")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    try:
        return CampaignConfig.model_validate(raw)
    except ValidationError as e:
        problems = [f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in e.errors()]
        raise ConfigError(f"{path}: invalid config:\n" + "\n".join(problems)) from e


def dump_config(cfg: CampaignConfig, path: str | Path) -> None:
    """Every setting the learner reads, defaults included, as YAML that loads back to an equal config."""
    data = cfg.model_dump(mode="json")
    unread = {"grpo": EXPERT_ITERATION_ONLY, "proving": NOT_READ_BY_PROVING}.get(cfg.learner, ("grpo",))
    for key in unread:
        data.pop(key, None)
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def check_settings(cfg: CampaignConfig, need_model: bool = True) -> None:
    """What validating the fields cannot see, checked before any work starts: the pool's and the
    eval's benchmarks and splits exist, the pool is not empty, and round 0's model exists (unless
    `need_model` is False: round 0 is done). Raises one ConfigError listing every problem."""
    from lean_env.benchmarks import BenchmarkError, load_benchmark
    from policy.tiny import PRESETS

    problems = []
    try:
        if not load_benchmark(cfg.pool.benchmark, cfg.pool.split)[: cfg.pool.limit]:
            problems.append(f"pool: no theorems in {cfg.pool.benchmark}/{cfg.pool.split}")
    except BenchmarkError as e:
        problems.append(f"pool: {e}")
    for split in cfg.eval.splits if cfg.learner != "proving" else ():
        try:
            load_benchmark(cfg.eval.benchmark, split)
        except BenchmarkError as e:
            problems.append(f"eval: {e}")
    for where, refs in (("seeds.human", cfg.seeds.human or []), ("seeds.closers", cfg.seeds.closers)):
        for ref in refs:
            try:
                load_benchmark(ref.benchmark, ref.split)
            except BenchmarkError as e:
                problems.append(f"{where}: {e}")
    if need_model and cfg.model.init == "path" and not Path(cfg.model.path).is_dir():
        problems.append(f"model.path: no model directory at {cfg.model.path}")
    presets = {"model.preset": cfg.model.preset if cfg.model.init == "embedded" else None,
               "resynthesis.larger_preset": cfg.resynthesis.larger_preset if cfg.resynthesis.base == "larger" else None}
    for where, preset in presets.items():
        if preset is not None and preset not in PRESETS:
            problems.append(f"{where}: unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    if problems:
        raise ConfigError("the config cannot run:\n" + "\n".join(f"  {p}" for p in problems))


# Settings a resumed campaign may change: they decide how far it goes, not what a round computes.
SAFE_TO_CHANGE = ("name", "rounds")


def settings_diff(saved: dict, new: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted key, saved value, new value) of every setting that differs, nested sections walked."""
    out = []
    for key in sorted(set(saved) | set(new), key=str):
        a, b, where = saved.get(key), new.get(key), f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += settings_diff(a, b, where + ".")
        elif a != b:
            out.append((where, a, b))
    return out
