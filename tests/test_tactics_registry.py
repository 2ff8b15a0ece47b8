"""The tactics package has one registry: every tactic is registered once, by the module of its
kind, and the engine finds tactics there and nowhere else."""
from __future__ import annotations

import pytest

from lean_env.embedded.goals import Goal, ProofState, TacticError
from lean_env.embedded.parser import parse_term
from lean_env.embedded.tactics import TACTICS, Engine, TacticSyntaxError
from lean_env.embedded.tactics.registry import tactic

KIND_MODULES = {"engine", "intro_cases", "rewriting", "closers", "arithmetic", "structure", "casts", "evaluation",
                "goal_shapes"}


def test_every_tactic_lives_in_the_module_of_its_kind():
    for name, tac in TACTICS.items():
        assert tac.name == name
        assert tac.run.__module__.rsplit(".", 1)[-1] in KIND_MODULES, (name, tac.run.__module__)
    assert TACTICS["rw"].run.__module__.endswith("rewriting")
    assert TACTICS["cases"].run.__module__.endswith("intro_cases")
    assert TACTICS["linarith"].run.__module__.endswith("arithmetic")
    assert TACTICS["exact"].run.__module__.endswith("closers")
    assert TACTICS["try"].run.__module__.endswith("engine")
    assert TACTICS["focus"].run.__module__.endswith("structure")


def test_registering_a_name_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        tactic("rw")(lambda e, s, r: s)
    assert TACTICS["rw"].run.__module__.endswith("rewriting")  # the first registration stands


def _state(target: str) -> ProofState:
    return ProofState((Goal((), parse_term(target)),))


def test_engine_dispatches_through_the_registry():
    e = Engine({}, [])
    assert e.run(_state("True"), "trivial").goals == ()
    with pytest.raises(TacticSyntaxError, match="unknown tactic 'frobnicate'"):
        e.run(_state("True"), "frobnicate")
    with pytest.raises(TacticSyntaxError, match="unexpected end of input"):
        e.run(_state("True"), "exact")     # registered as needing an argument
    with pytest.raises(TacticError, match="no goals"):
        e.run(_state("True"), "trivial; trivial")
    # combinators and control tactics run without goals, as in Lean
    assert e.run(_state("True"), "trivial; skip; try trivial; done").goals == ()
