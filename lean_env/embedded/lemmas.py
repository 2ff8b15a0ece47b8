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
LinearOrderedAddCommGroup | abs_nonneg (a : α) : 0 ≤ |a|
LinearOrderedAddCommGroup | le_abs_self (a : α) : a ≤ |a|
LinearOrderedAddCommGroup | neg_abs_le (a : α) : -|a| ≤ a
LinearOrderedAddCommGroup | abs_neg (a : α) : |-a| = |a|
LinearOrderedAddCommGroup | abs_sub_comm (a b : α) : |a - b| = |b - a|
LinearOrderedAddCommGroup | abs_of_nonneg {a : α} : 0 ≤ a → |a| = a
LinearOrderedAddCommGroup | abs_of_pos {a : α} : 0 < a → |a| = a
LinearOrderedAddCommGroup | abs_of_neg {a : α} : a < 0 → |a| = -a
LinearOrderedAddCommGroup | abs_of_nonpos {a : α} : a ≤ 0 → |a| = -a
LinearOrderedAddCommGroup | abs_le {a b : α} : |a| ≤ b ↔ -b ≤ a ∧ a ≤ b
LinearOrderedAddCommGroup | abs_lt {a b : α} : |a| < b ↔ -b < a ∧ a < b
LinearOrderedAddCommGroup | abs_add (a b : α) : |a + b| ≤ |a| + |b|
LinearOrderedAddCommGroup | abs_sub_abs_le_abs_sub (a b : α) : |a| - |b| ≤ |a - b|
LinearOrderedRing      | abs_mul (a b : α) : |a * b| = |a| * |b|
LinearOrderedRing      | sq_abs (a : α) : |a| ^ 2 = a ^ 2
LinearOrderedRing      | abs_mul_abs_self (a : α) : |a| * |a| = a * a
LinearOrder            | min_le_left (a b : α) : min a b ≤ a
LinearOrder            | min_le_right (a b : α) : min a b ≤ b
LinearOrder            | le_max_left (a b : α) : a ≤ max a b
LinearOrder            | le_max_right (a b : α) : b ≤ max a b
LinearOrder            | min_comm (a b : α) : min a b = min b a
LinearOrder            | max_comm (a b : α) : max a b = max b a
LinearOrderedField     | div_pos {a b : α} : 0 < a → 0 < b → 0 < a / b
LinearOrderedField     | div_nonneg {a b : α} : 0 ≤ a → 0 ≤ b → 0 ≤ a / b
LinearOrderedField     | inv_pos {a : α} : 0 < a⁻¹ ↔ 0 < a
LinearOrderedField     | inv_nonneg {a : α} : 0 ≤ a⁻¹ ↔ 0 ≤ a
LinearOrderedField     | half_pos {a : α} : 0 < a → 0 < a / 2
LinearOrderedField     | add_halves (a : α) : a / 2 + a / 2 = a
LinearOrderedField     | le_div_iff₀ {a b c : α} : 0 < c → (a ≤ b / c ↔ a * c ≤ b)
LinearOrderedField     | div_le_iff₀ {a b c : α} : 0 < c → (a / c ≤ b ↔ a ≤ b * c)
LinearOrderedField     | lt_div_iff₀ {a b c : α} : 0 < c → (a < b / c ↔ a * c < b)
LinearOrderedField     | div_lt_iff₀ {a b c : α} : 0 < c → (a / c < b ↔ a < b * c)
DivisionRing           | div_self {a : α} : a ≠ 0 → a / a = 1
DivisionRing           | div_eq_iff {a b c : α} : c ≠ 0 → (a / c = b ↔ a = b * c)
DivisionRing           | eq_div_iff {a b c : α} : c ≠ 0 → (a = b / c ↔ a * c = b)
LinearOrderedField     | div_le_one {a b : α} : 0 < b → (a / b ≤ 1 ↔ a ≤ b)
LinearOrderedField     | div_lt_one {a b : α} : 0 < b → (a / b < 1 ↔ a < b)
DivisionRing           | mul_inv_cancel₀ {a : α} : a ≠ 0 → a * a⁻¹ = 1
DivisionRing           | inv_mul_cancel₀ {a : α} : a ≠ 0 → a⁻¹ * a = 1
DivisionRing           | div_mul_cancel₀ (a : α) {b : α} : b ≠ 0 → a / b * b = a
DivisionRing           | div_zero (a : α) : a / 0 = 0
DivisionRing           | zero_div (a : α) : 0 / a = 0
DivisionRing           | div_one (a : α) : a / 1 = a
DivisionRing           | one_div (a : α) : 1 / a = a⁻¹
DivisionRing           | div_eq_mul_inv (a b : α) : a / b = a * b⁻¹
DivisionRing           | inv_inv (a : α) : a⁻¹⁻¹ = a
DivisionRing           | add_div (a b c : α) : (a + b) / c = a / c + b / c
DivisionRing           | sub_div (a b c : α) : (a - b) / c = a / c - b / c
Field                  | div_add_div_same (a b c : α) : a / c + b / c = (a + b) / c
Field                  | mul_div_cancel_left₀ (b : α) {a : α} : a ≠ 0 → a * b / a = b
Field                  | div_div (a b c : α) : a / b / c = a / (b * c)
Field                  | div_add_div (a c : α) {b d : α} : b ≠ 0 → d ≠ 0 → a / b + c / d = (a * d + b * c) / (b * d)
-                      | Int.zero_lt_one : (0 : ℤ) < 1
-                      | Int.add_zero (a : ℤ) : a + 0 = a
-                      | Int.add_emod (a b n : ℤ) : (a + b) % n = (a % n + b % n) % n
-                      | Int.sub_emod (a b n : ℤ) : (a - b) % n = (a % n - b % n) % n
-                      | Int.mul_emod (a b n : ℤ) : a * b % n = a % n * (b % n) % n
-                      | Nat.add_mod (a b n : ℕ) : (a + b) % n = (a % n + b % n) % n
-                      | Nat.mul_mod (a b n : ℕ) : a * b % n = a % n * (b % n) % n
-                      | Nat.pow_mod (a b n : ℕ) : a ^ b % n = (a % n) ^ b % n
-                      | Nat.pow_le_pow_of_le_left {m n : ℕ} : m ≤ n → ∀ (i : ℕ), m ^ i ≤ n ^ i
OrderedSemiring        | zero_le_one : (0 : α) ≤ 1
CanonicallyOrderedAddCommMonoid | zero_le (a : α) : 0 ≤ a
OrderedSemiring        | mul_nonpos_of_nonpos_of_nonneg {a b : α} : a ≤ 0 → 0 ≤ b → a * b ≤ 0
OrderedSemiring        | mul_nonpos_of_nonneg_of_nonpos {a b : α} : 0 ≤ a → b ≤ 0 → a * b ≤ 0
LinearOrder            | lt_of_not_ge {a b : α} : ¬a ≥ b → a < b
LinearOrder            | le_of_not_lt {a b : α} : ¬b < a → a ≤ b
LinearOrder            | le_total (a b : α) : a ≤ b ∨ b ≤ a
LinearOrder            | lt_or_ge (a b : α) : a < b ∨ a ≥ b
LinearOrder            | not_lt {a b : α} : ¬a < b ↔ b ≤ a
LinearOrder            | not_le {a b : α} : ¬a ≤ b ↔ b < a
Semiring               | mul_left_cancel₀ {a b c : α} : a ≠ 0 → a * b = a * c → b = c
Semiring               | mul_right_cancel₀ {a b c : α} : b ≠ 0 → a * b = c * b → a = c
-                      | Real.sqrt_nonneg (x : ℝ) : 0 ≤ Real.sqrt x
-                      | Real.sqrt_pos {x : ℝ} : 0 < Real.sqrt x ↔ 0 < x
-                      | Real.sqrt_sq {x : ℝ} : 0 ≤ x → Real.sqrt (x ^ 2) = x
-                      | Real.sq_sqrt {x : ℝ} : 0 ≤ x → Real.sqrt x ^ 2 = x
-                      | Real.sqrt_mul_self {a : ℝ} : 0 ≤ a → Real.sqrt (a * a) = a
-                      | Real.mul_self_sqrt {a : ℝ} : 0 ≤ a → Real.sqrt a * Real.sqrt a = a
-                      | Real.sqrt_sq_eq_abs (x : ℝ) : Real.sqrt (x ^ 2) = |x|
-                      | Real.sqrt_zero : Real.sqrt 0 = 0
-                      | Real.sqrt_one : Real.sqrt 1 = 1
-                      | Real.sqrt_le_sqrt {x y : ℝ} : x ≤ y → Real.sqrt x ≤ Real.sqrt y
-                      | Real.sqrt_lt_sqrt {x y : ℝ} : 0 ≤ x → x < y → Real.sqrt x < Real.sqrt y
-                      | Real.exp_pos (x : ℝ) : 0 < Real.exp x
-                      | Real.exp_nonneg (x : ℝ) : 0 ≤ Real.exp x
-                      | Real.exp_zero : Real.exp 0 = 1
-                      | Real.exp_add (x y : ℝ) : Real.exp (x + y) = Real.exp x * Real.exp y
-                      | Real.exp_lt_exp {x y : ℝ} : Real.exp x < Real.exp y ↔ x < y
-                      | Real.exp_le_exp {x y : ℝ} : Real.exp x ≤ Real.exp y ↔ x ≤ y
-                      | Real.add_one_le_exp (x : ℝ) : x + 1 ≤ Real.exp x
-                      | Real.exp_log {x : ℝ} : 0 < x → Real.exp (Real.log x) = x
-                      | Real.log_exp (x : ℝ) : Real.log (Real.exp x) = x
-                      | Real.log_zero : Real.log 0 = 0
-                      | Real.log_one : Real.log 1 = 0
-                      | Real.log_mul {x y : ℝ} : x ≠ 0 → y ≠ 0 → Real.log (x * y) = Real.log x + Real.log y
-                      | Real.log_pow (n : ℕ) (x : ℝ) : Real.log (x ^ n) = n * Real.log x
-                      | Real.log_le_log {x y : ℝ} : 0 < x → x ≤ y → Real.log x ≤ Real.log y
-                      | Real.log_lt_log {x y : ℝ} : 0 < x → x < y → Real.log x < Real.log y
-                      | Real.log_pos {x : ℝ} : 1 < x → 0 < Real.log x
-                      | Real.log_nonneg {x : ℝ} : 1 ≤ x → 0 ≤ Real.log x
-                      | Real.cos_sq_add_sin_sq (x : ℝ) : Real.cos x ^ 2 + Real.sin x ^ 2 = 1
-                      | Real.sin_sq_add_cos_sq (x : ℝ) : Real.sin x ^ 2 + Real.cos x ^ 2 = 1
-                      | Real.cos_le_one (x : ℝ) : Real.cos x ≤ 1
-                      | Real.neg_one_le_cos (x : ℝ) : -1 ≤ Real.cos x
-                      | Real.sin_le_one (x : ℝ) : Real.sin x ≤ 1
-                      | Real.neg_one_le_sin (x : ℝ) : -1 ≤ Real.sin x
-                      | Real.cos_zero : Real.cos 0 = 1
-                      | Real.sin_zero : Real.sin 0 = 0
-                      | Real.rpow_natCast (x : ℝ) (n : ℕ) : x ^ (n : ℝ) = x ^ n
-                      | Real.rpow_pos_of_pos {x : ℝ} : 0 < x → ∀ (y : ℝ), 0 < x ^ y
-                      | Real.rpow_nonneg {x : ℝ} : 0 ≤ x → ∀ (y : ℝ), 0 ≤ x ^ y
-                      | Real.pi_pos : 0 < Real.pi
-                      | Real.pi_gt_three : 3 < Real.pi
-                      | Rat.divInt_eq_div (n d : ℤ) : n /. d = (n : ℚ) / d
-                      | Complex.I_sq : Complex.I ^ 2 = -1
-                      | Complex.I_mul_I : Complex.I * Complex.I = -1
-                      | Complex.I_pow_four : Complex.I ^ 4 = 1
-                      | Complex.I_ne_zero : Complex.I ≠ 0
-                      | Complex.I_re : Complex.I.re = 0
-                      | Complex.I_im : Complex.I.im = 1
-                      | Complex.ext_iff {z w : ℂ} : z = w ↔ z.re = w.re ∧ z.im = w.im
-                      | Complex.add_re (z w : ℂ) : (z + w).re = z.re + w.re
-                      | Complex.add_im (z w : ℂ) : (z + w).im = z.im + w.im
-                      | Complex.sub_re (z w : ℂ) : (z - w).re = z.re - w.re
-                      | Complex.sub_im (z w : ℂ) : (z - w).im = z.im - w.im
-                      | Complex.mul_re (z w : ℂ) : (z * w).re = z.re * w.re - z.im * w.im
-                      | Complex.mul_im (z w : ℂ) : (z * w).im = z.re * w.im + z.im * w.re
-                      | Complex.ofReal_re (r : ℝ) : (r : ℂ).re = r
-                      | Complex.ofReal_im (r : ℝ) : (r : ℂ).im = 0
-                      | Complex.normSq_apply (z : ℂ) : Complex.normSq z = z.re * z.re + z.im * z.im
-                      | Complex.sq_abs (z : ℂ) : Complex.abs z ^ 2 = Complex.normSq z
-                      | Complex.normSq_nonneg (z : ℂ) : 0 ≤ Complex.normSq z
-                      | Nat.gcd_comm (m n : ℕ) : Nat.gcd m n = Nat.gcd n m
-                      | Nat.lcm_comm (m n : ℕ) : Nat.lcm m n = Nat.lcm n m
-                      | Nat.gcd_zero_left (n : ℕ) : Nat.gcd 0 n = n
-                      | Nat.gcd_zero_right (n : ℕ) : Nat.gcd n 0 = n
-                      | Nat.gcd_self (n : ℕ) : Nat.gcd n n = n
-                      | Nat.gcd_rec (m n : ℕ) : Nat.gcd m n = Nat.gcd (n % m) m
-                      | Nat.gcd_dvd_left (m n : ℕ) : Nat.gcd m n ∣ m
-                      | Nat.gcd_dvd_right (m n : ℕ) : Nat.gcd m n ∣ n
-                      | Nat.dvd_gcd {m n k : ℕ} : k ∣ m → k ∣ n → k ∣ Nat.gcd m n
-                      | Nat.dvd_lcm_left (m n : ℕ) : m ∣ Nat.lcm m n
-                      | Nat.dvd_lcm_right (m n : ℕ) : n ∣ Nat.lcm m n
-                      | Nat.gcd_mul_lcm (m n : ℕ) : Nat.gcd m n * Nat.lcm m n = m * n
-                      | Nat.factorial_pos (n : ℕ) : 0 < n !
-                      | Nat.self_le_factorial (n : ℕ) : n ≤ n !
-                      | Nat.factorial_le {m n : ℕ} : m ≤ n → m ! ≤ n !
-                      | Nat.choose_symm_diff (n k : ℕ) : Nat.choose (n + k) n = Nat.choose (n + k) k
-                      | Nat.choose_zero_right (n : ℕ) : Nat.choose n 0 = 1
-                      | Nat.choose_self (n : ℕ) : Nat.choose n n = 1
-                      | Nat.succ_sub_one (n : ℕ) : n + 1 - 1 = n
-                      | Nat.Prime.two_le {p : ℕ} : Nat.Prime p → 2 ≤ p
-                      | Nat.Prime.pos {p : ℕ} : Nat.Prime p → 0 < p
-                      | Nat.Prime.one_lt {p : ℕ} : Nat.Prime p → 1 < p
-                      | Nat.prime_two : Nat.Prime 2
-                      | Nat.prime_three : Nat.Prime 3
-                      | Nat.prime_five : Nat.Prime 5
-                      | Nat.even_add_one {n : ℕ} : Even (n + 1) ↔ ¬Even n
-                      | Nat.even_or_odd (n : ℕ) : Even n ∨ Odd n
-                      | Int.even_or_odd (n : ℤ) : Even n ∨ Odd n
-                      | Nat.odd_iff {n : ℕ} : Odd n ↔ n % 2 = 1
-                      | Nat.even_iff {n : ℕ} : Even n ↔ n % 2 = 0
-                      | Int.odd_iff {n : ℤ} : Odd n ↔ n % 2 = 1
-                      | Int.even_iff {n : ℤ} : Even n ↔ n % 2 = 0
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
