"""`linear_combination e` (Mathlib): the goal `a = b` closes when `ring1` proves `a - b - (l - r) = 0`
for the equation `l = r` that `e` combines from hypotheses (sums, differences, products by values
and of equations, division by values). Each true script has a false variant it must not prove."""
from __future__ import annotations

import pytest

from embedded_fixtures import session  # noqa: F401  (fixture)
from test_definitions import accepted

CASES = [
    ("theorem t (f z : ℂ) (h₀ : f + 3 * z = 11) (h₁ : 3 * (f - 1) - 5 * z = -68) : f = -10 ∧ z = 7 := by\n"
     "  constructor\n  · linear_combination (5 * h₀ + 3 * h₁) / 14\n  · linear_combination (3 * h₀ - h₁) / 14",
     "z = 7", "z = 8"),
    ("theorem t (a b : ℝ) (h : a = 2 * b) (hb : b = 3) : a = 6 := by\n  linear_combination h + 2 * hb", "a = 6", "a = 7"),
    ("theorem t (x y : ℝ) (h : x = y) : x ^ 2 = y ^ 2 := by\n  linear_combination (x + y) * h", "y ^ 2 :=", "y ^ 3 :="),
    ("theorem t (x y : ℝ) (h1 : x = 1) (h2 : y = 2) : x * y = 2 := by\n  linear_combination h1 * h2", "= 2 :=", "= 3 :="),
    ("theorem t (x : ℝ) (h : 2 * x = 2) : x = 1 := by\n  linear_combination h / 2", "h / 2", "h / 0"),
    ("theorem t (q e : ℂ) (h₀ : q = 2 - 2 * Complex.I) (h₁ : e = 5 + 5 * Complex.I) : q * e = 20 := by\n"
     "  linear_combination e * h₀ + (2 - 2 * Complex.I) * h₁ - 10 * Complex.I_sq", "= 20", "= 21"),
    ("theorem t (x : ℤ) (h : x = 1) : x = 1 := by\n  linear_combination h", "(x : ℤ)", "(x : ℕ)"),   # no CommRing ℕ
]


@pytest.mark.parametrize("text, true_part, false_part", CASES)
def test_linear_combination_is_ring_after_combining_equations(session, text, true_part, false_part):
    assert accepted(session, text), text
    assert not accepted(session, text.replace(true_part, false_part, 1))


@pytest.mark.parametrize("text", [
    "theorem t (x : ℝ) (h : x ≤ 1) : x = 1 := by\n  linear_combination h",                   # not an equation
    "theorem t (x : ℝ) (n : ℤ) (hn : n = 1) : x = 1 := by\n  linear_combination hn",         # another carrier
    "theorem t (x : ℝ) (h : x = 1) : x ≤ 1 := by\n  linear_combination h",                   # not an equality goal
])
def test_what_linear_combination_refuses(session, text):
    assert not accepted(session, text)
