"""The typed core: Lean's elaboration of ℕ/ℤ terms (binop% casts, numerals, untyped binders),
typed library lemmas, and capture-free binders. Each rejected case is a statement the kernel
must not prove (most are false; the rest are true but the proof is wrong in Lean)."""
from __future__ import annotations

import pytest

from lean_env.embedded.parser import ParseError, parse_statement
from lean_env.embedded.session import Session
from lean_env.embedded.terms import pp


@pytest.fixture(scope="module")
def session():
    s = Session()
    s.handle({"cmd": "import Mathlib"})
    return s


def errors(session, cmd: str) -> list[str]:
    r = session.handle({"cmd": cmd, "env": 0})
    assert "message" not in r or "internal" not in r["message"], r
    return [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]


# ---------------------------------------------------------------- elaboration

ELABORATED = [
    # (statement, goal as Lean prints it after elaboration)
    ("theorem t (a : ℕ) (b : ℤ) : a - b ≥ 0", "↑a - b ≥ 0"),
    ("theorem t (a b : ℕ) : ((a - b : ℕ) : ℤ) = a - b", "↑(a - b) = ↑a - ↑b"),
    ("theorem t (a b : ℕ) : (a - b : ℤ) = 0", "↑a - ↑b = 0"),
    ("theorem t (n : ℕ) (x : ℤ) : x < n ^ 2 + 1", "x < ↑n ^ 2 + 1"),
    ("theorem t (n : ℕ) (x : ℤ) : x ^ n ≥ 0", "x ^ n ≥ 0"),
    ("theorem t (y : ℤ) : ∀ x, x < y → x ≤ y", "∀ x < y, x ≤ y"),
    ("theorem t : (5 : ℕ) - 7 = (5 : ℤ) - 7", "↑5 - 7 = 5 - 7"),
]


@pytest.mark.parametrize("statement,printed", ELABORATED)
def test_relations_meet_at_the_larger_type_with_casts(statement, printed):
    assert pp(parse_statement(statement).goal) == printed


def test_untyped_binders_get_their_type_from_their_uses():
    q = parse_statement("theorem t (y : ℤ) : ∃ x, x = y").goal
    assert q.ty == "ℤ"
    assert parse_statement("theorem t : ∀ x, x + 1 > 0").goal.ty == "ℕ"
    assert parse_statement("theorem t (y : ℤ) : ∀ x > y, x ≥ y").goal.ty == "ℤ"
    assert parse_statement("theorem t : ∀ p, p ∨ ¬p").goal.ty == "Prop"
    linked = parse_statement("theorem t (z : ℤ) : ∀ x y, x < y → y = z → x ≥ 0").goal
    assert (linked.ty, linked.body.ty) == ("ℤ", "ℤ")   # x meets z only through y


@pytest.mark.parametrize("statement", [
    "theorem t : (-1 : ℕ) < 0", "theorem t (n : ℕ) : n > -1", "theorem t : -1 < 0",
    "theorem t (n : ℕ) : ∀ x, x = n → -x = 0",
])
def test_negation_at_nat_fails_to_synthesize_neg(statement):
    with pytest.raises(ParseError, match="failed to synthesize\n  Neg ℕ"):
        parse_statement(statement)


def test_an_integer_where_a_natural_is_expected_is_a_type_mismatch():
    with pytest.raises(ParseError, match="type mismatch"):
        parse_statement("theorem t (x : ℤ) (n : ℕ) : ((x : ℕ) : ℤ) = n")


# ---------------------------------------------------------------- false statements stay unproved

FALSE_PROOFS = [
    "theorem t : (1 : ℕ) = 2 := by decide",
    "theorem t : (1 : ℕ) = 2 := by norm_num",
    "theorem t : (1 : ℕ) = 2 := by simp",
    "theorem t : (1 : ℕ) = 2 := by omega",
    "theorem t : (1 : ℕ) = 2 := rfl",
    "theorem t : False := by omega",
    "theorem t : False := by simp",
    "theorem t : False := by norm_num",
    # truncated subtraction under a cast is not the integer subtraction
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by omega",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by linarith",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by push_cast; ring",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by norm_num",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by simp",
    "theorem t : ((5 - 7 : ℕ) : ℤ) = -2 := by norm_num",
    "theorem t : ((5 - 7 : ℕ) : ℤ) = -2 := by decide",
    "theorem t : ((5 - 7 : ℕ) : ℤ) = -2 := by omega",
    # a relation is about the larger type, not the type of its leftmost leaf
    "theorem t (a : ℕ) (b : ℤ) (h : b > a) : a - b ≥ 0 := by omega",
    "theorem t (a : ℕ) (b : ℤ) (h : b > a) : a - b ≥ 0 := by linarith",
    "theorem t (a : ℕ) (b : ℤ) (h : b > a) : a - b ≥ 0 := by simp",
    "theorem t (a : ℕ) (b : ℤ) (h : b = a + 1) : a - b = 0 := by omega",
    # division and remainder by zero
    "theorem t : (7 : ℕ) / 0 = 7 := by norm_num",
    "theorem t : (7 : ℤ) % 0 = 0 := by decide",
    "theorem t (x : ℤ) : x / 0 = 1 := by simp",
    # an untyped binder next to an integer is an integer
    "theorem t (y : ℤ) (h : y = 0) : ∀ x, x < y → False := by intro x hx; omega",
    "theorem t (y : ℤ) (h : y = 0) : ∀ x, x < y → False := by intro x hx; simp at hx",
    "theorem t (y : ℤ) (h : y = 0) : ∀ x < y, False := by intro x hx; omega",
    "theorem t (z : ℤ) : ∀ x y, x < y → y = z → x ≥ 0 := by intro x y h1 h2; omega",
    # a ring lemma at a semiring, a ℕ lemma at ℤ
    "theorem t (a b : ℕ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := sub_sq a b",
    "theorem t (a b : ℕ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := by rw [sub_sq]",
    "theorem t (a b : ℕ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := by have h := sub_sq a b; exact h",
    "theorem t (a b c d : ℤ) (h1 : a ≤ c) (h2 : b ≤ d) : a * b ≤ c * d := Nat.mul_le_mul h1 h2",
    "theorem t (a b c d : ℤ) (h1 : a ≤ c) (h2 : b ≤ d) : a * b ≤ c * d := by apply Nat.mul_le_mul <;> assumption",
    "theorem t (a b c d : ℤ) (h1 : a ≤ c) (h2 : b ≤ d) : a * b ≤ c * d := by nlinarith [Nat.mul_le_mul h1 h2]",
    "theorem t (x : ℤ) : 0 ≤ x := Nat.zero_le x",
    "theorem t (x : ℤ) : 0 ≤ x := by apply Nat.zero_le",
    "theorem t (x : ℤ) : 0 ≤ x := by exact Nat.zero_le _",
    "theorem t (x : ℤ) : 0 ≤ x := by have h := Nat.zero_le x; exact h",
    "theorem t (x : ℤ) : 0 ≤ x := by linarith [Nat.zero_le x]",
    "theorem t (m n : ℤ) (h : m ≤ n) : n - m + m = n ∧ m ≥ 0 := by have := Nat.sub_add_cancel h; omega",
    # unevaluated closed terms keep their type when compared
    "theorem t (h : (2 : ℕ) ^ 100000 - 2 ^ 100001 = 0) : (2 : ℤ) ^ 100000 - 2 ^ 100001 = 0 := h",
    "theorem t (h : (2 : ℕ) ^ 100000 - 2 ^ 100001 = 0) : (2 : ℤ) ^ 100000 - 2 ^ 100001 = 0 := by exact h",
    # a numeral rewrite at another type
    "theorem t (h : (5 : ℤ) - 7 = -2) (h1 : (5 : ℕ) - 7 = 0) : False := by rw [h] at h1; simp at h1",
    # capture: renaming must never change what a statement says
    "theorem t (a b : ℕ) (h : a = b) : ∀ b : ℕ, a = b := by rw [h]; intro c; rfl",
    "theorem t (a b : ℕ) (h : a = b) : ∀ b : ℕ, a = b := by simp [h]",
    "theorem t (a b : ℕ) (h : a = b) : ∀ b : ℕ, a = b := by subst h; intro c; rfl",
    "theorem t (a b : ℕ) (h : a = b + 1) : ∀ b : ℕ, a = b + 1 := by nth_rw 1 [h]; intro c; rfl",
    "theorem t (a b : ℕ) (h : a = b + 1) : ∀ b : ℕ, a = b + 1 := by simp_all",
    "theorem t (a b : ℕ) (h : a = b + 1) : ∀ b : ℕ, a = b + 1 := by norm_num [h]",
    "theorem t (x : ℕ) (h : ∀ y : ℕ, ∃ x : ℕ, x > y) : ∃ y, y > y := by obtain ⟨z, hz⟩ := h x; exact ⟨z, hz⟩",
    "theorem t (a : ℕ) (h : ∀ b : ℕ, a ≤ b) : ∀ a : ℕ, a ≤ 0 := by intro a; exact h 0",
    "theorem t (x : ℕ) (h : ∃ y : ℕ, y > x) : ∃ z : ℕ, z > z := by obtain ⟨x, hx⟩ := h; exact ⟨x, hx⟩",
    "theorem t (x : ℕ) (h : x = 0) : ∀ y : ℕ, y = x → y = 1 := by intro x hx; omega",
    # cast tactics move casts only where the lemmas allow
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by push_cast",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by norm_cast",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := Nat.cast_sub h",
    "theorem t (a b : ℕ) (h : a < b) : ((a - b : ℕ) : ℤ) = a - b := by rw [Nat.cast_sub h]",
    "theorem t (a b : ℤ) (h : a ≤ b) : ((a - b : ℤ) : ℤ) = 0 := by exact_mod_cast h",
    "theorem t (x : ℤ) : (0 : ℤ) ≤ x := by positivity",
    "theorem t (x : ℤ) (n : ℕ) (h : x = n) : x ≥ 0 ∧ x ≠ 0 := by constructor <;> positivity",
    "theorem t (x : ℕ) : (x : ℤ) - 1 ≥ 0 := by exact_mod_cast Nat.zero_le (x - 1)",
    "theorem t (a b : ℤ) (h1 : a ≤ b) (h2 : b ≤ a + 1) : a < b := h1.trans_lt h2",
    "theorem t (n : ℕ) (h : n < 5) : n + 2 ≤ 5 := h",
    "theorem t (x : ℕ) (hx : x = 0) : x = 1 := by have x : x + 1 > 0 := by omega; exact hx",
    "theorem t (p q : Prop) : p → q → p := fun hp hq => hq",
    "theorem t (x : ℕ) (h : x = 1) : ∀ x : ℕ, x = 1 := fun x => h",
    "theorem t (x : ℕ) (h : x = 1) : ∀ y : ℤ, x = 1 := fun (y : ℕ) => h",
    "theorem t (n : ℕ) (hn : n > 0) : ∃ m : ℕ, ∀ n : ℕ, n ≤ m := ⟨n, fun k => by omega⟩",
    # a later binder shadows an earlier one (K4's fuzzer, H1)
    "theorem t (x : ℕ) (h : x = 1) (x : ℕ) : x = 1 := by exact h",
    "theorem t (x : ℕ) (h : x = 1) (x : ℕ) : x = 1 := by omega",
    "theorem t (x : ℤ) (h₀ : x < 3) (x : ℤ) : x - 1 < 4 := by omega",
    "theorem t (x : ℕ) (h : x = 1) (x : ℤ) : x = 1 := by simp_all",
    "theorem t (x : ℤ) : 0 ≤ x := Nat.zero_le _",
    "theorem t (x y : ℕ) : x + y = x + y + 1 := Nat.add_comm _ _",
    "theorem t (x : ℤ) (hx : x < 3) : x ≤ 2 := Nat.le_of_lt_succ hx",
    "theorem t : (7 : ℤ) ∣ 22 := ⟨3, by norm_num⟩",
    "theorem t (a b : ℕ) (h : a * b = 0) : b = 0 := by simp_all",
    "theorem t (x : ℤ) (h₁ : x * (x + 2) = 15) : x = 3 := by nlinarith",
    "theorem t (a : ℕ) : a ≤ a := rfl",     # the term rfl is Eq.refl (the rfl tactic knows le_refl)
    "theorem t (x : ℕ) (h : x = 1 ∨ x = 2) : x ≥ 2 := h.elim (fun h1 => by omega) (fun h2 => by omega)",
    "theorem t (p q : Prop) (h : p ∨ q) (hp : ¬p) : p := Or.resolve_left h hp",
    "theorem t (a b : ℤ) (h : a = b) : b < a := h.le",
    "theorem t (x : ℕ) (h : x < 3) : x < 5 := by exact (by omega : x < 4)",
    "theorem t (a b : ℤ) (h : a < b) : a ≤ b := le_of_lt (h : b < a)",
    "theorem t (x : ℤ) : Nat.succ x > x := by omega",
    # inaccessible names cannot be mentioned in a proof (Lean's lexer has no `x✝` identifier)
    "theorem t (x : ℕ) (h : x = 1) : ∀ x : ℕ, x = 1 := by intro x; exact h",
    "theorem t (x : ℕ) (h : x = 1) : ∀ x : ℕ, x✝ = 1 := by intro x; exact h",
    # clear never leaves a variable's uses behind with a different type
    "theorem t (x : ℤ) (h : x < 0) : x < 0 := by clear x; omega",
]


@pytest.mark.parametrize("cmd", FALSE_PROOFS)
def test_wrong_proofs_are_rejected(session, cmd):
    assert errors(session, cmd), cmd


def test_lemma_errors_are_leans(session):
    assert any("CommRing ℕ" in e for e in errors(
        session, "theorem t (a b : ℕ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := sub_sq a b"))
    assert any("type mismatch" in e for e in errors(session, "theorem t (x : ℤ) : 0 ≤ x := Nat.zero_le x"))


# ---------------------------------------------------------------- what Lean does prove

TRUE_PROOFS = [
    "theorem t (a b : ℕ) (h : b ≤ a) : ((a - b : ℕ) : ℤ) = a - b := by omega",
    "theorem t (n : ℕ) : (n : ℤ) ≥ 0 := by omega",
    "theorem t (n : ℕ) : (n : ℤ) ≥ 0 := by linarith",
    "theorem t (x : ℤ) (y : ℕ) (h : x = y) : x ≥ 0 := by omega",
    "theorem t (a b : ℤ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := sub_sq a b",
    "theorem t (a b : ℤ) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2 := by rw [sub_sq]",
    "theorem t (a b : ℕ) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2 := add_sq a b",
    "theorem t (n : ℕ) : 0 < n + 1 := Nat.succ_pos n",
    "theorem t (n : ℕ) : n + 0 = n := by rw [Nat.add_zero]",
    "theorem t (b n : ℕ) : b ^ (n + 1) = b ^ n * b := by rw [Nat.pow_succ]",
    "theorem t (a b : ℕ) (ha : 0 < a) (hb : 0 < b) : 0 < a * b := mul_pos ha hb",
    "theorem t (a b : ℤ) (ha : 0 < a) (hb : 0 < b) : 0 < a * b := by apply mul_pos <;> assumption",
    "theorem t (x : ℤ) : x + 0 = x := by rw [add_zero]",
    "theorem t : ∀ x > 0, x ≥ 1 := by intro x hx; omega",
    "theorem t (y : ℤ) : ∃ x, x < y := ⟨y - 1, by omega⟩",
    "theorem t : (5 : ℕ) - 7 = (5 : ℤ) - 7 := by norm_num",
    "theorem t : ((5 - 7 : ℕ) : ℤ) = 0 := by norm_num",
    "theorem t (a b : ℕ) (h : a = b) : ∀ c : ℕ, a + c = b + c := by rw [h]; intro c; rfl",
    "theorem t (x : ℕ) (h : x = 0) : ∀ y : ℕ, y = x → y = 0 := by intro x hx; omega",
    "theorem t (x : ℤ) (h : x = 2) : (x : ℤ) * 2 = 4 := by subst h; norm_num",
    # cast lemmas and the tactics that know them
    "theorem t (a b : ℕ) : ((a + b : ℕ) : ℤ) = a + b := by push_cast",
    "theorem t (a b : ℕ) : ((a + b : ℕ) : ℤ) = a + b := by simp",
    "theorem t (a b : ℕ) : ((a + b : ℕ) : ℤ) = a + b := Nat.cast_add a b",
    "theorem t (n : ℕ) : ((n + 1 : ℕ) : ℤ) ^ 2 = n ^ 2 + 2 * n + 1 := by push_cast; ring",
    "theorem t (a b : ℕ) (h : b ≤ a) : ((a - b : ℕ) : ℤ) = a - b := Nat.cast_sub h",
    "theorem t (a b : ℕ) (h : b ≤ a) : ((a - b : ℕ) : ℤ) = a - b := by rw [Nat.cast_sub h]",
    "theorem t (a b : ℕ) (h : a ≤ b) : (a : ℤ) ≤ b := by exact_mod_cast h",
    "theorem t (a b : ℕ) (h : (a : ℤ) < b) : a < b := by exact_mod_cast h",
    "theorem t (a b : ℕ) (h : a ≤ b) : (a : ℤ) ≤ b := by norm_cast",
    "theorem t (n : ℕ) : (0 : ℤ) ≤ n := by positivity",
    "theorem t (n : ℕ) : (0 : ℤ) ≤ n := by simp",
    "theorem t (n : ℕ) : (0 : ℤ) ≤ n := Int.natCast_nonneg n",
    # fields of global names, transitivity fields, `<` is `+ 1 ≤` by definition
    "theorem t (n m : ℕ) (h : n < m) : n + 1 ≤ m := Nat.succ_le.mpr h",
    "theorem t (a b c : ℤ) (h1 : a ≤ b) (h2 : b < c) : a < c := h1.trans_lt h2",
    "theorem t (n m : ℕ) (h : n < m) : n + 1 ≤ m := h",
    "theorem t (a b : ℕ) (h : a = b) : b = a := Eq.symm h",
    # Nat literals unify with offsets; `∣` unfolds to its ∃; mul_eq_zero; nlinarith uses ℕ atoms ≥ 0
    "theorem t (x : ℕ) (hx : x < 3) : x ≤ 2 := Nat.le_of_lt_succ hx",
    "theorem t : (7 : ℤ) ∣ 21 := ⟨3, by norm_num⟩",
    "theorem t (a b : ℕ) (h : a * b = 0) (ha : a ≠ 0) : b = 0 := by simp_all",
    "theorem t (x y : ℕ) (h₀ : y = x + 2) (h₁ : x * y = 15) : x = 3 := by subst h₀; nlinarith",
    # Nat.succ n is n + 1
    "theorem t (n : ℕ) : n.succ = n + 1 := rfl",
    "theorem t (n : ℕ) : ∃ m : ℕ, m > n := ⟨n.succ, by omega⟩",
    # a proof ascribed its proposition
    "theorem t (x : ℕ) (h : x < 3) : x < 5 := by have := (by omega : x < 4); omega",
    "theorem t (a b : ℤ) : a ^ 2 + b ^ 2 ≥ 2 * a * b := by nlinarith [(by positivity : (0:ℤ) ≤ (a - b) ^ 2)]",
    "theorem t (x : ℕ) (h : x = 2) : x + 1 = 3 := (by have h2 : x = 2 := h; omega : x + 1 = 3)",
    # `_` arguments are solved by unification
    "theorem t (a b : ℕ) : 0 ≤ a - b := Nat.zero_le _",
    "theorem t (x y : ℕ) : x + y = y + x := Nat.add_comm _ _",
    # logic lemmas and generalized field notation (`h.elim` is `Or.elim h`)
    "theorem t (p q r : Prop) (h : p ∨ q) (hp : p → r) (hq : q → r) : r := h.elim hp hq",
    "theorem t (x : ℕ) (h : x = 1 ∨ x = 2) : x ≥ 1 := Or.elim h (fun h1 => by omega) (fun h2 => by omega)",
    "theorem t (p q : Prop) (h : p ∨ q) (hp : ¬p) : q := Or.resolve_left h hp",
    "theorem t (a b : ℤ) (h : a = b) : a ≤ b := h.le",
    "theorem t (a b : ℕ) (h : a ≠ b) (h' : a ≤ b) : a < b := h.lt_of_le h'",
    # `fun` proof terms
    "theorem t : ∀ x : ℤ, x ^ 2 ≥ 0 := fun x => sq_nonneg x",
    "theorem t (p q : Prop) : p ∧ q ↔ q ∧ p := ⟨fun h => ⟨h.2, h.1⟩, fun h => ⟨h.2, h.1⟩⟩",
    "theorem t (n : ℕ) (hn : n > 0) : ∃ m : ℕ, ∀ k : ℕ, k ≤ m → k ≤ n + m := ⟨n, fun k hk => by omega⟩",
    "theorem t (x : ℕ) (h : x = 1) : ∀ y : ℕ, x = 1 := fun x => h",
    "theorem t (p : Prop) (hp : p) : ¬¬p := fun hn => hn hp",
]


@pytest.mark.parametrize("cmd", TRUE_PROOFS)
def test_what_lean_proves_still_checks(session, cmd):
    assert errors(session, cmd) == [], cmd


def test_shadowed_names_become_inaccessible_and_keep_their_meaning(session):
    r = session.handle({"cmd": "theorem t (a b : ℕ) (h : a = b) : ∀ b : ℕ, a ≤ b + a := by sorry", "env": 0})
    ps = r["sorries"][0]["proofState"]
    r = session.handle({"tactic": "rw [h]", "proofState": ps})
    assert r["goals"][0].endswith("⊢ ∀ (b_1 : ℕ), b ≤ b_1 + b")


# ---------------------------------------------------------------- huge and deep terms

def test_numerals_beyond_the_int_string_limit_work(session):
    big = "1" + "0" * 5000
    assert errors(session, f"theorem t : ({big} : ℕ) = {big} := by rfl") == []
    assert errors(session, f"theorem t : ({big} : ℕ) + 1 = {big} := by norm_num")


def test_deeply_nested_terms_are_a_clean_error(session):
    deep = "(" * 5000 + "1" + ")" * 5000
    errs = errors(session, f"theorem t : {deep} = 1 := by rfl")
    assert errs and "maximum recursion" in errs[0]


def test_a_hypothesis_named_like_a_variable_talks_about_the_old_variable(session):
    r = session.handle({"cmd": "theorem t (x : ℕ) : x + 1 > 0 := by sorry", "env": 0})
    r = session.handle({"tactic": "have x : x > 0 := by sorry", "proofState": r["sorries"][0]["proofState"]})
    assert r["goals"][0] == "x✝ : ℕ\nx : x✝ > 0\n⊢ x✝ + 1 > 0"


def test_a_later_binder_shadows_an_earlier_one(session):
    r = session.handle({"cmd": "theorem t (x : ℕ) (h : x = 1) (x : ℤ) (h : x = 2) : x = 2 := by sorry", "env": 0})
    assert r["sorries"][0]["goal"] == "x✝ : ℕ\nh✝ : x✝ = 1\nx : ℤ\nh : x = 2\n⊢ x = 2"


def test_term_sorry_proves_its_goal_through_sorryAx(session):
    r = session.handle({"cmd": "theorem t (p q : Prop) (hq : q) : p ∧ q := ⟨sorry, hq⟩\n#print axioms t", "env": 0})
    assert not [m for m in r["messages"] if m["severity"] == "error"], r
    assert any("sorryAx" in m["data"] for m in r["messages"]), r
