"""Statements with an answer to fill (PutnamBench, CombiBench, miniF2F-v2 style:
`abbrev X_solution : T := sorry` before the theorem): a proof counts only with the answer filled,
without sorry, and the verdict reports the answer apart from the proof. End to end on the embedded
environment, which reads an abbrev as Lean does (its value in place of its name)."""
from __future__ import annotations

import pytest

from conftest import MINIF2F_HEADER, run
from lean_env.factory import make_env
from lean_env.types import TacticState, Theorem
from lean_env.verify import answer_declaration, check_answer, verification_command

ANSWERED = Theorem(name="sum_of_two_twos", header=MINIF2F_HEADER, answer="abbrev sum_of_two_twos_solution : ℕ := sorry",
                   statement="theorem sum_of_two_twos : sum_of_two_twos_solution = 2 + 2 := by", split="test",
                   source="tests")
PLAIN = Theorem(name="p", header=MINIF2F_HEADER, statement="theorem p : (2 : ℕ) + 2 = 4 := by")


def verify(theorem, tactics, answer=None):
    async def go():
        env = make_env(workers=1)
        try:
            return await env.verify(theorem, tactics, answer=answer)
        finally:
            await env.close()
    return run(go())


def test_the_right_answer_with_a_proof_is_accepted_and_reported():
    v = verify(ANSWERED, ["decide"], answer="4")
    assert v.ok, v.reasons + v.answer_reasons
    assert v.answer == "4" and v.answer_reasons == ()
    assert v.checked_text.startswith("abbrev sum_of_two_twos_solution : ℕ := 4\n\ntheorem sum_of_two_twos")


def test_a_wrong_answer_with_a_valid_looking_proof_is_rejected():
    v = verify(ANSWERED, ["decide"], answer="5")
    assert not v.ok
    assert v.answer == "5" and v.answer_reasons == ()          # the answer itself is well-formed ...
    assert any("decide" in r for r in v.reasons)               # ... the proof of the statement fails


@pytest.mark.parametrize("answer, why", [
    (None, "none was given"),
    ("", "none was given"),
    ("sorry", "sorry"),
    ("4\n\ntheorem x : False := by sorry", "answer: "),        # a declaration smuggled in the term
    ("native_decide", "answer: "),
])
def test_an_unfilled_or_cheating_answer_is_refused_before_lean(answer, why):
    v = verify(ANSWERED, ["decide"], answer=answer)
    assert not v.ok and any(why in r for r in v.answer_reasons) and not v.reasons


def test_an_answer_lean_rejects_is_the_answers_fault_not_the_proofs():
    v = verify(ANSWERED, ["decide"], answer="four")
    assert not v.ok and any("unknown identifier" in r for r in v.answer_reasons)


def test_an_answer_for_a_statement_without_one_is_refused():
    assert check_answer(PLAIN, "4") == ["answer: the statement has no answer to fill"]
    assert verify(PLAIN, ["norm_num"]).ok


def test_the_prover_supplies_the_term_only():
    assert answer_declaration(ANSWERED, " 4 ") == "abbrev sum_of_two_twos_solution : ℕ := 4"
    _, cmd, line = verification_command(ANSWERED, ["decide"], "4")
    assert cmd.splitlines()[0] == "abbrev sum_of_two_twos_solution : ℕ := 4" and line == cmd.count("\n") + 1


def test_the_search_starts_under_the_unfilled_answer():
    """Exploration elaborates the statement under `abbrev ... := sorry`: the embedded kernel
    refuses to reason about a sorried value (nothing can be proved about it), with a clear line."""
    async def go():
        env = make_env(workers=1)
        try:
            return await env.start(ANSWERED)
        finally:
            await env.close()
    res = run(go())
    assert not isinstance(res, TacticState) and "fill the answer" in res.message
