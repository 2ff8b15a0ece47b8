"""Whole-proof verification: a table of cheats must be rejected, honest proofs accepted."""
from __future__ import annotations

import pytest

from conftest import run, thm
from lean_env.factory import make_env
from lean_env.types import ProofGivenUp, TacticState
from lean_env.verify import build_proof_text, check_reply, parse_axioms, precheck

T = thm("theorem v1 (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by")

CHEATS = {
    "sorry": ["sorry"],
    "admit": ["admit"],
    "sorry after a step": ["have h : x = 4 := by omega", "sorry"],
    "native_decide": ["native_decide"],
    "axiom injection": ["omega", "axiom cheat : False"],
    "second theorem": ["exact cheat", "theorem cheat : 1 = 1 := by rfl"],
    "exact?": ["exact?"],
    "apply?": ["apply?"],
    "unindented escape": ["omega\ntheorem other : False := by sorry"],
    "proof of another statement": ["norm_num"],     # tactics that do not prove *this* statement
    "empty proof": [],
    "uses a lemma that is not in the fresh environment": ["exact helper x h₀"],
}


def verify(tactics):
    async def go():
        env = make_env(workers=1)
        try:
            return await env.verify(T, tactics)
        finally:
            await env.close()
    return run(go())


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheats_are_rejected(name):
    verdict = verify(CHEATS[name])
    assert not verdict.ok, (name, verdict)
    assert verdict.reasons


def test_honest_proof_is_accepted_with_classical_axioms():
    verdict = verify(["omega"])
    assert verdict.ok, verdict.reasons
    assert set(verdict.axioms) <= {"propext", "Classical.choice", "Quot.sound"}


def test_a_sorried_lemma_from_exploration_does_not_leak_into_verification():
    async def go():
        env = make_env(workers=1)
        try:
            # exploration declares `helper` with sorry in the worker's session...
            s = await env.start(thm("theorem helper (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by"))
            assert isinstance(s, TacticState)
            # ...but verification runs in the fresh header environment, where it does not exist
            return await env.verify(T, ["exact helper x h₀"])
        finally:
            await env.close()
    verdict = run(go())
    assert not verdict.ok and any("helper" in r for r in verdict.reasons)


def test_earlier_sorried_lemma_taints_axioms_in_the_reply():
    # a reply where the proof leans on a sorried lemma: only #print axioms shows it
    reply = {"env": 3, "messages": [{"severity": "info", "data": "'v1' depends on axioms: [propext,\n sorryAx]"}]}
    verdict = check_reply(reply, "v1")
    assert not verdict.ok and "sorryAx" in verdict.axioms


def test_reply_checks():
    ok = {"env": 1, "messages": [{"severity": "info", "data": "'v1' depends on axioms: [propext, Classical.choice,\n  Quot.sound]"}]}
    assert check_reply(ok, "v1").ok
    assert parse_axioms(ok["messages"], "v1") == ("propext", "Classical.choice", "Quot.sound")
    clean = {"env": 1, "messages": [{"severity": "info", "data": "'v1' does not depend on any axioms"}]}
    assert check_reply(clean, "v1").ok
    for bad in (
        {"message": "Lean error"},
        {"env": 1, "messages": [{"severity": "error", "data": "unsolved goals"}] + clean["messages"]},
        {"env": 1, "messages": [{"severity": "warning", "data": "declaration uses `sorry`"}] + clean["messages"]},
        {"env": 1, "messages": [{"severity": "warning", "data": "declaration uses 'sorry'"}] + clean["messages"]},
        {"env": 1, "sorries": [{"goal": "⊢ False"}], "messages": clean["messages"]},
        {"env": 1, "messages": [{"severity": "info", "data": "'v1' depends on axioms: [Lean.ofReduceBool]"}]},
        {"env": 1, "messages": [{"severity": "info", "data": "'v1' depends on axioms: [cheat]"}]},
        {"env": 1},  # no axioms output at all
    ):
        assert not check_reply(bad, "v1").ok, bad


def test_proof_text_is_statement_verbatim_plus_indented_tactics():
    text = build_proof_text(T, ["have h : x = 4 := by\n  omega", "exact h"])
    assert text.startswith(T.statement)
    assert text.splitlines()[1:] == ["  have h : x = 4 := by", "    omega", "  exact h"]
    assert precheck(T, ["simp; sorry"]) and precheck(T, ["  set_option maxHeartbeats 0"]) and not precheck(T, ["omega"])
