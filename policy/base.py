"""The interface every tactic generator implements, and the prompt/post-processing it shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

from policy.params import DEFAULT_STOP

DEFAULT_PROMPT = "{state}:::"


@dataclass(frozen=True)
class TacticCandidate:
    """One sampled tactic.

    `logprob` is the sum of the generated tokens' log-probabilities under the distribution the
    sampler actually used (temperature and top-p applied); `num_tokens` counts them (including the
    end-of-tactic token when one was sampled). The search scores a tactic by `mean_logprob`.
    `token_ids`/`token_logprobs` are kept for the RL learner (GRPO needs per-token inference
    log-probs); backends that cannot provide them leave them empty.
    """

    tactic: str
    logprob: float
    num_tokens: int
    token_ids: tuple[int, ...] = field(default=(), repr=False)
    token_logprobs: tuple[float, ...] = field(default=(), repr=False)

    @property
    def mean_logprob(self) -> float:
        return self.logprob / max(self.num_tokens, 1)


@runtime_checkable
class TacticGenerator(Protocol):
    """Batched and synchronous: the scheduler gathers requests from many searches into one call
    and runs it in a worker thread, so a backend only has to be good at big batches."""

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        """For each goal state, up to `n` sampled tactics (duplicates allowed; the search dedups).
        `keys[i]` names request i (default: its state); a generator that samples at random draws
        from `policy.params.request_seed(run seed, key)` alone. One that never samples at random
        may leave `keys` out of its signature."""
        ...


@dataclass(frozen=True)
class PromptFormat:
    """How a goal state becomes a prompt and how raw model text becomes one tactic
    (the stop strings are sampling settings: `SamplingParams.stop`)."""

    template: str = DEFAULT_PROMPT
    max_chars: int = 512

    def __post_init__(self) -> None:
        if "{state}" not in self.template:
            raise ValueError(f"prompt template {self.template!r} has no {{state}} placeholder")

    def prompt(self, state: str) -> str:
        return self.template.format(state=state)

    def postprocess(self, text: str, stop: Sequence[str] = DEFAULT_STOP) -> str:
        """The tactic in raw model text: everything before the first stop string, stripped."""
        ends = [i for i in (text.find(s) for s in stop) if i >= 0]
        text = text[: min(ends)] if ends else text
        return text.strip()[: self.max_chars].strip()
