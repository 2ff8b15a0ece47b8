"""Tactics behave as Lean 4 / Mathlib do where the kernel used to differ (issue 8, section 8 and
the tactic side of sections 2-3). Each class has the behaviour Lean shows and an adversarial
script that would close a false goal if the tactic were unsound."""
from __future__ import annotations

import pytest

from embedded_fixtures import attempt, session  # noqa: F401  (fixtures)




def errors(session, cmd):
    """Error messages of a whole command (a theorem with its `by` block)."""
    r = session.handle({"cmd": cmd, "env": 0})
    return [m["data"] for m in r.get("messages", []) if m["severity"] == "error"] + (
        [r["message"]] if "message" in r else [])


# ---------------------------------------------------------------- cases n on a ℕ variable

def test_cases_on_a_nat_variable_splits_zero_and_succ(session):
    assert attempt(session, "theorem t (n : ℕ) (h : 0 < n) : n ≥ 1", ["cases n"]) == ("ok", [
        "case zero\nh : 0 < 0\n⊢ 0 ≥ 1",
        "case succ\nn✝ : ℕ\nh : 0 < n✝ + 1\n⊢ n✝ + 1 ≥ 1"])
    kind, goals = attempt(session, "theorem t (n : ℕ) : n = 0 ∨ n ≥ 1", ["cases' n with m"])
    assert kind == "ok" and goals[1] == "case succ\nm : ℕ\n⊢ m + 1 = 0 ∨ m + 1 ≥ 1"
    kind, goals = attempt(session, "theorem t (n : ℕ) : n = 0 ∨ n ≥ 1", ["rcases n with _ | m"])
    assert kind == "ok" and goals[1] == "case succ\nm : ℕ\n⊢ m + 1 = 0 ∨ m + 1 ≥ 1"
    assert attempt(session, "theorem t (n : ℕ) : n = 0 ∨ n ≥ 1",
                   ["cases n with\n| zero => left; rfl\n| succ m => right; omega"]) == ("ok", [])


def test_cases_on_a_nat_variable_cannot_prove_a_false_goal(session):
    # n = 5 is false for n = 0: the zero case must stay `0 = 5`, the succ case `m + 1 = 5`
    kind, goals = attempt(session, "theorem t (n : ℕ) : n = 5", ["cases n"])
    assert kind == "ok" and goals == ["case zero\n⊢ 0 = 5", "case succ\nn✝ : ℕ\n⊢ n✝ + 1 = 5"]
    assert attempt(session, "theorem t (n : ℕ) : n = 5", ["cases n", "omega"])[0] == "error"


# ---------------------------------------------------------------- constructor on ∨

def test_constructor_on_or_applies_or_inl(session):
    assert attempt(session, "theorem t (p q : Prop) (hp : p) : p ∨ q", ["constructor"]) == (
        "ok", ["case h\np q : Prop\nhp : p\n⊢ p"])
    # Or.inl commits to the left side: a true right side does not help
    assert attempt(session, "theorem t (p q : Prop) (hq : q) : p ∨ q", ["constructor", "exact hq"])[0] == "error"


# ---------------------------------------------------------------- use: discharger and ∣

def test_use_discharges_with_reducible_rfl_only(session):
    assert attempt(session, "theorem t : ∃ x : ℕ, x + 3 = 7", ["use 4"]) == ("ok", [])   # ℕ literals reduce
    assert attempt(session, "theorem t : ∃ x : ℤ, x + 3 = 7", ["use 4"]) == ("ok", ["⊢ 4 + 3 = 7"])
    assert attempt(session, "theorem t : ∃ x : ℤ, x + 3 = 7", ["use 4", "norm_num"]) == ("ok", [])
    assert attempt(session, "theorem t : ∃ x : ℤ, x = 4", ["use 4"]) == ("ok", [])
    # `exists` runs the full `trivial` (with `decide`), so it does close the ℤ goal
    assert attempt(session, "theorem t : ∃ x : ℤ, x + 3 = 7", ["exists 4"]) == ("ok", [])


def test_use_does_not_close_a_false_instance(session):
    assert attempt(session, "theorem t : ∃ x : ℕ, x + 3 = 8", ["use 4"]) == ("ok", ["⊢ 4 + 3 = 8"])
    assert attempt(session, "theorem t : ∃ x : ℤ, x * x = 2", ["use 1"]) == ("ok", ["⊢ 1 * 1 = 2"])
    assert attempt(session, "theorem t : ∃ x : ℕ, x = 1 ∧ x = 2", ["use 1"]) == ("ok", ["⊢ 1 = 1 ∧ 1 = 2"])


def test_use_and_obtain_see_through_dvd(session):
    assert attempt(session, "theorem t : (3 : ℕ) ∣ 12", ["use 4"]) == ("ok", [])
    assert attempt(session, "theorem t : (3 : ℕ) ∣ 13", ["use 4"]) == ("ok", ["⊢ 13 = 3 * 4"])
    assert attempt(session, "theorem t : (3 : ℤ) ∣ 12", ["use 4"]) == ("ok", ["⊢ 12 = 3 * 4"])
    assert attempt(session, "theorem t (a b : ℕ) (h : a ∣ b) : b % a = 0", ["obtain ⟨k, hk⟩ := h"]) == (
        "ok", ["a b k : ℕ\nhk : b = a * k\n⊢ b % a = 0"])
    assert attempt(session, "theorem t (a b : ℤ) (h : a ∣ b) : True", ["rcases h with ⟨c, rfl⟩"]) == (
        "ok", ["a c : ℤ\n⊢ True"])
    kind, goals = attempt(session, "theorem t (a b : ℕ) (h : a ∣ b) : True", ["cases h"])
    assert kind == "ok" and goals == ["case intro\na b w✝ : ℕ\nh✝ : b = a * w✝\n⊢ True"]


def test_use_with_too_many_arguments_fails(session):
    assert attempt(session, "theorem t : ∃ x : ℕ, x = 3", ["use 3, 5"])[0] == "error"
    # a second argument proves the left conjunct; a wrong proof is a type error, never skipped
    assert attempt(session, "theorem t (h : 1 = 2) : ∃ x : ℕ, x = 2 ∧ x = 3", ["use 2, h"])[0] == "error"


# ---------------------------------------------------------------- simp at h ⟶ False

def test_simp_at_h_turning_h_into_false_closes_the_goal(session):
    assert attempt(session, "theorem t (x : ℕ) (h : 2 < 1) : x = 7", ["simp at h"]) == ("ok", [])
    assert attempt(session, "theorem t (x : ℕ) (h : x ≠ x) : x = 7", ["norm_num at h"]) == ("ok", [])
    # a hypothesis simp turns into True is removed, and the goal stays
    assert attempt(session, "theorem t (x : ℕ) (h : 1 < 2) : x = 7", ["simp at h"]) == ("ok", ["x : ℕ\n⊢ x = 7"])


# ---------------------------------------------------------------- nested `by` blocks

def test_nested_by_keeps_semicolon_tactics_inside(session):
    cmd = "theorem w (x : ℤ) (h : x = 2) : x + 1 = 3 := by\n  have h2 : x + 1 = 3 := by rw [h]; norm_num\n  exact h2"
    assert errors(session, cmd) == []
    # both tactics run inside the nested `by`: the second finds no goal there
    cmd = "theorem w (x : ℤ) (h : x = 2) : x = 2 := by\n  have h2 : x = 2 := by exact h; exact h\n  exact h2"
    assert any("no goals" in m for m in errors(session, cmd))


def test_multi_line_by_under_have(session):
    cmd = "theorem w (x : ℤ) (h : x = 2) : x + 1 = 3 := by\n  have h2 : x + 1 = 3 := by\n    rw [h]\n    norm_num\n  exact h2"
    assert errors(session, cmd) == []
    # the block's second line really runs: without it the nested goal stays open
    cmd = "theorem w (x : ℤ) (h : x = 2) : x + 1 = 3 := by\n  have h2 : x + 1 = 3 := by\n    rw [h]\n  exact h2"
    assert any("unsolved goals" in m for m in errors(session, cmd))


def test_text_after_a_complete_tactic_is_a_syntax_error(session):
    for statement, tactic in [("theorem t (a : ℕ) (h : a = 1) : a = 1", "rw [h] norm_num"),
                              ("theorem t (a : ℕ) : a = a", "rfl foo"),
                              ("theorem t (a : ℕ) (h : a < 1) : a = 0", "omega bar")]:
        assert attempt(session, statement, [tactic])[0] == "error", tactic


# ---------------------------------------------------------------- capture and shadowing

CAPTURE = [
    # each would prove a false theorem if the new variable captured the old one
    ("theorem t (x : ℕ) : ∀ y : ℕ, y = x", ["intro x", "rfl"]),
    ("theorem t (n m : ℕ) : n ≤ m + 1", ["induction' n with m ih", "· omega", "· omega"]),
    ("theorem t (n m : ℕ) : n ≤ m + 1", ["induction n with\n| zero => omega\n| succ m ih => omega"]),
    ("theorem t (x : ℕ) (h : ∃ y : ℕ, y ≠ x) : ∃ y : ℕ, y ≠ y", ["obtain ⟨x, hx⟩ := h", "exact ⟨x, hx⟩"]),
    ("theorem t (x : ℕ) (h : ∃ y : ℕ, y ≠ x) : ∃ y : ℕ, y ≠ y", ["rcases h with ⟨x, hx⟩", "exact ⟨x, hx⟩"]),
    ("theorem t (n m : ℕ) : n ≤ m + 1", ["cases' n with m", "· omega", "· omega"]),
]


@pytest.mark.parametrize("statement,tactics", CAPTURE)
def test_a_new_variable_never_captures_an_old_one(session, statement, tactics):
    kind, info = attempt(session, statement, tactics)
    assert not (kind == "ok" and info == []), info


def test_shadowed_variables_become_inaccessible(session):
    kind, goals = attempt(session, "theorem t (x : ℕ) (h : x = 1) : ∀ y : ℕ, y + x = y + 1", ["intro x"])
    assert goals == ["x✝ : ℕ\nh : x✝ = 1\nx : ℕ\n⊢ x + x✝ = x + 1"]
    assert attempt(session, "theorem t (x : ℕ) (h : x = 1) : ∀ y : ℕ, y + x = y + 1", ["intro x", "rw [h]"]) == ("ok", [])
    kind, goals = attempt(session, "theorem t (x : ℕ) (h : ∃ y : ℕ, y ≠ x) : True", ["obtain ⟨x, hx⟩ := h"])
    assert goals == ["x✝ x : ℕ\nhx : x ≠ x✝\n⊢ True"]


def test_rename_i_follows_the_variable(session):
    kind, goals = attempt(session, "theorem t : ∀ x : ℕ, x = x", ["intro", "rename_i y"])
    assert goals == ["y : ℕ\n⊢ y = y"]
    # naming an inaccessible variable like a later one leaves it shadowed, never conflated
    kind, goals = attempt(session, "theorem t (x : ℕ) (h : x = 1) : ∀ x : ℕ, x = 1", ["intro x", "rename_i x"])
    assert kind == "ok" and "h : x = 1\nx : ℕ\n⊢ x = 1" not in goals[0]
    assert attempt(session, "theorem t (x : ℕ) (h : x = 1) : ∀ x : ℕ, x = 1", ["intro x", "rename_i x", "exact h"])[0] == "error"


# ---------------------------------------------------------------- conditional rewrites, norm_num, simpa

def test_rw_with_a_conditional_rule_leaves_its_premise_as_a_goal(session):
    statement = "theorem t (a : ℕ) (h : 1 ≤ a) : a - 1 + 1 = a"
    assert attempt(session, statement, ["rw [Nat.sub_add_cancel]"]) == ("ok", ["a : ℕ\nh : 1 ≤ a\n⊢ 1 ≤ a"])
    assert attempt(session, statement, ["rw [Nat.sub_add_cancel]", "exact h"]) == ("ok", [])
    assert attempt(session, statement, ["rw [Nat.sub_add_cancel h]"]) == ("ok", [])
    # the premise is not dropped: without `1 ≤ a` it cannot be discharged
    assert attempt(session, "theorem t (a : ℕ) : a - 1 + 1 = a", ["rw [Nat.sub_add_cancel]", "omega"])[0] == "error"


def test_a_rewritten_hypothesis_cannot_prove_the_rules_premise(session):
    # rewriting `h : True` with `False → (True ↔ False)` makes h `False`; the premise `False`
    # must be proved in the context before the rewrite, where h is still `True`
    statement = "theorem t (hr : False → (True ↔ False)) (h : True) : False"
    assert attempt(session, statement, ["rw [hr] at h"]) == ("ok", [
        "hr : False → (True ↔ False)\nh : False\n⊢ False", "hr : False → (True ↔ False)\nh : True\n⊢ False"])
    assert attempt(session, statement, ["rw [hr] at h", "exact h", "exact h"])[0] == "error"


def test_rw_at_h_tries_rfl_on_the_goal_and_nothing_else(session):
    # `rw ... at h` is `rewrite ... at h; with_reducible rfl`: the goal's rfl is tried...
    assert attempt(session, "theorem t (a b : ℕ) (h : a = b) (h2 : a = 1) : b = b", ["rw [h] at h2"]) == ("ok", [])
    # ...but a hypothesis rewritten to `False` does not close the goal
    assert attempt(session, "theorem t (p : Prop) (hp : p ↔ False) (h : p) : 1 = 2", ["rw [hp] at h"]) == (
        "ok", ["p : Prop\nhp : p ↔ False\nh : False\n⊢ 1 = 2"])
    assert attempt(session, "theorem t (a : ℕ) (h : a = 2) (h2 : a + 1 = 3) : a + 1 = 3", ["rw [h] at h2 ⊢"]) == ("ok", [])


def test_norm_num_does_not_use_contradictory_hypotheses(session):
    # Mathlib's norm_num simplifies the goal only; `h : 1 = 2` does not close `x = 7`
    assert attempt(session, "theorem t (x : ℕ) (h : 1 = 2) : x = 7", ["norm_num"])[0] == "error"
    assert attempt(session, "theorem t (x : ℕ) (h : 2 < 1) : x = 7", ["norm_num"])[0] == "error"
    assert attempt(session, "theorem t (x : ℕ) (h : 2 < 1) : x = 7", ["norm_num at h"]) == ("ok", [])


def test_simpa(session):
    assert attempt(session, "theorem t (x : ℕ) (h : x + 0 = 3) : x = 3", ["simpa using h"]) == ("ok", [])
    assert attempt(session, "theorem t (x : ℕ) (h : x + 0 = 3) : x = 4", ["simpa using h"])[0] == "error"
    # without `using`: the simplified goal must be a hypothesis; others are not simplified
    assert attempt(session, "theorem t (x : ℕ) (h : x = 3) : x + 0 = 3", ["simpa"]) == ("ok", [])
    assert attempt(session, "theorem t (x : ℕ) (h : 2 < 1) : x = 3", ["simpa"])[0] == "error"


def test_scoped_combinators_run_their_tactic(session):
    statement = "theorem t (x : ℕ) (h₀ : x + 3 = 7) : x = 4"
    assert attempt(session, statement, ["open Nat in omega"]) == ("ok", [])
    assert attempt(session, statement, ["set_option maxHeartbeats 400000 in omega"]) == ("ok", [])
    # the inner tactic still has to prove the goal
    assert attempt(session, "theorem t (x : ℕ) (h₀ : x + 3 = 7) : x = 5", ["open Nat in omega"])[0] == "error"
    assert attempt(session, statement, ["open Nat omega"])[0] == "error"   # `in` is required


# ---------------------------------------------------------------- which instance `rw` rewrites

def test_rw_picks_instances_in_kabstract_order(session):
    # pre-order, left to right: the outer `+` of `a + b + c`, and `a + b` before `d + a`
    assert attempt(session, "theorem t (a b c : ℕ) : a + b + c = 0", ["rw [Nat.add_comm]"]) == (
        "ok", ["a b c : ℕ\n⊢ c + (a + b) = 0"])
    assert attempt(session, "theorem t (a b c d : ℕ) : (a + b) * c = d + a", ["rw [Nat.add_comm]"]) == (
        "ok", ["a b c d : ℕ\n⊢ (b + a) * c = d + a"])
    # nth_rewrite counts every instance in that order, each matched afresh
    assert attempt(session, "theorem t (a b c d : ℕ) : a + b + (c + d) = 0", ["nth_rewrite 3 [Nat.add_comm]"]) == (
        "ok", ["a b c d : ℕ\n⊢ a + b + (d + c) = 0"])
    assert attempt(session, "theorem t (a b c d : ℕ) : a + b + (c + d) = 0", ["nth_rewrite 4 [Nat.add_comm]"])[0] == "error"


def test_rw_skips_instances_at_the_wrong_type(session):
    # the integer `x + 1` is no instance of `Nat.add_comm`; the natural `n + 1` under the cast is
    assert attempt(session, "theorem t (x : ℤ) (n : ℕ) : x + 1 = (↑(n + 1) : ℤ)", ["rw [Nat.add_comm]"]) == (
        "ok", ["x : ℤ\nn : ℕ\n⊢ x + 1 = ↑(1 + n)"])
    assert attempt(session, "theorem t (x y : ℤ) : x + y = y + x", ["rw [Nat.add_comm]"])[0] == "error"


def test_rw_does_not_rewrite_what_depends_on_a_bound_variable(session):
    assert attempt(session, "theorem t (a : ℕ) : ∀ x : ℕ, x + a = a + x", ["rw [Nat.add_comm]"])[0] == "error"
    # `a` under `∀ a` is the bound one, not the hypothesis' `a`
    assert attempt(session, "theorem t (a b : ℕ) (h : a = b) : ∀ a : ℕ, a = b", ["rw [h]"])[0] == "error"


# ---------------------------------------------------------------- rintro, and rfl patterns in tuples

def test_rintro_introduces_and_destructures(session):
    assert attempt(session, "theorem t (p q : Prop) : p ∧ q → q ∧ p", ["rintro ⟨hp, hq⟩", "exact ⟨hq, hp⟩"]) == ("ok", [])
    assert attempt(session, "theorem t (p q : Prop) : p ∨ q → q ∨ p", ["rintro (hp | hq)"]) == ("ok", [
        "case inl\np q : Prop\nhp : p\n⊢ q ∨ p", "case inr\np q : Prop\nhq : q\n⊢ q ∨ p"])
    assert attempt(session, "theorem t : ∀ x : ℕ, (∃ y : ℕ, x = 2 * y) → x % 2 = 0", ["rintro x ⟨y, rfl⟩"]) == (
        "ok", ["y : ℕ\n⊢ 2 * y % 2 = 0"])


def test_an_rfl_pattern_substitutes_into_the_rest_of_the_tuple(session):
    # the right conjunct must not keep mentioning the eliminated `x`
    assert attempt(session, "theorem t (x : ℕ) (h : x = 2 ∧ x > 1) : True", ["obtain ⟨rfl, h2⟩ := h"]) == (
        "ok", ["h2 : 2 > 1\n⊢ True"])
    assert attempt(session, "theorem t (x : ℕ) : x = 2 ∧ x > 1 → x > 5", ["rintro ⟨rfl, h2⟩", "omega"])[0] == "error"


# ---------------------------------------------------------------- fun terms

def test_fun_terms_prove_pi_goals(session):
    assert attempt(session, "theorem t (p : Prop) : p → p", ["exact fun h => h"]) == ("ok", [])
    assert attempt(session, "theorem t : ∀ x : ℕ, x = x", ["exact fun y => rfl"]) == ("ok", [])
    assert attempt(session, "theorem t (p q : Prop) : p ∧ q → q", ["exact fun ⟨_, hq⟩ => hq"]) == ("ok", [])
    assert attempt(session, "theorem t (p : Prop) (hp : p) : ¬¬p", ["exact fun hn => hn hp"]) == ("ok", [])
    assert attempt(session, "theorem t : ∀ x : ℕ, x + 0 = x", ["exact fun (x : ℕ) => by simp"]) == ("ok", [])
    assert attempt(session, "theorem t : ∀ x : ℕ, x + 0 = x", ["refine fun x => ?_"]) == ("ok", ["x : ℕ\n⊢ x + 0 = x"])
    # a `?_` under `fun` is a goal in the function's context, where the bound `x` is the new one
    assert attempt(session, "theorem t (x : ℕ) (h : x = 0) : ∀ x : ℕ, x = 0", ["refine fun x => ?_"]) == (
        "ok", ["x✝ : ℕ\nh : x✝ = 0\nx : ℕ\n⊢ x = 0"])
    assert attempt(session, "theorem t (x : ℕ) (h : x = 0) : ∀ x : ℕ, x = 0", ["refine fun x => ?_", "exact h"])[0] == "error"
    assert attempt(session, "theorem t (x : ℕ) (h : x = 0) : (∀ x : ℕ, x = 0) ∧ True",
                   ["refine ⟨fun x => ?_, trivial⟩", "exact h"])[0] == "error"
    assert attempt(session, "theorem t (p : Prop) (hp : p) : True", ["have h : ¬¬p := fun hn => hn hp", "trivial"]) == ("ok", [])


FUN_FALSE = [
    ("theorem t : ∀ x : ℕ, x = x + 1", "exact fun y => rfl"),
    ("theorem t (p q : Prop) : p ∧ q → p", "exact fun ⟨_, hq⟩ => hq"),
    ("theorem t : ∀ x : ℕ, x + 0 = x", "exact fun (x : ℤ) => by simp"),   # wrong binder type
    ("theorem t (x : ℕ) : ∀ y : ℕ, y = x", "exact fun x => rfl"),          # capture
    ("theorem t (x : ℕ) : 0 ≤ x", "exact fun y => y"),                     # not a pi goal
]


@pytest.mark.parametrize("statement,tactic", FUN_FALSE)
def test_fun_terms_do_not_prove_what_they_should_not(session, statement, tactic):
    assert attempt(session, statement, [tactic])[0] == "error"


# ---------------------------------------------------------------- obtain with a type, by_cases

def test_obtain_with_a_stated_type(session):
    statement = "theorem t (n : ℕ) (h : n % 2 = 0) : True"
    assert attempt(session, statement, ["obtain ⟨k, hk⟩ : ∃ k, n = 2 * k := ⟨n / 2, by omega⟩"]) == (
        "ok", ["n : ℕ\nh : n % 2 = 0\nk : ℕ\nhk : n = 2 * k\n⊢ True"])
    # without a proof the stated type is the first goal
    assert attempt(session, statement, ["obtain ⟨k, hk⟩ : ∃ k, n = 2 * k"]) == ("ok", [
        "n : ℕ\nh : n % 2 = 0\n⊢ ∃ k, n = 2 * k", "n : ℕ\nh : n % 2 = 0\nk : ℕ\nhk : n = 2 * k\n⊢ True"])
    assert attempt(session, "theorem t (n : ℕ) (h : n % 2 = 1) : True",
                   ["obtain ⟨k, hk⟩ : ∃ k, n = 2 * k := ⟨n / 2, by omega⟩"])[0] == "error"
    assert attempt(session, "theorem t (p q : Prop) (h : p ∧ q) : q", ["have ⟨hp, hq⟩ := h", "exact hq"]) == ("ok", [])


def test_by_cases(session):
    assert attempt(session, "theorem t (p : Prop) : p ∨ ¬p", ["by_cases h : p"]) == ("ok", [
        "case pos\np : Prop\nh : p\n⊢ p ∨ ¬p", "case neg\np : Prop\nh : ¬p\n⊢ p ∨ ¬p"])
    assert attempt(session, "theorem t (p : Prop) : p", ["by_cases h : p", "exact h", "exact h"])[0] == "error"


def test_contradiction_is_lean_strength(session):
    for hyp in ["h : False", "h : 0 = 1", "h : x ≠ x", "h : ¬x = x", "h : 2 + 2 ≠ 4"]:
        assert attempt(session, f"theorem t (x : ℕ) ({hyp}) : x = 7", ["contradiction"]) == ("ok", []), hyp
    assert attempt(session, "theorem t (x : ℕ) (h : x < 1) (h' : ¬x < 1) : x = 7", ["contradiction"]) == ("ok", [])
    # no arithmetic: `2 + 2 = 5` is not a constructor clash, and ℤ literals are not constructors
    for hyp in ["h : 2 + 2 = 5", "h : (0 : ℤ) = 1", "h : x < 0"]:
        assert attempt(session, f"theorem t (x : ℕ) ({hyp}) : x = 7", ["contradiction"])[0] == "error", hyp


def test_a_focus_block_runs_all_its_lines(session):
    proof = ("theorem w (x y : ℤ) (h₀ : x + y = 10) (h₁ : x - y = 2) : x = 6 ∧ y = {} := by\n"
             "  have hx : x = 6 := by\n    have h2 : 2 * x = 12 := by\n      linarith\n    linarith\n"
             "  constructor\n  · exact hx\n  · rw [hx] at h₀\n    linarith")
    assert errors(session, proof.format(4)) == []
    assert any("linarith failed" in m for m in errors(session, proof.format(5)))


def test_intro_patterns(session):
    assert attempt(session, "theorem t (p q : Prop) : p ∧ q → q", ["intro ⟨hp, hq⟩", "exact hq"]) == ("ok", [])
    assert attempt(session, "theorem t (x : ℕ) : x = 2 → x + 1 = 3", ["rintro rfl"]) == ("ok", ["⊢ 2 + 1 = 3"])
    assert attempt(session, "theorem t : ∀ x : ℕ, x = x", ["rintro ⟨a, b⟩"])[0] == "error"
    # `specialize` needs a local hypothesis, not a library lemma
    assert attempt(session, "theorem t (x : ℕ) : 0 ≤ x", ["specialize Nat.zero_le x"])[0] == "error"


def test_rw_takes_equations_and_iffs_only(session):
    # Lean's `rewrite`: "equality or iff proof expected" for `h : p`, `h : ¬p`, `h : a ≠ b`
    for hyp in ["h : p", "h : ¬p"]:
        kind, info = attempt(session, f"theorem t (p : Prop) ({hyp}) : p", ["rw [h]"])
        assert kind == "error" and "equality or iff proof expected" in info, info
    # a goal rewritten to `True` stays open: `rfl` does not prove `True`
    assert attempt(session, "theorem t (p : Prop) (h : p ↔ True) : p", ["rw [h]"]) == ("ok", ["p : Prop\nh : p ↔ True\n⊢ True"])


def test_typed_rcases_patterns(session):
    assert attempt(session, "theorem t (p q : Prop) (h : p ∧ q) : q", ["obtain ⟨hp, (hq : q)⟩ := h", "exact hq"]) == ("ok", [])
    # the stated type must be the component's (up to defeq), never another proposition
    assert attempt(session, "theorem t (p q : Prop) (h : p ∧ q) : p", ["obtain ⟨hp, (hq : p)⟩ := h"])[0] == "error"


def test_induction_generalizing(session):
    statement = "theorem t (n m : ℕ) (h : m ≤ n) : m ≤ n + 1"
    assert attempt(session, statement, ["induction n generalizing m"]) == ("ok", [
        "case zero\nm : ℕ\nh : m ≤ 0\n⊢ m ≤ 0 + 1",
        "case succ\nn✝ : ℕ\na✝ : ∀ m ≤ n✝, m ≤ n✝ + 1\nm : ℕ\nh : m ≤ n✝ + 1\n⊢ m ≤ n✝ + 1 + 1"])
    assert attempt(session, statement, ["induction n generalizing m with\n| zero => omega\n| succ k ih => omega"]) == ("ok", [])
    # false for n = 5, m = 0: naming the predecessor like the generalized variable must not conflate them
    assert attempt(session, "theorem t (n m : ℕ) : n ≤ m + 1",
                   ["induction n generalizing m with\n| zero => omega\n| succ m ih => omega"])[0] == "error"
    assert attempt(session, "theorem t (n : ℕ) : n = n", ["induction n generalizing k"])[0] == "error"
