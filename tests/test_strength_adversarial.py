"""Attacks on the strengthened arithmetic tactics (issue 20 item 3). Every strengthening is a new
way to accept a proof, so for each tactic two lists:

- FALSE: statements false in Lean (the comment says why); the tactic must fail.
- MATHLIB_FAILS: true statements that Mathlib's tactic does not prove (read off its source);
  the kernel must fail too, never stronger than Lean.

A kernel exception counts as a failure of this test, not a rejection."""
from __future__ import annotations

import pytest

from embedded_fixtures import session  # noqa: F401  (fixture)

FALSE: dict[str, str] = {
    # positivity with hypotheses: the bound must be a numeral norm_num signs, the relation exact
    "positivity: -3 ≤ a": "example (a : ℤ) (ha : -3 ≤ a) : 0 ≤ a := by positivity",
    "positivity: 0 ≤ a is not 0 < a": "example (a : ℤ) (ha : 0 ≤ a) : 0 < a := by positivity",
    "positivity: a ≠ 0 is not 0 < a": "example (a : ℚ) (ha : a ≠ 0) : 0 < a := by positivity",
    "positivity: a = -1": "example (a : ℤ) (ha : a = -1) : 0 ≤ a := by positivity",
    "positivity: a + b ≠ 0 from nonzero parts": "example (a b : ℚ) (ha : a ≠ 0) (hb : b ≠ 0) : a + b ≠ 0 := by positivity",
    "positivity: odd power of a nonzero": "example (a : ℚ) (ha : a ≠ 0) : 0 < a ^ 3 := by positivity",
    "positivity: ℤ division truncates": "example (a b : ℤ) (ha : 0 < a) (hb : 0 < b) : 0 < a / b := by positivity",
    "positivity: inverse of a nonzero": "example (a : ℚ) (ha : a ≠ 0) : 0 ≤ a⁻¹ := by positivity",
    "positivity: min with a nonzero": "example (a : ℤ) (ha : a ≠ 0) : 0 ≤ min a 1 := by positivity",
    "positivity: max with one nonzero": "example (a b : ℚ) (ha : a ≠ 0) : max a b ≠ 0 := by positivity",
    "positivity: log 1": "example : 0 < Real.log 1 := by positivity",
    "positivity: log of a cast": "example (n : ℕ) : 0 < Real.log n := by positivity",
    "positivity: sqrt of a nonzero": "example (x : ℝ) (hx : x ≠ 0) : 0 < Real.sqrt x := by positivity",
    "positivity: shifted bound": "example (a : ℤ) (h : 0 ≤ a + 1) : 0 ≤ a := by positivity",
    "positivity: ℕ subtraction": "example (n : ℕ) (h : 0 < n) : 0 < n - 1 := by positivity",
    "positivity: ↑n of a nonzero ℤ": "example (n : ℤ) (h : n ≠ 0) : 0 < (n : ℚ) := by positivity",
    "positivity: negation": "example (a : ℤ) (ha : 0 < a) : 0 < -a := by positivity",
    "positivity: hypothesis about another term": "example (a b : ℤ) (ha : 0 < a) : 0 < b := by positivity",
    # linarith: ∧ splitting, splitNe, `only`
    "linarith: ∧ with a false bound": "example (x : ℚ) (h : 0 ≤ x ∧ x ≤ 2) : x ≤ 1 := by linarith",
    "linarith: ∧ split keeps ℕ truncation": "example (a b : ℕ) (h : a - b = 0 ∧ b = 3) : a ≤ 2 := by linarith",
    "linarith: splitNe one side only": "example (a b : ℚ) (h : a ≠ b) : a < b := by linarith (config := {splitNe := true})",
    "linarith: splitNe on ℕ": "example (a b : ℕ) (h1 : a ≠ b) (h2 : a ≤ b + 1) : a < b := by linarith (config := {splitNe := true})",
    "linarith only: the needed fact left out": "example (x y : ℚ) (h1 : x < y) (h2 : y < 3) : x < 3 := by linarith only [h1]",
    "nlinarith: ∧ of products": "example (x y : ℚ) (h : x * y = 1 ∧ x ≥ 0) : y > 1 := by nlinarith",
    # omega: ∃ hypotheses, natAbs, min/max, powers of numerals, `% 2 ^ i`
    "omega: ∃ witness is not the goal's variable": "example (m : ℕ) (h : ∃ n : ℕ, n > 3) : m > 3 := by omega",
    "omega: ∃ over ℤ can be negative": "example (h : ∃ n : ℤ, n < 5) : False := by omega",
    "omega: shadowed ∃ binder": "example (n : ℕ) (hn : n = 0) (h : ∃ n : ℕ, n = 7) : n = 7 := by omega",
    "omega: natAbs of a negative": "example (x : ℤ) (h : x = -7) : x.natAbs = 0 := by omega",
    "omega: natAbs is not the identity": "example (x : ℤ) : (x.natAbs : ℤ) = x := by omega",
    "omega: min is not max": "example (a b : ℕ) (h : a = 7) (h2 : b = 3) : min a b = 7 := by omega",
    "omega: 2 ^ (e + 1) is not 2 ^ e + 2": "example (e : ℕ) : 2 ^ (e + 1) = 2 ^ e + 2 := by omega",
    "omega: 0 ^ e may be 0": "example (e : ℕ) : 0 < 0 ^ e := by omega",
    "omega: x % 2 ^ i can be 2 ^ i - 1": "example (x i : ℕ) : x % 2 ^ i + 1 < 2 ^ i := by omega",
    "omega: 2 ^ i may be 1": "example (i : ℕ) : 2 ≤ 2 ^ i := by omega",
    # interval_cases forms: `using`, on a term, with a name; values must cover the range
    "interval_cases using: a value left out": "example (n : ℕ) (w₁ : 1 ≤ n) (w₂ : n < 4) : n = 1 ∨ n = 2 := by\n  interval_cases using w₁, w₂\n  all_goals omega",
    "interval_cases on n % 3": "example (n : ℕ) (w : n % 3 < 2) : n % 3 = 0 := by\n  interval_cases n % 3\n  all_goals rfl",
    "interval_cases h : e keeps hypotheses": "example (n : ℕ) (w : n % 3 < 2) (h2 : n % 3 = 1) : False := by\n  interval_cases h : n % 3\n  all_goals omega",
    "interval_cases: ℤ below zero": "example (z : ℤ) (h1 : -2 ≤ z) (h2 : z < 1) : 0 ≤ z := by\n  interval_cases z\n  all_goals norm_num",
    # lemma arguments unified at their carrier: `mul_pos` of two facts, constants at the expected type
    "mul_pos: conclusion at another product": "example (x : ℝ) (hx : 0 < x) : 0 < x * 2 := mul_pos hx hx",
    "mul_pos: a nonnegative argument": "example (x : ℝ) (hx : 0 ≤ x) : 0 < x * x := mul_pos hx hx",
    "zero_lt_one at 2": "example : (0:ℝ) < 2 := zero_lt_one",
    "mul_left_cancel₀ without a ≠ 0": "example (a b c : ℝ) (h2 : a * b = a * c) : b = c := mul_left_cancel₀ h2 h2",
    "mul_nonpos_of_nonpos_of_nonneg of two nonpositives": "example (a b : ℝ) (ha : a ≤ 0) (hb : b ≤ 0) : a * b ≤ 0 := mul_nonpos_of_nonpos_of_nonneg ha hb",
    "Nat.add_mod is not about subtraction": "example (a b : ℕ) : (a - b) % 5 = (a % 5 - b % 5) % 5 := Nat.add_mod a b 5",
    "lt_of_not_ge from ¬ >": "example (a b : ℤ) (h : ¬ a > b) : a < b := lt_of_not_ge h",
    "nlinarith hint at the wrong sign": "example (a b : ℝ) (ha : 0 < a) (hb : 0 < b) : a * b < 0 := by nlinarith [mul_pos ha hb]",
    # ring with symbolic exponents and under function arguments
    "ring: x ^ (n + 1) is not x + x ^ n": "example (x : ℝ) (n : ℕ) : x ^ (n + 1) = x + x ^ n := by ring",
    "ring: x ^ (2 * n) is not 2 * x ^ n": "example (x : ℝ) (n : ℕ) : x ^ (2 * n) = x ^ n * 2 := by ring",
    "ring: truncated exponent": "example (x n : ℕ) : x ^ (n - 1) * x = x ^ n := by ring",
    "ring: x ^ (n + m) is not x ^ n + x ^ m": "example (x : ℤ) (n m : ℕ) : x ^ (n + m) = x ^ n + x ^ m := by ring",
    "ring: (-1) ^ (n + 1) sign": "example (n : ℕ) : (-1 : ℤ) ^ (n + 1) = (-1) ^ n := by ring",
    "ring: under a function, different arguments": "example (f : ℕ → ℕ) : f (2 * 3) = f (2 + 3) := by ring",
    "ring: under a function, ℕ subtraction": "example (f : ℕ → ℕ) (x : ℕ) : f (x - 1 + 1) = f x := by ring",
    "ring_nf under a function then rfl": "example (f : ℤ → ℤ) (x : ℤ) : f (x + x) = f (x * 3) := by\n  ring_nf",
    # apply: `a ≠ b` on `False` leaves `a = b`; a conclusion matched as written, then checked
    "apply ≠ leaves the equation": "example (x : ℝ) (h₀ : x ≠ -1) (h : x + 2 = 0) : False := by\n  apply h₀\n  linarith",
    "apply: instance with the wrong value": "example (f : ℤ → ℤ) (h₁ : ∀ n, Even n → f n = n ^ 2 - 4 * n - 1) : f 4 = 4 ^ 2 - 4 * 3 - 1 := by\n  apply h₁\n  decide",
    "apply: premise false at the instance": "example (f : ℤ → ℤ) (h₁ : ∀ n, Even n → f n = n ^ 2 - 4 * n - 1) : f 3 = 3 ^ 2 - 4 * 3 - 1 := by\n  apply h₁\n  decide",
}

MATHLIB_FAILS: dict[str, str] = {
    # linarith's atoms are not ring-normalised: powers with symbolic exponents stay apart
    "linarith: 2 ^ (n + 1) against 2 * 2 ^ n": "example (n : ℕ) (h : 2 ^ (n + 1) = 8) : 2 * 2 ^ n = 8 := by linarith",
    # omega: a variable base is an atom with no sign; `x / 2 ^ i` facts are nonlinear
    "omega: variable base power": "example (a i : ℕ) (h : 0 < a) : 0 < a ^ i := by omega",
    # linarith ignores `≠` unless asked (`splitNe`), and `only` leaves the context out
    "linarith: ≠ hypothesis without splitNe": "example (a b : ℕ) (h1 : b ≠ a) (h2 : b ≤ a) : b < a := by linarith",
    "linarith only: context not used": "example (x : ℚ) (h : 1 < x) : 0 < x := by linarith only []",
    # `↔` hypotheses are not split
    "linarith: ↔ hypothesis": "example (x : ℚ) (h : x < 0 ↔ 1 < 0) : 0 ≤ x := by linarith",
    # positivity neither splits ∧ nor does linear arithmetic
    "positivity: ∧ hypothesis": "example (a : ℤ) (h : 1 ≤ a ∧ a ≤ 2) : 0 < a := by positivity",
    "positivity: difference": "example (a b : ℤ) (h : a < b) : 0 < b - a := by positivity",
    "positivity: chained bound": "example (a b : ℤ) (h : 1 ≤ b) (h2 : b ≤ a) : 0 < a := by positivity",
    # `evalAbs`: a base that core proves only nonnegative gives nothing (abs_nonneg is the
    # fallback when core fails)
    "positivity: |a| with 0 ≤ a": "example (a : ℤ) (ha : 0 ≤ a) : 0 ≤ |a| := by positivity",
    # `x ^ (2 : ℝ)` is `Real.rpow`: no even-exponent rule
    "positivity: rpow with an even exponent": "example (x : ℝ) : 0 ≤ x ^ (2 : ℝ) := by positivity",
}

SHOULD_PROVE: dict[str, str] = {   # Mathlib's test file (or Lean) proves these; the kernel must too
    "ring: symbolic exponent (Mathlib's ring test)": "example (n : ℕ) (m : ℤ) : 2^(n+1) * m = 2 * 2^n * m := by ring",
    "ring: power of a sum": "example (x y : ℝ) (n : ℕ) : (x + y) ^ (n + 1) = (y + x) ^ n * (x + y) := by ring",
    "mul_pos of ∧ parts": "example (a b c : ℝ) (h₀ : 0 < a ∧ 0 < b ∧ 0 < c) : 0 < a * b := mul_pos h₀.left h₀.right.left",
    "have with mul_pos": "example (x : ℝ) (hx : 0 < x) : 0 < x * x := by\n  have h : 0 < x * x := mul_pos hx hx\n  exact h",
    "zero_le_one at ℝ": "example : (0:ℝ) ≤ 1 := zero_le_one",
    "interval_cases using": "example (n : ℕ) (w₁ : 1 ≤ n) (w₂ : n < 3) : n = 1 ∨ n = 2 := by\n  interval_cases using w₁, w₂\n  · left; rfl\n  · right; rfl",
    "positivity: 3 < a": "example {a : ℤ} (ha : 3 < a) : 0 < a ^ 2 + a := by positivity",
    "positivity: a ≠ 0 even power": "example {a : ℚ} (ha : a ≠ 0) : 0 < a ^ 18 := by positivity",
    "positivity: nonneg and nonzero": "example {a : ℤ} (hlt : 0 ≤ a) (hne : a ≠ 0) : 0 < a := by positivity",
}


def _errors(session, text):  # noqa: F811
    r = session.handle({"cmd": text, "env": 0})
    errs = [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]
    assert not any("kernel exception" in e for e in errs), errs
    return errs or ([r["message"]] if "message" in r else [])


@pytest.mark.parametrize("label", list(FALSE))
def test_false_statement_is_rejected(session, label):  # noqa: F811
    assert _errors(session, FALSE[label]), f"accepted: {label}"


@pytest.mark.parametrize("label", list(MATHLIB_FAILS))
def test_what_mathlib_cannot_prove_is_rejected(session, label):  # noqa: F811
    assert _errors(session, MATHLIB_FAILS[label]), f"stronger than Mathlib: {label}"


@pytest.mark.parametrize("label", list(SHOULD_PROVE))
def test_what_mathlib_proves_is_accepted(session, label):  # noqa: F811
    assert not _errors(session, SHOULD_PROVE[label]), label
