"""`Even n` and `Odd n` as Mathlib defines them: `rcases`/`obtain`/`cases'`/`rintro` take them
apart, `use`/`exists`/`⟨k, h⟩` prove them, `unfold`/`rw`/`simp only [Even]` unfold them.

What real Lean does, and where it says so (leanprover-community/mathlib4):
- Mathlib/Algebra/Group/Even.lean: `Even` is the additive form of `IsSquare a := ∃ r, a = r * r`
  (`@[to_additive]`), so `Even a := ∃ r, a = r + r` (the bound name is `r`).
- Mathlib/Algebra/Ring/Parity.lean: `def Odd (a : α) : Prop := ∃ k, a = 2 * k + 1`; its own proofs
  take it apart with `obtain ⟨k, hk⟩ := hp` and then `rw [..., hk]` (`Odd.neg`: so `hk : a = 2 * k +
  1`), `rintro ⟨a, rfl⟩ ⟨b, rfl⟩` (`Even.add_odd`, `Odd.add_odd`), and prove them with `⟨_, rfl⟩`
  (`odd_two_mul_add_one`) and `use -(k + 1)` (`Odd.neg`).
- Both are plain definitions: `whnf` at default transparency unfolds them, which is what `rcases`,
  the anonymous constructor and `exact`'s `isDefEq` see; the witness lives in the type of `n`
  (ℤ for `n : ℤ`). `2 * k` and `k + k` are not definitionally equal for a variable `k` (`Nat.mul`
  recurses on its second argument), so a hypothesis `n = 2 * k` is no proof of `Even n`.

The acceptances are proofs of real miniF2F statements, each also re-verified as a whole proof. The
probes are false statements (or proofs Lean rejects) that a careless implementation accepts; each
is paired with a true variant that Lean and the kernel accept.
"""
from __future__ import annotations

import functools

import pytest

from conftest import thm
from embedded_fixtures import attempt, minif2f_test, session, verify_proofs  # noqa: F401  (fixture)

# miniF2F (test split) proofs that take an `Even`/`Odd` hypothesis apart or prove one
MINIF2F_PROOFS = [
    ("numbertheory_aoddbdiv4asqpbsqmod8eq1", [
        "obtain ⟨k, rfl⟩ := h₀", "obtain ⟨m, rfl⟩ := h₁",
        "rcases Int.even_or_odd k with ⟨j, rfl⟩ | ⟨j, rfl⟩",
        "· have e : (2 * (j + j) + 1) ^ 2 + ((4 * m : ℕ) : ℤ) ^ 2 = 8 * (2 * j ^ 2 + j + 2 * (m : ℤ) ^ 2) + 1 := by\n"
        "    push_cast\n    ring\n  rw [e]\n  omega",
        "· have e : (2 * (2 * j + 1) + 1) ^ 2 + ((4 * m : ℕ) : ℤ) ^ 2 = 8 * (2 * j ^ 2 + 3 * j + 1 + 2 * (m : ℤ) ^ 2) + 1 := by\n"
        "    push_cast\n    ring\n  rw [e]\n  omega",
    ]),
    ("mathd_numbertheory_521", [
        "obtain ⟨k, hk⟩ := h₀", "have hm : m = n + 2 := by omega", "subst hm",
        "have hn : n ≤ 20 := by nlinarith", "interval_cases n <;> omega",
    ]),
    ("mathd_algebra_76", ["rw [h₁ 4 ⟨2, by norm_num⟩]", "norm_num"]),   # `⟨r, _⟩ : Even 4` over ℤ
]

# (false statement or proof Lean rejects, its tactics) paired with (a true variant, its tactics)
P = "theorem probe"
PROBES = [
    # an odd number is 1 mod 2, not 1 mod 4 (3 is odd)
    ((f"{P} (n : ℕ) (h : Odd n) : n % 4 = 1 := by", ["obtain ⟨k, hk⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Odd n) : n % 4 = 1 ∨ n % 4 = 3 := by", ["obtain ⟨k, hk⟩ := h", "omega"])),
    # `Even n` is `n = r + r`, not `n = 2 * r + 1`
    ((f"{P} (n : ℕ) (h : Even n) : n % 2 = 1 := by", ["obtain ⟨r, hr⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Even n) : n % 2 = 0 := by", ["obtain ⟨r, hr⟩ := h", "omega"])),
    # `Odd n` is `n = 2 * k + 1`
    ((f"{P} (n : ℤ) (h : Odd n) : n % 2 = 0 := by", ["cases' h with k hk", "omega"]),
     (f"{P} (n : ℤ) (h : Odd n) : n % 2 = 1 := by", ["cases' h with k hk", "omega"])),
    # over ℤ the witness is an integer: an odd integer may be negative
    ((f"{P} (n : ℤ) (h : Odd n) : 0 < n := by", ["obtain ⟨k, hk⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Odd n) : 0 < n := by", ["obtain ⟨k, hk⟩ := h", "omega"])),
    # ... and so may an even one
    ((f"{P} (n : ℤ) (h : Even n) : 0 ≤ n := by", ["obtain ⟨r, hr⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Even n) : 0 ≤ n := by", ["obtain ⟨r, hr⟩ := h", "omega"])),
    # the ℤ witness is no ℕ one
    ((f"{P} (n : ℤ) (h : Even n) : ∃ r : ℕ, n = r + r := by", ["obtain ⟨r, hr⟩ := h", "exact ⟨r, hr⟩"]),
     (f"{P} (n : ℤ) (h : Even n) : ∃ r : ℤ, n = r + r := by", ["obtain ⟨r, hr⟩ := h", "exact ⟨r, hr⟩"])),
    # a witness named like a local: the old `r` becomes `r✝`, `hr0` stays about it
    ((f"{P} (n r : ℕ) (h : Even n) (hr0 : r = 1) : n = 2 := by", ["obtain ⟨r, hr⟩ := h", "omega"]),
     (f"{P} (n r : ℕ) (h : Even n) (hr0 : r = 1) (hn : n = r + r) : n = 2 := by", ["obtain ⟨r, hr⟩ := h", "omega"])),
    # the argument mentions `r`: the definition's bound `r` must not capture it (else r + 1 = r + r)
    ((f"{P} (r : ℕ) (h : Even (r + 1)) : r = 1 := by", ["obtain ⟨s, hs⟩ := h", "omega"]),
     (f"{P} (r : ℕ) (h : Even (r + 1)) : r % 2 = 1 := by", ["obtain ⟨s, hs⟩ := h", "omega"])),
    # ... nor `Odd`'s bound `k` (else k + 2 = 2 * k + 1)
    ((f"{P} (k : ℕ) (h : Odd (k + 2)) : k = 1 := by", ["obtain ⟨s, hs⟩ := h", "omega"]),
     (f"{P} (k : ℕ) (h : Odd (k + 2)) : k % 2 = 1 := by", ["obtain ⟨s, hs⟩ := h", "omega"])),
    # obtain consumes the hypothesis
    ((f"{P} (n : ℕ) (h : Even n) : Even n := by", ["obtain ⟨r, hr⟩ := h", "exact h"]),
     (f"{P} (n : ℕ) (h : Even n) : Even n := by", ["obtain ⟨r, hr⟩ := h", "exact ⟨r, hr⟩"])),
    # truncated subtraction: n = 0 has n - 1 = 0 even and n not odd
    ((f"{P} (n : ℕ) (h : Even (n - 1)) : Odd n := by", ["obtain ⟨r, hr⟩ := h", "use r", "omega"]),
     (f"{P} (n : ℕ) (h : Even (n - 1)) (hn : 0 < n) : Odd n := by", ["obtain ⟨r, hr⟩ := h", "use r", "omega"])),
    ((f"{P} (n : ℕ) (h : Even n) : Odd (n - 1) := by", ["obtain ⟨r, hr⟩ := h", "exact ⟨r - 1, by omega⟩"]),
     (f"{P} (n : ℕ) (h : Even n) (hn : 0 < n) : Odd (n - 1) := by", ["obtain ⟨r, hr⟩ := h", "exact ⟨r - 1, by omega⟩"])),
    # `use` leaves the defining equation at the witness given
    ((f"{P} (n : ℕ) : Even (2 * n + 1) := by", ["use n", "ring"]),
     (f"{P} (n : ℕ) : Even (2 * n) := by", ["use n", "ring"])),
    ((f"{P} : Odd (-3 : ℤ) := by", ["use -1", "norm_num"]),
     (f"{P} : Odd (-3 : ℤ) := by", ["use -2", "norm_num"])),
    # the anonymous constructor: `rfl` only where the equation is one
    ((f"{P} (n : ℕ) : Odd (2 * n) := ⟨n, rfl⟩", []),
     (f"{P} (n : ℕ) : Odd (2 * n + 1) := ⟨n, rfl⟩", [])),
    # sums and products of odd numbers
    ((f"{P} (a b : ℕ) (ha : Odd a) (hb : Even b) : Even (a + b) := by",
      ["obtain ⟨k, hk⟩ := ha", "obtain ⟨m, hm⟩ := hb", "exact ⟨k + m, by omega⟩"]),
     (f"{P} (a b : ℕ) (ha : Odd a) (hb : Even b) : Odd (a + b) := by",
      ["obtain ⟨k, hk⟩ := ha", "obtain ⟨m, hm⟩ := hb", "exact ⟨k + m, by omega⟩"])),
    ((f"{P} (a b : ℤ) (ha : Odd a) (hb : Odd b) : Even (a * b) := by",
      ["obtain ⟨k, rfl⟩ := ha", "obtain ⟨m, rfl⟩ := hb", "use 2 * k * m + k + m", "ring"]),
     (f"{P} (a b : ℤ) (ha : Odd a) (hb : Odd b) : Odd (a * b) := by",
      ["obtain ⟨k, rfl⟩ := ha", "obtain ⟨m, rfl⟩ := hb", "use 2 * k * m + k + m", "ring"])),
    # rintro destructs the binder it introduces
    ((f"{P} (n : ℕ) : Even n → Odd (n + 2) := by", ["rintro ⟨r, rfl⟩", "exact ⟨r, by omega⟩"]),
     (f"{P} (n : ℕ) : Even n → Even (n + 2) := by", ["rintro ⟨r, rfl⟩", "exact ⟨r + 1, by omega⟩"])),
    # nested patterns see through the definition too
    ((f"{P} (n : ℕ) (h : Even n ∧ Odd (n + 1)) : n % 2 = 1 := by", ["obtain ⟨⟨r, hr⟩, k, hk⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Even n ∧ Odd (n + 1)) : n % 2 = 0 := by", ["obtain ⟨⟨r, hr⟩, k, hk⟩ := h", "omega"])),
    # negative integers decide as Mathlib's `Int.emod`
    ((f"{P} : Even (-3 : ℤ) := by", ["decide"]),
     (f"{P} : Odd (-3 : ℤ) := by", ["decide"])),
    # the unfolded form by name, as `unfold`/`rw`/`simp only` give it
    ((f"{P} (n : ℕ) (h : Odd n) : Even n := by", ["simp only [Odd, Even] at *", "obtain ⟨k, hk⟩ := h", "exact ⟨k, by omega⟩"]),
     (f"{P} (n : ℕ) (h : Odd n) : Even (n + 1) := by", ["simp only [Odd, Even] at *", "obtain ⟨k, hk⟩ := h", "exact ⟨k + 1, by omega⟩"])),
    ((f"{P} (n : ℕ) (h : Even n) : n % 2 = 1 := by", ["unfold Even at h", "obtain ⟨r, hr⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Even n) : n % 2 = 0 := by", ["unfold Even at h", "obtain ⟨r, hr⟩ := h", "omega"])),
    ((f"{P} (n : ℕ) (h : Odd n) : n % 2 = 0 := by", ["rw [Odd] at h", "obtain ⟨k, hk⟩ := h", "omega"]),
     (f"{P} (n : ℕ) (h : Odd n) : n % 2 = 1 := by", ["rw [Odd] at h", "obtain ⟨k, hk⟩ := h", "omega"])),
]

LEAN_REJECTS = [
    # `2 * r` and `r + r` are not definitionally equal: the hypothesis is no proof of `Even n`
    ((f"{P} (n : ℕ) (h : ∃ r, n = 2 * r) : Even n := h", []),
     (f"{P} (n : ℕ) (h : ∃ r, n = r + r) : Even n := h", [])),
    # ... so neither is `2 ∣ n` (`∃ c, n = 2 * c`; Mathlib proves `even_iff_two_dvd` by simp, not `Iff.rfl`)
    ((f"{P} (n : ℕ) (h : 2 ∣ n) : Even n := h", []),
     (f"{P} (n : ℕ) (h : 2 ∣ n) : Even n := by", ["obtain ⟨c, hc⟩ := h", "exact ⟨c, by omega⟩"])),
    # ... and `2 * k + 1` is not `k + k + 1`
    ((f"{P} (n : ℕ) (h : Odd n) : ∃ k, n = k + k + 1 := by", ["obtain ⟨k, hk⟩ := h", "exact ⟨k, hk⟩"]),
     (f"{P} (n : ℕ) (h : Odd n) : ∃ k, n = k + k + 1 := by", ["obtain ⟨k, hk⟩ := h", "exact ⟨k, by omega⟩"])),
    # `rfl` needs a variable side: `a + b = r + r` has none
    ((f"{P} (a b : ℕ) (h : Even (a + b)) : (a + b) % 2 = 0 := by", ["obtain ⟨r, rfl⟩ := h", "omega"]),
     (f"{P} (a b : ℕ) (h : Even (a + b)) : (a + b) % 2 = 0 := by", ["obtain ⟨r, hr⟩ := h", "omega"])),
    # `intro` does not destructure: `Odd n` is an `∃`, not a `∀`
    ((f"{P} (n : ℕ) (h : Odd n) : Odd (n + 2) := by", ["intro k", "omega"]),
     (f"{P} (n : ℕ) (h : Odd n) : Odd (n + 2) := by", ["obtain ⟨k, hk⟩ := h", "exact ⟨k + 1, by omega⟩"])),
]


def _as_tactics(statement: str, tactics: list[str]) -> tuple[str, tuple[str, ...]]:
    """A term-mode probe (`:= t`) as the tactic proof `:= by exact t`, which Lean checks alike."""
    head, _, body = statement.partition(" := ")
    return (statement, tuple(tactics)) if body == "by" else (f"{head} := by", (f"exact {body}",))


@functools.cache
def _verdicts() -> dict[tuple[str, tuple[str, ...]], bool]:
    """Every proof in this file, verified whole in one env."""
    jobs = [(minif2f_test(name), tactics) for name, tactics in MINIF2F_PROOFS]
    for pair in PROBES + LEAN_REJECTS:
        for statement, tactics in pair:
            statement, tactics = _as_tactics(statement, tactics)
            jobs.append((thm(statement, name="probe"), tactics))
    return verify_proofs(jobs)


def _closes(session, statement, tactics) -> bool:
    head, _, body = statement.partition(" := ")
    if body != "by":   # a term proof: the whole declaration, as written
        r = session.handle({"cmd": statement, "env": 0})
        return not [m for m in r.get("messages", []) if m["severity"] == "error"] and not r.get("sorries")
    kind, goals = attempt(session, head, tactics)
    return kind == "ok" and goals == []


def _verdict(statement: str, tactics: list[str]) -> bool:
    return _verdicts()[_as_tactics(statement, tactics)]


@pytest.mark.parametrize("name, tactics", MINIF2F_PROOFS)
def test_minif2f_proofs_through_even_odd_are_accepted_and_reverify(session, name, tactics):
    statement = minif2f_test(name).statement
    assert _closes(session, statement.split(":= by")[0].rstrip() + " := by", tactics), (name, tactics)
    assert _verdicts()[(statement, tuple(tactics))], (name, tactics)


@pytest.mark.parametrize("probe, variant", PROBES + LEAN_REJECTS,
                         ids=[f"probe{i}" for i in range(len(PROBES + LEAN_REJECTS))])
def test_probe_is_rejected_and_its_true_variant_accepted(session, probe, variant):
    (bad, bad_tactics), (good, good_tactics) = probe, variant
    assert not _closes(session, bad, bad_tactics), bad
    assert not _verdict(bad, bad_tactics), bad
    assert _closes(session, good, good_tactics), good
    assert _verdict(good, good_tactics), good


def test_there_are_at_least_fifteen_false_statement_probes():
    assert len(PROBES) >= 15


@pytest.mark.parametrize("statement, tactics, shown", [
    # the hypotheses rcases leaves, in the type of the argument
    ("theorem t (a : ℤ) (h₀ : Odd a) : a % 2 = 1", ["obtain ⟨k, hk⟩ := h₀"], ["k : ℤ", "hk : a = 2 * k + 1"]),
    ("theorem t (n : ℕ) (h : Even n) : n % 2 = 0", ["obtain ⟨r, hr⟩ := h"], ["r : ℕ", "hr : n = r + r"]),
    ("theorem t (n : ℕ) (h : Odd n) : n % 2 = 1", ["cases' h with m hm"], ["hm : n = 2 * m + 1"]),
    ("theorem t (n : ℕ) : Even n → n % 2 = 0", ["rintro ⟨r, rfl⟩"], ["⊢ (r + r) % 2 = 0"]),
    # the definitions by name, bound names as Mathlib's
    ("theorem t (n : ℕ) (h : Even n) : n % 2 = 0", ["unfold Even at h"], ["h : ∃ r, n = r + r"]),
    ("theorem t (n : ℤ) (h : Odd n) : n % 2 = 1", ["rw [Odd] at h"], ["h : ∃ k, n = 2 * k + 1"]),
    # `use` leaves the defining equation
    ("theorem t (n : ℕ) : Even (2 * n)", ["use n"], ["⊢ 2 * n = n + n"]),
    ("theorem t (n : ℤ) : Odd (2 * n + 3)", ["use n + 1"], ["⊢ 2 * n + 3 = 2 * (n + 1) + 1"]),
])
def test_the_goal_states_are_mathlibs(session, statement, tactics, shown):
    kind, goals = attempt(session, statement, tactics)
    assert kind == "ok", goals
    for line in shown:
        assert line in goals[0], (line, goals[0])


def test_an_unnamed_hypothesis_keeps_its_folded_form(session):
    """A plain name pattern only renames: `Even n` stays `Even n` (and still proves the goal)."""
    kind, goals = attempt(session, "theorem t (n : ℕ) (h : Even n) : Even n", ["rcases h with h2"])
    assert kind == "ok" and "h2 : Even n" in goals[0]
    assert _closes(session, "theorem t (n : ℕ) (h : Even n) : Even n := by", ["rcases h with h2", "exact h2"])


def test_parity_decisions_stay_as_they_were(session):
    """What the kernel decided before the definitions unfolded: numerals, `Nat.even_iff`."""
    assert _closes(session, "theorem t : Even 4 := by", ["decide"])
    assert not _closes(session, "theorem t : Even 7 := by", ["decide"])
    assert _closes(session, "theorem t (n : ℕ) (h : Even n) : n % 2 = 0 := by", ["rw [Nat.even_iff] at h", "exact h"])
    assert _closes(session, "theorem t (n : ℕ) (h : n % 2 = 1) : Odd n := by", ["exact Nat.odd_iff.mpr h"])
    assert not _closes(session, "theorem t (n : ℕ) (h : n % 2 = 0) : Odd n := by", ["exact Nat.odd_iff.mpr h"])
    # the kernel's omega takes no fact from a folded `Even n` (as before; Lean's omega reads its
    # hypotheses by their head symbol and does not unfold definitions)
    assert not _closes(session, "theorem t (n : ℕ) (h : Even n) : n % 2 = 0 := by", ["omega"])
