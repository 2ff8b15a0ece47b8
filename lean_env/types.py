"""Records shared by every environment backend and by the search.

The names follow LeanDojo (`TacticState`, `ProofFinished`, `LeanError`, `ProofGivenUp`) so that
people who know that API can read ours without a glossary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Union


@dataclass(frozen=True)
class Theorem:
    """One benchmark statement.

    `statement` is the declaration verbatim, up to and including `:= by` (ProofNet rows that end in
    `:=` are given ` by` by the loader). `header` holds imports/opens/options that go before it.
    `id` is the unique key (ProofNet names are not unique); it defaults to `name`.
    `answer`: for a statement with an answer to fill (PutnamBench, CombiBench, miniF2F-v2), the
    benchmark's declaration of it, verbatim, ending in `:= sorry` (`abbrev X_solution : T := sorry`);
    it goes between the header and the statement, and a proof counts only with the answer filled
    (lean_env/verify.py).
    """

    name: str
    header: str
    statement: str
    split: str = ""
    source: str = ""
    id: str = ""
    benchmark: str = ""
    answer: str = ""
    toolchain: str = ""      # the Lean toolchain the statement targets ("" unknown), lean_env/toolchain.py

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)


@dataclass(frozen=True)
class TacticState:
    """An open proof state: the goals as Lean prints them, and an opaque handle.

    `id` is assigned by the environment and is only meaningful to the environment that returned it
    (the pool maps it to a (worker, proofState) pair and can replay it after a crash).
    """

    goals: tuple[str, ...]
    id: int
    messages: tuple[str, ...] = ()

    @property
    def pp(self) -> str:
        """The whole state as one string (goals separated by a blank line), the search's node key."""
        return "\n\n".join(self.goals)


@dataclass(frozen=True)
class ProofFinished:
    """No goals left and the tactic-mode check passed (still subject to whole-proof verification)."""

    id: int
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeanError:
    """The tactic (or the statement) was rejected by Lean; `message` is Lean's error text."""

    message: str


@dataclass(frozen=True)
class ProofGivenUp:
    """The tactic closed goals with `sorry` (or left sorries behind)."""

    message: str = "proof contains sorry"


@dataclass(frozen=True)
class TacticTimeout:
    """The request ran past its wall-clock limit; the worker was killed and replaced."""

    seconds: float
    message: str = ""


@dataclass(frozen=True)
class EnvFailure:
    """The environment itself failed (worker crash that replay could not repair, missing binary,
    bad header). Counted as a failure in every evaluation, never dropped from a denominator."""

    message: str


TacticResult = Union[TacticState, ProofFinished, LeanError, ProofGivenUp, TacticTimeout, EnvFailure]
StartResult = Union[TacticState, LeanError, TacticTimeout, EnvFailure]


class Outcome(StrEnum):
    """What running a tactic gave, one name for each kind of `TacticResult`: the one vocabulary of
    the search graph's edges, the GRPO rollouts' turns and the REPL reply classification. A str,
    so it is written to JSON as its plain value."""

    STATE = "state"                  # new goals (TacticState)
    FINISHED = "finished"            # no goals left in tactic mode (ProofFinished)
    LEAN_ERROR = "lean_error"        # Lean rejected the tactic (LeanError)
    GIVEN_UP = "given_up"            # closed with `sorry` (ProofGivenUp)
    TIMEOUT = "timeout"              # TacticTimeout
    ENV_FAILURE = "env_failure"      # EnvFailure, or anything an environment should not return
    VERIFY_FAILED = "verify_failed"  # finished, but whole-proof verification rejected the proof


_OUTCOMES = {TacticState: Outcome.STATE, ProofFinished: Outcome.FINISHED, LeanError: Outcome.LEAN_ERROR,
             ProofGivenUp: Outcome.GIVEN_UP, TacticTimeout: Outcome.TIMEOUT, EnvFailure: Outcome.ENV_FAILURE}


def outcome_of(result: TacticResult) -> Outcome:
    """The outcome name of a tactic result (ENV_FAILURE for anything that is not a TacticResult)."""
    kind = _OUTCOMES.get(type(result))
    if kind is None:  # a subclass, or not a result at all
        kind = next((o for t, o in _OUTCOMES.items() if isinstance(result, t)), Outcome.ENV_FAILURE)
    return kind


@dataclass(frozen=True)
class Verdict:
    """The result of whole-proof verification, the only authority on whether a proof counts."""

    ok: bool
    reasons: tuple[str, ...] = ()
    axioms: tuple[str, ...] = ()
    seconds: float = 0.0
    checked_text: str = field(default="", repr=False)
    # a statement with an answer to fill: the answer term checked, and what was wrong with the
    # answer itself (`reasons` then holds the proof's own); `ok` needs both clean
    answer: str | None = None
    answer_reasons: tuple[str, ...] = ()
    # a soundness incident: the backend accepted the proof, but the refutation screen
    # (`lean_env.screen`) refutes the statement; the reason, counted in every summary
    incident: str = ""
