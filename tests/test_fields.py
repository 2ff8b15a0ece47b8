"""ℚ and ℝ in the embedded fragment (issue 14): elaboration with casts along ℕ → ℤ → ℚ → ℝ, exact
field semantics (`x / 0 = 0`, `0⁻¹ = 0`, no `%`), the opaque real functions, and each tactic at its
Lean strength over fields — with the adversarial scripts that would close a false goal if an
integer procedure (omega, decide, interval_cases) were let loose on real numbers."""
from __future__ import annotations

from fractions import Fraction

import pytest

from embedded_fixtures import attempt, session  # noqa: F401  (fixtures)
from lean_env.embedded.arith import evaluate
from lean_env.embedded.parser import ParseError, parse_statement, parse_term
from lean_env.embedded.terms import INT, NAT, RAT, REAL, App, Cast, Num, Var, pp
from lean_env.embedded.types import tree
from soundness_oracle import (
    Arith, Fn, Lit, Rel, Statement, Var as OVar, decide, pp_prop, truth, value,
)


def closes(session, statement, tactics) -> bool:
    kind, goals = attempt(session, statement, tactics)
    return kind == "ok" and goals == []


# ---------------------------------------------------------------- elaboration

def test_leaves_meet_at_the_largest_type_and_casts_remember_their_source():
    st = parse_statement("theorem t (n : ℕ) (z : ℤ) (x : ℝ) : (n : ℝ) + z ≤ x⁻¹ + |x - 1| + √x * π")
    assert pp(st.goal) == "↑n + ↑z ≤ x⁻¹ + |x - 1| + √x * π"
    casts = [st.goal.lhs.lhs, st.goal.lhs.rhs]
    assert [(c.ty, c.src) for c in casts] == [(REAL, NAT), (REAL, INT)]
    # `min a b` of integers in a ℚ tree is elaborated at ℤ first, then cast (a leaf of its own)
    st = parse_statement("theorem t (a b : ℤ) : min a b ≤ (a : ℚ)")
    assert st.goal.lhs == Cast(RAT, App(Var("min"), (Var("a"), Var("b"))), INT)


def test_a_real_exponent_is_rpow_and_a_numeral_exponent_a_natural_number():
    st = parse_statement("theorem t (b x : ℝ) (h : (4 : ℝ) ^ b = 2 ^ (1 / 2)) : (11 : ℝ) ^ (3 * x - 3) = x ^ 2")
    hyp = st.binders[-1][1]
    assert hyp.lhs == App(Var("Real.rpow"), (Num(4, REAL), Var("b")))
    assert hyp.rhs.op == "^" and hyp.rhs.rhs.lhs.ty == NAT             # `1 / 2` is a ℕ exponent: 0
    assert pp(st.goal) == "11 ^ (3 * x - 3) = x ^ 2" and isinstance(st.goal.lhs, App)
    st = parse_statement("theorem t (b : ℝ) : b ^ (-(3 : ℤ)) = 1")   # `zpow`: a field's integer power
    assert st.goal.lhs.fn == Var("zpow") and pp(st.goal) == "b ^ (-3) = 1"
    with pytest.raises(ParseError, match="HPow ℤ ℤ"):                # ℤ is no division ring
        parse_statement("theorem t (b : ℤ) : b ^ (-(3 : ℤ)) = 1")


def test_untyped_binders_take_the_type_of_the_function_they_feed():
    st = parse_statement("theorem t : ∀ x, Real.sqrt x ≥ 0")
    assert st.goal.ty == REAL


@pytest.mark.parametrize("statement, message", [
    ("theorem t (x : ℝ) : x % 2 = 0", "HMod ℝ ℝ"),
    ("theorem t (n : ℕ) : |n| = n", "LinearOrderedAddCommGroup ℕ"),
    ("theorem t (n : ℤ) : n⁻¹ = n", "DivisionRing ℤ"),
    ("theorem t (x : ℝ) : 2 ∣ x", "∣"),
])
def test_what_fields_lack_fails_to_elaborate(statement, message):
    with pytest.raises(ParseError, match=message):
        parse_statement(statement)


def test_field_values_are_exact_and_division_by_zero_is_zero():
    def val(text: str, ty: str):
        term, _ = tree(parse_term(text), {}, ty)
        return evaluate(term, ty)

    assert val("7 / 2", REAL) == Fraction(7, 2) and val("7 / 2", INT) == 3
    assert val("1 / 0", REAL) == 0 and val("(0 : ℚ)⁻¹", RAT) == 0 and val("(4 : ℚ)⁻¹", RAT) == Fraction(1, 4)
    # a cast computes its argument in the argument's own type first
    assert val("((2 - 3 : ℕ) : ℝ)", REAL) == 0 and val("((2 - 3 : ℤ) : ℝ)", REAL) == -1
    assert val("((7 / 2 : ℤ) : ℝ)", REAL) == 3


# ---------------------------------------------------------------- tactics at their Lean strength

def test_linear_arithmetic_over_fields(session):
    assert closes(session, "theorem t (x : ℝ) (h : 0 < x) : x / 2 < x", ["linarith"])
    assert closes(session, "theorem t (x : ℚ) (h : 2 * x + 1 = 8) : x = 7 / 2", ["linarith"])
    # no integer strengthening over ℝ: 0 < x < 1 is satisfiable
    assert not closes(session, "theorem t (x : ℝ) (h0 : 0 < x) (h1 : x < 1) : False", ["linarith"])
    assert not closes(session, "theorem t (a b : ℝ) : a ^ 2 + b ^ 2 ≥ 2 * a * b", ["linarith"])
    assert closes(session, "theorem t (a b : ℝ) : a ^ 2 + b ^ 2 ≥ 2 * a * b", ["nlinarith [sq_nonneg (a - b)]"])
    assert closes(session, "theorem t (x : ℝ) (h : x ^ 2 = 4) (hx : 0 < x) : x = 2", ["nlinarith"])


@pytest.mark.parametrize("tactic", ["omega", "decide", "interval_cases x", "linarith", "nlinarith", "positivity",
                                    "norm_num", "simp", "field_simp", "exact_mod_cast h1"])
def test_integer_procedures_do_not_run_on_reals(session, tactic):
    # true over ℤ (no integer strictly between 0 and 1), false over ℝ (x = 1/2)
    assert not closes(session, "theorem t (x : ℝ) (h0 : 0 < x) (h1 : x < 1) : False", [tactic])
    assert not closes(session, "theorem t (x : ℝ) (h0 : 0 < x) (h1 : x < 2) : x = 1", [tactic])


def test_ring_and_field_simp_know_division_by_zero(session):
    assert closes(session, "theorem t (x : ℝ) : x / 2 + x / 2 = x", ["ring"])
    assert not closes(session, "theorem t (x : ℝ) : x / x = 1", ["ring"])            # false at x = 0
    assert not closes(session, "theorem t (x : ℝ) : x * x⁻¹ = 1", ["field_simp"])
    assert closes(session, "theorem t (x : ℝ) (hx : x ≠ 0) : x * x⁻¹ = 1", ["field_simp"])
    # field_simp cancels `x * x⁻¹` itself, but a sum of fractions it only cross-multiplies: `ring`
    # closes that (Mathlib's own examples are `field_simp; ring`)
    assert closes(session, "theorem t (x y : ℝ) (hx : x ≠ 0) (hy : y ≠ 0) : 1 / x + 1 / y = (x + y) / (x * y)",
                  ["field_simp", "ring"])
    assert not closes(session, "theorem t (x y : ℝ) (hx : x ≠ 0) (hy : y ≠ 0) : 1 / x + 1 / y = (x + y) / (x * y)",
                      ["field_simp"])
    # an order needs a positive denominator: with only `x ≠ 0`, `1 / x < 2` does not give `1 < 2 * x`
    assert closes(session, "theorem t (x : ℝ) (hx : 0 < x) (h : 1 / x < 2) : 1 < 2 * x", ["field_simp at h", "linarith"])
    assert not closes(session, "theorem t (x : ℝ) (hx : x ≠ 0) (h : 1 / x < 2) : 1 < 2 * x",
                      ["field_simp at h", "linarith"])
    assert not closes(session, "theorem t (a b : ℝ) (h : a / b = 2) : a = 2 * b", ["field_simp at h", "linarith"])


def test_ring_nf_keeps_rational_coefficients_over_fields(session):
    kind, goals = attempt(session, "theorem t (x : ℝ) (h : x / 2 + 3 * x / 4 = 5) : x = 4", ["ring_nf at h"])
    assert kind == "ok" and goals == ["x : ℝ\nh : x * (5 / 4) = 5\n⊢ x = 4"]
    assert closes(session, "theorem t (x : ℝ) (h : x / 2 + 3 * x / 4 = 5) : x = 4", ["ring_nf at h", "linarith"])
    assert closes(session, "theorem t (x : ℝ) : x / 2 = x * (1 / 2)", ["ring_nf"])
    # the normal form's numerals stay real: a closed `2⁻¹ = 3⁻¹` is not a natural-number `0 = 0`
    for then in ("norm_num", "simp", "rfl", "decide", "linarith"):
        assert not closes(session, "theorem t : (1 : ℝ) / 2 = 1 / 3", ["ring_nf", then])


def test_norm_num_evaluates_exactly_and_decide_only_over_rationals(session):
    assert closes(session, "theorem t : (1 : ℝ) / 2 + 1 / 3 = 5 / 6", ["norm_num"])
    assert closes(session, "theorem t : (1 : ℝ) / 0 = 0", ["norm_num"])
    assert not closes(session, "theorem t : (7 : ℝ) / 2 = 3", ["norm_num"])
    assert closes(session, "theorem t : (7 : ℤ) / 2 = 3", ["norm_num"])
    assert closes(session, "theorem t : (1 : ℚ) / 2 < 1", ["decide"])
    assert not closes(session, "theorem t : (1 : ℝ) / 2 < 1", ["decide"])   # `Real.decidableLT` is classical


def test_positivity_over_fields(session):
    assert closes(session, "theorem t (x : ℝ) (h : 0 < x) : 0 < x / 3 + Real.exp x", ["positivity"])
    assert closes(session, "theorem t (x y : ℝ) : 0 ≤ |x| + Real.sqrt y + π", ["positivity"])
    assert closes(session, "theorem t (n : ℕ) : 0 ≤ (n : ℝ)", ["positivity"])
    assert not closes(session, "theorem t (n : ℤ) : 0 ≤ (n : ℝ)", ["positivity"])       # n may be negative
    assert not closes(session, "theorem t (x : ℝ) : 0 < x - 1 + Real.exp x", ["positivity"])
    assert not closes(session, "theorem t (x : ℝ) : 0 < Real.log x", ["positivity"])


def test_casts_move_by_their_source_type(session):
    assert closes(session, "theorem t (a b : ℤ) : ((a - b : ℤ) : ℝ) = a - b", ["push_cast", "ring"]) or \
        closes(session, "theorem t (a b : ℤ) : ((a - b : ℤ) : ℝ) = a - b", ["push_cast"])
    assert not closes(session, "theorem t (a b : ℕ) : ((a - b : ℕ) : ℝ) = a - b", ["push_cast; ring"])
    assert not closes(session, "theorem t (a b : ℕ) : ((a / b : ℕ) : ℝ) = a / b", ["push_cast; ring"])
    assert closes(session, "theorem t (n : ℕ) (h : (n : ℝ) = 3) : n = 3", ["exact_mod_cast h"])
    assert not closes(session, "theorem t (n : ℤ) : 0 ≤ (n : ℝ)", ["simp"])


def test_opaque_functions_through_their_lemmas(session):
    assert closes(session, "theorem t (x : ℝ) (h : 0 ≤ x) : Real.sqrt (x ^ 2) = x", ["rw [Real.sqrt_sq h]"])
    assert closes(session, "theorem t (x : ℝ) (h : 0 ≤ x) : √x ^ 2 = x", ["exact Real.sq_sqrt h"])
    assert not closes(session, "theorem t (x : ℝ) : Real.sqrt (x ^ 2) = x", ["rw [Real.sqrt_sq]", "linarith"])
    assert closes(session, "theorem t (x y : ℝ) (h : x < y) : Real.exp x < Real.exp y", ["exact Real.exp_lt_exp.mpr h"])
    assert closes(session, "theorem t : Real.pi > 3", ["exact Real.pi_gt_three"])
    assert closes(session, "theorem t (a b : ℝ) : |a - b| = |b - a|", ["exact abs_sub_comm a b"])
    assert closes(session, "theorem t (x y : ℝ) (h : 0 < x) : 0 < x ^ y + Real.cos y ^ 2", ["positivity"])
    assert not closes(session, "theorem t (x y : ℝ) : 0 < x ^ y", ["positivity"])
    assert closes(session, "theorem t (x : ℝ) : Real.cos x ≤ 1", ["exact Real.cos_le_one x"])
    assert closes(session, "theorem t (x : ℝ) : Real.sin x ^ 2 + Real.cos x ^ 2 = 1", ["exact Real.sin_sq_add_cos_sq x"])
    assert not closes(session, "theorem t (x : ℝ) : (2 : ℝ) ^ x = 2 ^ 2", ["norm_num"])
    # the @[simp] values at numerals, and `Real.log_exp`
    assert closes(session, "theorem t : Real.sqrt (2 - 2) + Real.exp 0 + Real.log 1 = 1", ["norm_num"])
    assert closes(session, "theorem t (x : ℝ) : Real.log (Real.exp x) = x", ["simp"])
    assert closes(session, "theorem t : |(1 : ℚ) / 2 - 1| = 1 / 2", ["norm_num"])
    assert not closes(session, "theorem t : |(-3 : ℝ)| = -3", ["norm_num"])
    assert not closes(session, "theorem t : Real.exp 1 = 1", ["norm_num"])
    # nothing knows `√2 = 1`: the functions are opaque to every decision procedure
    for tactic in ("norm_num", "linarith", "nlinarith", "positivity", "simp", "ring"):
        assert not closes(session, "theorem t : Real.sqrt 2 = 1", [tactic])


# ---------------------------------------------------------------- the oracle over fields

def test_oracle_computes_fields_exactly_and_never_guesses_opaque_values():
    x = OVar("x", REAL)
    half = Arith("/", Lit(1, REAL), Lit(2, REAL), REAL)
    assert value(half, {}) == Fraction(1, 2) and value(Arith("/", Lit(1, REAL), Lit(0, REAL), REAL), {}) == 0
    assert value(Fn("inv", (Lit(0, RAT),), RAT), {}) == 0
    assert truth(Rel("=", Fn("Real.sqrt", (Lit(4, REAL),), REAL), Lit(2, REAL)), {}) is None
    # true for every function in sqrt's place: z3 proves it; false for some: never refuted
    sq = Fn("Real.sqrt", (x,), REAL)
    assert decide(Statement("t", ((x.name, REAL),), (), Rel("=", Arith("-", sq, sq, REAL), Lit(0, REAL)))).truth is True
    assert decide(Statement("t", ((x.name, REAL),), (), Rel("≥", sq, Lit(0, REAL)))).truth is None
    # over a field `x / x = 1` fails only at 0, which the box contains
    d = decide(Statement("t", ((x.name, REAL),), (), Rel("=", Arith("/", x, x, REAL), Lit(1, REAL))))
    assert d.truth is False and d.counterexample == {"x": 0}
    # a rational counterexample is found where an integer one does not exist
    q = OVar("q", RAT)
    d = decide(Statement("t", (("q", RAT),), (("h", Rel("<", Lit(0, RAT), q)),), Rel("≥", q, Lit(1, RAT))))
    assert d.truth is False and 0 < d.counterexample["q"] < 1


def test_oracle_prints_what_the_kernel_reads():
    p = Rel("≤", Fn("min", (Lit(1, REAL), Lit(2, REAL)), REAL), Arith("/", Lit(3, REAL), Lit(2, REAL), REAL))
    text = pp_prop(p)
    assert text == "min (1 : ℝ) 2 ≤ 3 / 2"
    st = parse_statement(f"theorem t (a : ℤ) : {pp_prop(Rel('=', Fn('abs', (Lit(1, REAL),), REAL), Lit(1, REAL)))}")
    assert pp(st.goal) == "|1| = 1" and st.goal.lhs.args[0].ty == REAL


# ---------------------------------------------------------------- false statements no script closes

_CLOSERS = ("norm_num", "simp", "simp_all", "linarith", "nlinarith", "positivity", "ring", "ring_nf", "field_simp",
            "omega", "decide", "rfl", "push_cast", "norm_cast", "field_simp; ring", "push_cast; ring")
FALSE_OVER_FIELDS = {
    # each is false at the point in the comment
    "theorem t (x : ℝ) : x / x = 1": ["exact div_self (by positivity)", "rw [div_self]"],                 # x = 0
    "theorem t (x : ℝ) : x * x⁻¹ = 1": ["exact mul_inv_cancel₀ (by positivity)"],                        # x = 0
    "theorem t (x : ℝ) : Real.sqrt (x ^ 2) = x": ["rw [Real.sqrt_sq]", "exact Real.sqrt_sq (by positivity)"],  # -1
    "theorem t (a b : ℕ) : ((a - b : ℕ) : ℝ) = a - b": ["exact_mod_cast rfl", "rw [Nat.cast_sub]"],       # 0, 1
    "theorem t (a b : ℕ) : ((a / b : ℕ) : ℝ) = a / b": ["exact_mod_cast rfl"],                            # 1, 2
    "theorem t (n : ℤ) : ((n / 2 : ℤ) : ℚ) = n / 2": ["exact_mod_cast rfl"],                              # 1
    "theorem t (x : ℝ) (h : x ^ 2 = 4) : x = 2": ["nlinarith [sq_nonneg (x - 2), sq_nonneg (x + 2)]"],    # -2
    "theorem t (x : ℝ) : 0 < x⁻¹": ["exact inv_pos.mpr (by positivity)"],                                  # 0
    "theorem t (x : ℝ) : |x| = x": ["exact abs_of_nonneg (by positivity)", "rw [abs_of_nonneg]"],         # -1
    "theorem t (x y : ℝ) : min x y = x": ["exact min_comm x y"],                                          # 1, 0
    "theorem t (x : ℝ) (h0 : 0 < x) (h1 : x < 1) : False": ["interval_cases x", "nlinarith [sq_nonneg x]"],  # 1/2
    "theorem t (q : ℚ) (h : 2 * q = 1) : q = 0": ["interval_cases q"],                                    # 1/2
    "theorem t (x : ℝ) : Real.log x ≥ 0": ["exact Real.log_nonneg (by positivity)"],                      # 1/2
    "theorem t (x : ℝ) : Real.exp x > 1": ["linarith [Real.add_one_le_exp x]"],                           # -1
    "theorem t (x : ℝ) (h : 0 ≤ x) : Real.sqrt x ≤ x": ["nlinarith [Real.sq_sqrt h, Real.sqrt_nonneg x]"],  # 1/4
    "theorem t (x : ℝ) : (2 : ℝ) ^ x > 2": ["exact Real.rpow_pos_of_pos (by norm_num) x"],               # 0
    "theorem t : (1 : ℝ) / 3 + 1 / 3 + 1 / 3 ≠ 1": [],
    "theorem t : (7 : ℝ) / 2 = 3": [],
    "theorem t (x : ℝ) (hx : x ≠ 0) (h : 1 / x < 2) : 1 < 2 * x": ["field_simp at h; linarith"],         # -1
    "theorem t (a b : ℝ) (h : a / b = 2) : a = 2 * b": ["field_simp at h; linarith"],                    # 1, 0
    "theorem t (x : ℝ) : Real.cos x ^ 2 = 1": ["nlinarith [Real.cos_sq_add_sin_sq x]"],                   # π/2
}


@pytest.mark.parametrize("statement", sorted(FALSE_OVER_FIELDS))
def test_no_script_closes_a_false_field_statement(session, statement):
    for script in _CLOSERS + tuple(FALSE_OVER_FIELDS[statement]):
        assert not closes(session, statement, [script]), (statement, script)
