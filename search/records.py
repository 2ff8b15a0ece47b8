"""What one search attempt leaves behind: the record that evaluation, reports and training read.

Records are plain dataclasses, written one JSON object per line with `lean_env.jsonl.append_jsonl`
and read back with `lean_env.jsonl.read_jsonl`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ProofStep:
    """One (goal state, tactic) pair on a found proof path."""

    state: str
    tactic: str
    logprob: float          # mean token log-prob of the tactic under the sampling policy
    depth: int              # 0 for the root state


@dataclass
class ErrorSibling:
    """A tactic sampled at a proof-path state that Lean rejected (negative for DPO)."""

    state: str
    tactic: str
    error: str
    depth: int


@dataclass
class AttemptRecord:
    """One independent search attempt on one theorem (one of the k in pass@k)."""

    theorem_id: str
    benchmark: str
    split: str
    attempt: int
    proved: bool                        # a proof passed whole-proof verification
    proof: list[str] | None             # the tactics of the verified proof, in order
    steps: list[ProofStep] = field(default_factory=list)
    error_siblings: list[ErrorSibling] = field(default_factory=list)
    expansions: int = 0
    tactics_tried: int = 0
    lean_errors: int = 0
    timeouts: int = 0
    env_failures: int = 0
    failure: str = ""                   # why no proof: "budget", "exhausted", "env: ...", "verify: ..."
    time_generate: float = 0.0
    time_env: float = 0.0
    time_bookkeeping: float = 0.0
    wall: float = 0.0
    checkpoint: str = ""
    round: int = -1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AttemptRecord":
        d = dict(d)
        d["steps"] = [ProofStep(**s) for s in d.get("steps", [])]
        d["error_siblings"] = [ErrorSibling(**s) for s in d.get("error_siblings", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})
