"""What one search attempt leaves behind: the record that evaluation, reports and training read.

Records are plain dataclasses, written one JSON object per line with `lean_env.jsonl.append_jsonl`
and read back with `lean_env.jsonl.read_jsonl`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Failure(str, Enum):
    """Why an attempt ended without a proof. `AttemptRecord.failure` holds the kind's value,
    followed for some kinds by ": " and a detail ("start: unknown identifier 'x'", "budget:
    expansions"); `AttemptRecord.failure_kind` reads the kind back."""

    NONE = ""                 # proved
    CANCELLED = "cancelled"   # another attempt proved the theorem first: not a sample
    BUDGET = "budget"         # the expansion or wall-clock budget ran out
    EXHAUSTED = "exhausted"   # no open node was left to expand
    START = "start"           # the statement did not start (a Lean error or timeout)
    ENV = "env"               # the environment failed (counted as a failure, never dropped)
    PLAN = "plan"             # planner-driven search: no valid plan, or a step stayed unproved
    PROOF = "proof"           # whole-proof attempts: every proof and repair failed verification

    def because(self, detail: str) -> str:
        """The `failure` text of this kind with a detail."""
        return f"{self.value}: {detail}"[:500]

    @classmethod
    def of(cls, failure: str) -> "Failure":
        kind = failure.split(":", 1)[0].strip()
        try:
            return cls(kind)
        except ValueError:
            raise ValueError(f"unknown attempt failure {failure[:80]!r}: its kind must be one of "
                             f"{', '.join(repr(f.value) for f in cls if f.value)}") from None


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
class PlanAttempt:
    """One plan a planner proposed for an attempt, and what validation said about it."""

    steps: list[str]                    # the `have name : statement` lines
    valid: bool
    error: str = ""                     # why it was refused ("not a plan: ...", "step 2: ...")
    reason: str = "initial"             # initial | regenerate | replan
    kept: int = 0                       # proven steps a replan kept verbatim


@dataclass
class StepProgress:
    """One phase of a planner attempt: the search for step `step` (len(plan) = the main goal)."""

    step: int
    statement: str
    proved: bool                        # the phase closed its goal (and its check passed)
    accepted: bool                      # the progress store took it (step was current, prefix re-validated)
    expansions: int
    proof: list[str] | None = None
    failure: str = ""
    searcher: int = 0


@dataclass
class PlannerTrace:
    """What the planner did in one attempt (see search/planner/driver.py)."""

    plans: list[PlanAttempt] = field(default_factory=list)
    progress: list[StepProgress] = field(default_factory=list)
    proven: int = 0                     # plan steps proven when the attempt ended
    wiped: int = 0                      # times a failed whole-proof check wiped the progress

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PlannerTrace":
        return cls(plans=[PlanAttempt(**p) for p in d.get("plans", [])],
                   progress=[StepProgress(**p) for p in d.get("progress", [])],
                   proven=d.get("proven", 0), wiped=d.get("wiped", 0))


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
    soundness_incidents: int = 0        # accepted proofs of statements the refutation screen refutes
    failure: str = ""                   # why no proof: a `Failure` kind, maybe with ": detail"
    time_generate: float = 0.0
    time_env: float = 0.0
    time_bookkeeping: float = 0.0
    wall: float = 0.0
    checkpoint: str = ""
    round: int = -1
    seed: int = 0
    planner: PlannerTrace | None = None  # planner-driven attempts only
    tokens: int = 0                     # tokens generated, where the attempt counts them (whole-proof, hybrid)
    whole: dict[str, Any] | None = None  # whole-proof and hybrid attempts: turns, repair round (search/whole_proof.py)

    @property
    def failure_kind(self) -> Failure:
        return Failure.of(self.failure)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AttemptRecord":
        d = dict(d)
        d["steps"] = [ProofStep(**s) for s in d.get("steps", [])]
        d["error_siblings"] = [ErrorSibling(**s) for s in d.get("error_siblings", [])]
        if d.get("planner") is not None:
            d["planner"] = PlannerTrace.from_dict(d["planner"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})
