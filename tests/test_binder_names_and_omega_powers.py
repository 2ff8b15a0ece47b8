"""Two places where the embedded kernel spoke a dialect more lenient than Lean, found by a campaign.

1. Name lists. Mathlib's `induction'`/`cases'` take `with binderIdent+` (then `generalizing
   ident+` for `induction'`), Mathlib/Tactic/Cases.lean; a second `with` or a numeral is a parse
   error. Surplus names are *not* an error there: `ElimApp.evalNames` deals each constructor its
   number of fields (`List.splitAtD`) and drops the rest, so those scripts must keep working.
   rcases patterns, `intro`, `rename_i` refuse non-identifiers the same way.
2. omega and `b ^ e`. Lean core's omega (src/Lean/Elab/Tactic/Omega/Frontend.lean,
   `asLinearComboImpl`, `HPow.hPow` with `succ?`) unfolds `b ^ (k + 1)` (literal 1, or `k.succ`)
   for a numeral base only; any other power is an atom with no facts (`analyzeAtom`,
   Omega/OmegaM.lean; lean4 issue #9206: `0 ≤ 2 ^ n` fails). The `true` rows are from lean4
   tests/lean/run/omega.lean (Apache-2.0) and the campaign's example, which Lean proves because
   `4 ^ (n + 1 + 1)` becomes `16 * 4 ^ n` and `4 ^ (n + 1)` becomes `4 * 4 ^ n`.
"""
from __future__ import annotations

import pytest

from embedded_fixtures import attempt, session  # noqa: F401  (fixture)

NAT_GOAL = "example (n : ℕ) : n + 0 = n"

REFUSED = {
    # the campaign's two scripts
    "induction' with a second with": (NAT_GOAL, "induction' n with hp' n with ih₈ norm_all", "'with'"),
    "induction' with a numeral": (NAT_GOAL, "induction' n with n 40)", "'40'"),
    "induction' with no names": (NAT_GOAL, "induction' n with", "expected identifier"),
    "induction' generalizing before with": ("example (n m : ℕ) (h : m = n) : m + 0 = n",
                                            "induction' n generalizing m with k ih", "'with'"),
    "cases' with a numeral": ("example (p q : Prop) (h : p ∧ q) : q", "cases' h with a 40", "'40'"),
    "rcases pattern numeral": ("example (h : ∃ x : ℕ, x > 2) : True", "rcases h with ⟨x, 40⟩", "'40'"),
    "obtain pattern keyword": ("example (h : ∃ x : ℕ, x > 2) : True", "obtain ⟨x, with⟩ := h", "'with'"),
    "rintro numeral": ("example : ∀ n : ℕ, n > 0 → n = n", "rintro n 3", "'3'"),
    "intro numeral": ("example : ∀ n : ℕ, n = n", "intro 40", "`40`"),
    "rename_i numeral": ("example : ∀ n : ℕ, n = n", "intro _; rename_i 7", "'7'"),
}


@pytest.mark.parametrize("label", list(REFUSED))
def test_non_identifier_names_are_refused(session, label):  # noqa: F811
    statement, tactic, token = REFUSED[label]
    status, message = attempt(session, statement, [tactic])
    assert status == "error" and token in message, (label, status, message)


def test_induction_prime_drops_surplus_names_as_mathlib_does(session):  # noqa: F811
    status, goals = attempt(session, NAT_GOAL, ["induction' n with k ih extra more"])
    assert status == "ok"
    assert "ih : k + 0 = k" in goals[1] and "extra" not in goals[1]


def test_induction_prime_placeholder_names_are_inaccessible(session):  # noqa: F811
    status, goals = attempt(session, NAT_GOAL, ["induction' n with _ ih"])
    assert status == "ok" and "n✝ : ℕ" in goals[1] and "ih : n✝ + 0 = n✝" in goals[1]
    status, message = attempt(session, NAT_GOAL, ["induction' n with _ ih", "rfl", "exact _"])
    assert status == "error"


def test_induction_prime_generalizing_after_names(session):  # noqa: F811
    status, goals = attempt(session, "example (n m : ℕ) (h : m = n) : m + 0 = n",
                            ["induction' n with k ih generalizing m"])
    assert status == "ok" and "ih : ∀ (m : ℕ), m = k → m + 0 = k" in goals[1], goals


def test_cases_prime_deals_names_field_by_field(session):  # noqa: F811
    # one name for `∨`: `inr` gets an inaccessible hypothesis, not `hp` again
    status, goals = attempt(session, "example (p q : Prop) (h : p ∨ q) : q ∨ p", ["cases' h with hp"])
    assert status == "ok" and "hp : p" in goals[0] and "hp" not in goals[1] and "h✝ : q" in goals[1]
    # `And.intro` has two fields: the third name is dropped, the second field stays whole
    status, goals = attempt(session, "example (p q r : Prop) (h : p ∧ q ∧ r) : r", ["cases' h with a b c"])
    assert status == "ok" and "b : q ∧ r" in goals[0] and "c :" not in goals[0], goals
    status, message = attempt(session, "example (p q r : Prop) (h : p ∧ q ∧ r) : r", ["cases' h with a b c", "exact c"])
    assert status == "error"


def test_rcases_typed_component_without_parentheses(session):  # noqa: F811
    # rcasesPatLo is `pat : term`: `⟨x, hx : x > 2⟩` needs no brackets (and the type must match)
    assert attempt(session, "example (h : ∃ x : ℕ, x > 2) : True", ["obtain ⟨x, hx : x > 2⟩ := h"])[0] == "ok"
    assert attempt(session, "example (h : ∃ x : ℕ, x > 2) : True", ["obtain ⟨x, hx : x > 3⟩ := h"])[0] == "error"


OMEGA_PROVES = {
    "campaign: pow_succ twice": "example (n : ℕ) (h : 12 ∣ 4 ^ (n + 1) + 20) : 12 ∣ 4 ^ (n + 1 + 1) + 20 := by omega",
    "omega.lean base^(e+1)": "example (x e : Nat) (hx : x < 2^(e+1)) : x < 2^e * 2 := by omega",
    "omega.lean e.succ": "example (x e : Nat) (hx : x < 2^(e.succ)) : x < 2^e * 2 := by omega",
    "omega.lean integer base": "example (x : Int) (e : Nat) (hx : x < (2 : Int)^(e+1)) : x < 2^e * 2 := by omega",
    "omega.lean mod 2^i": "example (x y z i : Nat) (hz : z ≤ 1) : x % 2 ^ i + y % 2 ^ i + z < 2 * 2^ i := by omega",
    "omega.lean ground power": "example : 2^7 < 165 := by omega",
    "lean4#9206 variable base is a cast atom": "example (m n : Nat) : 0 ≤ m ^ n := by omega",
}

OMEGA_FAILS = {
    "lean4#9206 numeral-base power has no sign": "example (n : Nat) : 0 ≤ 2 ^ n := by omega",
    "numeral-base power not known positive": "example (n : Nat) : 0 < 2 ^ n := by omega",
    "exponent n + 2 is not succ": "example (x e : Nat) (hx : x < 2^(e+2)) : x < 2^e * 4 := by omega",
    "exponent 1 + n is not succ": "example (x e : Nat) (hx : x < 2^(1+e)) : x < 2^e * 2 := by omega",
    "variable base is not unfolded": "example (x b e : Nat) (hx : x < b^(e+1)) : x < b^e * b := by omega",
}


def _errors(session, text):  # noqa: F811
    r = session.handle({"cmd": text, "env": 0})
    return [m["data"] for m in r.get("messages", []) if m["severity"] == "error"] + (
        [r["message"]] if "message" in r else [])


@pytest.mark.parametrize("label", list(OMEGA_PROVES))
def test_omega_powers_lean_proves(session, label):  # noqa: F811
    assert _errors(session, OMEGA_PROVES[label]) == [], label


@pytest.mark.parametrize("label", list(OMEGA_FAILS))
def test_omega_powers_lean_refuses(session, label):  # noqa: F811
    errs = _errors(session, OMEGA_FAILS[label])
    assert errs and "omega could not prove the goal" in errs[0], (label, errs)
