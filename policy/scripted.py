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
