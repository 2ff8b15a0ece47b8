"""Attacks on the typed kernel (issue 18): false statements, each proved by a script that would
go through if a type were dropped somewhere — the classes of the issue's table (`.trans`/`calc`
across carriers, `∣` lifted through a cast, untyped numerals, floor/ceil arguments, the `use`
discharger, binder ascriptions, the expected type of `min`/`max`/`|·|`/`∑`/`∏`/local functions)
and the plain ways of moving a fact between types (`exact`, `assumption`, `simpa`, `omega`,
`linarith`, `exact_mod_cast`). Each statement is false in Lean (the comment says why), so each
script must be rejected; a kernel exception counts as a failure of this test, not a rejection."""
from __future__ import annotations

import pytest

from embedded_fixtures import session  # noqa: F401  (fixture)

ZERO_MINUS = "  have h : (0:ℤ) - 1 + 1 = 0 := by norm_num\n"

ATTACKS: dict[str, str] = {
    # a lemma's own variable named like a local one: `pow_succ`'s `a ↦ n, n ↦ 1` substituted one
    # after the other turned the goal's `n ^ 2` into `1 ^ 1 * 1` (found by the fuzzer's perturbations;
    # false at n = 1)
    "rewrite lemma binder named like a local": """theorem a (n : ℕ) : 3 ∣ n ^ 2 + n := by
  induction' n with n ih
  norm_num
  ring_nf
  repeat rw [pow_succ]
  omega""",
    "rewrite lemma binder named like a local, directly": """theorem a (n : ℕ) : n ^ 2 = 1 := by
  rw [pow_succ]""",
    # .trans / Eq.trans / le_trans / calc across carriers
    "Eq.trans lemma across ℤ and ℕ": """theorem a : False := by
  have h1 : (-1 : ℤ) = 1 - 2 := by norm_num
  have h2 : (1 - 2 : ℕ) = 0 := by norm_num
  exact absurd (Eq.trans h1 h2) (by norm_num)""",
    "LE.le.trans across ℕ and ℤ": """theorem a : (0 : ℤ) ≤ -2 := by
  have h1 : (0 : ℕ) ≤ 1 - 3 := by norm_num
  have h2 : (1 - 3 : ℤ) ≤ -2 := by norm_num
  exact h1.trans h2""",
    "le_trans lemma across ℕ and ℤ": """theorem a : (0 : ℤ) ≤ -2 := by
  have h1 : (0 : ℕ) ≤ 1 - 3 := by norm_num
  have h2 : (1 - 3 : ℤ) ≤ -2 := by norm_num
  exact le_trans h1 h2""",
    ".trans_le across ℤ and ℕ": """theorem a : (0 : ℤ) < 0 := by
  have h1 : (0 : ℤ) < 2 - 1 := by norm_num
  have h2 : (2 - 1 : ℕ) ≤ 1 - 1 := by norm_num
  exact h1.trans_le h2""",
    "calc with a link over ℕ": """theorem a : (0 : ℤ) ≤ -2 := by
  calc (0 : ℤ) ≤ 1 - 1 := by norm_num
    _ ≤ ((1 - 3 : ℕ) : ℤ) := by norm_num
    _ ≤ -2 := by norm_num""",
    "▸ across carriers": """theorem a : (0 : ℕ) = 1 := by
  have h1 : (1 - 2 : ℤ) = -1 := by norm_num
  have h2 : (1 - 2 : ℕ) = 0 := by norm_num
  exact h1 ▸ h2""",
    # a fact over ℤ used for the ℕ goal that prints the same (0 - 1 + 1 is 1 in ℕ)
    "exact an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  exact h",
    "assumption of an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  assumption",
    "simpa using an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  simpa using h",
    "rw with an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  rw [h]",
    "omega with an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  omega",
    "linarith with an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  linarith",
    "exact_mod_cast an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  exact_mod_cast h",
    "simp [h] with an ℤ fact": "theorem a : (0:ℕ) - 1 + 1 = 0 := by\n" + ZERO_MINUS + "  simp [h]",
    # ∣ lifted through a cast from a field (every nonzero number divides in ℚ and ℝ)
    "norm_cast lifts ∣ from ℚ": """theorem a : (2 : ℕ) ∣ 3 := by
  have h := dvd_mul_right ((2 : ℕ) : ℚ) (3 / 2)
  have e : ((2 : ℕ) : ℚ) * (3 / 2) = ((3 : ℕ) : ℚ) := by norm_num
  rw [e] at h
  exact_mod_cast h""",
    "Int.natCast_dvd_natCast at ℝ": """theorem a : (2 : ℕ) ∣ 3 := by
  have h := dvd_mul_right ((2 : ℕ) : ℝ) (3 / 2)
  have e : ((2 : ℕ) : ℝ) * (3 / 2) = ((3 : ℕ) : ℝ) := by norm_num
  rw [e] at h
  exact Int.natCast_dvd_natCast.mp h""",
    # numerals built by tactics (cases/induction/subst) must carry ℕ
    "cases then an ℤ rewrite": """theorem a (n : ℕ) : n - 1 + 1 = n := by
  obtain ⟨y, hy⟩ : ∃ y : ℤ, (0:ℤ) = y := ⟨0, rfl⟩
  cases n with
  | zero => rw [hy]; omega
  | succ k => omega""",
    "subst then an ℤ rewrite": """theorem a (n : ℕ) (hn : n = 0) : n - 1 + 1 = n := by
  have hy : (0:ℤ) - 1 + 1 = 0 := by norm_num
  subst hn
  rw [hy]""",
    # floor/ceil arguments at their own type
    "floor of different reals by rfl": "theorem a (x : ℝ) : Int.floor (x + 1/2) = Int.floor x := by rfl",
    "ceil of a half is zero": "theorem a : Int.ceil ((1:ℝ) / 2) = 0 := by norm_num",
    "floor of 7/2 over ℚ is 4": "theorem a : Int.floor ((7:ℚ) / 2) = 4 := by norm_num",
    # the use discharger
    "use closes an ℕ goal with an ℤ fact": """theorem a : ∃ x : ℕ, x - 5 < 0 := by
  have h : (3:ℤ) - 5 < 0 := by norm_num
  use 3""",
    "anonymous constructor with an ℤ fact": """theorem a : ∃ x : ℕ, x - 5 < 0 := by
  have h : (3:ℤ) - 5 < 0 := by norm_num
  exact ⟨3, h⟩""",
    "exists closes with an ℤ fact": """theorem a : ∃ x : ℕ, x - 5 < 0 := by
  have h : (3:ℤ) - 5 < 0 := by norm_num
  exists 3""",
    # binder ascriptions type the binder
    "ascribed binder: omega": "theorem a : ∀ x, (x : ℤ) + 1 > 0 := by intro x; omega",
    "ascribed binders: positivity": "theorem a : ∀ x y, (x - y : ℤ) ≥ 0 := by intro x y; positivity",
    "ascribed binder over ℝ: positivity": "theorem a : ∀ x, (x : ℝ) ^ 2 > 0 := by intro x; positivity",
    "ascribed binder under ∃ ": "theorem a : ∀ x, ∃ y, (x - y : ℤ) > x := by intro x; exact ⟨0, by omega⟩",
    # the expected type flows into min/max/|·|/∑/∏ and local functions
    "∑ at ℤ by decide": "theorem a : (∑ i in Finset.range 4, (i - 2) : ℤ) = 1 := by decide",
    "∏ at ℤ by norm_num": "theorem a : (∏ i in Finset.range 2, (i - 2) : ℤ) = 0 := by norm_num",
    "∑ at ℤ by simp": "theorem a : (∑ i in Finset.range 3, (i - 1) : ℤ) = 1 := by simp [Finset.sum_range_succ]",
    "max at ℤ by omega": "theorem a (a b : ℕ) : (max (a - b) 0 : ℤ) = a - b := by omega",
    "min at ℤ by omega": "theorem a (a b : ℕ) : (min (a - b) (b - a) : ℤ) = 0 := by omega",
    "min at ℤ by positivity": "theorem a (a b : ℕ) : (min (a - b) 5 : ℤ) ≥ 0 := by positivity",
    "|·| at ℤ by simp": "theorem a (a b : ℕ) : (|a - b| : ℤ) = a - b := by simp",
    "local function argument at ℤ": """theorem a (f : ℤ → ℤ) (hf : ∀ x, f x = x) : f (0 - 1) = 0 := by
  rw [hf]
  norm_num""",
    "local function argument at ℤ, simp": "theorem a (f : ℤ → ℤ) (hf : ∀ x, f x = x) : f (0 - 1) = 0 := by simp [hf]",
    # casts around truncating operations
    "push_cast through a truncated subtraction": "theorem a (n : ℕ) : ((n - 1 : ℕ) : ℤ) = n - 1 := by push_cast; ring",
    "norm_cast a subtraction": "theorem a (n : ℕ) : ((n - 1 : ℕ) : ℤ) = (n : ℤ) - 1 := by norm_cast",
    "an ℤ division read as ℝ": "theorem a : ((7 / 2 : ℤ) : ℝ) = 7 / 2 := by norm_num",
}


@pytest.mark.parametrize("label", list(ATTACKS))
def test_false_statement_is_rejected(session, label):  # noqa: F811
    r = session.handle({"cmd": ATTACKS[label], "env": 0})
    errs = [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]
    assert errs or "message" in r, f"accepted: {label}"
    assert not any("kernel exception" in e for e in errs), (label, errs)


def test_there_are_enough_attacks():
    assert len(ATTACKS) >= 20
