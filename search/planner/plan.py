"""Plans: ordered `have name : statement` lines without proofs, and the Lean text built from them.

A planner's reply is free text; `parse_plan` keeps its `have` lines (inside a ```lean fence if
there is one) and refuses a reply with none. A step's statement is everything after the first
` : ` of its line, up to a top-level `:=` (a planner that writes `:= by sorry` anyway loses it).

The same steps become Lean text in three shapes:
- `step.have()`, `have h : P` with no proof (Mathlib's form): run as a tactic, it leaves the
  goal `P` first and the main goal, with `h` in context, after it. That is a phase's root.
- `proved_have(step, tactics)`, the step with its found proof, one (multi-line) tactic.
- `with_hypotheses(theorem, steps)`, the theorem with the steps as extra binders: it elaborates
  exactly when each statement elaborates in the context of the hypotheses and the steps before
  it, which is what "the theorem with every `have` closed by `sorry` elaborates" checks, without
  a `sorry` (the environments refuse it before Lean sees it).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Protocol, Sequence

from lean_env.types import Theorem

_NAME = re.compile(r"[^\W\d][\w'.₀-₉!?]*")
_FENCE = re.compile(r"```(?:lean4?|)\s*\n(.*?)```", re.S)
_OPEN, _CLOSE = "([{⦃⟨", ")]}⦄⟩"


class PlanError(ValueError):
    """A planner reply that is not a plan (no `have` line, or a malformed one)."""


@dataclass(frozen=True)
class PlanStep:
    name: str
    statement: str

    def have(self) -> str:
        """`have name : statement`, without a proof: the goal `statement` comes first."""
        return f"have {self.name} : {self.statement}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]

    def lines(self) -> list[str]:
        return [s.have() for s in self.steps]

    def keeps_prefix(self, prefix: Sequence[PlanStep]) -> bool:
        return tuple(self.steps[: len(prefix)]) == tuple(prefix)


def parse_plan(text: str) -> Plan:
    """The `have` lines of a planner reply as a Plan; PlanError if there are none."""
    if not isinstance(text, str):
        raise PlanError(f"planner reply is not text: {type(text).__name__}")
    fenced = _FENCE.findall(text)
    body = "\n".join(fenced) if fenced else text
    steps: list[PlanStep] = []
    for raw in body.splitlines():
        line = raw.strip().lstrip("-*0123456789.) ").strip()
        if not line.startswith("have ") and not line.startswith("have:"):
            continue
        rest = line[len("have"):].strip()
        if rest.startswith(":"):                     # `have : P`: a name so later steps can use it
            name, statement = f"step{len(steps) + 1}", rest[1:]
        else:
            name, sep, statement = rest.partition(" : ")
            name = name.strip()
            if not sep or not _NAME.fullmatch(name):
                raise PlanError(f"malformed plan line (want `have NAME : STATEMENT`): {raw.strip()[:200]!r}")
        statement = _cut_proof(statement).strip()
        if not statement:
            raise PlanError(f"plan line has no statement: {raw.strip()[:200]!r}")
        steps.append(PlanStep(name, statement))
    if not steps:
        raise PlanError(f"planner reply is not a plan (no `have NAME : STATEMENT` line): {text.strip()[:300]!r}")
    return Plan(tuple(steps))


def _cut_proof(statement: str) -> str:
    """The statement without a `:= ...` at bracket depth 0."""
    depth = 0
    for i, ch in enumerate(statement):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == ":" and depth == 0 and statement[i + 1: i + 2] == "=":
            return statement[:i]
    return statement


def proved_have(step: PlanStep, tactics: Sequence[str]) -> str:
    """The step with its proof, as one tactic: `have h : P := by` and the tactics indented under it
    (the lines of a multi-line tactic keep their relative indentation)."""
    body = "\n".join("  " + line for t in tactics for line in t.split("\n"))
    return f"{step.have()} := by\n{body}"


def proved_prefix(steps: Sequence[PlanStep], proofs: Sequence[Sequence[str]]) -> list[str]:
    """The proven steps as a tactic list, one tactic per step (what a whole proof starts with)."""
    return [proved_have(s, p) for s, p in zip(steps, proofs)]


def with_hypotheses(theorem: Theorem, steps: Sequence[PlanStep]) -> Theorem:
    """`theorem` with `(name : statement)` binders for `steps` after its own binders."""
    if not steps:
        return theorem
    statement = theorem.statement
    colon = _signature_colon(statement)
    extra = "".join(f" ({s.name} : {s.statement})" for s in steps)
    return dataclasses.replace(theorem, statement=statement[:colon].rstrip() + extra + " " + statement[colon:])


def _signature_colon(statement: str) -> int:
    """Index of the `:` between a declaration's binders and its type."""
    m = re.match(r"\s*(?:theorem|lemma|example)\s+(?:[^\s(\[{⦃:]+\s*)?", statement)
    if m is None:
        raise PlanError(f"cannot find the signature of {statement[:120]!r}")
    depth = 0
    for i in range(m.end(), len(statement)):
        ch = statement[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == ":" and depth == 0 and statement[i + 1: i + 2] != "=":
            return i
    raise PlanError(f"cannot find the type of {statement[:120]!r}")


_HYP = re.compile(r"^(\S+(?:\s+\S+)*?)\s:\s")


def prompt_state(state: str) -> str:
    """What the tactic model sees in a phase: only the first goal, without its `case` tag and
    without placeholder hypotheses (inaccessible `x✝` names that nothing else in the goal
    mentions: they cannot be referred to and only make the prompt differ from the training data)."""
    first = state.split("\n\n", 1)[0]
    lines = first.split("\n")
    if lines and lines[0].startswith("case "):
        lines = lines[1:]
    kept = []
    for i, line in enumerate(lines):
        m = _HYP.match(line)
        if m and not line.startswith("⊢"):
            names = m.group(1).split()
            others = "\n".join(lines[:i] + lines[i + 1:])
            if all("✝" in n and n not in others for n in names):
                continue
        kept.append(line)
    return "\n".join(kept)


# ---------------------------------------------------------------- what a planner is asked

@dataclass(frozen=True)
class PlanRequest:
    theorem: Theorem
    goal: str                               # the root goal state
    prefix: tuple[PlanStep, ...] = ()       # proven steps a replan must keep verbatim
    feedback: str = ""                      # why the last plan was refused or got stuck
    key: str = ""                           # the request's identity (the driver: theorem, attempt, searcher, draw)

    @property
    def replan(self) -> bool:
        return bool(self.prefix or self.feedback)

    @property
    def identity(self) -> str:
        """What a sampling planner seeds from (`policy.params.request_seed`): the key, or the whole
        request without one, so a plan never depends on what the planner was asked before."""
        if self.key:
            return self.key
        prefix = "\n".join(s.have() for s in self.prefix)
        return "\x00".join((self.theorem.id, self.goal, prefix, self.feedback))


class Planner(Protocol):
    def plan(self, request: PlanRequest) -> str:
        """The planner's reply (text with `have NAME : STATEMENT` lines)."""
        ...


__all__ = ["Plan", "PlanStep", "PlanError", "parse_plan", "proved_have", "proved_prefix", "with_hypotheses",
           "prompt_state", "PlanRequest", "Planner"]
