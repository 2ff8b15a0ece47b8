"""Argument checks shared by every generator backend, so a bad config fails at construction
(or at the call) with a clear message instead of deep inside a sampler or a server."""
from __future__ import annotations

from typing import Sequence


def check_sampling_args(temperature: float, top_p: float, max_new_tokens: int) -> None:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")


def check_request(states: Sequence[str], n: int) -> None:
    if isinstance(states, str):
        raise TypeError("generate() takes a sequence of goal states, not one string")
    if n < 1:
        raise ValueError(f"n (tactics per state) must be >= 1, got {n}")
    for i, s in enumerate(states):
        if not isinstance(s, str):
            raise TypeError(f"goal state {i} is {type(s).__name__}, expected str")
