"""Soundness fuzzing of the embedded kernel: random statements and tactic scripts go through
whole-proof verification, and every accepted statement must be true by an independent oracle.

The oracle (`soundness_oracle`) is tested first against Lean's documented semantics, so a wrong
oracle cannot hide a hole. Then the kernel's library lemmas (the statements `rw`/`exact`/`apply`
trust) are read back and audited at every carrier their type class allows. The bounded run is
deterministic (derandomized, no example database); `bench/fuzz_soundness.py --minutes N` runs the
same generators for longer.
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lean_env.types import Theorem
from lean_env.verify import verification_command, verify_proof

from soundness_fuzz import (
    HEADER, HypothesisDraw, check_case, check_text, gen_human, gen_script, gen_statement, known_proofs, perturb,
    verify_in_process,
)
from soundness_oracle import (
    FIELDS, INT, NAT, Arith, Bounded, Cast, Conn, Lit, Neg, Not, Pow, ReadError, Rel, Statement, Var, decide, holds,
    int_ediv, int_emod, pp_expr, pp_prop, read_declaration, value,
)

SHIPPED = known_proofs(Path(__file__).resolve().parent.parent)
x, y = Var("x", NAT), Var("y", NAT)
zi = Var("z", INT)


def n(v: int) -> Lit:
    return Lit(v, NAT)


def i(v: int) -> Lit:
    return Lit(v, INT)


# ---------------------------------------------------------------- the oracle against Lean

def test_int_division_is_euclidean_as_in_lean_core():
    # the examples of `Int.ediv`'s docstring in Lean core, and `emod`'s range 0 ≤ r < |b|
    table = {(7, 0): 0, (0, 7): 0, (12, 6): 2, (12, -6): -2, (-12, 6): -2, (-12, -6): 2,
             (12, 7): 1, (12, -7): -1, (-12, 7): -2, (-12, -7): 2}
    for (a, b), q in table.items():
        assert int_ediv(a, b) == q, (a, b)
    for a in range(-20, 21):
        assert int_emod(a, 0) == a
        for b in [b for b in range(-7, 8) if b]:
            r = int_emod(a, b)
            assert 0 <= r < abs(b) and a == b * int_ediv(a, b) + r, (a, b)


def test_nat_semantics_truncation_division_by_zero_and_powers():
    assert value(Arith("-", n(2), n(3), NAT), {}) == 0
    assert value(Arith("-", i(2), i(3), INT), {}) == -1
    assert value(Arith("/", n(7), n(0), NAT), {}) == 0
    assert value(Arith("%", n(7), n(0), NAT), {}) == 7
    assert value(Arith("%", Neg(i(7)), i(0), INT), {}) == -7
    assert value(Pow(n(0), n(0), NAT), {}) == 1
    assert value(Arith("/", n(7), n(2), NAT), {}) == 3
    # the cast sees the ℕ result: ((2 - 3 : ℕ) : ℤ) = 0, unlike (2 : ℤ) - 3
    assert value(Cast(Arith("-", n(2), n(3), NAT)), {}) == 0
    assert holds(Rel("∣", n(0), n(0)), {}) and not holds(Rel("∣", n(0), n(3)), {})
    assert holds(Rel("∣", Neg(i(3)), i(6)), {}) and not holds(Rel("∣", i(4), i(6)), {})


def test_printing_follows_lean_precedence():
    assert pp_expr(Neg(Pow(zi, n(2), INT))) == "-z ^ 2"            # `-` (75) binds looser than `^` (80)
    assert pp_expr(Pow(Neg(zi), n(2), INT)) == "(-z) ^ 2"
    assert pp_expr(Neg(Neg(zi))) == "-(-z)"                         # never `--`, a comment
    assert pp_expr(Arith("-", x, Arith("-", y, n(1), NAT), NAT)) == "x - (y - 1)"
    assert pp_expr(Arith("-", Arith("-", x, y, NAT), n(1), NAT)) == "x - y - 1"
    assert pp_expr(Pow(Pow(x, n(2), NAT), n(3), NAT)) == "(x ^ 2) ^ 3"
    assert pp_expr(Cast(Arith("-", x, y, NAT))) == "((x - y : ℕ) : ℤ)"
    a, b, c = (Rel("=", v, n(0)) for v in (x, y, Var("k", NAT)))
    assert pp_prop(Conn("→", Conn("→", a, b), c)) == "(x = 0 → y = 0) → k = 0"
    assert pp_prop(Conn("∧", Not(a), b)) == "¬x = 0 ∧ y = 0"
    assert pp_prop(Not(Conn("∧", a, b))) == "¬(x = 0 ∧ y = 0)"
    # a ℤ relation with no ℤ-typed leaf gets one numeral ascribed, so Lean elaborates it in ℤ
    assert pp_prop(Rel("<", Arith("-", i(2), i(3), INT), i(0))) == "(2 : ℤ) - 3 < 0"
    q = Bounded("∀", "k", NAT, Conn("↔", a, c), "<", n(3), sugar=False)
    assert pp_prop(q) == "∀ k : ℕ, k < 3 → (x = 0 ↔ k = 0)"


def test_decide_refutes_exactly_and_proves_beyond_the_box():
    nat_trunc = Statement("t", (("x", NAT),), (), Rel("=", Arith("+", Arith("-", x, n(1), NAT), n(1), NAT), x))
    d = decide(nat_trunc)
    assert d.truth is False and d.counterexample == {"x": 0}
    assert decide(Statement("t", (("x", NAT),), (), Rel(">", Arith("+", x, n(1), NAT), x))).truth is True
    beyond = decide(Statement("t", (("x", NAT),), (), Rel("<", x, n(100))))   # false only past the box
    assert beyond.truth is False and beyond.how == "z3" and beyond.counterexample["x"] >= 100
    hyp = Statement("t", (("x", NAT),), (("h₀", Rel("<", x, n(3))),), Rel("≠", x, n(2)))
    assert decide(hyp).counterexample == {"x": 2}
    bounded = Statement("t", goal=Bounded("∃", "k", NAT, Rel("=", Arith("*", Var("k", NAT), Var("k", NAT), NAT), n(9)),
                                          "≤", n(3)))
    assert decide(bounded).truth is True
    assert decide(Statement("t", goal=Bounded("∀", "k", INT, Rel("≥", Pow(Var("k", INT), n(2), INT), i(1)),
                                              lo=-2, hi=2))).truth is False   # k = 0


def test_reading_lean_declarations_elaborates_like_lean():
    # binop%: `((m + n : ℕ) : ℤ) = m + n` casts the right side's leaves, so it is true
    cast_add = read_declaration("Nat.cast_add (m n : ℕ) : ((m + n : ℕ) : ℤ) = m + n")
    assert cast_add.goal.rhs == Arith("+", Cast(Var("m", NAT)), Cast(Var("n", NAT)), INT)
    assert decide(cast_add).truth is True
    # a ring lemma is true at ℤ and refuted at ℕ, where `-` truncates
    lemma = "sub_add_cancel : ∀ (a b : α), a - b + b = a"
    assert decide(read_declaration(lemma, {"α": INT})).truth is True
    assert decide(read_declaration(lemma, {"α": NAT})).truth is False
    # premises become hypotheses, a later ∀ a variable the goal alone sees
    pow_pos = read_declaration("pow_pos {a : α} : 0 < a → ∀ (n : ℕ), 0 < a ^ n", {"α": INT})
    assert [h for h, _ in pow_pos.hyps] == ["h0"] and pow_pos.late == (("n", NAT),)
    assert decide(read_declaration("bad {a : α} : 0 ≤ a → ∀ (n : ℕ), 0 < a ^ n", {"α": INT})).truth is False
    with pytest.raises(ReadError, match="Neg ℕ"):
        read_declaration("neg_neg : ∀ (a : α), - -a = a", {"α": NAT})


def test_a_false_statement_accepted_is_reported_with_a_reproduction():
    # the check itself: a statement the kernel proves (by `decide` here: it is closed) is
    # classified by the oracle; a wrong oracle answer would show up as a HOLE
    true_case = check_case(Statement("t", goal=Rel("=", Arith("/", Neg(i(7)), i(2), INT), Neg(i(4)))), ["decide"])
    assert true_case.kind == "accepted-true", true_case
    false_case = check_case(Statement("t", goal=Rel("=", Arith("/", Neg(i(7)), i(2), INT), Neg(i(3)))), ["decide"])
    assert false_case.kind == "rejected"


# ---------------------------------------------------------------- the kernel's library lemmas

# Type classes ℕ is an instance of (Mathlib): a lemma about `α` with another class, such as
# `AddGroup`, `Ring` or `OrderedAddCommGroup`, does not apply to ℕ (whose `-` truncates).
NAT_CLASSES = {"Type", "Preorder", "PartialOrder", "LinearOrder", "Monoid", "CommMonoid", "AddMonoid", "AddCommMonoid",
               "MulZeroClass", "Semiring", "CommSemiring", "OrderedSemiring", "StrictOrderedSemiring"}


def library_instances():
    """(lemma name, carrier or None, the class α needs, the kernel's statement of the lemma printed
    back as Lean text): what the oracle audits is what the kernel rewrites and applies with."""
    from lean_env.embedded.lemmas import LIBRARY
    from lean_env.embedded.terms import pp

    out = []
    for name, lemma in LIBRARY.items():
        binders = " ".join(f"{{{n.replace('?', 'q_')} : {t if isinstance(t, str) else 'α'}}}" for n, t in lemma.implicit)
        text = f"{name} {binders} : {pp(lemma.statement).replace('?', 'q_')}"
        alpha = next(iter(_type_vars((lemma.implicit, lemma.statement))), None)
        for ty in ((NAT, INT) + FIELDS if alpha else (None,)):
            out.append((name, ty, alpha.cls if alpha else None, text))
    return out


def _type_vars(t):
    from dataclasses import fields, is_dataclass

    from lean_env.embedded.terms import TyVar

    if isinstance(t, TyVar):
        yield t
    elif isinstance(t, (tuple, list)):
        for x in t:
            yield from _type_vars(x)
    elif is_dataclass(t):
        for f in fields(t):
            yield from _type_vars(getattr(t, f.name))


def _outside_oracle(text: str) -> bool:
    """A lemma about what the oracle has no semantics for: ℂ (`Complex.I_sq`, `Complex.ext_iff`) and
    `n /. d` (`Rat.divInt_eq_div` is its definition). The false statements of tests/test_complex.py
    and tests/test_definitions.py hold the kernel to these instead."""
    return "Complex." in text or " /. " in text


def test_every_library_lemma_is_true_where_it_applies():
    """Each lemma the kernel rewrites or applies with, as the kernel holds it (printed back and
    read by the oracle), at each carrier its class allows: none may be refutable."""
    from lean_env.embedded.types import has_class

    checked, refuted, unreadable = 0, [], []
    for name, ty, cls, text in library_instances():
        if _outside_oracle(text):
            continue
        if ty == NAT and cls not in NAT_CLASSES:
            continue
        if ty in (INT,) + FIELDS and not has_class(ty, cls):   # where the kernel instantiates it
            continue
        try:
            statement = read_declaration(text, {"α": ty} if ty else {})
        except ReadError as e:       # a new kind of lemma: extend the oracle's reader to audit it
            unreadable.append((text, str(e)))
            continue
        d = decide(statement, z3_timeout_ms=200)
        checked += 1
        if d.truth is False:
            refuted.append((name, ty, text, d.counterexample))
    assert not refuted, refuted
    assert checked > 100 and not unreadable, unreadable


def test_lemmas_for_rings_do_not_apply_to_nat():
    """An `AddGroup`/`Ring` lemma stated at ℕ is false (truncated `-`): the kernel must not use it."""
    tried = 0
    for name, ty, cls, text in library_instances():
        if ty != NAT or cls in NAT_CLASSES:
            continue
        try:
            s = read_declaration(text, {"α": NAT})
        except ReadError:          # mentions `-a`: not even a ℕ statement
            continue
        if decide(s, z3_timeout_ms=200).truth is not False:
            continue
        theorem = Theorem("t", HEADER, Statement("t", s.variables, (), s.goal).text())
        for tactics in ([f"rw [{name}]"], [f"exact {name} _ _"], [f"simp only [{name}]"], [f"apply {name}"]):
            tried += 1
            verdict = verify_in_process(theorem, tactics)
            assert not verdict.ok, (theorem.statement, tactics)
    assert tried >= 8


# ---------------------------------------------------------------- holes found

# Holes the fuzzer found and the kernel fixed: each reproduction must stay rejected.
FIXED_HOLES = {
    # H1: a later statement binder merged with an earlier one of the same name
    "shadowed binder, exact": ("theorem t (x : ℕ) (h : x = 1) (x : ℕ) : x = 1 := by", ["exact h"]),
    "shadowed binder, omega": ("theorem fz (x : ℤ) (h₀ : x < 3) (x : ℤ) : x - 1 < 4 := by", ["omega"]),
    "shadowed binder, simp_all": ("theorem fz (x : ℤ) (y : ℕ) (h₀ : x = 2) (h₁ : y % 5 = 3) (x : ℤ) : x - 1 ≤ 2 := by",
                                  ["simp_all"]),
    "shadowed binder, nlinarith": ("theorem fz (x y : ℤ) (n : ℕ) (h₀ : x ≤ 5) (h₁ : y = 3) (x : ℤ) : x - 1 < 6 := by",
                                   ["all_goals nlinarith"]),
    "shadowed binder, cast": ("theorem t (x : ℕ) (h : x = 1) (x : ℤ) : x = 1 := by", ["exact_mod_cast h"]),
}


@pytest.mark.parametrize("name", sorted(FIXED_HOLES))
def test_fixed_hole_stays_closed(name):
    statement, tactics = FIXED_HOLES[name]
    verdict = verify_in_process(Theorem("t", HEADER, statement), tactics, screen=False)
    assert not verdict.ok, f"accepted a false statement again: {statement} {tactics}"


# Holes found and not yet fixed: name -> (minimal reproduction, tactics, which statements it
# covers, read from the statement's text). The reproduction is a strict xfail (an XPASS fails the
# suite, so a fixed hole moves to FIXED_HOLES), and the fuzzing runs do not count statements it
# covers as new holes. bench/fuzz_holes.md says how each was found.
def _any_tactic(*needles: str) -> Callable[[str, list[str]], bool]:
    return lambda statement, tactics: any(n in t for t in tactics for n in needles)


def _statement_has(*needles: str) -> Callable[[str, list[str]], bool]:
    return lambda statement, tactics: any(n in statement for n in needles)


# the classes of issue 18, as the people-style fuzzer meets them (bench/fuzz_holes.md)
KNOWN_HOLES: dict[str, tuple[str, list[str], Callable[[str, list[str]], bool]]] = {
    "m1 .trans across carriers": (
        "theorem fz : 3 = 0 := by",
        ["have h1 : ((-5) : ℚ) = 3 - 4 * 2 := by norm_num", "have h2 : (3 - 4 * 2 : ℕ) = 0 := by norm_num",
         "have h3 := h1.trans h2", "linarith"],
        _any_tactic(".trans", "Eq.trans", "▸", "calc")),
    "m2 dvd lifted from a field": (
        "theorem fz (a b : ℕ) (ha : a = 3) (hb : b = 2) : a ∣ b := by",
        ["have h := dvd_mul_right (a : ℝ) (2/3)", "have e : (a : ℝ) * (2/3) = (b : ℝ) := by rw [ha, hb]; norm_num",
         "rw [e] at h", "exact_mod_cast h"],
        _any_tactic("dvd_mul_right (a : ℝ)", "dvd_mul_right (a : ℚ)")),
    "m4 floor arguments": (
        "theorem fz (x : ℝ) : Int.floor (x + 1/4) = Int.floor (x + 1/2) := by", ["exact_mod_cast rfl"],
        _statement_has("Int.floor", "Int.ceil")),
    "m5 binder typed by an ascription": (
        "theorem fz : ∀ x, x ≤ 5 → (x : ℤ) ≥ 0 := by", ["intro x hx", "positivity"],
        lambda statement, tactics: bool(re.search(r"[∀∃] x[ ,]", statement)) and "(x :" in statement),
    "m6 sum body at the expected type": (
        "theorem fz : (∑ i in Finset.range 2, (i - 1) : ℚ) = 0 := by", ["simp"],
        _statement_has("∑", "∏")),
    "m7 min/max at the expected type": (
        "theorem fz (a b : ℕ) : (min (a - b) 3 : ℝ) ≥ 0 := by", ["norm_num"],
        _statement_has("min (", "max (")),
}


@pytest.mark.parametrize("name", sorted(KNOWN_HOLES))
def test_known_hole_rejected_by_the_kernel(name):
    statement, tactics, _ = KNOWN_HOLES[name]
    verdict = verify_in_process(Theorem("t", HEADER, statement), tactics, screen=False)
    assert not verdict.ok, f"the kernel accepted a false statement: {statement} {tactics}"


@pytest.mark.parametrize("name", sorted(KNOWN_HOLES))
def test_known_hole_caught_by_the_screen(name):
    statement, tactics, covers = KNOWN_HOLES[name]
    assert covers(statement, tactics)
    theorem = Theorem("t", HEADER, statement)
    line = verification_command(theorem, tactics)[2]

    async def accepting(cmd: str, timeout: float) -> dict:   # a backend with the hole: the screen alone decides
        return {"env": 1, "messages": [{"severity": "info", "pos": {"line": line, "column": 0},
                                        "data": "'fz' depends on axioms: [propext]"}]}
    verdict = asyncio.run(verify_proof(accepting, theorem, tactics, 10))
    assert not verdict.ok and verdict.incident.startswith("kernel accepted a refutable statement")


def known_hole_text(statement: str, tactics: list[str]) -> str | None:
    return next((name for name, (_, _, covers) in KNOWN_HOLES.items() if covers(statement, list(tactics))), None)


# ---------------------------------------------------------------- the bounded fuzzing run

@settings(max_examples=120, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_no_false_statement_is_accepted(data):
    d = HypothesisDraw(data)
    statement = gen_statement(d)
    for _ in range(3):
        tactics = gen_script(d, statement)
        outcome = check_case(statement, tactics, timeout=5.0)
        event(outcome.kind)           # pytest --hypothesis-show-statistics shows the tally
        if outcome.kind == "HOLE" and known_hole_text(outcome.statement, tactics):
            event(f"known hole: {known_hole_text(outcome.statement, tactics)}")
            continue
        assert outcome.kind != "HOLE", outcome.reproduction()


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_people_style_statements_and_perturbed_proofs_hold_no_new_hole(data):
    """Lean as people write it (`gen_human`) and shipped proofs against perturbed statements:
    the screen is the arbiter; a hole outside the known classes fails."""
    d = HypothesisDraw(data)
    if d.coin(3):
        _, original, tactics = d.choice(SHIPPED)
        cases = [(perturb(d, original), tactics)]
    else:
        _, statement, scripts = gen_human(d)
        cases = [(statement, t) for t in scripts]
    for statement, tactics in cases:
        outcome = check_text(statement, tactics, timeout=5.0)
        event(outcome.kind)
        if outcome.kind == "HOLE" and known_hole_text(statement, tactics):
            event(f"known hole: {known_hole_text(statement, tactics)}")
            continue
        assert outcome.kind != "HOLE", outcome.reproduction()


def test_long_run_script_reports_what_it_tried():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "fuzz_soundness.py"
    bad = subprocess.run([sys.executable, str(script), "--minutes", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--minutes" in bad.stderr
    out = subprocess.run([sys.executable, str(script), "--minutes", "0.005", "--seed", "3"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "statements" in out.stdout and "scripts" in out.stdout and "HOLE" in out.stdout
