"""Lean's and Mathlib's own test files as the embedded kernel's conformance suite.

The items (data/conformance/items.jsonl) are the test files' declarations with the outcome Lean
gives them, read from the files (scripts/extract_lean_tests.py). Every item whose statement starts
runs against the kernel; where they disagree, data/conformance/known_differences.yaml must say so
and why. The kernel accepting what Lean rejects is a failure unless flagged there."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from lean_env.embedded.conformance import (
    DATA, Outcome, disagreements, load_items, load_known, markdown_table, per_file, run_items, statement_of,
)

_spec = importlib.util.spec_from_file_location(
    "extract_lean_tests", Path(__file__).resolve().parent.parent / "scripts" / "extract_lean_tests.py")
_extractor = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _extractor   # its dataclasses look their module up there
_spec.loader.exec_module(_extractor)
extract_file = _extractor.extract_file

UPDATE = "python scripts/conformance_report.py --update-known"


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return run_items(load_items())


def test_items_carry_their_source_and_licence():
    items = load_items()
    assert len(items) > 500
    assert len({it["id"] for it in items}) == len(items)
    sources = json.loads((DATA / "sources.json").read_text(encoding="utf-8"))
    commits = {(s["repo"], s["path"]): s["commit"] for s in sources}
    for it in items:
        assert commits[(it["repo"], it["path"])] == it["commit"]
        assert it["licence"] == "Apache-2.0" and it["line"] > 0
        assert it["expected"] in ("accept", "reject")
        assert it["text"].startswith(it["statement"])


def test_the_extractor_reads_lean_s_expectations_from_the_file():
    src = dict(name="t", repo="o/r", path="T.lean", commit="c" * 40, licence="Apache-2.0")
    text = """open Real
axiom foo : 1 = 1

/-- error: unknown identifier 'garbage' -/
#guard_msgs in
example (x : ℕ) : x = x := by exact garbage

example (x : ℤ) (h : 0 < x) : 0 ≤ x := by
  fail_if_success
    omega (config := { splitNatSub := false })
  (fail_if_success simp); omega

section
variable (a b : ℚ) {α : Type} [Field α] (c : α)
example (h : a < b) : a ≤ b := by linarith
end

example : 1 = 1 := foo
"""
    items = {it.id: it for it in extract_file(text, src)}
    assert items["t:6"].expected == "reject" and "#guard_msgs" in items["t:6"].why
    assert items["t:8"].expected == "accept"
    derived = [it for it in items.values() if "fail_if_success@" in it.id]
    assert [it.expected for it in derived] == ["reject", "reject"]
    assert derived[0].text.endswith(":= by\n  omega (config := { splitNatSub := false })")
    assert derived[1].text.endswith(":= by\n  simp")
    # section variables the statement mentions become its binders (and nothing else does)
    assert items["t:15"].text.startswith("example (a b : ℚ) (h : a < b)")
    assert items["t:18"].context == "foo" and items["t:8"].preamble == "open Real"


def test_agreement_with_lean_is_what_known_differences_says(outcomes):
    print("\n" + markdown_table(per_file(outcomes)))
    known = load_known()["differences"]
    now = disagreements(outcomes)
    new = sorted(set(now) - set(known))
    gone = sorted(set(known) - set(now))
    assert not new, (f"{len(new)} new differences from Lean (the kernel got weaker or stronger): "
                     + "; ".join(f"{i}: kernel {now[i].kernel}, {now[i].error[:80]!r}" for i in new[:10])
                     + f". Fix them, or list them with a reason: {UPDATE}")
    assert not gone, (f"{len(gone)} items now agree with Lean but are still listed as differences: "
                      f"{', '.join(gone[:20])}. Run {UPDATE}")
    reasons = load_known()["reasons"]
    for i, entry in known.items():
        assert entry["reason"] in reasons and reasons[entry["reason"]], (i, entry)


def test_never_stronger_than_lean_unless_flagged(outcomes):
    """An item Lean rejects and the kernel accepts is a failure; the few left are flagged in the
    known differences (`stronger-than-lean`) and reported, never silently listed."""
    known = load_known()["differences"]
    stronger = [o for o in outcomes if o.stronger]
    unflagged = [o.id for o in stronger if known.get(o.id, {}).get("reason") != "stronger-than-lean"]
    assert not unflagged, f"the kernel accepts what Lean rejects: {unflagged}"
    assert len(stronger) <= 6, [o.id for o in stronger]   # the count may only go down


def test_items_outside_the_fragment_do_not_count_as_failures(outcomes):
    rows = {r.file: r for r in per_file(outcomes)}
    total = rows["total"]
    assert total.items == total.context + total.not_started + total.start
    assert total.agree + total.kernel_rejects + total.kernel_accepts == total.start
    positivity = [o for o in outcomes if o.file == "positivity"]
    assert any(o.kernel == "does not start" for o in positivity)   # ℝ≥0∞, EReal, type classes


def test_statement_of_a_file_cuts_at_the_last_declaration_s_proof():
    text = "import Mathlib\nopen Real\n\ntheorem t (h : (x : ℕ) = 2 := by rfl) : x = 2 := by\n  simp"
    assert statement_of(text) == "import Mathlib\nopen Real\n\ntheorem t (h : (x : ℕ) = 2 := by rfl) : x = 2"
