"""Request checks shared by every generator backend, so a bad call fails with a clear message
instead of deep inside a sampler or a server (sampling settings are checked by `SamplingParams`)."""
from __future__ import annotations

from typing import Sequence


def check_request(states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> None:
    if isinstance(states, str):
        raise TypeError("generate() takes a sequence of goal states, not one string")
    if n < 1:
        raise ValueError(f"n (tactics per state) must be >= 1, got {n}")
    for i, s in enumerate(states):
        if not isinstance(s, str):
            raise TypeError(f"goal state {i} is {type(s).__name__}, expected str")
    if keys is not None and (isinstance(keys, str) or len(keys) != len(states)):
        raise ValueError(f"need one request key per goal state, got {len(keys)} for {len(states)}")
