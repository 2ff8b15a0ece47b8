"""Attacks on the tactics of issue 20 item 3 (`norm_num1`, norm_num's extensions, `change`,
`suffices`, `by_contra!`, `let`, `zify`, `assumption_mod_cast`, `guard_target`/`guard_hyp`, rcases with `rfl` alternatives): each
statement is false in Lean (the comment or the name says why), so each script must be rejected; a
kernel exception counts as a failure, not a rejection. The second table holds true statements the
same tactics prove in Lean (from Mathlib's test files and the forms provers write)."""
from __future__ import annotations

import pytest

from embedded_fixtures import session  # noqa: F401  (fixture)

ATTACKS: dict[str, str] = {
    # norm_num1: evaluation only, with Lean's semantics per type
    "norm_num1 ℕ subtraction truncates": "theorem a : (2 : ℕ) - 3 + 1 = 0 := by norm_num1",
    "norm_num1 ℤ division floors": "theorem a : (-7 : ℤ) / 2 = -3 := by norm_num1",
    "norm_num1 ℕ division": "theorem a : (7 : ℕ) / 2 * 2 = 7 := by norm_num1",
    "norm_num1 field division by zero": "theorem a : (1 : ℚ) / 0 = 1 := by norm_num1",
    "norm_num1 no simp lemmas": "theorem a (x : ℕ) : x + 0 = x + 1 := by norm_num1",
    "norm_num1 leaves True ∧ True": "theorem a (x : ℕ) (h : x = 3) : x = 4 := by norm_num1 at h",
    "norm_num1 hypothesis not False": "theorem a (h : (2 : ℤ) ∣ 4) : False := by norm_num1 at h",
    "norm_num1 rejects lemma lists": "theorem a : (1 : ℕ) = 2 := by norm_num1 [show (1 : ℕ) = 2 from sorry]",
    "norm_num1 Nat.Prime of a composite": "theorem a : Nat.Prime 561 := by norm_num1",
    "norm_num1 Nat.Prime of a Carmichael number": "theorem a : Nat.Prime 41041 := by norm_num1",
    "norm_num1 big composite": "theorem a : Nat.Prime ((2 ^ 19 - 1) * (2 ^ 25 - 39)) := by norm_num1",
    "norm_num1 a prime is not composite": "theorem a : ¬ Nat.Prime 1277 := by norm_num1",
    "norm_num1 divisibility": "theorem a : 553105253 ∣ 553105253 * 776531401 + 1 := by norm_num1",
    "norm_num1 ℤ mod is nonnegative": "theorem a : (-3 : ℤ) % 4 = -3 := by norm_num1",
    "norm_num1 gcd": "theorem a : Nat.gcd 28 16 = 2 := by norm_num1",
    "norm_num1 factorial": "theorem a : Nat.factorial 4 = 25 := by norm_num1",
    # Real.sqrt: only rational roots are values
    "norm_num sqrt of a non-square": "theorem a : Real.sqrt 2 = 1 := by norm_num",
    "norm_num sqrt of a negative": "theorem a : Real.sqrt (-4) = 2 := by norm_num",
    "norm_num sqrt of 24": "theorem a : Real.sqrt 24 = 5 := by norm_num",
    "norm_num sqrt of a fraction": "theorem a : Real.sqrt (25 / 16) = 5 / 2 := by norm_num",
    # change: only definitional restatements
    "change to a different bound": "theorem a (x : ℕ) (h : x > 2) : 3 < x := by\n  change x > 2\n  exact h",
    "change a hypothesis to a stronger one": "theorem a (x : ℕ) (h : 2 < x) : 5 < x := by\n  change 5 < x at h\n  exact h",
    # suffices: the `by` part must prove the old goal, the new goal stays
    "suffices with a false new goal": "theorem a (x : ℕ) (h : x > 2) : x ≠ 0 := by\n  suffices h2 : x > 5 by omega\n  omega",
    "suffices that leaves the old goal": "theorem a (x : ℕ) : x > 5 := by\n  suffices h2 : x > 2 by omega\n  omega",
    "suffices from a wrong term": "theorem a (x : ℕ) (h : x > 2) : x > 5 := by\n  suffices h2 : x > 2 from h\n  exact h",
    # by_contra!: the hypothesis is the negated goal, nothing more
    "by_contra! does not close": "theorem a (x : ℕ) : x > 0 := by\n  by_contra! h\n  omega",
    "by_contra! with a wrong type": "theorem a (x : ℕ) (h0 : x = 0) : x > 0 := by\n  by_contra! h : x > 0\n  omega",
    # let: the definition is an equation, not a free choice
    "let is not a free variable": "theorem a (x : ℕ) : x + 1 = 5 := by\n  let y : ℕ := 4\n  omega",
    "let value at the stated type": "theorem a : (0 : ℕ) - 1 = -1 := by\n  let y : ℤ := 0 - 1\n  omega",
    # zify: truncated subtraction moves only with a fact; assumption_mod_cast matches up to casts only
    "zify a truncated subtraction": "theorem a (a b : ℕ) : a - b + b = a := by\n  zify\n  ring",
    "zify a wrong fact": "theorem a (a b : ℕ) (h : a ≤ b) : a - b + b = a := by\n  zify [h]\n  ring",
    "zify then ℤ reasoning": "theorem a (a : ℕ) : a - 1 + 1 = a := by\n  zify\n  omega",
    "assumption_mod_cast strict vs weak": "theorem a (a b : ℕ) (h : (a : ℤ) ≤ b) : a < b := by assumption_mod_cast",
    "assumption_mod_cast through a subtraction": "theorem a (a b : ℕ) (h : (a : ℤ) - b = 0) : a - b = 0 ∧ a = b := by assumption_mod_cast",
    # guard_target / guard_hyp never prove anything
    "guard_target does not close": "theorem a : (1 : ℕ) = 2 := by guard_target = (1 : ℕ) = 2",
    "guard_target mismatch": "theorem a : (1 : ℕ) = 1 := by\n  guard_target =ₛ (2 : ℕ) = 2\n  rfl",
    "guard_hyp mismatch": "theorem a (h : (1 : ℕ) < 2) : True := by\n  guard_hyp h : 2 < 3\n  trivial",
    # rcases with rfl alternatives splits both cases
    "rcases rfl | h covers both": """theorem a (n : ℕ) (h : ∃ k, n = 2 * k ∨ n = 2 * k + 1) : n % 2 = 0 := by
  rcases h with ⟨k, rfl | h⟩
  · omega
  · omega""",
}

PROOFS: dict[str, str] = {
    "norm_num1 on ℝ": "example : ¬ (7-2)/(2*3) ≥ (1:ℝ) + 2/(3^2) := by norm_num1",
    "norm_num1 then exact": "example (x : ℚ) (h : x = 1) : x = (1/5 + 4/5 : ℚ) := by norm_num1; exact h",
    "norm_num1 prime": "example : Nat.Prime (2 ^ 25 - 39) := by norm_num1",
    "norm_num1 not prime": "example : ¬ Nat.Prime ((2 ^ 19 - 1) * (2 ^ 25 - 39)) := by norm_num1",
    "norm_num1 at h to False": "example (h : (5 : ℤ) ∣ 2) : False := by norm_num1 at h",
    "norm_num1 guard_target": "example (h : False) : ¬True := by norm_num1; guard_target =ₛ False; exact h",
    "norm_num sqrt": "example : Real.sqrt (25 / 16) = 5 / 4 := by norm_num",
    "norm_num sqrt negative": "example : Real.sqrt (-37) = 0 := by norm_num",
    "suffices by": "example (x : ℕ) (h : x > 2) : x ≠ 0 := by\n  suffices h2 : x > 1 by omega\n  omega",
    "suffices two goals": "example (x : ℕ) (h : x > 2) : x ≠ 0 := by\n  suffices h2 : x > 1\n  · omega\n  · omega",
    "change": "example (x : ℕ) (h : 2 < x) : 2 < x := by\n  change x > 2 at h\n  guard_hyp h : x > 2\n  exact h",
    "by_contra!": "example (x : ℕ) (h : x > 2) : x ≠ 0 := by\n  by_contra! h2\n  omega",
    "zify with a fact": "example (a b : ℕ) (h : b ≤ a) : a - b + b = a := by\n  zify [h]\n  ring",
    "assumption_mod_cast": "example (a b : ℕ) (h : (a : ℤ) < b) : a < b := by assumption_mod_cast",
    "let": "example (x : ℕ) (h : x > 2) : 2 < x + 1 := by\n  let y := x + 1\n  omega",
    "rcases rfl alternative": """example (n : ℕ) (h : ∃ k, n = 2 * k ∨ n = 2 * k + 1) : n % 2 = 0 ∨ n % 2 = 1 := by
  rcases h with ⟨k, rfl | h⟩
  · left; omega
  · right; omega""",
}


def _errors(session, text):  # noqa: F811
    r = session.handle({"cmd": text, "env": 0})
    return r, [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]


@pytest.mark.parametrize("label", list(ATTACKS))
def test_false_statement_is_rejected(session, label):  # noqa: F811
    r, errs = _errors(session, ATTACKS[label])
    assert errs or "message" in r, f"accepted: {label}"
    assert not any("kernel exception" in e for e in errs), (label, errs)


@pytest.mark.parametrize("label", list(PROOFS))
def test_lean_proof_is_accepted(session, label):  # noqa: F811
    r, errs = _errors(session, PROOFS[label])
    assert not errs and "message" not in r, (label, errs, r.get("message"))
