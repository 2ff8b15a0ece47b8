"""`SamplingParams`: how tactics are sampled, one frozen record passed to every backend (HF, vLLM,
HTTP) and to the GRPO rollouts, in the spirit of vLLM's `SamplingParams`.

Order of operations everywhere: temperature first, then top-p on the tempered probabilities,
then renormalisation; the reported log-probs are under that final distribution.
"""
from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import Field

from lean_env.config import config_record

DEFAULT_STOP = ("\n\n",)   # a tactic may span lines, but a blank line ends it


@config_record(frozen=True)
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

    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(256, ge=1, strict=True)
    stop: tuple[Annotated[str, Field(min_length=1)], ...] = DEFAULT_STOP   # JSON/YAML lists become tuples
    seed: int = Field(0, strict=True)
    logprobs: Literal["processed", "raw"] = "processed"
    beam: bool = False
    length_penalty: float = 1.0
    presence_penalty: float = Field(0.0, ge=-2, le=2)

    def __post_init__(self) -> None:
        if self.beam and self.temperature != 0:
            raise ValueError("beam search does not sample: set temperature 0 with beam: true")

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
