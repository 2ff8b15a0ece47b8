"""Adaptive entropy control: the upper clip bound k moves so the policy's entropy tracks H*.

The entropy is estimated from sampled tokens (by the loss: `TokenStats.entropy`) as
mean_t(-log pi_train(y_t) * r_t) with
r_t = pi_train(y_t) / pi_infer(y_t): the importance weight makes the estimate unbiased for the
*training* policy's entropy although the tokens were drawn from the inference policy. A higher
k lets positive-advantage tokens grow further (which spreads mass and raises entropy), so:
k <- clip(k + delta * sign(H* - H), 0, k_max), once per optimiser step.

The controller is state that outlives a round: `state()` (k and the (entropy, k) history) goes
into every GRPO checkpoint's meta and `restore` reads it back, so the next round, and a resumed
one, continue from the k the last step left instead of restarting at k_init.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EntropyController:
    k: float = 0.28
    k_max: float = 1.0
    delta: float = 0.01
    target: float = 0.3
    history: list[tuple[float, float]] = field(default_factory=list)   # (entropy seen, k after) per update

    def __post_init__(self) -> None:
        if not 0.0 <= self.k <= self.k_max:
            raise ValueError(f"k must start in [0, k_max={self.k_max}], got {self.k}")
        if self.delta < 0:
            raise ValueError("delta must be >= 0")

    def update(self, entropy: float) -> float:
        """One step towards the target; returns the new k."""
        if entropy != entropy:  # NaN: no information, leave k alone rather than drift
            return self.k
        sign = (self.target > entropy) - (self.target < entropy)
        self.k = min(max(self.k + self.delta * sign, 0.0), self.k_max)
        self.history.append((float(entropy), self.k))
        return self.k

    def state(self) -> dict:
        return {"k": self.k, "history": [list(h) for h in self.history]}

    def restore(self, state: dict | None) -> "EntropyController":
        """Continue from a saved `state()` (None: keep the initial k). A k outside [0, k_max] of
        this config is clamped into it (the config may have changed between rounds)."""
        if state:
            self.k = min(max(float(state["k"]), 0.0), self.k_max)
            self.history = [(float(e), float(k)) for e, k in state.get("history", [])]
        return self
