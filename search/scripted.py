"""A generator that needs no model: a fixed list of tactics tried at every state.

Useful as the baseline of a benchmark (what do the closers alone prove?), as the search's test
double, and as the first job on a machine without a model.
"""
from __future__ import annotations

from typing import Callable, Sequence

from search.generators.base import TacticCandidate

DEFAULT_TACTICS = (
    "omega", "linarith", "nlinarith", "norm_num", "simp", "intro h", "constructor", "decide",
    "ring", "trivial", "positivity", "assumption",
)


class ScriptedGenerator:
    """`tactics` may be a list (same for every state) or a function state -> [(tactic, logprob)]."""

    def __init__(self, tactics: Sequence[str] | Callable[[str], Sequence[tuple[str, float]]] = DEFAULT_TACTICS):
        self.tactics = tactics
        self.calls: list[int] = []

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        self.calls.append(len(states))
        out = []
        for s in states:
            if callable(self.tactics):
                pairs = list(self.tactics(s))
            else:
                pairs = [(t, -0.1 * (i + 1)) for i, t in enumerate(self.tactics)]
            out.append([TacticCandidate(t, lp, 1) for t, lp in pairs[:n]])
        return out
