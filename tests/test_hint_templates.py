"""The hint templates (policy.scripted.hint_templates): which tactics a goal state's hypotheses and
variables give, that the embedded kernel proves real miniF2F statements through them in a search
of fixed tactics only, and `filter.drop_fixed_tactics` (the model is not trained on what the search
runs at a state anyway)."""
from __future__ import annotations

import pytest

from conftest import run
from policy.scripted import hint_templates
from search.best_first import SearchConfig


def test_a_forall_hypothesis_is_specialised_where_its_function_is_applied_and_only_once():
    state = ("a b : ℝ\nf : ℝ → ℝ\nh₀ : ∀ (x : ℝ), f x = a * x ^ 4 - b * x ^ 2 + x + 5\n"
             "h₂ : f (-3) = 2\n⊢ f 3 = 8")
    out = hint_templates(state)
    assert "have h₀_m3 := h₀ (-3)" in out and "have h₀_3 := h₀ 3" in out   # a hypothesis's and the goal's
    nested = hint_templates("f : ℝ → ℝ\nh₀ : ∀ x ≠ -2, f x = 1 / (x + 2)\n⊢ f (f 1) = 3 / 7")
    assert "have h₀_f1 := h₀ (f 1)" in nested and "have h₀_1 := h₀ 1" in nested
    done = state.replace("⊢", "h₀_m3 : f (-3) = a * (-3) ^ 4 - b * (-3) ^ 2 + -3 + 5\n⊢")
    assert "have h₀_m3 := h₀ (-3)" not in hint_templates(done) and "have h₀_3 := h₀ 3" in hint_templates(done)


def test_completing_the_square_uses_the_goals_numerals_but_not_its_exponents():
    out = hint_templates("x : ℝ\n⊢ x ^ 2 - 14 * x + 3 ≥ 7 ^ 2 - 14 * 7 + 3")
    assert "nlinarith [sq_nonneg (x - 7)]" in out and "nlinarith [sq_nonneg (x - 14)]" in out
    assert "nlinarith [sq_nonneg (x - 2)]" not in out   # 2 is only an exponent there
    assert not any("sq_nonneg (x - 7)" in t for t in hint_templates("x : ℝ\n⊢ x ^ 2 - 14 * x = 7"))   # not an inequality


def test_values_the_equations_determine_are_offered_to_linarith_and_induction_to_a_goals_nat():
    out = hint_templates("a b c : ℝ\nh₀ : 3 * a + b + c = -3\nh₁ : a + 3 * b + c = 9\nh₂ : a + b + 3 * c = 19\n"
                         "⊢ a * b * c = -56")
    assert {"have ha : a = -4 := by linarith", "have hb : b = 2 := by linarith", "have hc : c = 7 := by linarith"} <= set(out)
    q = hint_templates("c d : ℚ\nh₀ : 15 * d = 13\nh₁ : c = 2 * d\n⊢ ↑d.den + d.num = 28")
    assert "have hd : d = 13 / 15 := by linarith" in q and "have hc : c = 26 / 15 := by linarith" in q
    # one equation in two unknowns determines neither; a function or a cast keeps the rule out
    assert not any(t.startswith("have hx") for t in hint_templates("x y : ℝ\nh₀ : x + y = 3\n⊢ x = 1"))
    assert not any(t.startswith("have hx") for t in hint_templates("x : ℝ\nf : ℝ → ℝ\nh₀ : f x = 3\n⊢ x = 1"))
    assert "induction' n with n ih" in hint_templates("n : ℕ\n⊢ 12 ∣ 4 ^ (n + 1) + 20")
    assert not any(t.startswith("induction'") for t in hint_templates("n : ℕ\nih : n = n\n⊢ 12 ∣ 4 ^ (n + 1) + 20"))


def test_integer_values_come_with_omega_or_nlinarith_and_a_truncated_subtraction_stays_out():
    # over ℤ, a linear system: omega; a cast ↑n is n itself, and a nonlinear equation wants nlinarith
    assert {"have ha : a = -1 := by omega", "have hb : b = -2 := by omega"} <= set(
        hint_templates("a b : ℤ\nh₀ : a + b = -3\nh₁ : a - b = 1\n⊢ a = 2"))
    cast = hint_templates("n : ℕ\nh₁ : (↑n - 2) ^ 2 + ↑n ^ 2 + (↑n + 2) ^ 2 = 12296\n⊢ ↑n * 2 = 128")
    assert "have hn : n = 64 := by nlinarith" in cast   # n ≥ 0 as a ℕ: -64 is not a value
    # `m - n = 2` over ℕ truncates: not an equation of z3's, but omega turns it into one
    nat = "m n : ℕ\nh₂ : m - n = 2\nh₃ : m * n = 288\n⊢ m = 18"
    assert "have h₂' : m = n + 2 := by omega" in hint_templates(nat)
    assert not any(t.startswith("have hm") for t in hint_templates(nat))
    done = hint_templates(nat.replace("⊢", "h₂' : m = n + 2\n⊢"))
    assert "have hm : m = 18 := by nlinarith" in done and not any(t.startswith("have h₂'") for t in done)
    # ℤ division truncates too
    assert not any(t.startswith("have hx") for t in hint_templates("x : ℤ\nh₀ : x / 2 = 3\n⊢ x = 6"))
    # a nonlinear real system gets nlinarith beside linarith
    real = hint_templates("x : ℝ\nh₀ : 0 ≤ x\nh₁ : x ^ 3 = 8\n⊢ x = 2")
    assert {"have hx : x = 2 := by linarith", "have hx : x = 2 := by nlinarith"} <= set(real)


def test_a_denominator_a_hypothesis_keeps_from_zero_is_stated_nonzero():
    out = hint_templates("x : ℝ\nh₀ : x ≠ -1\nh₁ : (x - 9) / (x + 1) = 2\n⊢ x = -11")
    assert "have h₀_den : x + 1 ≠ 0 := by intro h; apply h₀; linarith" in out
    # a numeral denominator, or one without the hypothesis's variable, gets nothing
    assert not any(t.startswith("have h₀_den") for t in hint_templates("x y : ℝ\nh₀ : x ≠ 1\nh₁ : y / (y + 2) = x / 3\n⊢ x = 1"))
    assert not any(t.startswith("have h₀_den") for t in hint_templates(
        "x : ℝ\nh₀ : x ≠ -1\nh₀_den : x + 1 ≠ 0\nh₁ : (x - 9) / (x + 1) = 2\n⊢ x = -11"))   # once


def test_conjunctions_are_taken_apart_and_small_bounds_split_into_cases():
    state = "a b : ℕ\nh₀ : 1 ≤ a ∧ a ≤ 9 ∧ b ≤ 9\nh₁ : (10 * a + b) ^ 3 = 912673\n⊢ a + b = 16"
    assert "obtain ⟨h₀_1, h₀_2, h₀_3⟩ := h₀" in hint_templates(state)
    assert not any(t.startswith("interval_cases") for t in hint_templates(state))   # no bound stands alone yet
    split = "a b : ℕ\nh₀_1 : 1 ≤ a\nh₀_2 : a ≤ 9\nh₀_3 : b ≤ 9\nh₁ : (10 * a + b) ^ 3 = 912673\n⊢ a + b = 16"
    out = hint_templates(split)
    assert "interval_cases a <;> omega" in out and "interval_cases a <;> interval_cases b <;> omega" in out
    # a conjunction under a binder or a negation is one part
    assert not any(t.startswith("obtain") for t in hint_templates("h : ∀ x : ℕ, 0 < x ∧ x < 2\n⊢ False"))
    assert not any(t.startswith("interval_cases") for t in hint_templates("x : ℝ\nh : x ≤ 9\n⊢ x < 10"))   # ℝ: no cases


def test_a_bound_to_prove_is_negated_and_lemma_hints_fire_on_their_patterns():
    assert "by_contra! h" in hint_templates("n : ℕ\nh₀ : ¬Nat.Prime (7 + 30 * n)\n⊢ 6 ≤ n")
    assert "by_contra! h" not in hint_templates("x : ℝ\n⊢ 6 ≤ x")
    gcd = hint_templates("n : ℕ\nh₁ : Nat.gcd n 40 = 10\nh₂ : Nat.lcm n 40 = 280\n⊢ n = 70")
    assert "have := Nat.gcd_mul_lcm n 40" in gcd
    assert "have := Nat.gcd_mul_lcm 120 b" in hint_templates("b : ℕ\nh₀ : Nat.lcm 120 b = 3720\nh₁ : Nat.gcd 120 b = 8\n⊢ b = 248")
    assert not any("gcd_mul_lcm" in t for t in hint_templates("n : ℕ\nh₁ : Nat.gcd n 40 = 10\n⊢ n = 70"))
    sqrt = hint_templates("y : ℝ\nh₀ : 0 ≤ 19 + 3 * y\nh₁ : √(19 + 3 * y) = 7\n⊢ y = 10")
    assert "have := Real.sq_sqrt h₀" in sqrt


@pytest.mark.parametrize("theorem_id", [
    "mathd_algebra_148",        # have h₀_2 := h₀ 2, then a closer
    "mathd_algebra_113",        # nlinarith [sq_nonneg (x - 7)]
    "mathd_numbertheory_100",   # have := Nat.gcd_mul_lcm n 40
    "mathd_numbertheory_234",   # obtain, then interval_cases over two digits
    "mathd_numbertheory_150",   # by_contra! h, then interval_cases n <;> norm_num at *
    "mathd_algebra_338",        # have ha : a = -4 := by linarith, ... (values from z3), then a closer
    "induction_12dvd4expnp1p20",   # induction' n with n ih, norm_num, omega
    "mathd_algebra_80",         # have h₀_den : x + 1 ≠ 0 := ..., then field_simp and linarith
    "mathd_numbertheory_521",   # have h₂' : m = n + 2 := by omega, then nlinarith
    "mathd_algebra_392",        # have hn : n = 64 := by nlinarith (a cast ↑n), then a closer
])
def test_fixed_tactics_alone_prove_these_statements_and_the_proofs_reverify(theorem_id):
    from embedded_fixtures import minif2f_test
    from lean_env.factory import make_env
    from policy.scripted import ScriptedGenerator, closers_and_templates
    from search.best_first import search

    thm = minif2f_test(theorem_id)
    gen = ScriptedGenerator(closers_and_templates)

    async def propose(state, n):
        return gen.generate([state], n)[0]

    async def go():
        env = make_env("embedded", workers=1)
        try:
            rec, _ = await search(thm, env, propose, SearchConfig(tactics_per_expansion=64, max_expansions=16))
            verdict = await env.verify(thm, rec.proof) if rec.proved else None
            return rec, verdict
        finally:
            await env.close()
    rec, verdict = run(go())
    assert rec.proved, rec.failure
    assert verdict.ok and not verdict.incident


def test_drop_fixed_tactics_keeps_only_the_steps_the_search_would_not_take_anyway():
    from prover.config import CampaignConfig
    from prover.recipes.shared import without_fixed_tactics
    from training.store import Pair

    state = "c : ℝ\nf : ℝ → ℝ\nh₀ : ∀ (x : ℝ), f x = c * x ^ 3 - 9 * x + 3\nh₁ : f 2 = 9\n⊢ c = 3"
    pairs = [Pair(theorem_id="t", state=state, tactic=t, round=1) for t in
             ("linarith", "have h₀_2 := h₀ 2", "have e : c = 3 := by linarith", "norm_num at h₁")]
    search = {"closers": ["linarith", "norm_num"], "closer_templates": True}
    keep = CampaignConfig(search=search)
    drop = CampaignConfig(search=search, filter={"drop_fixed_tactics": True, "low_quantile": 0, "high_quantile": 0})
    assert without_fixed_tactics(pairs, keep) == pairs
    assert [p.tactic for p in without_fixed_tactics(pairs, drop)] == ["have e : c = 3 := by linarith", "norm_num at h₁"]
    # without templates in the search, a template-shaped step is the model's own
    no_templates = CampaignConfig(search={"closers": ["linarith"]}, filter={"drop_fixed_tactics": True})
    assert "have h₀_2 := h₀ 2" in [p.tactic for p in without_fixed_tactics(pairs, no_templates)]
    assert SearchConfig(**search).fixed_tactics(state)[:2] == ["linarith", "norm_num"]
