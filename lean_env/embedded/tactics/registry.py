"""The one table of tactics: each tactic module registers its tactics here with `@tactic(...)`,
and the engine looks a tactic's name up here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:
    from lean_env.embedded.goals import ProofState

# (engine, state, argument text) -> state; the engine (tactics/engine.py) is not named here,
# because the engine reads this table: naming it would make the two modules import each other
TacticFn = Callable[[Any, "ProofState", str], "ProofState"]
Argument = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class Tactic:
    """A registered tactic: `argument` says whether its syntax takes text after the name (a bare
    `try` and `ring foo` are both parse errors in Lean); `goal` says it fails with "no goals" when
    nothing is left to prove."""

    name: str
    run: TacticFn
    argument: Argument = "optional"
    goal: bool = True


TACTICS: dict[str, Tactic] = {}


def tactic(*names: str, argument: Argument = "optional", goal: bool = True) -> Callable[[TacticFn], TacticFn]:
    """Register a tactic function under one or more names; registering a name twice is a bug."""
    def register(fn: TacticFn) -> TacticFn:
        for name in names:
            if name in TACTICS:
                raise ValueError(f"tactic '{name}' is registered twice")
            TACTICS[name] = Tactic(name, fn, argument, goal)
        return fn
    return register
