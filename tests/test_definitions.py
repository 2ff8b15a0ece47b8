"""Mathlib definitions in the embedded fragment (`lean_env/embedded/definitions.py`): `IsLeast`,
`IsGreatest`, set-builder `{x | p x}`, `s \\ t`, `{a}`, `lowerBounds`/`upperBounds`, `a ≡ b [MOD n]`,
`[ZMOD n]`, `Function.Injective`; and the other forms miniF2F states with (`Equiv ℝ ℝ`, `n /. d`,
`List.sum (Nat.digits 10 n)`). The kernel knows nothing about them but their definitions, which
the tactics unfold where Lean's `whnf` does (`intro`, `constructor`, `obtain`, `⟨_, _⟩`, `h.1`,
applying `h.2 hx`) and rewrite by name (`simp [Nat.ModEq]`, `unfold IsLeast`). The false statements
are the off-by-one and wrong-modulus variants of the true ones, closed by the true one's script."""
from __future__ import annotations

import pytest

from embedded_fixtures import session  # noqa: F401  (fixture)
from lean_env.embedded.parser import ParseError, parse_statement
from lean_env.embedded.terms import pp


def accepted(session, text: str) -> bool:
    r = session.handle({"cmd": text, "env": 0})
    return not [m for m in r.get("messages", []) if m["severity"] == "error"] and not r.get("sorries")


def test_notation_parses_and_prints_as_lean_does():
    st = parse_statement("theorem t : IsLeast { x : ℕ | 0 < x ∧ x ≡ 2 [MOD 3] } 2")
    assert pp(st.goal) == "IsLeast {x | 0 < x ∧ x ≡ 2 [MOD 3]} 2"
    st = parse_statement("theorem t (S : Set ℕ) (u v : ℕ) (h : IsLeast (S \\ {u}) v) (a : ℤ) : a ≡ 4 [ZMOD 5]")
    assert pp(st.binders[-2][1]) == "IsLeast (S \\ {u}) v" and pp(st.goal) == "a ≡ 4 [ZMOD 5]"
    st = parse_statement("theorem t (a b : ℕ) : a ≡ b [ZMOD 5]")   # ℕ variables cast into ℤ, as Lean
    assert pp(st.goal) == "↑a ≡ ↑b [ZMOD 5]"


@pytest.mark.parametrize("statement, message", [
    ("theorem t : IsLeast { x : ℂ | x = 0 } 0", "Preorder ℂ"),    # no order on ℂ
    ("theorem t (x : ℝ) : x ≡ 1 [MOD 2]", "type mismatch"),          # `Nat.ModEq` is about ℕ
    ("theorem t : IsLeast { x : ℕ | 0 < x } (-1)", "Neg ℕ"),
])
def test_what_lean_refuses_does_not_start(statement, message):
    with pytest.raises(ParseError, match=message):
        parse_statement(statement)


TRUE_AND_FALSE = [
    # (true statement, its proof, a false variant the same proof must not prove)
    ("theorem t : IsLeast { x : ℕ | 30 * x ≡ 42 [MOD 47] } 39 := by\n  constructor\n  · norm_num\n"
     "  · intro x hx\n    norm_num [Nat.ModEq] at hx\n    omega", "} 39 ", "} 38 "),
    ("theorem t : IsLeast { x : ℕ | 30 * x ≡ 42 [MOD 47] } 39 := by\n  refine ⟨by decide, fun x hx => ?_⟩\n"
     "  simp only [Set.mem_setOf_eq, Nat.ModEq] at hx\n  omega", "} 39 ", "} 86 "),
    ("theorem t : IsGreatest { x : ℤ | x ^ 2 ≤ 10 } 3 := by\n  constructor\n  · norm_num\n"
     "  · intro x hx\n    simp only [Set.mem_setOf_eq] at hx\n    nlinarith", "} 3 ", "} 4 "),
    ("theorem t (x y : ℕ) (h : x ≡ y [MOD 0]) : x = y := by\n  unfold Nat.ModEq at h\n  simpa using h",
     "[MOD 0]", "[MOD 1]"),
    ("theorem t : 171 ≡ 80 [MOD 13] := by\n  decide", "[MOD 13]", "[MOD 12]"),
    ("theorem t : 171 ≡ 80 [MOD 13] := by\n  norm_num", "[MOD 13]", "[MOD 12]"),
    ("theorem t : (-3 : ℤ) ≡ 2 [ZMOD 5] := by\n  decide", "2 [ZMOD", "3 [ZMOD"),
    ("theorem t (a : ℕ) (h : a ≡ 2 [MOD 3]) : a % 3 = 2 := h", "a % 3 = 2", "a % 3 = 1"),
    ("theorem t (u v : ℕ) (S : Set ℕ) (h : IsLeast S u) (hv : v ∈ S) : u ≤ v := h.2 hv", "u ≤ v", "v ≤ u"),
    ("theorem t (u v : ℕ) (S : Set ℕ) (h : IsLeast S u) (hv : v ∈ S) : u ≤ v := by\n  obtain ⟨h1, h2⟩ := h\n"
     "  exact h2 hv", "u ≤ v", "v ≤ u"),
    ("theorem t (u v : ℕ) (S : Set ℕ) (h : IsLeast (S \\ {u}) v) : v ≠ u := by\n  obtain ⟨h1, h2⟩ := h\n"
     "  simp at h1\n  exact h1.2", "v ≠ u", "v = u"),
    ("theorem t (a : ℕ → ℕ) (h : Function.Injective a) (h1 : a 1 = a 2) : False := by\n  have := h h1\n  omega",
     "a 1 = a 2", "a 1 = a 1"),
    # `σ : Equiv ℝ ℝ`: two functions that only `left_inv`/`right_inv` relate
    ("theorem t (σ : Equiv ℝ ℝ) (h₀ : σ.2 2 = 10) (h₂ : σ.2 1 = 2) : σ.1 (σ.1 10) = 1 := by\n"
     "  have a := σ.right_inv 1\n  have b := σ.right_inv 2\n  rw [h₂] at a\n  rw [h₀] at b\n  rw [b, a]",
     "(σ.1 10) = 1", "(σ.1 10) = 2"),
    ("theorem t (σ : Equiv ℝ ℝ) (h₀ : ∀ x, σ.1 x = 4 * x ^ 3 + 1) : σ.2 33 = 2 := by\n"
     "  have h := σ.left_inv 2\n  rw [h₀] at h\n  norm_num at h\n  exact h", "σ.2 33 = 2", "σ.2 33 = 3"),
    ("theorem t (σ : Equiv ℝ ℝ) : σ.2 (σ.1 3) = 3 := Equiv.symm_apply_apply σ 3", "σ.2 (σ.1 3)", "σ.1 (σ.1 3)"),
    ("theorem t (σ : Equiv ℝ ℝ) (a b : ℝ) (h : σ a = σ b) : a = b := σ.injective h", "σ a = σ b", "σ.2 a = σ.2 b"),
    # `n /. d` is the fraction n / d, `0` when d = 0
    ("theorem t : (3 /. 0 : ℚ) = 0 := by\n  rw [Rat.divInt_eq_div]\n  norm_num", "= 0 :=", "= 3 :="),
    ("theorem t : (1 /. 2 + 1 /. 3 + 1 /. 7 + 1 /. 42).den = 1 := by\n  norm_num", "1 /. 42", "1 /. 41"),
    # `List.sum (Nat.digits b n)` on numerals; `digits 0 n = [n]`
    ("theorem t : (Nat.digits 10 1234).sum = 10 := by\n  norm_num", "= 10", "= 11"),
    ("theorem t : List.sum (Nat.digits 0 7) = 7 := by\n  norm_num", "= 7", "= 0"),
    # `x ^ (n : ℤ)` (zpow): `(x ^ |n|)⁻¹` for n < 0, `0 ^ (-n) = 0`
    ("theorem t : (2 : ℝ) ^ (-(3 : ℤ)) = 1 / 8 := by\n  norm_num", "1 / 8", "1 / 7"),
    ("theorem t : (0 : ℝ) ^ (-(3 : ℤ)) = 0 := by\n  norm_num", "= 0 :=", "= 1 :="),
    # rewriting and simp reach the arguments of local functions (congruence)
    ("theorem t (f : ℝ → ℝ) (h₂ : f 1 = 2) (h : f 2 = 3) : f (f 1) = 3 := by\n  rw [h₂, h]", "= 3 :=", "= 2 :="),
    ("theorem t (f : ℕ → ℕ) (h : f (2 - 3) = 5) : f 0 = 5 := by\n  norm_num at h\n  exact h", "f 0 = 5", "f 1 = 5"),
]


@pytest.mark.parametrize("text, true_part, false_part", TRUE_AND_FALSE)
def test_definitions_unfold_as_lean_unfolds_them(session, text, true_part, false_part):
    assert accepted(session, text), text
    false_text = text.replace(true_part, false_part, 1)
    assert false_text != text
    assert not accepted(session, false_text), false_text


@pytest.mark.parametrize("text", [
    # `[MOD 1]` says nothing, so no script proves `x = y` from it
    "theorem t (x y : ℕ) (h : x ≡ y [MOD 1]) : x = y := by\n  simp [Nat.ModEq] at h\n  omega",
    "theorem t (x y : ℕ) (h : x ≡ y [MOD 1]) : x = y := by\n  unfold Nat.ModEq at h\n  omega",
    "theorem t (x y : ℕ) (h : x ≡ y [MOD 1]) : x = y := by\n  exact h",
    # membership in a `Set` variable is opaque: nothing follows from it
    "theorem t (S : Set ℕ) (u : ℕ) (h : u ∈ S) : u = 0 := by\n  simp at h",
    # omega does not see through `Nat.ModEq` (it is not in its language), as in Lean
    "theorem t (x : ℕ) (h : x ≡ 1 [MOD 2]) : x % 2 = 1 := by\n  omega",
    "theorem t : IsLeast { x : ℝ | 0 < x } 0 := by\n  constructor\n  · norm_num\n  · intro x hx\n    simp at hx\n    linarith",
    # an equivalence's two functions are related by its inverse laws only
    "theorem t (σ : Equiv ℝ ℝ) (x : ℝ) : σ.1 x = σ.2 x := by\n  simp",
    "theorem t (σ : Equiv ℝ ℝ) (x : ℝ) : σ.1 x = x := by\n  exact σ.left_inv x",
    "theorem t (x : ℝ) : x ^ (-(1 : ℤ)) * x = 1 := by\n  ring",                 # false at x = 0
    "theorem t (x : ℝ) : x ^ (-(1 : ℤ)) * x = 1 := by\n  field_simp",
])
def test_false_or_out_of_reach_statements_stay_unproved(session, text):
    assert not accepted(session, text), text
