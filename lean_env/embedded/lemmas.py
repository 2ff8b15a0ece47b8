"""The library lemmas the fragment knows, as typed statements (Lean / Mathlib names and forms).

One line per lemma: the type class its carrier `α` needs (`-` for a lemma about ℕ or ℤ only),
then the lemma as Lean declares it, `{}` binders implicit. A `Nat.*` lemma is about ℕ and does
not apply at ℤ; `sub_sq` needs a commutative ring, which ℕ is not. Adding a lemma is adding a line.
"""
from __future__ import annotations

from dataclasses import dataclass

from lean_env.embedded.terms import Bin, Quant, Term, TyVar, Var, subst

TABLE = """
-                      | Nat.zero_le (n : ℕ) : 0 ≤ n
-                      | Nat.succ_pos (n : ℕ) : 0 < n + 1
-                      | Nat.pos_of_ne_zero {n : ℕ} : n ≠ 0 → 0 < n
-                      | Nat.le_of_lt_succ {m n : ℕ} : m < n + 1 → m ≤ n
-                      | Nat.lt_succ_of_le {n m : ℕ} : n ≤ m → n < m + 1
-                      | Nat.lt_of_lt_of_le {n m k : ℕ} : n < m → m ≤ k → n < k
-                      | Nat.lt_of_le_of_lt {n m k : ℕ} : n ≤ m → m < k → n < k
-                      | Nat.le_trans {n m k : ℕ} : n ≤ m → m ≤ k → n ≤ k
-                      | Nat.lt_trans {n m k : ℕ} : n < m → m < k → n < k
-                      | Nat.le_of_lt {n m : ℕ} : n < m → n ≤ m
-                      | Nat.le_antisymm {n m : ℕ} : n ≤ m → m ≤ n → n = m
-                      | Nat.le_refl (n : ℕ) : n ≤ n
-                      | Nat.lt_irrefl (n : ℕ) : ¬n < n
-                      | Nat.lt_succ_self (n : ℕ) : n < n + 1
-                      | Nat.le_succ (n : ℕ) : n ≤ n + 1
-                      | Nat.succ_le_of_lt {n m : ℕ} : n < m → n + 1 ≤ m
-                      | Nat.succ_le {n m : ℕ} : n + 1 ≤ m ↔ n < m
-                      | Nat.succ_le_iff {m n : ℕ} : m + 1 ≤ n ↔ m < n
-                      | Nat.lt_iff_add_one_le {m n : ℕ} : m < n ↔ m + 1 ≤ n
-                      | Nat.succ_ne_zero (n : ℕ) : n + 1 ≠ 0
-                      | Nat.mod_lt (x : ℕ) {y : ℕ} : y > 0 → x % y < y
-                      | Nat.mod_two_eq_zero_or_one (n : ℕ) : n % 2 = 0 ∨ n % 2 = 1
-                      | Nat.sub_add_cancel {n m : ℕ} : m ≤ n → n - m + m = n
-                      | Nat.add_sub_cancel {n m : ℕ} : n + m - m = n
-                      | Nat.sub_self (n : ℕ) : n - n = 0
-                      | Nat.add_zero (n : ℕ) : n + 0 = n
-                      | Nat.zero_add (n : ℕ) : 0 + n = n
-                      | Nat.add_comm (n m : ℕ) : n + m = m + n
-                      | Nat.add_assoc (n m k : ℕ) : n + m + k = n + (m + k)
-                      | Nat.mul_comm (n m : ℕ) : n * m = m * n
-                      | Nat.mul_assoc (n m k : ℕ) : n * m * k = n * (m * k)
-                      | Nat.mul_one (n : ℕ) : n * 1 = n
-                      | Nat.one_mul (n : ℕ) : 1 * n = n
-                      | Nat.mul_zero (n : ℕ) : n * 0 = 0
-                      | Nat.zero_mul (n : ℕ) : 0 * n = 0
-                      | Nat.mul_add (n m k : ℕ) : n * (m + k) = n * m + n * k
-                      | Nat.add_mul (n m k : ℕ) : (n + m) * k = n * k + m * k
-                      | Nat.left_distrib (n m k : ℕ) : n * (m + k) = n * m + n * k
-                      | Nat.right_distrib (n m k : ℕ) : (n + m) * k = n * k + m * k
-                      | Nat.two_mul (n : ℕ) : 2 * n = n + n
-                      | Nat.mul_two (n : ℕ) : n * 2 = n + n
-                      | Nat.pow_zero (b : ℕ) : b ^ 0 = 1
-                      | Nat.pow_succ {b n : ℕ} : b ^ (n + 1) = b ^ n * b
-                      | Nat.pow_two (n : ℕ) : n ^ 2 = n * n
-                      | Nat.one_le_two_pow {n : ℕ} : 1 ≤ 2 ^ n
-                      | Nat.dvd_refl (a : ℕ) : a ∣ a
-                      | Nat.dvd_mul_right (a b : ℕ) : a ∣ a * b
-                      | Nat.dvd_mul_left (a b : ℕ) : a ∣ b * a
-                      | Nat.mul_le_mul {p q m n : ℕ} : p ≤ m → q ≤ n → p * q ≤ m * n
-                      | Nat.add_le_add {a b c d : ℕ} : a ≤ b → c ≤ d → a + c ≤ b + d
-                      | Int.add_mul_emod_self {a b c : ℤ} : (a + b * c) % c = a % c
-                      | Int.emod_emod_of_dvd (n : ℤ) {m k : ℤ} : m ∣ k → n % k % m = n % m
-                      | Nat.lt_of_succ_le {n m : ℕ} : n + 1 ≤ m → n < m
-                      | Nat.succ_le_succ {n m : ℕ} : n ≤ m → n + 1 ≤ m + 1
-                      | Nat.le_add_right (n k : ℕ) : n ≤ n + k
-                      | Nat.le_add_left (n m : ℕ) : n ≤ m + n
-                      | Nat.lt_add_one (n : ℕ) : n < n + 1
-                      | Nat.sub_le (n m : ℕ) : n - m ≤ n
-                      | Nat.div_le_self (n k : ℕ) : n / k ≤ n
-                      | Nat.mod_le (x y : ℕ) : x % y ≤ x
-                      | Nat.cast_zero : ((0 : ℕ) : ℤ) = 0
-                      | Nat.cast_one : ((1 : ℕ) : ℤ) = 1
-                      | Nat.cast_add (m n : ℕ) : ((m + n : ℕ) : ℤ) = m + n
-                      | Nat.cast_mul (m n : ℕ) : ((m * n : ℕ) : ℤ) = m * n
-                      | Nat.cast_pow (n m : ℕ) : ((n ^ m : ℕ) : ℤ) = (n : ℤ) ^ m
-                      | Nat.cast_succ (n : ℕ) : ((n + 1 : ℕ) : ℤ) = n + 1
-                      | Nat.cast_sub {m n : ℕ} : m ≤ n → ((n - m : ℕ) : ℤ) = n - m
-                      | Nat.cast_le {m n : ℕ} : (m : ℤ) ≤ n ↔ m ≤ n
-                      | Nat.cast_lt {m n : ℕ} : (m : ℤ) < n ↔ m < n
-                      | Nat.cast_inj {m n : ℕ} : (m : ℤ) = n ↔ m = n
-                      | Nat.cast_nonneg (n : ℕ) : 0 ≤ (n : ℤ)
-                      | Nat.cast_pos {n : ℕ} : (0 : ℤ) < n ↔ 0 < n
-                      | Int.natCast_nonneg (n : ℕ) : 0 ≤ (n : ℤ)
-                      | Int.ofNat_nonneg (n : ℕ) : 0 ≤ (n : ℤ)
-                      | Int.natCast_dvd_natCast {m n : ℕ} : (m : ℤ) ∣ n ↔ m ∣ n
-                      | Int.emod_two_eq_zero_or_one (n : ℤ) : n % 2 = 0 ∨ n % 2 = 1
-                      | Int.emod_nonneg (a : ℤ) {b : ℤ} : b ≠ 0 → 0 ≤ a % b
-                      | Int.emod_lt_of_pos (a : ℤ) {b : ℤ} : 0 < b → a % b < b
-                      | trivial : True
-                      | Or.elim {a b c : Prop} : a ∨ b → (a → c) → (b → c) → c
-                      | Or.resolve_left {a b : Prop} : a ∨ b → ¬a → b
-                      | Or.resolve_right {a b : Prop} : a ∨ b → ¬b → a
-                      | And.intro {a b : Prop} : a → b → a ∧ b
-                      | And.left {a b : Prop} : a ∧ b → a
-                      | And.right {a b : Prop} : a ∧ b → b
-                      | Iff.intro {a b : Prop} : (a → b) → (b → a) → (a ↔ b)
-                      | Iff.mp {a b : Prop} : (a ↔ b) → a → b
-                      | Iff.mpr {a b : Prop} : (a ↔ b) → b → a
-                      | not_not {a : Prop} : ¬¬a ↔ a
-                      | Not.elim {a b : Prop} : ¬a → a → b
-                      | Classical.em (p : Prop) : p ∨ ¬p
-                      | em (p : Prop) : p ∨ ¬p
Type                   | Eq.symm {a b : α} : a = b → b = a
Type                   | Eq.trans {a b c : α} : a = b → b = c → a = c
Type                   | Ne.symm {a b : α} : a ≠ b → b ≠ a
Type                   | rfl {a : α} : a = a
Preorder               | Eq.le {a b : α} : a = b → a ≤ b
Preorder               | Eq.ge {a b : α} : a = b → b ≤ a
PartialOrder           | Ne.lt_of_le {a b : α} : a ≠ b → a ≤ b → a < b
OrderedSemiring        | sq_nonneg (a : α) : 0 ≤ a ^ 2
OrderedSemiring        | pow_two_nonneg (a : α) : 0 ≤ a ^ 2
OrderedSemiring        | mul_self_nonneg (a : α) : 0 ≤ a * a
StrictOrderedSemiring  | mul_pos {a b : α} : 0 < a → 0 < b → 0 < a * b
OrderedSemiring        | mul_nonneg {a b : α} : 0 ≤ a → 0 ≤ b → 0 ≤ a * b
OrderedSemiring        | add_pos {a b : α} : 0 < a → 0 < b → 0 < a + b
OrderedSemiring        | add_nonneg {a b : α} : 0 ≤ a → 0 ≤ b → 0 ≤ a + b
OrderedSemiring        | add_pos_of_pos_of_nonneg {a b : α} : 0 < a → 0 ≤ b → 0 < a + b
StrictOrderedSemiring  | pow_pos {a : α} : 0 < a → ∀ (n : ℕ), 0 < a ^ n
OrderedSemiring        | pow_nonneg {a : α} : 0 ≤ a → ∀ (n : ℕ), 0 ≤ a ^ n
StrictOrderedSemiring  | zero_lt_one : (0 : α) < 1
Preorder               | le_refl (a : α) : a ≤ a
Preorder               | le_rfl {a : α} : a ≤ a
Preorder               | le_of_lt {a b : α} : a < b → a ≤ b
Preorder               | le_of_eq {a b : α} : a = b → a ≤ b
Preorder               | ne_of_gt {a b : α} : a > b → a ≠ b
Preorder               | ne_of_lt {a b : α} : a < b → a ≠ b
PartialOrder           | lt_of_le_of_ne {a b : α} : a ≤ b → a ≠ b → a < b
Preorder               | le_trans {a b c : α} : a ≤ b → b ≤ c → a ≤ c
Preorder               | lt_trans {a b c : α} : a < b → b < c → a < c
Preorder               | lt_of_le_of_lt {a b c : α} : a ≤ b → b < c → a < c
Preorder               | lt_of_lt_of_le {a b c : α} : a < b → b ≤ c → a < c
PartialOrder           | le_antisymm {a b : α} : a ≤ b → b ≤ a → a = b
Preorder               | lt_irrefl (a : α) : ¬a < a
OrderedSemiring        | lt_add_one (a : α) : a < a + 1
OrderedSemiring        | add_lt_add {a b c d : α} : a < b → c < d → a + c < b + d
OrderedSemiring        | add_le_add {a b c d : α} : a ≤ b → c ≤ d → a + c ≤ b + d
OrderedSemiring        | mul_le_mul_of_nonneg_left {a b c : α} : b ≤ c → 0 ≤ a → a * b ≤ a * c
StrictOrderedSemiring  | mul_lt_mul_of_pos_left {a b c : α} : b < c → 0 < a → a * b < a * c
Monoid                 | dvd_refl (a : α) : a ∣ a
Monoid                 | dvd_mul_right (a b : α) : a ∣ a * b
CommMonoid             | dvd_mul_left (a b : α) : a ∣ b * a
Semiring               | dvd_add {a b c : α} : a ∣ b → a ∣ c → a ∣ b + c
Monoid                 | dvd_trans {a b c : α} : a ∣ b → b ∣ c → a ∣ c
Monoid                 | pow_succ (a : α) (n : ℕ) : a ^ (n + 1) = a ^ n * a
Monoid                 | pow_zero (a : α) : a ^ 0 = 1
Monoid                 | pow_one (a : α) : a ^ 1 = a
Monoid                 | pow_two (a : α) : a ^ 2 = a * a
Monoid                 | sq (a : α) : a ^ 2 = a * a
CommMonoid             | mul_comm (a b : α) : a * b = b * a
AddCommMonoid          | add_comm (a b : α) : a + b = b + a
Monoid                 | mul_one (a : α) : a * 1 = a
Monoid                 | one_mul (a : α) : 1 * a = a
AddMonoid              | add_zero (a : α) : a + 0 = a
AddMonoid              | zero_add (a : α) : 0 + a = a
Semiring               | mul_add (a b c : α) : a * (b + c) = a * b + a * c
Semiring               | add_mul (a b c : α) : (a + b) * c = a * c + b * c
Semiring               | left_distrib (a b c : α) : a * (b + c) = a * b + a * c
Semiring               | right_distrib (a b c : α) : (a + b) * c = a * c + b * c
MulZeroClass           | mul_zero (a : α) : a * 0 = 0
MulZeroClass           | zero_mul (a : α) : 0 * a = 0
Semiring               | two_mul (a : α) : 2 * a = a + a
Semiring               | mul_two (a : α) : a * 2 = a + a
OrderedSemiring        | le_add_of_nonneg_right {a b : α} : 0 ≤ b → a ≤ a + b
OrderedSemiring        | le_add_of_nonneg_left {a b : α} : 0 ≤ b → a ≤ b + a
OrderedSemiring        | mul_le_mul {a b c d : α} : a ≤ b → c ≤ d → 0 ≤ c → 0 ≤ b → a * c ≤ b * d
OrderedSemiring        | pow_le_pow_left {a b : α} : 0 ≤ a → a ≤ b → ∀ (n : ℕ), a ^ n ≤ b ^ n
Monoid                 | mul_assoc (a b c : α) : a * b * c = a * (b * c)
AddMonoid              | add_assoc (a b c : α) : a + b + c = a + (b + c)
CommSemiring           | add_sq (a b : α) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2
CommSemiring           | add_pow_two (a b : α) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2
CommSemiring           | mul_pow (a b : α) (n : ℕ) : (a * b) ^ n = a ^ n * b ^ n
AddGroup               | sub_self (a : α) : a - a = 0
AddGroup               | sub_add_cancel (a b : α) : a - b + b = a
AddGroup               | neg_neg (a : α) : - -a = a
Ring                   | neg_mul (a b : α) : -a * b = -(a * b)
Ring                   | mul_neg (a b : α) : a * -b = -(a * b)
Ring                   | sub_eq_add_neg (a b : α) : a - b = a + -b
CommRing               | sub_sq (a b : α) : (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2
CommRing               | mul_sub (a b c : α) : a * (b - c) = a * b - a * c
CommRing               | sub_mul (a b c : α) : (a - b) * c = a * c - b * c
OrderedAddCommGroup    | sub_nonneg {a b : α} : 0 ≤ a - b ↔ b ≤ a
OrderedAddCommGroup    | sub_pos {a b : α} : 0 < a - b ↔ b < a
OrderedAddCommGroup    | sub_nonneg_of_le {a b : α} : b ≤ a → 0 ≤ a - b
OrderedAddCommGroup    | lt_of_sub_pos {a b : α} : 0 < a - b → b < a
OrderedAddCommGroup    | neg_nonpos {a : α} : -a ≤ 0 ↔ 0 ≤ a
AddGroup               | sub_eq_zero {a b : α} : a - b = 0 ↔ a = b
"""


@dataclass(frozen=True)
class Lemma:
    """A library lemma: its implicit variables (solved by unification, named `?a` so they never
    clash with a goal's own `a`) with their types, and its statement, where leading `∀` are the
    explicit arguments and `→` premises the proof arguments. Types may mention `α` (a `TyVar`
    carrying the required class)."""

    name: str
    implicit: tuple[tuple[str, str], ...]
    statement: Term


def _load(table: str) -> dict[str, Lemma]:
    from lean_env.embedded.parser import _parse_header
    from lean_env.embedded.types import elab_prop

    out: dict[str, Lemma] = {}
    for line in table.strip().splitlines():
        cls, _, decl = (part.strip() for part in line.partition("|"))
        alpha = TyVar("α", cls)
        _, name, binders, goal = _parse_header("theorem " + decl, {"α": alpha})
        ctx: dict[str, str] = {}
        implicit: list[tuple[str, str]] = []
        for n, ty, is_implicit in binders:
            if is_implicit:
                ctx["?" + n] = ty
                implicit.append(("?" + n, ty))
                goal = subst(goal, n, Var("?" + n))
            else:
                ctx[n] = ty
        statement = goal
        for n, ty, is_implicit in reversed(binders):
            if not is_implicit:
                statement = Quant("∀", n, ty, statement) if isinstance(ty, str) else Bin("→", ty, statement)
        for n, ty in implicit:
            statement = subst(statement, n[1:], Var(n))
        out[name] = Lemma(name, tuple(implicit), elab_prop(statement, ctx))
    return out


LIBRARY: dict[str, Lemma] = _load(TABLE)
