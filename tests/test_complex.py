"""ℂ in the embedded fragment: a field without an order (Mathlib's `Complex.partialOrder` is scoped to
`ComplexOrder`, which miniF2F's header does not open). `<`/`≤`, `|z|`, `min`, `⌊z⌋`, `%`, `∣` fail to
elaborate as in Lean; `linarith`, `nlinarith`, `positivity` refuse ℂ facts and goals; `ring`,
`field_simp`, `norm_num` work; `Complex.I` is an atom that only `Complex.I_sq`/`I_mul_I` (simp
lemmas, so `simp` and `norm_num` use them) and `Complex.ext_iff` & co. know about. The false
statements below are true over ℝ and false over ℂ, so any real-number reasoning let loose on ℂ
closes them."""
from __future__ import annotations

import pytest

from embedded_fixtures import attempt, session  # noqa: F401  (fixture)
from lean_env.embedded.parser import ParseError, parse_statement
from lean_env.embedded.terms import COMPLEX, REAL, Cast, pp
from test_fields import _CLOSERS


def closes(session, statement, tactics) -> bool:
    kind, goals = attempt(session, statement, tactics)
    return kind == "ok" and goals == []


@pytest.mark.parametrize("statement, message", [
    ("theorem t : Complex.I < 1", "LT ℂ"),
    ("theorem t : (2 : ℂ) ≤ 3", "LE ℂ"),
    ("theorem t (z : ℂ) : 0 ≤ z ^ 2", "LE ℂ"),
    ("theorem t (z w : ℂ) : z > w", "LT ℂ"),
    ("theorem t (z : ℂ) : |z| = z", "LinearOrderedAddCommGroup ℂ"),
    ("theorem t (z w : ℂ) : min z w = z", "LinearOrder ℂ"),
    ("theorem t (z : ℂ) : Int.floor z = 0", "FloorRing ℂ"),
    ("theorem t (z : ℂ) : z % 2 = 0", "HMod ℂ ℂ"),
    ("theorem t (z : ℂ) : 2 ∣ z", "∣"),
])
def test_what_complex_numbers_lack_fails_to_elaborate(statement, message):
    with pytest.raises(ParseError, match=message):
        parse_statement(statement)


def test_complex_terms_elaborate_with_casts_into_complex():
    st = parse_statement("theorem t (z : ℂ) (n : ℕ) (x : ℝ) : z = (1 + Complex.I) / Real.sqrt 2 + n * x")
    assert pp(st.goal).startswith("z = (1 + Complex.I) / ↑") and pp(st.goal).endswith(" + ↑n * ↑x")
    casts = [st.goal.rhs.lhs.rhs, st.goal.rhs.rhs.rhs]
    assert [(c.ty, c.src) for c in casts] == [(COMPLEX, REAL), (COMPLEX, REAL)]
    st = parse_statement("theorem t (z : ℂ) : Complex.abs z ^ 2 = z.re ^ 2 + z.im ^ 2")
    assert pp(st.goal) == "Complex.abs z ^ 2 = z.re ^ 2 + z.im ^ 2" and st.goal.lhs.type == REAL


def test_functions_of_different_result_types_meet_in_one_tree(session):
    # each part is typed by its signature as parsed; elaboration casts, as `binop%` does
    st = parse_statement("theorem t (x : ℝ) : Real.sqrt 2 + Int.floor x = Real.sqrt (Int.floor x)")
    assert pp(st.goal) == "√2 + ↑(Int.floor x) = √↑(Int.floor x)"
    st = parse_statement("theorem t (x : ℝ) : x ^ (2 : ℝ) ^ Real.sqrt 2 = 1")
    assert st.goal.lhs.fn.name == "Real.rpow" and st.goal.lhs.args[1].fn.name == "Real.rpow"
    # every leaf meets at ℝ: no truncated ℕ subtraction is cast (false at a = 0, b = 5 otherwise true)
    false = "theorem t (a b : ℕ) : a - Nat.gcd a b - Real.sqrt 2 ≥ -Real.sqrt 2"
    assert pp(parse_statement(false).goal) == "↑a - ↑(Nat.gcd a b) - √2 ≥ -√2"
    for script in _CLOSERS + ("simp; positivity", "norm_num; positivity", "push_cast; linarith [Nat.zero_le a]"):
        assert not closes(session, false, [script]), script


@pytest.mark.parametrize("statement, script", [
    ("theorem t (y : ℂ) : 7 * (3 * y + 2) = 21 * y + 14", ["ring"]),
    ("theorem t : (2 : ℂ) + 3 = 5", ["norm_num"]),
    ("theorem t : (2 : ℂ) ≠ 3", ["norm_num"]),
    ("theorem t : Complex.I ^ 2 = -1", ["norm_num"]),
    ("theorem t : Complex.I ^ 2 = -1", ["simp"]),
    ("theorem t : Complex.I ^ 2 = -1", ["exact Complex.I_sq"]),
    ("theorem t : Complex.I * Complex.I = -1", ["rw [Complex.I_mul_I]"]),
    ("theorem t (q e : ℂ) (h₀ : q = 2 - 2 * Complex.I) (h₁ : e = 5 + 5 * Complex.I) : q * e = 20",
     ["rw [h₀, h₁]", "ring_nf", "norm_num"]),
    ("theorem t (q e : ℂ) (h₀ : q = 9 - 4 * Complex.I) (h₁ : e = -3 - 4 * Complex.I) : q - e = 12",
     ["rw [h₀, h₁]", "ring"]),
    ("theorem t (z : ℂ) (h : z ≠ 0) : z / z = 1", ["field_simp"]),
    ("theorem t (x : ℝ) : ((x : ℂ) = 2) ↔ x = 2", ["norm_cast"]),
    ("theorem t (z : ℂ) (h : (0 : ℝ) = 1) : z = 5", ["linarith"]),   # exfalso from an ℝ fact, as Lean
])
def test_what_holds_over_complex_numbers_is_proved(session, statement, script):
    assert closes(session, statement, script)


@pytest.mark.parametrize("statement, script", [
    # linarith's preprocessing drops facts of a type without `LinearOrderedField`; positivity needs an order
    ("theorem t (f z : ℂ) (h₀ : f + 3 * z = 11) (h₁ : 3 * (f - 1) - 5 * z = -68) : f = -10", "linarith"),
    ("theorem t (a b : ℂ) (h : a = b) : a + 1 = b + 1", "linarith"),
    ("theorem t : (2 : ℂ) ≠ 0", "positivity"),
    ("theorem t : Complex.I ^ 2 = -1", "ring"),       # `ring` does not know `I ^ 2 = -1`
    ("theorem t (x : ℂ) (h : x = 2) : x = 2", "omega"),
    ("theorem t : (2 : ℂ) + 2 = 4", "decide"),
])
def test_procedures_that_need_an_order_or_computation_refuse_complex_numbers(session, statement, script):
    assert not closes(session, statement, [script])


_COMPLEX_CLOSERS = _CLOSERS + ("nlinarith [sq_nonneg z]", "nlinarith [sq_nonneg a, sq_nonneg b]",
                               "simp [Complex.ext_iff]", "norm_num [Complex.ext_iff]", "simp [Complex.I_sq]")
FALSE_OVER_COMPLEX = {
    # each is false at the point in the comment, and true over ℝ (or of ℝ's order)
    "theorem t (z : ℂ) (h : z ^ 2 = -1) : False": ["nlinarith [sq_nonneg z]", "linarith [sq_nonneg z]"],   # I
    "theorem t (z : ℂ) (h : z * z + 1 = 0) : False": ["nlinarith [mul_self_nonneg z]"],                  # I
    "theorem t (a b : ℂ) (h : a ^ 2 + b ^ 2 = 0) : a = 0": ["nlinarith [sq_nonneg a, sq_nonneg b]"],     # 1, I
    "theorem t (z : ℂ) : z ^ 2 ≠ -1": ["positivity", "nlinarith [sq_nonneg z]"],                          # I
    "theorem t (z : ℂ) (h : z ≠ 0) : z * z ≠ -(1 : ℂ) * 1": ["positivity"],                               # I
    "theorem t : Complex.I ^ 2 = 1": ["rw [Complex.I_sq]", "simp [Complex.I_sq]"],
    "theorem t : Complex.I ^ 5 = 1": ["rw [pow_succ, Complex.I_pow_four]", "simp"],                        # I ^ 5 = I
    "theorem t : Complex.I = 1": ["rw [Complex.ext_iff]", "simp [Complex.ext_iff]"],
    "theorem t : Complex.I = 0": ["exact Complex.I_ne_zero"],
    "theorem t (z : ℂ) (h : z ≠ 0) : z.re ≠ 0": ["simp [Complex.ext_iff] at h"],                          # I
    "theorem t (x : ℂ) (h : x ^ 2 = 4) : x = 2": ["nlinarith [sq_nonneg (x - 2), sq_nonneg (x + 2)]"],   # -2
    "theorem t (z : ℂ) : Complex.abs z = z.re": ["rw [Complex.sq_abs]"],                                  # -1
    "theorem t (z : ℂ) : z / z = 1": ["exact div_self Complex.I_ne_zero"],                                # 0
}


@pytest.mark.parametrize("statement", sorted(FALSE_OVER_COMPLEX))
def test_no_script_closes_a_false_complex_statement(session, statement):
    for script in _COMPLEX_CLOSERS + tuple(FALSE_OVER_COMPLEX[statement]):
        assert not closes(session, statement, [script]), (statement, script)
