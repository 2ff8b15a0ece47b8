"""The embedded kernel: parsing/printing like Lean, ℕ/ℤ semantics, and tactics held to Lean's strength."""
from __future__ import annotations

import pytest

from lean_env.embedded.arith import ediv, emod, evaluate
from lean_env.embedded.parser import ParseError, parse_statement, parse_term
from embedded_fixtures import attempt, session  # noqa: F401  (fixtures)
from lean_env.embedded.terms import INT, NAT, pp

PRINTED = [
    "a + b * c", "(a + b) * c", "a - (b - c)", "a - b - c", "a ^ 2 + 1", "2 ∣ n", "¬a = b", "a ≠ b",
    "∀ (n : ℕ), n + 0 = n", "∃ x, x + 1 = 3", "P → Q → R", "(P → Q) → R", "P ∧ Q ∨ R", "P ∧ (Q ∨ R)",
    "¬(P ∧ Q)", "-x ^ 2", "(-x) ^ 2", "-(a + b)", "a * -b", "∀ (a b : ℕ), a + b = b + a",
    "(∀ (x : ℕ), x = x) → True", "x ^ 2 ^ 3", "(x ^ 2) ^ 3", "a ↔ b ∧ c", "(a ↔ b) ∧ c",
    "∀ x > 0, x ≥ 1", "∃ x > 0, x * x = 4", "∀ n ≠ 0, 0 < n", "∀ (a b : ℕ), b > 0 → a < b",
]


def test_binder_predicates_print_as_mathlib_does(session):
    s = session.handle({"cmd": "theorem bp : ∀ (x : ℕ), x > 0 → x ≥ 1 := by sorry", "env": 0})
    assert s["sorries"][0]["goal"] == "⊢ ∀ x > 0, x ≥ 1"
    r = session.handle({"tactic": "intro x hx", "proofState": s["sorries"][0]["proofState"]})
    assert r["goals"] == ["x : ℕ\nhx : x > 0\n⊢ x ≥ 1"]


@pytest.mark.parametrize("text", PRINTED)
def test_print_parse_round_trip(text):
    assert pp(parse_term(text)) == text


def test_parser_reports_position():
    with pytest.raises(ParseError) as e:
        parse_term("a + * b")
    assert e.value.pos == 4
    with pytest.raises(ParseError):
        parse_statement("theorem t (a : ℕ : a = 1")


def test_lean_division_and_subtraction_semantics():
    assert evaluate(parse_term("3 - 5"), NAT) == 0
    assert evaluate(parse_term("3 - 5"), INT) == -2
    assert evaluate(parse_term("7 / 2"), NAT) == 3
    assert (ediv(-7, 2), emod(-7, 2)) == (-4, 1)
    assert (ediv(7, -2), emod(7, -2)) == (-3, 1)
    assert evaluate(parse_term("5 / 0"), NAT) == 0 and evaluate(parse_term("5 % 0"), NAT) == 5




PROVES = [
    ("theorem k (x y : ℤ) (h₀ : x ≥ 0) (h₁ : y ≥ 0) : x * y ≥ 0", ["nlinarith"]),
    ("theorem k (x : ℕ) : x % 2 = 0 ∨ x % 2 = 1", ["omega"]),
    ("theorem k (a b : ℤ) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2", ["ring"]),
    ("theorem k (p q : Prop) : p ∧ q → q ∧ p", ["intro h", "obtain ⟨hp, hq⟩ := h", "exact ⟨hq, hp⟩"]),
    ("theorem k (n : ℕ) : 2 ^ n ≥ n + 1", ["induction n", "norm_num", "rw [pow_succ]", "omega"]),
    ("theorem k : ∃ x : ℕ, x + 3 = 7", ["use 4"]),
    ("theorem k (a b : ℕ) (h : a < b) (h2 : b < 5) : a < 5 ∧ a ≤ b", ["constructor", "linarith", "linarith"]),
    ("theorem k (x : ℤ) (h : 2 * x = 1) : False", ["omega"]),
    ("theorem k (a b : ℤ) : a ^ 2 + b ^ 2 ≥ 2 * a * b", ["nlinarith [sq_nonneg (a - b)]"]),
    ("theorem k (x : ℕ) (h₀ : x < 3) (h₁ : x ≠ 0) (h₂ : x ≠ 1) : x = 2", ["interval_cases x", "contradiction", "contradiction", "rfl"]),
    ("theorem k : (7 : ℤ) ∣ 21", ["norm_num"]),
    ("theorem k (x : ℕ) (h : x = 2 ∨ x = 3) : x > 1", ["rcases h with h | h", "· rw [h]; norm_num", "· omega"]),
    ("theorem k : (-7 : ℤ) / 2 = -4", ["norm_num"]),
    ("theorem k (a b : ℕ) (h : ∀ x : ℕ, x + a = x + b) : a = b", ["specialize h 0", "simp at h", "exact h"]),
    ("theorem k (a : ℕ) (h : 0 < a) : 0 < a ^ 2 + a", ["positivity"]),
    ("theorem k (p : Prop) : ¬¬p → p", ["intro h", "by_contra hn", "exact h hn"]),
    ("theorem k (x y : ℤ) (h₀ : x + y = 10) (h₁ : x - y = 2) : x = 6", ["linarith"]),
    ("theorem k (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r", ["intro hp", "exact hqr (hpq hp)"]),
    ("theorem k (p q : Prop) : p ∨ q → q ∨ p", ["intro h", "cases h", "· right; assumption", "· left; assumption"]),
    ("theorem k (x : ℕ) (h : ∃ y : ℕ, x = 2 * y) : x % 2 = 0", ["obtain ⟨y, hy⟩ := h", "omega"]),
    ("theorem k (a b : ℕ) (h₀ : a = 3) (h₁ : b = a + 1) : b = 4", ["subst h₀", "exact h₁"]),
    ("theorem k (x : ℤ) (h₀ : 3 * x + 2 = 11) : x = 3", ["have h₁ : 3 * x = 9 := by linarith", "linarith"]),
    ("theorem k (p q : Prop) (h : p ↔ q) (hq : q) : p", ["exact h.mpr hq"]),
    ("theorem k (x : ℕ) : x + 0 = x", ["simp"]),
    ("theorem k (n : ℕ) (h : n ≥ 1) : n ^ 2 ≥ n", ["nlinarith"]),
]


@pytest.mark.parametrize("statement,tactics", PROVES)
def test_tactics_prove_what_lean_proves(session, statement, tactics):
    assert attempt(session, statement, tactics) == ("ok", [])


FAILS = [
    # held to Lean's strength: each closer fails outside its theory
    ("theorem k (x y : ℤ) (h₀ : x ≥ 0) (h₁ : y ≥ 0) : x * y ≥ 0", ["linarith"], "linarith failed"),
    ("theorem k (a b : ℕ) : a - b + b = a", ["ring"], "ring failed"),
    ("theorem k (x : ℤ) (h : 2 * x = 1) : False", ["linarith"], "linarith failed"),
    ("theorem k (n : ℕ) (h : n % 2 = 1) : n ^ 2 % 2 = 1", ["omega"], "omega could not prove"),
    ("theorem k (x : ℕ) (h : x > 0) : x ≥ 1 ∧ x ≠ 7", ["linarith"], "linarith failed"),
    ("theorem k (x : ℕ) : x = x + 0 ∧ x < x + 1", ["decide"], "free variables"),
    ("theorem k (a b : ℕ) (h : a = b) : b = a", ["exact h"], "type mismatch"),
    ("theorem k (a : ℕ) : a = 1", ["rw [foo]"], "unknown identifier 'foo'"),
    ("theorem k (a : ℕ) : a = 1", ["frobnicate"], "unknown tactic"),
    ("theorem k (a : ℕ) : a = a", ["rfl", "rfl"], "no goals"),
    ("theorem k (x : ℕ) (h : x + 3 = 7) : x = 4", ["simp"], "simp made no progress"),
]


@pytest.mark.parametrize("statement,tactics,message", FAILS)
def test_tactics_fail_where_lean_fails(session, statement, tactics, message):
    kind, info = attempt(session, statement, tactics)
    assert kind == "error" and message in info, info


def test_goals_print_like_lean(session):
    s = session.handle({"cmd": "theorem g (a b : ℕ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 ∧ a < b := by sorry", "env": 0})
    assert s["sorries"][0]["goal"] == "a b : ℕ\nh₀ : a = 2\nh₁ : b = 3\n⊢ a + b = 5 ∧ a < b"
    r = session.handle({"tactic": "constructor", "proofState": s["sorries"][0]["proofState"]})
    assert [g.split("\n")[0] for g in r["goals"]] == ["case left", "case right"]
    s = session.handle({"cmd": "theorem g2 (n : ℕ) (h : 0 < n) : 1 ≤ n := by sorry", "env": 0})
    r = session.handle({"tactic": "induction n", "proofState": s["sorries"][0]["proofState"]})
    # hypotheses about n are generalised, reintroduced by name, and become premises of the IH
    assert r["goals"][0] == "case zero\nh : 0 < 0\n⊢ 1 ≤ 0"
    assert r["goals"][1] == "case succ\nn✝ : ℕ\na✝ : 0 < n✝ → 1 ≤ n✝\nh : 0 < n✝ + 1\n⊢ 1 ≤ n✝ + 1"


def test_intro_shadows_like_lean(session):
    s = session.handle({"cmd": "theorem sh (x : ℕ) (h : x = 1) : ∀ (x : ℕ), x = x := by sorry", "env": 0})
    r = session.handle({"tactic": "intro x", "proofState": s["sorries"][0]["proofState"]})
    assert r["goals"] == ["x✝ : ℕ\nh : x✝ = 1\nx : ℕ\n⊢ x = x"]


def test_repeat_cannot_run_forever(session):
    kind, _ = attempt(session, "theorem r (p : Prop) (hp : p) : p", ["repeat (try skip)", "exact hp"])
    assert kind == "ok"


# ---------------------------------------------------------------- later additions

MORE_PROVES = [
    ("theorem k {a b : ℕ} (h : a = b) : b = a", ["exact h.symm"]),                      # implicit binders
    ("theorem k (x : ℕ) (h₀ : x < 3) : x = 0 ∨ x = 1 ∨ x = 2", ["interval_cases x <;> simp"]),
    ("theorem k (a b : ℕ) (h : a < b) (h2 : b < 5) : a < 5 ∧ a ≤ b", ["constructor <;> linarith"]),
    ("theorem k (n : ℕ) : 0 + n = n", ["induction n with\n| zero => rfl\n| succ k ih =>\n  omega"]),
    ("theorem k (p q : Prop) (h : p ∨ q) : q ∨ p", ["cases h with | inl hp => exact Or.inr hp | inr hq => exact Or.inl hq"]),
    ("theorem k (n : ℕ) : n + 1 + 0 = n + 1", ["rfl"]),                                  # Nat.add unfolds
    ("theorem k (n : ℕ) : n + 1 + 1 = n + 2", ["rfl"]),
    ("theorem k (a b : ℤ) (ha : 0 < a) (hb : 0 < b) : 0 < a * b", ["apply mul_pos", "exact ha", "exact hb"]),
    ("theorem k (a b c : ℤ) (h1 : a ≤ b) (h2 : b ≤ c) : a ≤ c", ["apply le_trans h1", "exact h2"]),
    ("theorem k (x : ℕ) : x % 3 < 3", ["exact Nat.mod_lt x (by norm_num)"]),
    ("theorem k : ∃ n : ℕ, n * n = 16", ["refine ⟨4, ?_⟩", "norm_num"]),
    ("theorem k (p q : Prop) (hp : p) (hq : q) : p ∧ q", ["refine ⟨?_, ?_⟩", "exact hp", "exact hq"]),
    ("theorem k (a b c : ℕ) (h1 : a = b) (h2 : a = c) : a = c", ["rw [h1] at *", "exact h2"]),
    ("theorem k (x : ℕ) (h : x = 3) : x * 2 = 6", ["calc x * 2 = 3 * 2 := by rw [h]\n  _ = 6 := by norm_num"]),
    ("theorem k (a b c : ℤ) (h1 : a < b) (h2 : b ≤ c) : a < c", ["calc a < b := h1\n  _ ≤ c := h2"]),
    ("theorem k (p : Prop) : p ∨ ¬p", ["tauto"]),
    ("theorem k (x : ℕ) : x < x + 1", ["simp"]),
    ("theorem k (x : ℕ) (h : x + 0 = 5) : x = 5", ["simpa using h"]),
    ("theorem k (x : ℕ) (h : x = 5) : x + 0 = 5", ["simpa"]),
    ("theorem k (a b : ℕ) (h : a = b) : a + a = a + b", ["nth_rw 2 [h]"]),
    ("theorem k (x : ℤ) (hx : (x : ℤ) = 3) : x + 1 = 4", ["push_cast", "omega"]),
    ("theorem k : ∀ x : ℕ, x < 10 → x * x ≠ 50", ["decide"]),                      # Nat.decidableBallLT
    ("theorem k : ∃ x : ℕ, x < 10 ∧ x * x = 49", ["decide"]),
    ("theorem k (a b : ℕ) (h : a ≠ b) : ¬a = b", ["intro hab", "exact h hab"]),       # Ne unfolds
    ("theorem k (a : ℕ) (h : a + 1 = 3) : a = 2", ["simp at h", "exact h"]),          # Nat.reduceEqDiff
    ("theorem k (a b : ℕ) (h : a + 5 ≤ b + 2) : a + 3 ≤ b", ["simp at h", "exact h"]),
    ("theorem k (a : ℕ) (h : a + 3 = 1) : a = 2", ["simp at h"]),
]


@pytest.mark.parametrize("statement,tactics", MORE_PROVES)
def test_more_tactics_prove_what_lean_proves(session, statement, tactics):
    assert attempt(session, statement, tactics) == ("ok", [])


MORE_FAILS = [
    ("theorem k (n : ℕ) : 0 + n = n", ["rfl"], "The rfl tactic failed"),               # not by unfolding
    ("theorem k (n : ℕ) : 0 + n = n", ["induction n with\n| zero => rfl"], "alternative 'succ' has not been provided"),
    ("theorem k (n : ℕ) : 0 + n = n", ["induction n with\n| zero => rfl\n| succ k ih => skip"], "unsolved goals"),
    ("theorem k (a b c : ℤ) (h1 : a ≤ b) (h2 : b ≤ c) : a ≤ c", ["apply le_trans"], "synthesize"),
    ("theorem k (p q : Prop) (hp : p) (hq : q) : p ∧ q", ["refine ⟨_, _⟩"], "synthesize placeholder"),
    ("theorem k (a b c : ℤ) (h1 : a < b) (h2 : b ≤ c) : a ≤ c", ["calc a < b := h1\n  _ ≤ c := h2"], "type mismatch"),
    ("theorem k (a b c : ℕ) (h : c = c) : a = b", ["rw [h] at *"], "did not find instance"),
    ("theorem k (p q : Prop) : p ∨ q", ["tauto"], "tauto failed"),
    ("theorem k (x : ℕ) (h : x > 2) : x ≥ 3", ["tauto"], "tauto failed"),               # no arithmetic
    ("theorem k (x : ℕ) : (5 : ℕ) ^ 999999 % 7 = x", ["norm_num"], "failed to simplify"),
    ("theorem k (x : ℕ) : (5 : ℕ) ^ 999999 % 7 = x", ["omega"], "omega failed"),        # an error, not a crash
    ("theorem k (a b : ℤ) (h : a ≤ b) : a * a ≤ b * b", ["nlinarith"], "linarith failed"),  # false: a = -3
    ("theorem k (x : ℤ) (h : x / 2 = 2) : x = 4", ["omega"], "omega could not prove"),   # false: x = 5
    ("theorem k (x : ℕ) (h : x = 6) : x + 0 = 5", ["simpa using h"], "type mismatch"),
    ("theorem k : ∀ x : ℕ, x < 10 → x * x ≠ 49", ["decide"], "is false"),
    ("theorem k : ∀ x : ℕ, x * x ≠ 50", ["decide"], "failed to synthesize"),         # unbounded
    ("theorem k : ∀ x : ℕ, x < 100000 → x * x ≠ 50", ["decide"], "maximum recursion"),
    ("theorem k (a b : ℕ) (h : a = b) : a + a = a + b", ["nth_rewrite 3 [h]", "done"], "unsolved goals"),
]


def test_nth_rewrite_counts_occurrences_left_to_right(session):
    s = session.handle({"cmd": "theorem nr (a b : ℕ) (h : a = b) : a + a = a := by sorry", "env": 0})
    ps = s["sorries"][0]["proofState"]
    goals = [session.handle({"tactic": f"nth_rewrite {n} [h]", "proofState": ps})["goals"][0].split("⊢ ")[1]
             for n in (1, 2, 3)]
    assert goals == ["b + a = a", "a + b = a", "a + a = b"]
    r = session.handle({"tactic": "nth_rewrite 4 [h]", "proofState": ps})
    assert any("occurrence 4" in m["data"] for m in r["messages"])


@pytest.mark.parametrize("statement,tactics,message", MORE_FAILS)
def test_more_tactics_fail_where_lean_fails(session, statement, tactics, message):
    kind, info = attempt(session, statement, tactics)
    assert kind == "error" and message in info, info


def test_structured_cases_names_the_new_hypotheses(session):
    s = session.handle({"cmd": "theorem nm (x : ℕ) (h : ∃ y : ℕ, x = 2 * y) : x % 2 = 0 := by sorry", "env": 0})
    ps = s["sorries"][0]["proofState"]
    r = session.handle({"tactic": "cases h with\n| intro y hy => exact hy", "proofState": ps})
    # the alternative saw `y` and `hy`, so the mismatch message talks about them
    errs = [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]
    assert errs and "hy" in errs[0] and "x = 2 * y" in errs[0]


GARBAGE = ["⟨", ")", "rw [", "exact (", "simp [", "have h :", "((", "· ·", "<;>", ";", "| a => b", "subst zz",
           "cases h with", "calc", "induction n with | foo => rfl", "refine ⟨?_", "apply", "exact ⟨1, ?_⟩ ?_",
           "intro ⟨a, b⟩", "use", "specialize", "interval_cases", "omega [", "linarith [foo]", "nlinarith [(]"]


@pytest.mark.parametrize("tactic", GARBAGE)
def test_garbage_tactics_are_errors_not_crashes(session, tactic):
    s = session.handle({"cmd": "theorem gb (n : ℕ) (h : ∃ y : ℕ, n = y) : n = n := by sorry", "env": 0})
    r = session.handle({"tactic": tactic, "proofState": s["sorries"][0]["proofState"]})
    assert "internal error" not in r.get("message", ""), r
    errors = "message" in r or any(m["severity"] == "error" for m in r.get("messages", []))
    assert errors or r.get("goals"), r


def test_term_mode_proofs_and_in_process_api():
    from lean_env.embedded import EmbeddedLean

    lean = EmbeddedLean()
    r = lean.command("theorem tm (p q : Prop) (hp : p) (hq : q) : p ∧ q :=\n  ⟨hp, hq⟩\n#print axioms tm")
    assert r["messages"][-1]["data"] == "'tm' does not depend on any axioms"
    r = lean.command("theorem tm2 (p q : Prop) (hp : p) : p ∧ q := ⟨hp, hp⟩", env=r["env"])
    assert any(m["severity"] == "error" for m in r["messages"])
    assert lean.tactic("rfl", 99) == {"message": "Unknown proof state."}


def test_comments_in_tactic_text_but_not_in_strings(session):
    s = session.handle({"cmd": "theorem cm (p : Prop) (hp : p) : p := by sorry", "env": 0})
    ps = s["sorries"][0]["proofState"]
    assert session.handle({"tactic": "exact hp -- closes it", "proofState": ps})["proofStatus"] == "Completed"
    r = session.handle({"tactic": 'trace "a -- b" /- note -/', "proofState": ps})
    assert [m["data"] for m in r["messages"]] == ["a -- b"]
