"""Local ∀-hypotheses as simp lemmas: `simp [h₀]`, `simp only [h₀] at h₁`, `norm_num [h₀]`,
`simp_all`, `field_simp [h₀]` with `h₀ : ∀ x, f x = ...` (also `∀ x ≠ 0, ...`, `∀ n, 1000 ≤ n →
...`, `∀ x, p ↔ q`).

What real Lean does, and where it says so:
- A hypothesis becomes simp theorems by `preprocess` (leanprover/lean4
  src/Lean/Meta/Tactic/Simp/SimpTheorems.lean): its `∀`s and premises are telescoped, the conclusion
  `a = b` rewrites a to b, `p ↔ q` p to q, `a ≠ b` `(a = b)` to False, `¬p` p to False, `p ∧ q`
  gives one theorem per side, anything else p to True. Each instance of the lhs is rewritten.
- A premise is a side goal for the discharger. Simp's default one (`dischargeDefault?` in
  src/Lean/Meta/Tactic/Simp/Rewrite.lean) simplifies it with the same simp set and needs `True`;
  it looks up assumptions only for equation-theorem hypotheses, so a fact in the context that is not
  in the simp set does not discharge (tests/lean/simpDisch.lean needs an explicit `discharger :=
  assumption` for that; tests/lean/run/simpCondLemma.lean discharges `x ≠ 0` with `simp [h]`,
  `h : x ≠ 0` in the set). Nesting stops at `Simp.Config.maxDischargeDepth := 2`
  (src/Init/MetaTypes.lean). norm_num's discharger is norm_num itself (`discharge` in
  leanprover-community/mathlib4 Mathlib/Tactic/NormNum/Core.lean), so `(3 : ℝ) ≠ 0` is proved;
  field_simp's tries an assumption first (Mathlib/Tactic/FieldSimp.lean).
- `simpGoal` (src/Lean/Meta/Tactic/Simp/Main.lean) and `normNumAt` erase the hypothesis being
  simplified from the simp set (`eraseTheorem (.fvar localDecl.fvarId)`), and `simp_all` disables
  the entry it simplifies (src/Lean/Meta/Tactic/Simp/SimpAll.lean): `simp [h] at h` never turns h
  into True.

The acceptances are proofs of real miniF2F statements, each also re-verified as a whole proof. The
probes are false statements (or proofs Lean rejects) that a careless implementation accepts; each
is paired with a true variant that Lean and the kernel accept.
"""
from __future__ import annotations

import functools

import pytest

from conftest import thm
from embedded_fixtures import attempt, minif2f_test, session, verify_proofs  # noqa: F401  (fixture)

# miniF2F (test split) proofs real Lean accepts through a local ∀-hypothesis in the simp set
MINIF2F_PROOFS = [
    ("mathd_algebra_148", ["simp only [h₀] at h₁", "linarith"]),
    ("mathd_algebra_148", ["norm_num [h₀] at h₁", "linarith"]),
    ("mathd_algebra_246", ["simp only [h₀] at h₂ ⊢", "linarith"]),
    ("mathd_algebra_139", ["norm_num [h₀]"]),     # `∀ x ≠ 0, ∀ y ≠ 0, ...`: norm_num proves 3 ≠ 0, 11 ≠ 0
    ("mathd_algebra_270", ["norm_num [h₀]"]),     # `∀ x ≠ -2, ...` twice: f (f 1), inner instance first
    ("mathd_algebra_171", ["norm_num [h₀]"]),
    ("mathd_algebra_346", ["norm_num [h₀, h₁]"]),  # g (f 5 - 1): two rules, nested instances
    ("mathd_algebra_143", ["norm_num [h₀, h₁]"]),
]

# (false statement or proof Lean rejects, its tactics) paired with (a true variant, its tactics)
P = "theorem probe"
PROBES = [
    # ℕ subtraction truncates inside the instantiated right side: f 0 = 0 - 1 = 0, not -1 or 1
    ((f"{P} (f : ℕ → ℕ) (h : ∀ x, f x = x - 1) : f 0 = 1 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ x, f x = x - 1) : f 0 = 0 := by", ["simp [h]"])),
    # an instance of another function is no instance
    ((f"{P} (f g : ℝ → ℝ) (h : ∀ x, f x = 2 * x) : g 3 = 6 := by", ["simp [h]"]),
     (f"{P} (f g : ℝ → ℝ) (h : ∀ x, f x = 2 * x) : f 3 = 6 := by", ["norm_num [h]"])),
    # a local named like the bound variable: `f 2` is `2 + 1`, not `x + 1`
    ((f"{P} (x : ℝ) (f : ℝ → ℝ) (h : ∀ x, f x = x + 1) (hx : x = 5) : f 2 = 6 := by", ["simp [h, hx]"]),
     (f"{P} (x : ℝ) (f : ℝ → ℝ) (h : ∀ x, f x = x + 1) (hx : x = 5) : f x = 6 := by", ["norm_num [h, hx]"])),
    # the rhs mentions a local `x`: under the goal's `∀ x` the binder must be renamed, not capture it
    ((f"{P} (x : ℝ) (f : ℝ → ℝ) (h : ∀ y, f y = x + y) : ∀ x, f x = x + x := by", ["simp [h]"]),
     (f"{P} (x : ℝ) (f : ℝ → ℝ) (h : ∀ y, f y = x + y) : ∀ z, f z = x + z := by", ["simp [h]"])),
    # a rule about the local `y` does not rewrite the goal's bound `y` (the binder shadows it)
    ((f"{P} (y : ℝ) (f : ℝ → ℝ) (h : f y = 3) : ∀ y, f y = 3 := by", ["simp [h]"]),
     (f"{P} (y : ℝ) (f : ℝ → ℝ) (h : f y = 3) : ∀ z : ℝ, f y = 3 := by", ["simp [h]"])),
    ((f"{P} (y : ℝ) (g : ℝ → ℝ → ℝ) (h : ∀ x, g x y = 0) : ∀ y, g 1 y = 0 := by", ["simp [h]"]),
     (f"{P} (y : ℝ) (g : ℝ → ℝ → ℝ) (h : ∀ x, g x y = 0) : ∀ z : ℝ, g z y = 0 := by", ["simp [h]"])),
    # a sum's bound `x` shadows the local `x`: `hx : x ≠ 0` must not discharge the bound one's
    # side condition (the sum runs through 0, where f is unknown)
    ((f"{P} (f : ℤ → ℝ) (x : ℤ) (hx : x ≠ 0) (h : ∀ y : ℤ, y ≠ 0 → f y = 1) : "
      f"f x + ∑ x in Finset.Icc (-1 : ℤ) 1, f x = 4 := by", ["simp [h, hx]"]),
     (f"{P} (f : ℤ → ℝ) (x : ℤ) (hx : x ≠ 0) (h : ∀ y : ℤ, y ≠ 0 → f y = 1) : f x + f 2 = 2 := by",
      ["norm_num [h, hx]"])),
    ((f"{P} (f : ℤ → ℝ) (x : ℤ) (hx : x ≠ 0) (h : ∀ y : ℤ, y ≠ 0 → f y = 1) : "
      f"f x + ∑ x in Finset.Icc (-1 : ℤ) 1, f x = 4 := by", ["field_simp [h]"]),
     (f"{P} (f : ℤ → ℝ) (x : ℤ) (hx : x ≠ 0) (h : ∀ y : ℤ, y ≠ 0 → f y = 1) : f x + f 2 = 2 := by",
      ["field_simp [h]", "norm_num"])),
    # a side condition that does not hold is never assumed
    ((f"{P} (f : ℕ → ℕ) (h : ∀ n, 1000 ≤ n → f n = n - 3) : f 84 = 81 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ n, 1000 ≤ n → f n = n - 3) : f 1005 = 1002 := by", ["simp [h]"])),
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, x ≠ 0 → f x = 1 / x) : f 0 = 0 := by", ["norm_num [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, x ≠ 0 → f x = 1 / x) : f 2 = 1 / 2 := by", ["norm_num [h]"])),
    ((f"{P} (s : ℝ → ℝ → ℝ) (h₀ : ∀ (x) (_ : x ≠ 0), ∀ (y) (_ : y ≠ 0), s x y = 1 / y - 1 / x) : "
      f"s 0 11 = 1 / 11 := by", ["norm_num [h₀]"]),
     (f"{P} (s : ℝ → ℝ → ℝ) (h₀ : ∀ (x) (_ : x ≠ 0), ∀ (y) (_ : y ≠ 0), s x y = 1 / y - 1 / x) : "
      f"s 3 11 = 1 / 11 - 1 / 3 := by", ["norm_num [h₀]"])),
    ((f"{P} (f : ℕ → ℕ) (h : ∀ n : ℕ, n ≤ 5 → f n = 0) : f 6 = 0 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ n : ℕ, n ≤ 5 → f n = 0) : f 5 = 0 := by", ["simp [h]"])),
    # the premise is discharged at the instance, not as stated: `hx` is about the local x, not 0
    ((f"{P} (x : ℝ) (hx : x ≠ 0) (f : ℝ → ℝ) (h : ∀ x : ℝ, x ≠ 0 → f x = 1) : f 0 = 1 := by", ["simp [h, hx]"]),
     (f"{P} (x : ℝ) (hx : x ≠ 0) (f : ℝ → ℝ) (h : ∀ x : ℝ, x ≠ 0 → f x = 1) : f x = 1 := by", ["simp [h, hx]"])),
    # a premise with a variable the lhs does not fix is never discharged by guessing it
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x y : ℝ, y < x → x < y → f x = 0) : f 1 = 0 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, 0 < x → f x = 0) : f 1 = 0 := by", ["simp [h]"])),
    # a chain of conditional rules: the side goal `g 3 = 1` needs `10 < 3`
    ((f"{P} (f g : ℕ → ℕ) (h : ∀ n : ℕ, g n = 1 → f n = 0) (hg : ∀ n, 10 < n → g n = 1) : f 3 = 0 := by",
      ["simp [h, hg]"]),
     (f"{P} (f g : ℕ → ℕ) (h : ∀ n : ℕ, g n = 1 → f n = 0) (hg : ∀ n, 10 < n → g n = 1) : f 11 = 0 := by",
      ["simp [h, hg]"])),
    # `simp [h] at h`: h is erased while it is simplified, so it cannot become True and vanish
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x, f x = 2) (h1 : f 1 = 2) : f 1 = 2 := by", ["simp [h] at h", "exact h1"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x, f x = 2) (h1 : f 1 = 2) : f 1 = 2 := by", ["simp [h] at h1 ⊢"])),
    # ∀ over ℕ: `f ↑n` matches casts of naturals only, never an ℝ value
    ((f"{P} (f : ℝ → ℝ) (h : ∀ n : ℕ, f n = n ^ 2) : f (1 / 2) = 1 / 4 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ n : ℕ, f n = n ^ 2) : f ((3 : ℕ) : ℝ) = 9 := by", ["norm_num [h]"])),
    ((f"{P} (f : ℤ → ℤ) (h : ∀ n : ℕ, f n = 1) : f (-1) = 1 := by", ["simp [h]"]),
     (f"{P} (f : ℤ → ℤ) (h : ∀ n : ℕ, f n = 1) : f ((5 : ℕ) : ℤ) = 1 := by", ["simp [h]"])),
    # a ℕ fact at ℤ values: every value must have its binder's type (`elab.instantiate_rule`)
    ((f"{P} (a b : ℤ) (h : ∀ n m : ℕ, n - (n + m) = 0) : a - (a + b) = 0 := by", ["simp [h]"]),
     (f"{P} (a b : ℕ) (h : ∀ n m : ℕ, n - (n + m) = 0) : a - (a + b) = 0 := by", ["simp [h]"])),
    # truncated subtraction and floor division in the rhs stay natural-number operations
    ((f"{P} (f : ℕ → ℕ) (h : ∀ n, f n = n - 3) : f 2 + 3 = 2 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ n, f n = n - 3) : f 2 = 0 := by", ["simp [h]"])),
    ((f"{P} (f : ℕ → ℕ) (h : ∀ n, f n = n / 2) : f 3 * 2 = 3 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ n, f n = n / 2) : f 3 = 1 := by", ["simp [h]"])),
    # `?n + 1` against a natural numeral: 3 is 2 + 1, 0 is no successor
    ((f"{P} (f : ℕ → ℕ) (h : ∀ n, f (n + 1) = n) : f 0 = 0 := by", ["simp [h]"]),
     (f"{P} (f : ℕ → ℕ) (h : ∀ n, f (n + 1) = n) : f 3 = 2 := by", ["simp [h]"])),
    # a repeated bound variable must get one value
    ((f"{P} (g : ℝ → ℝ → ℝ) (h : ∀ x, g x x = 0) : g 1 2 = 0 := by", ["simp [h]"]),
     (f"{P} (g : ℝ → ℝ → ℝ) (h : ∀ x, g x x = 0) : g 2 2 = 0 := by", ["simp [h]"])),
    # each instance gets its own values (not the first instance's, as `rw` would)
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x ^ 2) : f 2 + f 3 = 8 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x ^ 2) : f 2 + f 3 = 13 := by", ["norm_num [h]"])),
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x + 1) : f (f 1) = 2 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x + 1) : f (f 1) = 3 := by", ["norm_num [h]"])),
    # under the goal's binder the bound variable is the instance
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 2 * x) : ∀ y : ℝ, f y = 3 * y := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 2 * x) : ∀ y : ℝ, f y = 2 * y := by", ["simp [h]"])),
    # iff and ≠ conclusions
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 0 ↔ x = 1) : f 2 = 0 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 0 ↔ x = 1) : f 1 = 0 := by", ["simp [h]"])),
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x ≠ 0) : f 2 = 0 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x ≠ 0) : ¬ f 2 = 0 := by", ["simp [h]"])),
    # simp_all: each hypothesis with the others
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x) (h2 : f 2 = 2) : False := by", ["simp_all"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = x) (h2 : f 2 = 3) : False := by", ["simp_all"])),
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 3 * x + 1) : f (f 1) = 14 := by", ["simp_all"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 3 * x + 1) : f (f 1) = 3 * (3 + 1) + 1 := by", ["simp_all"])),
    # field_simp: the rewrite, then denominators; the side goal by an assumption at the instance only
    ((f"{P} (f : ℝ → ℝ) (x : ℝ) (hx : x ≠ 0) (h : ∀ y : ℝ, y ≠ 0 → f y = 1 / y) : f 0 * 0 = 1 := by",
      ["field_simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (x : ℝ) (hx : x ≠ 0) (h : ∀ y : ℝ, y ≠ 0 → f y = 1 / y) : f x * x = 1 := by",
      ["field_simp [h]"])),
    ((f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 3 * x + 1) : f (f 1) = 14 := by", ["field_simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (h : ∀ x : ℝ, f x = 3 * x + 1) : f (f 1) = 13 := by", ["field_simp [h]", "norm_num"])),
]

# true statements whose proof Lean rejects, and the proof Lean takes
LEAN_REJECTS = [
    # the default discharger does not look up `hx`: it must be in the simp set
    ((f"{P} (f : ℝ → ℝ) (x : ℝ) (hx : 0 < x) (h : ∀ y : ℝ, 0 < y → f y = 1) : f x = 1 := by", ["simp [h]"]),
     (f"{P} (f : ℝ → ℝ) (x : ℝ) (hx : 0 < x) (h : ∀ y : ℝ, 0 < y → f y = 1) : f x = 1 := by", ["simp [h, hx]"])),
    # an implication is a conditional rewrite, not `(p → q) = True`: with `contextual := false` the
    # premise `a = b` is not available while simplifying `b = 2`
    ((f"{P} (a b : ℝ) (h : a = b → b = 2) : a = b → b = 2 := by", ["simp [h]"]),
     (f"{P} (a b : ℝ) (h : a = b → b = 2) : a = b → b = 2 := by", ["exact h"])),
]


@functools.cache
def _verdicts() -> dict[tuple[str, tuple[str, ...]], bool]:
    """Every proof in this file, verified whole in one env."""
    jobs = [(minif2f_test(name), tactics) for name, tactics in MINIF2F_PROOFS]
    jobs += [(thm(statement, name="probe"), tactics) for pair in PROBES + LEAN_REJECTS for statement, tactics in pair]
    return verify_proofs(jobs)


def _closes(session, statement, tactics) -> bool:
    kind, goals = attempt(session, statement.removesuffix(" := by").removesuffix(":= by\n").rstrip(), tactics)
    return kind == "ok" and goals == []


@pytest.mark.parametrize("name, tactics", MINIF2F_PROOFS)
def test_minif2f_proofs_through_a_forall_hypothesis_are_accepted_and_reverify(session, name, tactics):
    statement = minif2f_test(name).statement
    assert _closes(session, statement.split(":= by")[0], tactics), (name, tactics)
    assert _verdicts()[(statement, tuple(tactics))], (name, tactics)


@pytest.mark.parametrize("probe, variant", PROBES + LEAN_REJECTS,
                         ids=[f"probe{i}" for i in range(len(PROBES + LEAN_REJECTS))])
def test_probe_is_rejected_and_its_true_variant_accepted(session, probe, variant):
    (bad, bad_tactics), (good, good_tactics) = probe, variant
    assert not _closes(session, bad, bad_tactics), bad
    assert not _verdicts()[(bad, tuple(bad_tactics))], bad
    assert _closes(session, good, good_tactics), good
    assert _verdicts()[(good, tuple(good_tactics))], good


def test_there_are_at_least_twenty_false_statement_probes():
    assert len(PROBES) >= 20


def test_simp_at_h_with_h_makes_no_progress_as_in_lean(session):
    """simpGoal erases h from the simp set while simplifying h: nothing else rewrites it."""
    kind, msg = attempt(session, "theorem t (f : ℝ → ℝ) (h : ∀ x, f x = 2) : f 1 = 2", ["simp [h] at h"])
    assert (kind, msg) == ("error", "simp made no progress")
    kind, msg = attempt(session, "theorem t (f : ℝ → ℝ) (h : ∀ x, f x = 2) : f 1 = 2", ["norm_num [h] at h"])
    assert (kind, msg) == ("error", "norm_num failed to simplify")


def test_simp_star_at_star_keeps_the_forall_hypothesis(session):
    """`simp [*] at *`: h1 becomes True (cleared) by h, h is not rewritten by itself and stays."""
    kind, goals = attempt(session, "theorem t (f : ℝ → ℝ) (h : ∀ x, f x = 2) (h1 : f 1 = 2) (h2 : f 3 = f 5) : False",
                          ["simp [*] at *"])
    assert kind == "ok" and len(goals) == 1
    assert "h : ∀ (x : ℝ), f x = 2" in goals[0] and "h1" not in goals[0] and "h2" not in goals[0]


def test_rewritten_hypothesis_shows_the_instantiated_rhs(session):
    kind, goals = attempt(session, minif2f_test("mathd_algebra_148").statement.split(":= by")[0], ["simp only [h₀] at h₁"])
    assert kind == "ok"
    assert "h₁ : c * 2 ^ 3 - 9 * 2 + 3 = 9" in goals[0] and "h₀ : ∀ (x : ℝ), f x = c * x ^ 3 - 9 * x + 3" in goals[0]


def test_reverse_forall_rule_rewrites_rhs_instances(session):
    assert _closes(session, "theorem t (f : ℝ → ℝ) (h : ∀ x : ℝ, 2 * x = f x) : f 3 = 2 * 3", ["simp [← h]"])


def test_a_binder_renamed_only_to_avoid_capture_is_no_progress(session):
    """Lean's binders keep their names; renaming `∀ y` out of a rule's way changes nothing."""
    kind, msg = attempt(session, "theorem t (y : ℝ) (f : ℝ → ℝ) (h : f y = 3) : ∀ y, f y = 3", ["simp [h]"])
    assert (kind, msg) == ("error", "simp made no progress")


def test_library_lemmas_in_the_simp_set_are_not_forall_rules(session):
    """`mul_comm` is a permutation lemma: Lean rewrites with it only toward its term order, which the
    kernel does not model, so a library `∀` in `simp [..]` still adds nothing."""
    kind, msg = attempt(session, "theorem t (a b : ℝ) (h : a * b = 6) : b * a = 6", ["simp [mul_comm]"])
    assert kind == "error"


# ---------------------------------------------------------------- a seeded sweep of random rules

def _random_case(rng):
    """(statement, tactics, entailed): `h : ∀ x, [c ≤ x →] f x = a * x ^ k - b * x + d` over ℕ (truncated
    `-`, floor `/`) or ℝ, and a goal about one or two instances (nested or summed) whose claimed value
    is right or off by one. Entailed only when every instance's condition holds and the value is right."""
    from fractions import Fraction
    ty = rng.choice(["ℕ", "ℝ"])
    a, k, b, d = rng.randint(0, 3), rng.randint(1, 3), rng.randint(0, 5), rng.randint(0, 9)
    op = rng.choice(["-", "/"]) if ty == "ℕ" else rng.choice(["-", "/", "+"])
    cond = rng.choice([None, rng.randint(0, 6)])

    def f(x):
        head = a * x ** k
        if op == "-":
            return max(head - b * x, 0) + d if ty == "ℕ" else head - b * x + d
        if op == "/":
            return (head // (b + 1) if ty == "ℕ" else Fraction(head, b + 1)) + d
        return head + b * x + d

    rhs = {"-": f"a * x ^ {k} - {b} * x + {d}", "/": f"a * x ^ {k} / {b + 1} + {d}",
           "+": f"a * x ^ {k} + {b} * x + {d}"}[op].replace("a * ", f"{a} * ")
    hyp = f"∀ x : {ty}, {cond} ≤ x → f x = {rhs}" if cond is not None else f"∀ x : {ty}, f x = {rhs}"
    x1, x2 = rng.randint(0, 6), rng.randint(0, 6)
    shape = rng.choice(["one", "sum", "nested"])
    if shape == "one":
        goal, value, args = f"f {x1}", f(x1), [x1]
    elif shape == "sum":
        goal, value, args = f"f {x1} + f {x2}", f(x1) + f(x2), [x1, x2]
    else:
        goal, value, args = f"f (f {x1})", f(f(x1)), [x1, f(x1)]
    claim = value + rng.choice([0, 0, 1, -1])
    if claim < 0 and ty == "ℕ":
        claim = value + 1
    if isinstance(claim, Fraction) and claim.denominator != 1:
        shown = f"{claim.numerator} / {claim.denominator}" if claim >= 0 else f"-({-claim.numerator} / {claim.denominator})"
    else:
        shown = str(int(claim)) if claim >= 0 else f"-{-int(claim)}"
    entailed = claim == value and (cond is None or all(x >= cond for x in args))
    statement = f"theorem r (f : {ty} → {ty}) (h : {hyp}) : {goal} = {shown}"
    tactics = rng.choice([["simp [h]"], ["norm_num [h]"], ["simp only [h]"], ["simp_all"], ["field_simp [h]"],
                          ["simp [h] at *"]])
    return statement, tactics, entailed


def test_random_forall_rules_never_prove_a_value_they_do_not_entail(session):
    """120 seeded cases (seed 701): nothing the rule and the arithmetic do not entail is closed, and
    most entailed ones are (the sweep would be vacuous if everything failed)."""
    import random
    rng = random.Random(701)
    accepted_entailed = holes = 0
    for _ in range(120):
        statement, tactics, entailed = _random_case(rng)
        closed = _closes(session, statement, tactics)
        holes += closed and not entailed
        assert not (closed and not entailed), (statement, tactics)
        accepted_entailed += closed and entailed
    assert holes == 0 and accepted_entailed >= 20


def test_a_looping_conditional_rule_set_fails_rather_than_running_on(session):
    """aime_1984_p7's `∀ n < 1000, f n = f (f (n + 5))` rewrites for ever (each instance makes two);
    Lean's simp stops at its step or recursion limit with an error, and so does the kernel."""
    kind, msg = attempt(session, minif2f_test("aime_1984_p7").statement.split(":= by")[0], ["simp [*]"])
    assert kind == "error" and "maximum number of steps" in msg
    kind, msg = attempt(session, "theorem t (f : ℝ → ℝ) (h : ∀ x, f x = f x + f x - f x) : f 1 = 2", ["simp [h]"])
    assert kind == "error" and "maximum number of steps" in msg
