"""Plain `simp` folds numeral arithmetic only where Lean's simprocs do (ℕ, ℤ); over ℚ, ℝ and ℂ it
takes `norm_num`; and `norm_num` computes a closed sum over `Finset.range` but not over an interval,
a filter or divisors, nor `5 !` or `Nat.choose 5 2` (those take `decide` or their lemmas). Each
statement below is true: the kernel must reject the proof Lean rejects and accept the one Lean takes.

What real Lean does, and where it says so:
- leanprover/lean4 src/Lean/Meta/Tactic/Simp/BuiltinSimprocs/Nat.lean, Int.lean: `Nat.reduceAdd`,
  `reduceMul`, `reducePow`, `reduceLT`, ... fire on ℕ and ℤ literals only (`Int.fromExpr?` checks the
  type is `Int`); `Simp.Config.decide` is false, so nothing else evaluates a closed sum or `5 !`.
- leanprover-community/mathlib4 Mathlib/Data/Nat/Cast/Order.lean: `Nat.ofNat_le`/`Nat.ofNat_lt` are
  commented out of the simp set ("their LHSs match literally every inequality"); `ofNat_pos`,
  `ofNat_nonneg`, `one_lt_ofNat`, `one_le_ofNat`, `not_ofNat_le_one`, `not_ofNat_lt_one` are @[simp].
- Mathlib/Algebra/CharZero/Defs.lean: `OfNat.ofNat_eq_ofNat` and `OfNat.ofNat_ne_zero` are @[simp], so
  `(4 : ℝ) = 5` is decided; `one_add_one_eq_two` (Mathlib/Data/Nat/Cast/Defs.lean) is not @[simp].
- `Nat.cast_ofNat` is @[simp]: `((2 + 3 : ℕ) : ℝ)` becomes `5` once the ℕ simproc has folded `2 + 3`.
- norm_num, at the Mathlib of DeepSeek-Prover-V1.5's pin (d1d1e4b, 2024-06):
  Mathlib/Tactic/NormNum/BigOperators.lean's `Finset.proveEmptyOrCons` takes `Finset.range`,
  `Finset.univ`, `Finset.cons`/`Finset.mk` only ("TODO: support intervals `Finset.Ico`, `Finset.Icc`");
  test/norm_num_ext.lean keeps its `Finset.Icc` sums commented out. `Finset.card_range` and
  `Nat.card_Icc` are @[simp]. There is no `Nat.choose` extension; `n !` has one in today's Mathlib
  (mathlib4 #8832, after the pin; today's test/norm_num_ext.lean, the conformance oracle, uses it).
"""
from __future__ import annotations

import pytest

from embedded_fixtures import attempt, session  # noqa: F401  (fixture)

# (statement, a simp-family proof Lean rejects, the proof Lean accepts)
REJECTED = [
    ("theorem t : (2 : ℝ) + 2 = 4", ["simp"], ["norm_num"]),
    ("theorem t : (3 : ℚ) * 4 = 12", ["simp"], ["norm_num"]),
    ("theorem t : (2 : ℝ) < 3", ["simp"], ["norm_num"]),
    ("theorem t : (2 : ℝ) ^ 2 = 4", ["simp"], ["norm_num"]),
    ("theorem t (x : ℝ) (h : x = 2) : x + 2 = 4", ["simp [h]"], ["norm_num [h]"]),
    ("theorem t (f : ℝ → ℝ) (h : ∀ x, f x = 5 * x + 4) : f 1 = 9", ["simp_all"], ["norm_num [h]"]),
    ("theorem t (x : ℝ) (h : x = 2) : x + 2 = 4", ["simpa [h]"], ["norm_num [h]"]),
    ("theorem t : ∑ i in Finset.range 3, (i : ℝ) = 3", ["simp [Finset.sum_range_succ]"],
     ["norm_num [Finset.sum_range_succ]"]),
    ("theorem t : ∑ i in Finset.range 4, i = 6", ["simp"], ["simp [Finset.sum_range_succ]"]),
    ("theorem t : (5 : ℕ)! = 120", ["simp"], ["simp [Nat.factorial]"]),
    ("theorem t : (∑ k in Finset.Icc 1 12, k) % 4 = 2", ["norm_num"], ["decide"]),
    ("theorem t : Finset.card (Finset.filter (fun x => 20 ∣ x) (Finset.Icc 15 85)) = 4", ["norm_num"], ["decide"]),
    ("theorem t : ∑ k in Nat.divisors 12, k = 28", ["norm_num"], ["decide"]),
    ("theorem t : Nat.choose 5 2 = 10", ["norm_num"], ["decide"]),
    # field_simp and ring_nf close a goal whose sides agree syntactically (simp's `eq_self`), never
    # by evaluating it as `rfl` would
    ("theorem t (s : ℕ) (h₀ : s = ∑ k in Finset.Icc 1 12, k) : s % 4 = 2", ["field_simp [h₀]"], ["rw [h₀]", "decide"]),
    ("theorem t : (∑ k in Finset.Icc 1 12, k) % 4 = 2", ["ring_nf"], ["rfl"]),
    # field_simp cross-multiplies; the ring identity left is `ring`'s (mathd_algebra_441's `field_simp; ring`)
    ("theorem t (x : ℝ) (h₀ : x ≠ 0) : 12 / (x * x) * (x ^ 4 / (14 * x)) * (35 / (3 * x)) = 10", ["field_simp"],
     ["field_simp", "ring"]),
]

# what norm_num computes: a sum or product over `range`, a card by its simp lemma, gcd
NORM_NUM_ACCEPTED = [
    "theorem t : (∑ k in Finset.range 101, k) % 6 = 4",
    "theorem t : ∏ k in Finset.range 5, (k + 1) = 120",
    "theorem t : (Finset.Icc 1 10).card = 10",
    "theorem t : Nat.gcd 12 18 = 6",
    "theorem t : (2 : ℝ) / 4 + 1 = 3 / 2",
    "theorem t : (5 : ℕ)! = 120",
]

# what plain simp does prove, by a simproc or a simp lemma
ACCEPTED = [
    "theorem t : (2 : ℕ) + 2 = 4",
    "theorem t : (2 : ℤ) - 5 = -3",
    "theorem t : (7 : ℕ) / 2 = 3",
    "theorem t : Nat.gcd 4 6 = 2",
    "theorem t : (2 : ℝ) ≠ 0",
    "theorem t : (0 : ℝ) < 3",
    "theorem t : (1 : ℝ) < 3",
    "theorem t : ¬ (3 : ℝ) ≤ 1",
    "theorem t : (4 : ℝ) = 5 → False",
    "theorem t : ((2 + 3 : ℕ) : ℝ) = 5",
    "theorem t (x : ℝ) : x * 1 + 0 = x",
    "theorem t (x : ℝ) : x - x = 0",
]


@pytest.mark.parametrize("statement, rejected, accepted", REJECTED, ids=[s for s, _, _ in REJECTED])
def test_simp_leaves_field_arithmetic_and_closed_sums_to_norm_num(session, statement, rejected, accepted):
    kind, result = attempt(session, statement, rejected)
    assert not (kind == "ok" and result == []), (statement, rejected)
    assert attempt(session, statement, accepted) == ("ok", []), (statement, accepted)


@pytest.mark.parametrize("statement", ACCEPTED)
def test_simp_proves_what_its_simprocs_and_lemmas_decide(session, statement):
    assert attempt(session, statement, ["simp"]) == ("ok", []), statement


@pytest.mark.parametrize("statement", NORM_NUM_ACCEPTED)
def test_norm_num_proves_what_its_extensions_compute(session, statement):
    assert attempt(session, statement, ["norm_num"]) == ("ok", []), statement


def test_decide_on_divisors_pays_for_every_candidate_below_n(session):
    """`Nat.divisors n` filters `Ico 1 (n + 1)`: decide unfolds n candidates, not the few divisors, and
    runs into Lean's recursion limit long before n = 2000 (Mathlib/NumberTheory/Divisors.lean)."""
    assert attempt(session, "theorem t : ∑ k in Nat.divisors 12, k = 28", ["decide"]) == ("ok", [])
    kind, msg = attempt(session, "theorem t : ∑ k in Nat.divisors 2000, k = 4836", ["decide"])
    assert kind == "error" and "maximum recursion depth" in msg


def test_simp_shows_the_unfolded_arithmetic_as_lean_does(session):
    kind, goals = attempt(session, "theorem t (x : ℝ) (h : x = 2) : x + 2 = 4", ["simp [h]"])
    assert kind == "ok" and goals and goals[0].endswith("⊢ 2 + 2 = 4"), goals


def test_field_simp_cancels_only_what_it_knows_is_nonzero(session):
    """`a / b * b = a` is false at b = 0: `div_mul_cancel₀` needs `b ≠ 0` (probe), which `hb` gives."""
    assert attempt(session, "theorem t (a b : ℝ) : a / b * b = a", ["field_simp"]) != ("ok", [])
    assert attempt(session, "theorem t (a b : ℝ) (hb : b ≠ 0) : a / b * b = a", ["field_simp"]) == ("ok", [])
    assert attempt(session, "theorem t (a b : ℝ) : a * b / b = a", ["field_simp"]) != ("ok", [])
