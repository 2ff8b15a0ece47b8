"""Every knob of the GRPO learner in one validated dataclass (defaults follow MAI-Thinking-1).
The optimiser fields (lr, clip, weight_decay, schedule, seed) are the shared loop's
(`training.trainer.TrainerConfig`); the campaign YAML's `grpo:` section is this record."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from search.generators.params import SamplingParams
from training.trainer import TrainerConfig


@dataclass
class GRPOConfig(TrainerConfig):
    # optimisation: constant LR, no weight decay, and fp32 always (the replayed ratio must be 1)
    lr: float = 1e-6
    warmup_steps: int = 0
    schedule: str = "constant"
    weight_decay: float = 0.0
    mixed_precision: str = "no"
    micro_batch_size: int = 8         # turns per forward pass
    steps: int = 10
    theorems_per_step: int = 8
    save_every: int = 0               # 0: only the final checkpoint
    tensorboard: bool = False         # also log the per-step telemetry to TensorBoard (out_dir/tensorboard)
    # group sizes and the two-stage pass-rate filter (bounds are inclusive, see filter.py)
    G: int = 128
    G_early: int = 16
    early_bounds: tuple[float, float] = (0.05, 0.8)
    bounds: tuple[float, float] = (0.1, 0.8)
    reuse_early: bool = True          # the G_early samples count towards the G of stage two
    # objective
    eps_low: float = 0.2
    k_init: float = 0.28              # adaptive upper clip: ratio is clipped at 1 + k
    k_max: float = 1.0
    delta: float = 0.01               # controller step on k per optimiser step
    target_entropy: float = 0.3       # H*
    r_max: float = 50.0               # outer (dual-clip) cap on the unclipped branch for A < 0
    adv_eps: float = 1e-6
    normalise_std: bool = True        # False: A = R - mean (Dr. GRPO style)
    kl_coef: float = 0.0              # k3 KL to a frozen reference model, off by default
    # sampling and rollouts (the same SamplingParams record the search's generators take)
    sampling: SamplingParams = SamplingParams()
    max_prompt_tokens: int = 1024
    max_turns: int = 8
    error_retries: int = 0            # extra tries from the same state after a LeanError
    step_bonus: float = 0.0           # reward shaping per accepted tactic of a failed attempt (off)

    def __post_init__(self) -> None:
        self.early_bounds = tuple(self.early_bounds)  # JSON round-trips give lists
        self.bounds = tuple(self.bounds)
        if isinstance(self.sampling, dict):   # a JSON round-trip (to_dict) gives a mapping
            self.sampling = SamplingParams(**self.sampling)
        super().__post_init__()

    def config_errors(self) -> list[str]:
        out = super().config_errors()
        if self.G < 1 or self.G_early < 0:
            out.append("G must be >= 1 and G_early >= 0")
        if self.reuse_early and self.G_early > self.G:
            out.append("G_early cannot exceed G when reuse_early is set")
        for name in ("early_bounds", "bounds"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                out.append(f"{name} must satisfy 0 <= lo <= hi <= 1, got {(lo, hi)}")
        if not 0.0 <= self.eps_low < 1.0:
            out.append("eps_low must be in [0, 1)")
        if not 0.0 <= self.k_init <= self.k_max:
            out.append("need 0 <= k_init <= k_max")
        if self.r_max <= 1.0 + self.k_max:
            out.append("r_max must exceed 1 + k_max (the outer cap sits beyond the clip range)")
        if self.sampling.greedy:
            out.append("sampling.temperature must be > 0 (the ratio needs a proper sampling distribution)")
        if self.sampling.seed != 0:
            out.append("sampling.seed: rollouts are seeded by `seed`")
        for name in ("micro_batch_size", "max_turns", "max_prompt_tokens", "theorems_per_step"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be >= 1")
        if self.steps < 0 or self.error_retries < 0 or self.save_every < 0:
            out.append("steps, error_retries and save_every must be >= 0")
        if not 0.0 <= self.step_bonus < 1.0:
            out.append("step_bonus must be in [0, 1)")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
