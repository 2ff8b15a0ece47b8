"""`SamplingParams`: how tactics are sampled, one frozen record passed to every backend (HF, vLLM,
HTTP) and to the GRPO rollouts, in the spirit of vLLM's `SamplingParams`.

Order of operations everywhere: temperature first, then top-p on the tempered probabilities,
then renormalisation; the reported log-probs are under that final distribution.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import ConfigDict

DEFAULT_STOP = ("\n\n",)   # a tactic may span lines, but a blank line ends it


@dataclass(frozen=True)
class SamplingParams:
    """temperature 0 is greedy (log-probs are then the model's own, at temperature 1).

    `stop`: text from the first stop string on is not part of the tactic. The local backends (HF
    and vLLM) both stop generating at EOS, which is where the model learned a tactic ends, and cut
    the text afterwards, so they sample, score and drop (cut off by `max_tokens`) the same token
    sequences; an HTTP server stops at the string itself. `seed` is the run's seed: every backend
    derives one seed per request from it and the request's identity (`request_seed`).
    """

    # unknown keys in a YAML `sampling:` section are errors, not silently ignored
    __pydantic_config__ = ConfigDict(extra="forbid")

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 48
    stop: tuple[str, ...] = DEFAULT_STOP
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):   # a bare string would be iterated character by character
            raise TypeError(f"stop must be a sequence of strings, got the string {self.stop!r}")
        object.__setattr__(self, "stop", tuple(self.stop))   # JSON/YAML give lists
        problems = []
        if not self.temperature >= 0:
            problems.append(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            problems.append(f"max_tokens must be an int >= 1, got {self.max_tokens!r}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            problems.append(f"stop strings must be non-empty strings, got {self.stop!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            problems.append(f"seed must be an int, got {self.seed!r}")
        if problems:
            raise ValueError("invalid SamplingParams: " + "; ".join(problems))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def request_seed(seed: int, key: str) -> int:
    """The seed of one generation request: a function of the run's seed and the request's identity
    `key` alone, never of what the process did before or what else shared the batch. The search
    makes the key from (theorem, attempt, goal state, how often that attempt asked for the state:
    `search.batcher.request_key`), so a resumed run samples exactly what an uninterrupted one did;
    a request without a key is identified by its goal state. 56 bits, so that `seed + j` for the
    j-th sample of the request stays a valid 64-bit seed."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:7], "little")
