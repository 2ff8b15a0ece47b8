"""Every knob of the GRPO learner in one config record (defaults follow MAI-Thinking-1).
The optimiser fields (lr, clip, weight_decay, schedule, seed) are the shared loop's
(`training.trainer.TrainerConfig`); the campaign YAML's `grpo:` section is this record."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from lean_env.config import config_record
from policy.factory import GeneratorConfig
from training.trainer import TrainerConfig


@config_record(frozen=True)
class RecoveryConfig:
    """Automatic collapse recovery (training/grpo/recovery.py): which signals count as a collapse
    and how the soft reset is built. Each signal is off at its zero value."""

    enabled: bool = False
    grad_norm_spike: float = Field(10.0, ge=0)   # a step's grad norm > this x the median of the round's earlier steps
    entropy_band: tuple[float, float] = (0.0, 0.0)   # (lo, hi) nats; (0, 0): off
    entropy_steps: int = Field(5, ge=1)          # ... outside the band for this many consecutive optimiser steps
    reward_drop: float = Field(0.0, ge=0)        # round's rollout reward below the best earlier GRPO round's by more
    heldout_drop: float = Field(0.0, ge=0)       # first eval split's pass@k below the best earlier round's by more
    checkpoints: int = Field(2, ge=1)            # recent healthy checkpoints to collect successful trajectories from
    samples_per_theorem: int = Field(4, ge=1)    # attempts per pool theorem and checkpoint
    successful_only: bool = True
    sft_lr: float = Field(1e-3, gt=0)
    sft_epochs: float = Field(3.0, gt=0)

    def __post_init__(self) -> None:
        lo, hi = self.entropy_band
        if not 0.0 <= lo <= hi:
            raise ValueError(f"recovery.entropy_band must satisfy 0 <= lo <= hi, got {(lo, hi)}")


@config_record
class GRPOConfig(TrainerConfig):
    # optimisation: constant LR, no weight decay, fp32 training (a bf16 sampler is a separate copy)
    lr: float = Field(1e-6, gt=0)
    warmup_steps: int = Field(0, ge=0)
    schedule: Literal["cosine", "linear", "constant"] = "constant"
    weight_decay: float = Field(0.0, ge=0)
    mixed_precision: Literal["auto", "no", "bf16"] = "no"
    micro_batch_size: int = Field(8, ge=1)   # turns per forward pass
    steps: int = Field(10, ge=0)      # rollout batches; each gives epochs x mini_batches optimiser steps
    epochs: int = Field(1, ge=1)      # passes over each rollout batch (PPO-style)
    mini_batches: int = Field(1, ge=1)   # optimiser steps per pass (the batch's turns split this many ways)
    policy_lag: int = Field(0, ge=0)  # rollouts come from the policy of this many optimiser steps ago
    theorems_per_step: int = Field(8, ge=1)
    save_every: int = Field(0, ge=0)  # 0: only the final checkpoint
    tensorboard: bool = False         # also log the per-step telemetry to TensorBoard (out_dir/tensorboard)
    # group sizes and the two-stage pass-rate filter (bounds are inclusive, see filter.py)
    G: int = Field(128, ge=1)
    G_early: int = Field(16, ge=0)
    early_bounds: tuple[float, float] = (0.05, 0.8)
    bounds: tuple[float, float] = (0.1, 0.8)
    reuse_early: bool = True          # the G_early samples count towards the G of stage two
    # objective
    eps_low: float = Field(0.2, ge=0, lt=1)
    k_init: float = Field(0.28, ge=0)             # adaptive upper clip: ratio is clipped at 1 + k
    k_max: float = 1.0
    delta: float = 0.01               # controller step on k per optimiser step
    target_entropy: float = 0.3       # H*
    r_max: float = 50.0               # outer (dual-clip) cap on the unclipped branch for A < 0
    adv_eps: float = 1e-6
    normalise_std: bool = True        # False: A = R - mean (Dr. GRPO style)
    kl_coef: float = 0.0              # k3 KL to a frozen reference model, off by default
    tis_cap: float = Field(0.0, ge=0)             # > 0: ratio against the trainer's own log-probs at rollout time,
                                      # times min(pi_old / pi_infer, tis_cap) (truncated IS); 0: ratio vs pi_infer
    # the engine rollouts sample from: the same record as a campaign's `generator:` section
    # (policy/factory.py): kind hf (the one sampler) or vllm, dtype float32 (default: the
    # trainer's own module) or bfloat16 (a separate copy, synced each batch), batch_size,
    # max_prompt_tokens, prompt_template and sampling; the model is the policy being trained
    rollout: GeneratorConfig = GeneratorConfig()
    max_turns: int = Field(8, ge=1)
    error_retries: int = Field(0, ge=0)           # extra tries from the same state after a LeanError
    step_bonus: float = Field(0.0, ge=0, lt=1)          # reward shaping per accepted tactic of a failed attempt (off)
    recovery: RecoveryConfig = RecoveryConfig()

    def __post_init__(self) -> None:
        out = []
        if self.reuse_early and self.G_early > self.G:
            out.append("G_early cannot exceed G when reuse_early is set")
        for name in ("early_bounds", "bounds"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                out.append(f"{name} must satisfy 0 <= lo <= hi <= 1, got {(lo, hi)}")
        if not self.k_init <= self.k_max:
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
        if 0 < self.tis_cap < 1:
            out.append("tis_cap must be 0 (off) or >= 1 (a cap below 1 would shrink every on-policy token)")
        if out:
            raise ValueError("; ".join(out))

    @property
    def optimiser_steps(self) -> int:
        return self.steps * self.epochs * self.mini_batches
