"""The interface every tactic generator implements, and the prompt/post-processing it shares."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections import Counter
from typing import Callable, Iterable, Protocol, Sequence, TypeVar, runtime_checkable

from policy.params import DEFAULT_STOP

T = TypeVar("T")

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


class PromptInput(str):
    """A goal state (the string itself, so every consumer that wants only the state is unchanged)
    with the theorem context some prompt templates ask for: InternLM2.5-StepProver's prompt holds
    the theorem's name and the tactics so far, the whole-proof provers' the header and statement.
    The search attaches it (search/best_first.py); a plain `str` state has empty context."""

    name: str
    header: str
    statement: str
    proof_before: tuple[str, ...]
    informal_prefix: str

    def __new__(cls, state: str, *, name: str = "", header: str = "", statement: str = "",
                proof_before: Sequence[str] = (), informal_prefix: str = "") -> "PromptInput":
        self = super().__new__(cls, state)
        self.name, self.header, self.statement = name, header, statement
        self.proof_before, self.informal_prefix = tuple(proof_before), informal_prefix
        return self

    def __reduce__(self):   # pickles (process pools) with its context
        return (_prompt_input, (str(self), self.name, self.header, self.statement, self.proof_before,
                                self.informal_prefix))


def _prompt_input(state, name, header, statement, proof_before, informal_prefix) -> PromptInput:
    return PromptInput(state, name=name, header=header, statement=statement, proof_before=proof_before,
                       informal_prefix=informal_prefix)


PROMPT_FIELDS = ("state", "name", "header", "statement", "proof_before", "informal_prefix")


def prompt_fields(state: str) -> dict[str, str]:
    """The template fields of one request; `proof_before` is the tactics so far, one per line
    (InternLM2.5-StepProver's `"\n".join(steps)`)."""
    return {"state": str(state), "name": getattr(state, "name", ""), "header": getattr(state, "header", ""),
            "statement": getattr(state, "statement", ""),
            "proof_before": "\n".join(getattr(state, "proof_before", ())),
            "informal_prefix": getattr(state, "informal_prefix", "")}


@dataclass(frozen=True)
class PromptFormat:
    """How a goal state becomes a prompt and how raw model text becomes one tactic
    (the stop strings are sampling settings: `SamplingParams.stop`).

    `template` is a `str.format` template over `PROMPT_FIELDS`. With `chat` it is the user
    message (after `system`, when given) and the tokenizer's own `apply_chat_template` makes the
    prompt, as the model's inference code does. `output_prefix` is text the model writes before
    the tactic (InternLM2-StepProver's "PROOFSTEP "). Nothing is ever cut from a tactic: a tactic
    longer than `max_chars` or matching one of `drop_patterns` (regexes, e.g. BFS-Prover's filter)
    is dropped, and the generator counts it by reason (`rejects`)."""

    template: str = DEFAULT_PROMPT
    max_chars: int | None = None
    chat: bool = False
    system: str | None = None
    output_prefix: str = ""
    drop_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        import string

        used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None}
        unknown = used - set(PROMPT_FIELDS)
        if unknown:
            raise ValueError(f"prompt template {self.template!r} has unknown field(s) {sorted(unknown)}; "
                             f"known: {', '.join(PROMPT_FIELDS)}")
        if not used & {"state", "statement"}:
            raise ValueError(f"prompt template {self.template!r} has no {{state}} (or {{statement}}) placeholder")
        if self.max_chars is not None and self.max_chars < 1:
            raise ValueError(f"max_chars must be >= 1 or None, got {self.max_chars}")
        for p in self.drop_patterns:
            re.compile(p)   # a bad pattern fails at load time

    def text(self, state: str) -> str:
        """The template filled in (for a chat format: the user message)."""
        return self.template.format(**prompt_fields(state))

    def prompt(self, state: str, tokenizer=None) -> str:
        if not self.chat:
            return self.text(state)
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("this prompt format is a chat template: it needs a tokenizer that has one")
        messages = ([{"role": "system", "content": self.system}] if self.system is not None else []) + [
            {"role": "user", "content": self.text(state)}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def postprocess(self, text: str, stop: Sequence[str] = DEFAULT_STOP) -> str:
        """The tactic in raw model text: everything before the first stop string, stripped (and
        without `output_prefix`). Never shortened: see `rejects`."""
        ends = [i for i in (text.find(s) for s in stop) if i >= 0]
        text = text[: min(ends)] if ends else text
        text = text.strip()
        if self.output_prefix and text.startswith(self.output_prefix.strip()):
            text = text[len(self.output_prefix.strip()):]
        return text.strip()

    def rejects(self, tactic: str) -> str | None:
        """Why a tactic is dropped ("max_chars", "filter"), or None to keep it."""
        if self.max_chars is not None and len(tactic) > self.max_chars:
            return "max_chars"
        if any(re.search(p, tactic) for p in self.drop_patterns):
            return "filter"
        return None

    def keep(self, samples: Iterable[tuple[T, bool]], candidate: Callable[[T], "TacticCandidate"],
             dropped: Counter) -> list["TacticCandidate"]:
        """The tactics among (sample, finished) pairs, in order; every sample left out is counted in
        `dropped` by its reason (cut off at max_tokens, or `rejects`): no tactic is cut silently."""
        kept = []
        for sample, finished in samples:
            if not finished:
                dropped["max_tokens"] += 1
                continue
            cand = candidate(sample)
            why = self.rejects(cand.tactic)
            if why:
                dropped[why] += 1
                continue
            kept.append(cand)
        return kept
