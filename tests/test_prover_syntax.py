"""The syntax released provers write (DeepSeek-, Goedel-, Kimina-, BFS-Prover output) reads as Lean
reads it: a short proof either runs as in Lean or fails with the error Lean would give."""
from __future__ import annotations

import pytest

from lean_env.embedded.session import Session


def errors(text: str) -> list[str]:
    reply = Session().command(text)
    assert "message" not in reply, reply
    return [m["data"] for m in reply.get("messages", []) if m["severity"] == "error"]


def accepted(text: str) -> bool:
    return not errors(text)


AND = "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"


@pytest.mark.parametrize("proof", [
    "  constructor\n  <;> assumption",                      # a line that starts with `<;>`
    "  constructor <;>\n  assumption",                      # a line that ends with it
    "  constructor\n  <;> (\n    first\n    | exact hp\n    | exact hq\n  )",
    "  constructor\n  · exact hp\n  · exact hq",
    "  constructor\n  . exact hp\n  . exact hq",
    "  constructor\n  case left => exact hp\n  case right =>\n    skip\n    exact hq",
    "  constructor\n  next => exact hp\n  next => exact hq",
    "  constructor\n  swap\n  · exact hq\n  · exact hp",
    "  constructor\n  pick_goal 2\n  · exact hq\n  exact hp",
    "  constructor\n  rotate_left\n  exact hq\n  exact hp",
    "  constructor\n  on_goal 2 => exact hq\n  exact hp",
    "  constructor\n  focus\n    skip\n  all_goals assumption",
    "  constructor\n  any_goals exact hp\n  exact hq",
    "  constructor\n  { exact hp }\n  { exact hq }",
    "  refine ⟨?_, ?_⟩\n  all_goals\n    assumption",
])
def test_goal_structure_as_provers_write_it(proof):
    assert errors(AND + proof) == []


def test_case_next_and_braces_must_close_their_goal_focus_need_not():
    for proof in ("  constructor\n  case left => skip\n  exact hq",
                  "  constructor\n  next => skip\n  exact hq",
                  "  constructor\n  { skip }\n  exact hq"):
        errs = errors(AND + proof)
        assert errs and errs[0].startswith("unsolved goals"), (proof, errs)
    assert errors(AND + "  constructor\n  focus\n    skip\n  exact hp\n  exact hq") == []
    errs = errors(AND + "  constructor\n  case nope => exact hp")
    assert errs and "Case tag 'nope' not found" in errs[0]


def test_goal_order_tactics_move_goals_as_lean_does():
    # after `swap` the first goal is `q`: `exact hp` there is Lean's type mismatch
    assert not accepted(AND + "  constructor\n  swap\n  exact hp\n  exact hq")
    assert accepted(AND + "  constructor\n  rotate_right\n  exact hq\n  exact hp")
    assert not accepted(AND + "  constructor\n  pick_goal 3")


def test_fail_if_success_succeeds_exactly_when_the_tactic_fails():
    base = "theorem t (x : ℕ) (h : x < 3) : x < 5 := by\n"
    assert accepted(base + "  fail_if_success exact h\n  omega")
    errs = errors(base + "  fail_if_success omega\n  omega")
    assert errs == ["tactic succeeded"]


def test_at_goal_and_at_star_locations():
    assert accepted("theorem t (x : ℤ) (h : ¬ (x < 0)) : ¬ (x > 0) ∨ 0 < x := by\n"
                    "  push_neg at h ⊢\n  omega")
    assert accepted("theorem t (x : ℤ) (h : x - x + x = 0) : x = 0 := by\n  ring_nf at *\n  exact h")
    assert accepted("theorem t (x : ℕ) (h : x + 0 = 3) : x * 1 = 3 := by\n"
                    "  simp only [add_zero, mul_one] at *\n  exact h")
    # `at *` fails only when no location changes; a named location must change
    errs = errors("theorem t (x : ℤ) (h : x = 1) : x = 1 := by\n  ring_nf at *")
    assert errs and "ring_nf failed" in errs[0]


def test_show_terms():
    assert accepted("theorem t (x : ℕ) (h : x = 2) : x + x = 4 := by\n"
                    "  have h2 := show x + x = 4 by omega\n  exact h2")
    assert accepted("theorem t (x : ℕ) (h : x = 2) : x = 2 := by\n  exact show x = 2 from h")
    errs = errors("theorem t (x : ℕ) (h : x = 2) : x + x = 5 := by\n  exact show x + x = 4 by omega")
    assert errs and errs[0].startswith("type mismatch")


def test_config_options_are_ignored_only_where_lean_would_not_be_weaker():
    assert accepted("theorem t (x y : ℤ) (h : x < y) : x ≤ y := by\n  linarith (config := {splitNe := true})")
    assert accepted("theorem t (x : ℕ) (h : x < 3) : x < 5 := by\n  omega (config := {})")
    # Lean's linarith without splitHypotheses fails here: ignoring the option would accept it
    errs = errors("theorem t (x y : ℚ) (h : x < 1 ∧ y < 1) : x < 2 := by\n"
                  "  linarith (config := {splitHypotheses := false})")
    assert errs and "does not support the option `splitHypotheses := false`" in errs[0]


def test_alternatives_of_a_nested_induction_stay_nested():
    assert accepted("""theorem t (n : ℕ) : 0 < 2 ^ n := by
  induction n with
  | zero => simp
  | succ n ih =>
    have h2 : 0 < 2 ^ (n + 1) := by
      induction n with
      | zero => norm_num
      | succ m _ => positivity
    exact h2""")
    assert accepted("""theorem t (n : ℕ) : 0 < 2 ^ n := by
  have h : ∀ m : ℕ, 0 < 2 ^ m := by
    intro m; induction m with
      | zero => norm_num
      | succ k ih =>
        rw [pow_succ]
        omega
  exact h n""")


def test_induction_names_shadow_an_outer_variable_as_lean_does():
    errs = errors("theorem t (n k : ℕ) (hk : k = 5) : n + k ≥ 5 := by\n"
                  "  induction n with\n  | zero => omega\n  | succ k ih => done")
    assert errs == ["unsolved goals\ncase succ\nk✝ : ℕ\nhk : k✝ = 5\nk : ℕ\nih : k + k✝ ≥ 5\n⊢ k + 1 + k✝ ≥ 5"]


def test_terms_and_blocks_across_lines():
    assert accepted("""theorem t (a : ℕ) (h : 0 < a) (h₃ : a * 3 = 12) : a ≤ 6 := by
  have : a ≤ 6 := by
        nlinarith [h₃, sq_nonneg (a - 1),
            show 0 < a + 1 by omega, show 0 < a + 2 by omega]
  exact this""")
    assert accepted("""theorem t (m n : ℕ) (h₀ : m = 6) (h₁ : n = 12) : m * n = 72 := by
  have h2 : m * n = 6 * 12 := by
    calc
      m * n = 6 * n := by rw [h₀]
      _ = 6 * 12 := by rw [h₁]
  omega""")
    assert accepted("""theorem t (x : ℤ) (h1 : x % 3 = 0 ∨ x % 3 = 1 ∨ x % 3 = 2) : x % 3 < 3 := by
  rcases h1 with (h1 | h1 | h1) <;> (
    norm_num [h1]
    <;> omega
  )""")
    assert accepted("theorem t (n : ℕ) (h1 : 1 ≤ n) (h2 : n ≤ 3) : n * n ≤ 9 := by\n"
                    "  interval_cases n <;> try {\n    simp_all\n    <;> omega\n  }")
