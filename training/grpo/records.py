"""What a rollout leaves behind for the trainer: one `Turn` per sampled tactic, one `Trajectory`
per attempt. Everything the trainer needs to replay the sampling distribution is recorded here.

Kept set convention (top-p replay): `kept_ids[t]` is the sorted tuple of token ids that survived
top-p truncation at completion position t, or `None` for "every token kept" (top_p == 1). Ids
rather than a vocab-sized mask, because real vocabularies are ~150k and top-p sets are small.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Turn:
    attempt_id: str                     # the Trajectory whose reward (advantage) this turn carries
    prompt: str                         # goal state rendered with PromptFormat (context, not trained)
    tactic: str                         # the post-processed text that was sent to the environment
    prompt_ids: list[int]
    completion_ids: list[int]           # sampled tokens, EOS included when it was sampled
    infer_logprobs: list[float]         # log-prob of each sampled token under the sampling dist
    kept_ids: list[tuple[int, ...] | None]
    temperature: float
    outcome: str = ""                   # a lean_env.types.Outcome: what running `tactic` gave

    def __post_init__(self) -> None:
        n = len(self.completion_ids)
        if len(self.infer_logprobs) != n or len(self.kept_ids) != n:
            raise ValueError(f"turn {self.attempt_id}: completion_ids, infer_logprobs and kept_ids "
                             f"must have equal length, got {n}, {len(self.infer_logprobs)}, {len(self.kept_ids)}")


@dataclass
class Trajectory:
    theorem_id: str                     # the group key: advantages are normalised per theorem
    attempt_id: str
    turns: list[Turn] = field(default_factory=list)
    reward: float = 0.0
    verified: bool = False              # whole-proof verification said ok
    env_failed: bool = False            # the environment, not the policy, ended it: never trained on

    @property
    def tactics(self) -> list[str]:
        return [t.tactic for t in self.turns]

    @property
    def num_tokens(self) -> int:
        return sum(len(t.completion_ids) for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trajectory":
        d = dict(d)
        turns = []
        for t in d.pop("turns", []):
            t = dict(t)
            t["kept_ids"] = [None if k is None else tuple(k) for k in t["kept_ids"]]
            turns.append(Turn(**t))
        return cls(turns=turns, **d)
