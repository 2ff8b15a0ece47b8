"""Plain `simp` folds numeral arithmetic only where Lean's simprocs do (ℕ, ℤ); over ℚ, ℝ and ℂ it
takes `norm_num`. Each statement below is true: the kernel must reject the proof Lean rejects and
accept the one Lean takes.

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


def test_simp_shows_the_unfolded_arithmetic_as_lean_does(session):
    kind, goals = attempt(session, "theorem t (x : ℝ) (h : x = 2) : x + 2 = 4", ["simp [h]"])
    assert kind == "ok" and goals and goals[0].endswith("⊢ 2 + 2 = 4"), goals
