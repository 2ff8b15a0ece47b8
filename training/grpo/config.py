"""Every knob of the GRPO learner in one validated dataclass (defaults follow MAI-Thinking-1).
The optimiser fields (lr, clip, weight_decay, schedule, seed) are the shared loop's
(`training.trainer.TrainerConfig`); the campaign YAML's `grpo:` section is this record."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ConfigDict

from policy.factory import GeneratorConfig
from training.trainer import TrainerConfig


@dataclass(frozen=True)
class RecoveryConfig:
    """Automatic collapse recovery (training/grpo/recovery.py): which signals count as a collapse
    and how the soft reset is built. Each signal is off at its zero value."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    enabled: bool = False
    grad_norm_spike: float = 10.0      # a step's grad norm > this x the median of the round's earlier steps
    entropy_band: tuple[float, float] = (0.0, 0.0)   # (lo, hi) nats; (0, 0): off
    entropy_steps: int = 5             # ... outside the band for this many consecutive optimiser steps
    reward_drop: float = 0.0           # round's rollout reward below the best earlier GRPO round's by more
    heldout_drop: float = 0.0          # first eval split's pass@k below the best earlier round's by more
    checkpoints: int = 2               # recent healthy checkpoints to collect successful trajectories from
    samples_per_theorem: int = 4       # attempts per pool theorem and checkpoint
    successful_only: bool = True
    sft_lr: float = 1e-3
    sft_epochs: float = 3.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "entropy_band", tuple(self.entropy_band))
        lo, hi = self.entropy_band
        if not 0.0 <= lo <= hi:
            raise ValueError(f"recovery.entropy_band must satisfy 0 <= lo <= hi, got {(lo, hi)}")
        if self.grad_norm_spike < 0 or self.reward_drop < 0 or self.heldout_drop < 0:
            raise ValueError("recovery thresholds must be >= 0 (0 turns a signal off)")
        if self.entropy_steps < 1 or self.checkpoints < 1 or self.samples_per_theorem < 1:
            raise ValueError("recovery.entropy_steps, checkpoints and samples_per_theorem must be >= 1")


@dataclass
class GRPOConfig(TrainerConfig):
    # optimisation: constant LR, no weight decay, fp32 training (a bf16 sampler is a separate copy)
    lr: float = 1e-6
    warmup_steps: int = 0
    schedule: str = "constant"
    weight_decay: float = 0.0
    mixed_precision: str = "no"
    micro_batch_size: int = 8         # turns per forward pass
    steps: int = 10                   # rollout batches; each gives epochs x mini_batches optimiser steps
    epochs: int = 1                   # passes over each rollout batch (PPO-style)
    mini_batches: int = 1             # optimiser steps per pass (the batch's turns split this many ways)
    policy_lag: int = 0               # rollouts come from the policy of this many optimiser steps ago
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
    tis_cap: float = 0.0              # > 0: ratio against the trainer's own log-probs at rollout time,
                                      # times min(pi_old / pi_infer, tis_cap) (truncated IS); 0: ratio vs pi_infer
    # the engine rollouts sample from: the same record as a campaign's `generator:` section
    # (policy/factory.py): kind hf (the one sampler) or vllm, dtype float32 (default: the
    # trainer's own module) or bfloat16 (a separate copy, synced each batch), batch_size,
    # max_prompt_tokens, prompt_template and sampling; the model is the policy being trained
    rollout: GeneratorConfig = GeneratorConfig()
    max_turns: int = 8
    error_retries: int = 0            # extra tries from the same state after a LeanError
    step_bonus: float = 0.0           # reward shaping per accepted tactic of a failed attempt (off)
    recovery: RecoveryConfig = RecoveryConfig()

    def __post_init__(self) -> None:
        self.early_bounds = tuple(self.early_bounds)  # JSON round-trips give lists
        self.bounds = tuple(self.bounds)
        if isinstance(self.rollout, dict):   # a JSON round-trip (to_dict) gives a mapping
            self.rollout = GeneratorConfig.model_validate(self.rollout)
        if isinstance(self.recovery, dict):
            self.recovery = RecoveryConfig(**self.recovery)
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
        r = self.rollout
        if r.kind not in ("hf", "vllm"):
            out.append(f"rollout.kind must be hf or vllm (rollouts sample from the weights being trained), got {r.kind!r}")
        if r.model is not None or r.device is not None:
            out.append("rollout.model and rollout.device: rollouts sample from the policy being trained, where it is")
        if r.dtype == "float16":
            out.append("rollout.dtype must be float32 or bfloat16 (training runs in float32)")
        if r.sampling.greedy:
            out.append("rollout.sampling.temperature must be > 0 (the ratio needs a proper sampling distribution)")
        if r.sampling.seed != 0:
            out.append("rollout.sampling.seed: rollouts are seeded by `seed`")
        if r.kind == "vllm" and r.sampling.top_p < 1.0:
            out.append("rollout kind vllm does not return the top-p kept set the trainer replays: "
                       "set rollout.sampling.top_p to 1.0")
        if self.policy_lag < 0 or self.tis_cap < 0:
            out.append("policy_lag and tis_cap must be >= 0")
        if 0 < self.tis_cap < 1:
            out.append("tis_cap must be 0 (off) or >= 1 (a cap below 1 would shrink every on-policy token)")
        for name in ("micro_batch_size", "max_turns", "theorems_per_step", "epochs", "mini_batches"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be >= 1")
        if self.steps < 0 or self.error_retries < 0 or self.save_every < 0:
            out.append("steps, error_retries and save_every must be >= 0")
        if not 0.0 <= self.step_bonus < 1.0:
            out.append("step_bonus must be in [0, 1)")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rollout": self.rollout.model_dump(mode="json")}

    @property
    def optimiser_steps(self) -> int:
        return self.steps * self.epochs * self.mini_batches
