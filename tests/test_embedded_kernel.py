"""The embedded kernel: parsing/printing like Lean, ℕ/ℤ semantics, and tactics held to Lean's strength."""
from __future__ import annotations

import pytest

from lean_env.embedded.arith import ediv, emod, evaluate
from lean_env.embedded.parser import ParseError, parse_statement, parse_term
from lean_env.embedded.session import Session
from lean_env.embedded.terms import INT, NAT, pp

PRINTED = [
    "a + b * c", "(a + b) * c", "a - (b - c)", "a - b - c", "a ^ 2 + 1", "2 ∣ n", "¬a = b", "a ≠ b",
    "∀ (n : ℕ), n + 0 = n", "∃ x, x + 1 = 3", "P → Q → R", "(P → Q) → R", "P ∧ Q ∨ R", "P ∧ (Q ∨ R)",
    "¬(P ∧ Q)", "-x ^ 2", "(-x) ^ 2", "-(a + b)", "a * -b", "∀ (a b : ℕ), a + b = b + a",
    "(∀ (x : ℕ), x = x) → True", "x ^ 2 ^ 3", "(x ^ 2) ^ 3", "a ↔ b ∧ c", "(a ↔ b) ∧ c",
]


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


@pytest.fixture(scope="module")
def session():
    s = Session()
    s.handle({"cmd": "import Mathlib"})
    return s


def attempt(session, statement, tactics):
    """Run tactics one request at a time; return ("ok", goals) or ("error", message)."""
    r = session.handle({"cmd": statement + " := by sorry", "env": 0})
    assert "sorries" in r, r
    ps = r["sorries"][0]["proofState"]
    for t in tactics:
        r = session.handle({"tactic": t, "proofState": ps})
        errs = [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]
        if "message" in r or errs:
            return "error", r.get("message") or errs[0]
        ps = r["proofState"]
    return "ok", r["goals"]


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
    ("theorem k (x : ℕ) : x = x + 0 ∧ x < x + 1", ["norm_num", "decide"], "free variables"),
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
