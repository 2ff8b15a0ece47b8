"""Tactics of the embedded kernel. Importing the package registers every tactic (one registry,
`registry.TACTICS`); `Engine` runs tactic text, `split_tactics` cuts a script into blocks."""
from lean_env.embedded.tactics import (  # noqa: F401  (registers)
    arithmetic, casts, closers, evaluation, goal_shapes, intro_cases, rewriting, structure,
)
from lean_env.embedded.tactics.engine import Engine
from lean_env.embedded.tactics.registry import TACTICS
from lean_env.embedded.tactics.text import TacticSyntaxError, split_tactics

__all__ = ["Engine", "TACTICS", "TacticSyntaxError", "split_tactics"]
