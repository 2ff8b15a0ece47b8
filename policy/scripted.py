"""A generator that needs no model: a fixed list of tactics tried at every state.

Useful as the baseline of a benchmark (what do the closers alone prove?), as the search's test
double, and as the first job on a machine without a model.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

from policy.base import TacticCandidate

DEFAULT_TACTICS = (
    "omega", "linarith", "nlinarith", "norm_num", "simp", "intro h", "constructor", "decide",
    "ring", "trivial", "positivity", "assumption",
)


NUMBER_TYPES = ("ℝ", "ℕ", "ℤ", "ℚ")


def hint_templates(state: str) -> list[str]:
    """Tactics with hints, instantiated from a goal state's hypotheses and variables: every named
    hypothesis handed to norm_num / simp only / field_simp / nlinarith, `rw [h]` for each equation,
    `nlinarith` with the squares of the pairwise differences of up to three number variables.
    Fixed rules, no model: they show what the hint syntax alone proves, and their proofs teach it."""
    goal_at = state.find("⊢")
    props, numbers = [], []
    for line in state[: goal_at if goal_at >= 0 else 0].splitlines():
        if " : " not in line:
            continue
        names, typ = line.split(" : ", 1)
        for name in names.split():
            if "✝" in name:   # inaccessible: no tactic can name it
                continue
            if typ.strip() in NUMBER_TYPES:
                numbers.append(name)
            elif "=" in typ or "<" in typ or "≤" in typ or "∣" in typ or "≠" in typ:
                props.append((name, typ))
    out = []
    if props:
        every = ", ".join(n for n, _ in props)
        out += [f"norm_num [{every}] at *", f"simp only [{every}] at *", f"field_simp [{every}] at *",
                f"nlinarith [{every}]"]
        out += [f"rw [{n}]" for n, typ in props if "=" in typ and "≠" not in typ and "∣" not in typ]
    v = numbers[:3]
    if len(v) >= 2:
        out.append("nlinarith [" + ", ".join(f"sq_nonneg ({a} - {b})" for i, a in enumerate(v) for b in v[i + 1:]) + "]")
    return out + ["subst_vars"]


def closers_and_templates(state: str) -> list[tuple[str, float]]:
    """The closers, then the state's hint templates, scored in that order (a ScriptedGenerator's
    function: `ScriptedGenerator(closers_and_templates)`)."""
    tactics = [*TEMPLATE_CLOSERS, *hint_templates(state)]
    return [(t, -0.1 * (i + 1)) for i, t in enumerate(dict.fromkeys(tactics))]


TEMPLATE_CLOSERS = ("omega", "norm_num", "linarith", "nlinarith", "constructor", "simp_all", "field_simp", "positivity")


Scripted = Sequence[str] | Mapping[str, Sequence[tuple[str, float]]] | Callable[[str], Sequence[tuple[str, float]]]


class ScriptedGenerator:
    """`tactics` is a list (the same for every state, scored -0.1, -0.2, ... in order), a dict
    state -> [(tactic, logprob)] (states not in it get nothing), or a function state -> that list.
    `calls` records the batch size of every call, so tests can see batching."""

    def __init__(self, tactics: Scripted = DEFAULT_TACTICS):
        if isinstance(tactics, str):
            raise TypeError("ScriptedGenerator wants a list of tactics, not one string")
        self.tactics = tactics
        self.calls: list[int] = []

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        """The same tactics whatever the request's key: nothing here is random."""
        self.calls.append(len(states))
        out = []
        for s in states:
            if callable(self.tactics):
                pairs = list(self.tactics(s))
            elif isinstance(self.tactics, Mapping):
                pairs = list(self.tactics.get(s, ()))
            else:
                pairs = [(t, -0.1 * (i + 1)) for i, t in enumerate(self.tactics)]
            out.append([TacticCandidate(t, lp, 1) for t, lp in pairs[:n]])
        return out
