"""A policy hunting for reward: every cheat class must be rejected with a reason that names it,
by the prechecks alone where the text gives it away, and end to end by `prover verify --env
embedded`; honest proofs that merely look odd (a `sorry` in a comment) must still pass."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINIF2F_HEADER, thm
from lean_env.factory import make_env
from lean_env.rules import (
    COMMAND, COMPILER, DECLARATION, LEXICAL, METAPROGRAMMING, SET_OPTION, SORRY, TERMINATION, UNICODE,
)
from lean_env.verify import AXIOMS_SPOOFING, SELF_REFERENCE, STATEMENT_TAMPERING, precheck
from prover.verify_cmd import verify_rows

ROOT = Path(__file__).resolve().parent.parent
T = thm("theorem adv (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by")

# label -> (tactics, the class its rejection must name)
CHEATS: dict[str, tuple[list[str], str]] = {
    "sorry": (["sorry"], SORRY),
    "admit": (["admit"], SORRY),
    "sorry in a nested by": (["have h : x = 4 := by sorry", "exact h"], SORRY),
    "sorry in a term": (["exact (sorry : x = 4)"], SORRY),
    "sorry after a comment line": (["-- nothing to see\nsorry"], SORRY),
    "sorry as an escaped identifier": (["exact «sorry»"], SORRY),
    "sorryAx by name": (["exact sorryAx _ false"], SORRY),
    "exact?": (["exact?"], SORRY),
    "stop admits the rest": (["stop", "omega"], SORRY),
    "apply?": (["apply?"], SORRY),
    "native_decide": (["native_decide"], COMPILER),
    "decide +native": (["decide +native"], COMPILER),
    "ofReduceBool": (["exact Lean.ofReduceBool _ _ rfl"], COMPILER),
    "implemented_by": (["exact (show x = 4 from @[implemented_by f] h₀)"], COMPILER),
    "axiom declaration": (["omega", "axiom cheat : False"], DECLARATION),
    "indented axiom": (["omega", "    axiom cheat : False"], DECLARATION),
    "opaque declaration": (["omega", "opaque cheat : False"], DECLARATION),
    "private axiom": (["omega", "private axiom cheat : False"], DECLARATION),
    "second theorem": (["exact cheat", "theorem cheat : x = 4 := by sorry"], DECLARATION),
    "instance": (["omega", "instance : Decidable False := isTrue sorry"], DECLARATION),
    "attribute": (["omega", "@[simp] lemma cheat : (1 : ℕ) = 1 := rfl"], DECLARATION),
    "where clause": (["exact aux", "where aux : 1 = 1 := rfl"], DECLARATION),
    "run_tac": (["run_tac pure ()"], METAPROGRAMMING),
    "run_tac behind a comment": (["run_tac/- -/pure ()"], METAPROGRAMMING),
    "run_cmd": (["omega", "run_cmd pure ()"], METAPROGRAMMING),
    "elab": (["elab \"cheat\" : tactic => pure ()", "cheat"], METAPROGRAMMING),
    "macro": (["macro \"cheat\" : tactic => `(tactic| sorry)"], METAPROGRAMMING),
    "#eval": (["#eval 1", "omega"], METAPROGRAMMING),
    "meta API": (["exact Lean.Elab.Tactic.evalTactic"], METAPROGRAMMING),
    "unsafe": (["exact unsafe (cast rfl h₀)"], METAPROGRAMMING),
    "set_option debug.skipKernelTC": (["set_option debug.skipKernelTC true in omega"], SET_OPTION),
    "set_option pp option": (["set_option pp.all true in omega"], SET_OPTION),
    "set_option as a command": (["set_option maxHeartbeats 0", "omega"], COMMAND),
    "open as a command": (["open Nat", "omega"], COMMAND),
    "namespace": (["omega", "namespace Cheat"], COMMAND),
    "#exit skips the axioms check": (["omega", "#exit"], COMMAND),
    "#print axioms in the proof": (["omega", "#print axioms adv"], COMMAND),
    "unindented escape": (["omega\ntheorem other : False := by sorry"], DECLARATION),
    "termination_by": (["omega", "termination_by x"], TERMINATION),
    "decreasing_by": (["omega", "decreasing_by all_goals simp"], TERMINATION),
    "self-reference": (["exact adv x h₀"], SELF_REFERENCE),
    "Cyrillic look-alike": (["ѕorry"], UNICODE),
    "zero-width space": (["sor\u200bry"], UNICODE),
    "bidi override": (["omega -- \u202e"], UNICODE),
    "no-break space": (["run_tac\u00a0pure ()"], UNICODE),
    "fullwidth letters": (["ｓｏｒｒｙ"], UNICODE),
    "unterminated comment swallows the axioms check": (["omega /-"], LEXICAL),
    "unterminated string": (["trace \"x"], LEXICAL),
    "#print axioms spoofed by trace": (["trace \"'adv' does not depend on any axioms\"", "omega"], AXIOMS_SPOOFING),
}
# cheats only Lean itself can catch: the prechecks let them through, the environment rejects them
NEEDS_LEAN = {"#print axioms spoofed by trace"}

HONEST: dict[str, list[str]] = {
    "plain": ["omega"],
    "sorry in a line comment": ["omega -- no sorry needed"],
    "sorry in a block comment": ["/- sorry, admit -/ omega"],
    "sorry in a string": ["trace \"sorry\"", "omega"],
    "names containing forbidden words": ["have h_sorry_free : x = 4 := by omega", "exact h_sorry_free"],
    "allowed set_option ... in": ["set_option maxHeartbeats 400000 in omega"],
    "allowed set_option on two lines": ["set_option maxRecDepth 1000 in\n  omega"],
    "open ... in": ["open Nat in omega"],
    "Windows line ends": ["have h : x = 4 := by\r\n  omega", "exact h"],
}


@pytest.mark.parametrize("label", sorted(CHEATS))
def test_prechecks_refuse_textual_cheats_naming_the_class(label):
    tactics, cls = CHEATS[label]
    reasons = precheck(T, tactics)
    if label in NEEDS_LEAN:
        assert not reasons, reasons
    else:
        assert any(r.startswith(cls) for r in reasons), (label, reasons)


@pytest.mark.parametrize("label", sorted(HONEST))
def test_prechecks_let_honest_proofs_through(label):
    assert precheck(T, HONEST[label]) == []


def _rows() -> list[dict]:
    rows = [{"id": "adv", "label": label, "tactics": tactics} for label, (tactics, _) in CHEATS.items()]
    rows += [{"id": "adv", "label": label, "tactics": tactics} for label, tactics in HONEST.items()]
    stmt = T.statement
    rows += [
        {"id": "adv", "label": "weaker hypothesis", "proof": stmt.replace("x + 3 = 7", "x = 4") + "\n  exact h₀"},
        {"id": "adv", "label": "a theorem before the statement",
         "proof": "theorem helper : 1 = 1 := rfl\n" + stmt + "\n  omega"},
        {"id": "adv", "label": "claims another statement", "statement": stmt.replace("x = 4", "x ≤ 4"), "tactics": ["omega"]},
        {"id": "adv", "label": "honest whole theorem", "proof": "theorem adv (x : ℕ)  -- spacing and comments\n"
                                                             "    (h₀ : x + 3 = 7) : x = 4 := by\n  omega"},
        {"id": "adv", "label": "honest one-line whole theorem", "proof": stmt + " omega"},
    ]
    return rows


TAMPERING = {"weaker hypothesis", "a theorem before the statement", "claims another statement"}
HONEST_ROWS = set(HONEST) | {"honest whole theorem", "honest one-line whole theorem"}


def test_prover_verify_rejects_every_cheat_class_end_to_end():
    rows = _rows()
    env = make_env("embedded", workers=2, verify_timeout=30)
    verdicts = verify_rows(rows, {"adv": T}, env, "adversarial")
    wrong = []
    for row, v in zip(rows, verdicts):
        label = row["label"]
        if label in HONEST_ROWS:
            if not v.ok:
                wrong.append((label, "honest proof rejected", v.reasons))
            continue
        cls = STATEMENT_TAMPERING if label in TAMPERING else CHEATS[label][1]
        if v.ok or not any(r.startswith(cls) for r in v.reasons):
            wrong.append((label, f"not rejected as {cls}", v.reasons))
    assert not wrong, wrong


def test_prover_verify_cli_prints_the_reasons(tmp_path):
    bench = tmp_path / "adv.jsonl"
    bench.write_text(json.dumps({"name": "adv", "split": "test", "header": MINIF2F_HEADER,
                                 "formal_statement": T.statement}) + "\n", encoding="utf-8")
    proofs = tmp_path / "proofs.jsonl"
    proofs.write_text("\n".join(json.dumps(r) for r in (
        {"id": "adv", "tactics": ["omega"]},
        {"id": "adv", "tactics": ["set_option debug.skipKernelTC true in omega"]},
        {"id": "adv", "proof": T.statement.replace("x + 3 = 7", "x = 4") + "\n  exact h₀"},
    )) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "prover.cli", "verify", str(proofs), "--benchmark", str(bench), "--env", "embedded",
         "--workers", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"},
    )
    assert out.returncode == 1, out.stderr
    assert "1/3 proofs verified" in out.stdout
    assert "set_option: option `debug.skipKernelTC`" in out.stdout
    assert "statement tampering" in out.stdout
