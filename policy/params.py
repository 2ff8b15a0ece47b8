"""`SamplingParams`: how tactics are sampled, one frozen record passed to every backend (HF, vLLM,
HTTP) and to the GRPO rollouts, in the spirit of vLLM's `SamplingParams`.

Order of operations everywhere: temperature first, then top-p on the tempered probabilities,
then renormalisation; the reported log-probs are under that final distribution.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict

DEFAULT_STOP = ("\n\n",)   # a tactic may span lines, but a blank line ends it
LOGPROB_KINDS = ("processed", "raw")


@dataclass(frozen=True)
class SamplingParams:
    """temperature 0 is greedy (log-probs are then the model's own, at temperature 1).

    `stop`: text from the first stop string on is not part of the tactic. The local backends (HF
    and vLLM) both stop generating at EOS, which is where the model learned a tactic ends, and cut
    the text afterwards, so they sample, score and drop (cut off by `max_tokens`) the same token
    sequences; an HTTP server stops at the string itself. `seed` makes runs reproducible: the local
    backends derive one seed per request from it (`request_seed`).

    `logprobs`: which log-probs score a tactic. "processed" is the distribution actually sampled
    from (temperature and top-p applied: what GRPO needs); "raw" is the model's own (temperature 1,
    no truncation), which is what vLLM reports by default and what BFS-Prover and InternLM
    StepProver rank their nodes by: at temperature 1.3 the two orders differ.
    `beam`: n tactics by beam search (n beams, n returned, no sampling) instead of n samples, with
    `length_penalty` (score = sum of log-probs / length ** length_penalty; 0 ranks by the plain sum,
    as InternLM StepProver and ReProver do). `presence_penalty` (vLLM/OpenAI only): Kimina's demo
    decoding.
    """

    # unknown keys in a YAML `sampling:` section are errors, not silently ignored
    __pydantic_config__ = ConfigDict(extra="forbid")

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = DEFAULT_STOP
    seed: int = 0
    logprobs: Literal["processed", "raw"] = "processed"
    beam: bool = False
    length_penalty: float = 1.0
    presence_penalty: float = 0.0

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
        if self.logprobs not in LOGPROB_KINDS:
            problems.append(f"logprobs must be one of {LOGPROB_KINDS}, got {self.logprobs!r}")
        if not isinstance(self.beam, bool):
            problems.append(f"beam must be true or false, got {self.beam!r}")
        if self.beam and self.temperature != 0:
            problems.append("beam search does not sample: set temperature 0 with beam: true")
        if not -2 <= self.presence_penalty <= 2:
            problems.append(f"presence_penalty must be in [-2, 2], got {self.presence_penalty}")
        if problems:
            raise ValueError("invalid SamplingParams: " + "; ".join(problems))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def request_seed(seed: int, visit: int, state: str) -> int:
    """The seed of one request for `state`, from (params seed, how often this state was asked for
    before, the state): a request samples the same tactics whatever batch it lands in, and a state
    asked for again (another pass@k attempt) gets fresh samples. 56 bits, so that `seed + j` for
    the j-th sample of the request stays a valid 64-bit seed."""
    digest = hashlib.sha256(f"{seed}\x00{visit}\x00{state}".encode()).digest()
    return int.from_bytes(digest[:7], "little")
