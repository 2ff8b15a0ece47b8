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
    whole:      search.whole_proof.WholeProofConfig     (optional: whole-proof attempts, with repair, instead of search)
    distributed: lean_env.cluster.DistributedConfig (optional: search over a Ray cluster)
    merge:      prover.config.MergeConfig                (expert iteration, optional: model merging)
    model, pool, eval: the campaign's own (below)

The campaign alone seeds things: round r samples, trains and evaluates with `seed + r`, so the
library configs' own `seed` fields must stay unset here (an error says so). A section the chosen
learner never reads, set to anything but its defaults, is an error too, rather than silently ignored.
Every record here and in the sections is a `lean_env.config.config_record`, loaded by `load_record`.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import Field, field_validator

from lean_env.config import ConfigError, config_record, dump_record, load_record
from lean_env.factory import EnvConfig
from lean_env.cluster import DistributedConfig
from search.best_first import SearchConfig
from policy.factory import GeneratorConfig
from search.planner.backends import PlannerConfig
from search.whole_proof import WholeProofConfig
from training.dpo import DPOConfig
from training.grpo.config import GRPOConfig
from training.ppl_filter import FilterConfig
from training.sft import SFTConfig


def defaults(cls: type) -> dict:
    """A record's default values by field name."""
    return {f.name: getattr(cls(), f.name) for f in fields(cls)}


@config_record
class TheoremPoolConfig:
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


@config_record
class EvalConfig:
    """Held-out pass@k after every round, on each split."""

    benchmark: str = "embedded"
    splits: list[str] = Field(default_factory=lambda: ["valid", "test"], min_length=1)
    pass_k: int = Field(1, ge=1)
    limit: Optional[int] = Field(None, ge=1)    # only the first N theorems of each split (smoke runs)


@config_record
class ModelConfig:
    """Round 0's model: the embedded tiny model created from scratch (no download ever) and
    fine-tuned on the seed proofs, or an existing HF directory."""

    init: Literal["embedded", "path"] = "embedded"
    path: Optional[str] = None
    preset: str = "tiny"
    seed_epochs: float = Field(20.0, gt=0)

    def __post_init__(self) -> None:
        if (self.init == "path") != bool(self.path):
            raise ValueError("model.path is needed with init: path, and only then")
        if self.init == "path" and any(getattr(self, k) != v for k, v in defaults(ModelConfig).items()
                                       if k in ("preset", "seed_epochs")):
            raise ValueError("model.preset and model.seed_epochs are only read with init: embedded")


@config_record
class MergeConfig:
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


EXPERT_ITERATION_ONLY = ("filter", "sft", "dpo", "resynthesis", "include_seed_proofs", "merge", "whole")
# what whole-proof attempts (a `whole:` section) never read: step search's budget, the planner, the
# erroring siblings DPO pairs with, re-synthesis (it rebuilds the store from search trees)
NOT_WHOLE = ("search", "planner", "dpo", "resynthesis")
# a proving campaign's pool is its target: no held-out evaluation, re-synthesis or merging
NOT_READ_BY_PROVING = ("eval", "resynthesis", "merge", "grpo", "dpo", "whole")


@config_record
class CampaignConfig:
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
    pool: TheoremPoolConfig = Field(default_factory=TheoremPoolConfig)
    seeds: SeedsConfig = Field(default_factory=SeedsConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    env: EnvConfig = Field(default_factory=EnvConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    sft: SFTConfig = Field(default_factory=SFTConfig)
    dpo: Optional[DPOConfig] = None
    grpo: Optional[GRPOConfig] = None
    resynthesis: ResynthesisConfig = Field(default_factory=ResynthesisConfig)
    planner: Optional[PlannerConfig] = None     # present = planner-driven search (search/planner/)
    distributed: Optional[DistributedConfig] = None   # absent: the search runs in this process
    merge: Optional[MergeConfig] = None         # present = model merging of several seed runs per round
    # present = every attempt (pool and eval) is a sampled whole proof with `repair_rounds` Lean-error
    # repairs (search/whole_proof.py) by a whole-proof preset's model, and the store keeps the proofs
    whole: Optional[WholeProofConfig] = None

    @field_validator("env")
    @classmethod
    def _env_is_usable(cls, env: EnvConfig) -> EnvConfig:
        env.validate_search()
        return env

    def __post_init__(self) -> None:
        """Every field set is read: the campaign seeds, and sections only the other learner reads
        stay at their defaults."""
        seeded = {"generator.sampling": self.generator.sampling, "sft": self.sft, "dpo": self.dpo, "grpo": self.grpo}
        for name, section in seeded.items():
            if section is not None and section.seed != 0:
                raise ValueError(f"{name}.seed: the campaign seeds round r with `seed + r`; set the top-level seed")
        if self.generator.model is not None:
            raise ValueError("generator.model: a campaign samples from its own round checkpoints "
                             "(model.path sets round 0's; openai servers are asked for them by path)")
        if self.learner == "grpo":
            default = defaults(CampaignConfig)
            unread = [k for k in EXPERT_ITERATION_ONLY if getattr(self, k) != default[k]]
            if unread or self.pool.drop_solved or self.pool.mastered_after:
                raise ValueError(f"learner: grpo does not read {', '.join(unread) or 'pool.drop_solved / mastered_after'}")
        elif self.grpo is not None:
            raise ValueError("grpo: only read with learner: grpo")
        if self.whole is not None:
            self._check_whole()
        rollout = self.grpo_config.rollout
        if self.learner == "grpo" and (rollout.preset, rollout.prompt_template) != (self.generator.preset,
                                                                                  self.generator.prompt_template):
            # the one setting the two generator sections share: the model is trained on one prompt
            raise ValueError("grpo.rollout: its preset and prompt_template must be the generator section's "
                             "(rollouts train the model on the prompt the searches ask it with)")
        if self.learner == "proving":
            default = defaults(CampaignConfig)
            unread = [k for k in NOT_READ_BY_PROVING if getattr(self, k) != default[k]]
            if unread or self.pool.drop_solved:
                raise ValueError(f"learner: proving does not read {', '.join(unread) or 'pool.drop_solved'} "
                                 "(its pool is the target: solved statements are never searched again)")
        else:
            held_out = {(self.eval.benchmark, s) for s in self.eval.splits}
            leaked = [f"{s.benchmark}/{s.split}" for s in self.seeds.closers if (s.benchmark, s.split) in held_out]
            if leaked:
                raise ValueError(f"seeds.closers: {', '.join(leaked)} is an evaluation split: training on its "
                                 "proofs would make the evaluation not held out")

    def _check_whole(self) -> None:
        from policy.presets import get_preset

        default = defaults(CampaignConfig)
        unread = [k for k in NOT_WHOLE if getattr(self, k) != default[k]]
        if unread:
            raise ValueError(f"whole: whole-proof attempts do not read {', '.join(unread)}")
        preset = get_preset(self.generator.preset) if self.generator.preset else None
        if preset is None or preset.output != "proof" or preset.chat:
            raise ValueError("whole: needs generator.preset to be a whole-proof preset that continues the statement "
                             "(tiny-whole, deepseek-prover-v1.5): the store trains the statement -> proof text")
        if self.whole.max_tokens:
            raise ValueError("whole.max_tokens: the campaign takes it from generator.sampling.max_tokens")
        if self.seeds != SeedsConfig():
            raise ValueError("seeds: a whole-proof campaign learns the human seed proofs of its pool only")

    @property
    def grpo_config(self) -> GRPOConfig:
        return self.grpo or GRPOConfig()


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
    return load_record(CampaignConfig, raw, source=str(path))


def dump_config(cfg: CampaignConfig, path: str | Path) -> None:
    """Every setting the learner reads, defaults included, as YAML that loads back to an equal config."""
    data = dump_record(cfg)
    unread = {"grpo": EXPERT_ITERATION_ONLY, "proving": NOT_READ_BY_PROVING}.get(cfg.learner, ("grpo",))
    if cfg.whole:
        unread += NOT_WHOLE
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
