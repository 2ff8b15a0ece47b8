"""Records shared by every environment backend and by the search.

The names follow LeanDojo (`TacticState`, `ProofFinished`, `LeanError`, `ProofGivenUp`) so that
people who know that API can read ours without a glossary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Theorem:
    """One benchmark statement.

    `statement` is the declaration verbatim, up to and including `:= by` (ProofNet rows that end in
    `:=` are given ` by` by the loader). `header` holds imports/opens/options that go before it.
    `id` is the unique key (ProofNet names are not unique); it defaults to `name`.
    """

    name: str
    header: str
    statement: str
    split: str = ""
    source: str = ""
    id: str = ""
    benchmark: str = ""

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


@dataclass(frozen=True)
class Verdict:
    """The result of whole-proof verification, the only authority on whether a proof counts."""

    ok: bool
    reasons: tuple[str, ...] = ()
    axioms: tuple[str, ...] = ()
    seconds: float = 0.0
    checked_text: str = field(default="", repr=False)
