"""Whole-proof verification: a table of cheats must be rejected, honest proofs accepted.

Pure parts (text building, prechecks, reply judging) run on canned replies; the cheat table also
runs end to end against the embedded server through `ReplPool.verify`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import run, thm
from lean_env.factory import make_env
from lean_env.recheck import KernelRecheck
from lean_env.repl import LeanNotFoundError
from lean_env.types import TacticState
from lean_env.verify import (
    AXIOMS_SPOOFING, build_proof_text, check_reply, declared_name, parse_axioms, precheck, verification_command,
    verify_proof,
)

EMBEDDED = Path(__file__).parent.parent / "lean_env" / "embedded" / "__main__.py"
needs_embedded = pytest.mark.skipif(not EMBEDDED.exists(), reason="lean_env/embedded/__main__.py is absent")

T = thm("theorem v1 (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by")
AXIOMS_LINE = verification_command(T, ["omega"])[2]     # `#print axioms` is the sent command's last line


def at(line: int, data: str, severity: str = "info") -> dict:
    return {"severity": severity, "pos": {"line": line, "column": 0}, "data": data}


CLEAN = at(AXIOMS_LINE, "'v1' does not depend on any axioms")

CHEATS = {
    "sorry": ["sorry"],
    "admit": ["admit"],
    "sorry after a step": ["have h : x = 4 := by omega", "sorry"],
    "native_decide": ["native_decide"],
    "axiom injection": ["omega", "axiom cheat : False"],
    "indented axiom injection": ["omega", "    axiom cheat : False"],
    "second theorem": ["exact cheat", "theorem cheat : 1 = 1 := by rfl"],
    "exact?": ["exact?"],
    "apply?": ["apply?"],
    "unindented escape": ["omega\ntheorem other : False := by sorry"],
    "set_option command": ["set_option maxHeartbeats 0", "omega"],
    "attributed declaration": ["omega", "@[simp] lemma cheat : (1 : ℕ) = 1 := rfl"],
    "proof of another statement": ["norm_num"],     # tactics that do not prove *this* statement
    "empty proof": [],
    "blank proof": ["  ", "\n"],
    "uses a lemma that is not in the fresh environment": ["exact helper x h₀"],
}

# cheats that only Lean itself can catch: precheck must let them through to the REPL
NEEDS_LEAN = {"proof of another statement", "uses a lemma that is not in the fresh environment"}


def verify(tactics):
    async def go():
        env = make_env(workers=1)
        try:
            return await env.verify(T, tactics)
        finally:
            await env.close()
    return run(go())


@needs_embedded
@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheats_are_rejected_end_to_end(name):
    verdict = verify(CHEATS[name])
    assert not verdict.ok, (name, verdict)
    assert verdict.reasons


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_prechecks_catch_every_textual_cheat(name):
    reasons = precheck(T, CHEATS[name])
    assert bool(reasons) == (name not in NEEDS_LEAN), (name, reasons)


@needs_embedded
def test_honest_proofs_are_accepted_with_classical_axioms():
    for tactics in (["omega"], ["have h : x = 4 := by\n  omega", "exact h"]):
        verdict = verify(tactics)
        assert verdict.ok, (tactics, verdict.reasons)
        assert set(verdict.axioms) <= {"propext", "Classical.choice", "Quot.sound"}
        assert verdict.checked_text.startswith(T.statement + "\n  ")


@needs_embedded
def test_a_sorried_lemma_from_exploration_does_not_leak_into_verification():
    async def go():
        env = make_env(workers=1)
        try:
            # exploration declares `helper` with sorry in the worker's session...
            s = await env.start(thm("theorem helper (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by"))
            assert isinstance(s, TacticState)
            # ...but verification runs in the fresh header environment, where it does not exist
            return await env.verify(T, ["exact helper x h₀"])
        finally:
            await env.close()
    verdict = run(go())
    assert not verdict.ok and any("helper" in r for r in verdict.reasons)


def test_reply_checks():
    L = AXIOMS_LINE
    ok = {"env": 1, "messages": [at(L, "'v1' depends on axioms: [propext, Classical.choice,\n  Quot.sound]")]}
    assert check_reply(ok, "v1", L).ok
    assert parse_axioms(ok["messages"], "v1", L) == ("propext", "Classical.choice", "Quot.sound")
    assert check_reply({"env": 1, "messages": [CLEAN]}, "v1", L).ok
    bad_replies = {
        "REPL failure": {"message": "Lean error"},
        "error message": {"env": 1, "messages": [at(2, "unsolved goals", "error"), CLEAN]},
        "sorry warning, new quotes": {"env": 1, "messages": [at(1, "declaration uses `sorry`", "warning"), CLEAN]},
        "sorry warning, old quotes": {"env": 1, "messages": [at(1, "declaration uses 'sorry'", "warning"), CLEAN]},
        "sorries": {"env": 1, "sorries": [{"goal": "⊢ False"}], "messages": [CLEAN]},
        "native_decide axiom": {"env": 1, "messages": [at(L, "'v1' depends on axioms: [Lean.ofReduceBool]")]},
        "sorryAx wrapped": {"env": 1, "messages": [at(L, "'v1' depends on axioms: [propext,\n sorryAx]")]},
        "custom axiom": {"env": 1, "messages": [at(L, "'v1' depends on axioms: [cheat]")]},
        "no axioms output": {"env": 1},
        "axioms of another name": {"env": 1, "messages": [at(L, "'v2' does not depend on any axioms")]},
        "report with extra text": {"env": 1, "messages": [at(L, "'v1' does not depend on any axioms, trust me")]},
        "report as a warning": {"env": 1, "messages": [at(L, "'v1' does not depend on any axioms", "warning")]},
        "report without a position": {"env": 1, "messages": [{"severity": "info", "data": "'v1' does not depend on any axioms"}]},
    }
    for name, reply in bad_replies.items():
        verdict = check_reply(reply, "v1", L)
        assert not verdict.ok and verdict.reasons, name
    assert "could not read axioms" in check_reply({"env": 1}, "v1", L).reasons[0]
    assert "sorryAx" in check_reply(bad_replies["sorryAx wrapped"], "v1", L).axioms
    assert any(r.startswith("foreign axiom") for r in check_reply(bad_replies["custom axiom"], "v1", L).reasons)


def test_axioms_are_read_only_from_the_print_axioms_command_itself():
    L = AXIOMS_LINE
    real = at(L, "'v1' depends on axioms: [sorryAx]")
    # a `trace`/`logInfo` from inside the proof (an earlier line) claiming a clean report,
    # before or after the real one: the real report still decides, and the imitation is named
    for spoof in (at(3, "'v1' does not depend on any axioms"), at(3, "'v1' depends on axioms: [propext]")):
        for messages in ([spoof, real], [real, spoof]):
            verdict = check_reply({"env": 1, "messages": messages}, "v1", L)
            assert not verdict.ok and verdict.axioms == ("sorryAx",)
            assert any(r.startswith(AXIOMS_SPOOFING) for r in verdict.reasons), verdict.reasons
    # the imitation alone, with no report from the command: unreadable, and named as spoofing
    alone = check_reply({"env": 1, "messages": [at(2, "'v1' does not depend on any axioms")]}, "v1", L)
    assert not alone.ok and any(r.startswith(AXIOMS_SPOOFING) for r in alone.reasons)
    assert any("could not read axioms" in r for r in alone.reasons)
    # the full name Lean prints inside a namespace still names the theorem; another theorem does not
    assert check_reply({"env": 1, "messages": [at(L, "'Ns.v1' does not depend on any axioms")]}, "v1", L).ok
    assert not check_reply({"env": 1, "messages": [at(L, "'xv1' does not depend on any axioms")]}, "v1", L).ok
    # an honest proof whose tactics print something harmless is still accepted
    assert check_reply({"env": 1, "messages": [at(2, "x = 4"), CLEAN]}, "v1", L).ok


def test_proof_text_is_statement_verbatim_plus_indented_tactics():
    text = build_proof_text(T, ["have h : x = 4 := by\n  omega", "exact h"])
    assert text.startswith(T.statement + "\n")
    assert text.splitlines()[1:] == ["  have h : x = 4 := by", "    omega", "  exact h"]
    # a tactic the model indented itself is dedented first, keeping relative indentation
    assert build_proof_text(T, ["    have h : x = 4 := by\n      omega"]).splitlines()[1:] == ["  have h : x = 4 := by", "    omega"]
    assert precheck(T, ["simp; sorry"]) and not precheck(T, ["omega"])
    assert not precheck(T, ["open Nat in omega"]) and precheck(T, ["open Nat"])
    assert not precheck(T, ["set_option maxRecDepth 100 in omega"])
    assert precheck(T, ["set_option pp.all true in axiom cheat : False"])
    assert precheck(T, ["open Nat in\n  open Real in theorem t2 : 1 = 1 := rfl"])
    assert declared_name(thm("theorem mathd_algebra_1 (x : ℕ) : x = x := by")) == "mathd_algebra_1"
    assert declared_name(thm("lemma foo.bar {x : ℕ} : x = x := by", name="foo.bar")) == "foo.bar"


def test_multi_line_statements_are_checked_from_their_proof_on():
    stmt = thm("theorem v2 (x : ℕ)\n    (h₀ : x + 3 = 7) :\nx = 4 := by", name="v2")
    assert precheck(stmt, ["omega"]) == []
    assert build_proof_text(stmt, ["omega"]).endswith(":= by\n  omega")
    assert precheck(stmt, ["sorry"])


# Every benchmark statement, proved honestly, passes the prechecks (Mathlib notation such as
# `f ⁻¹' s`, `f '' s`, `∑' i, f i` and multi-line statements included).
@pytest.mark.parametrize("name", ["minif2f", "minif2f-goedel", "proofnet", "embedded"])
def test_every_benchmark_statement_passes_the_prechecks(name):
    from lean_env.benchmarks import load_benchmark

    refused = {t.id: precheck(t, ["omega"]) for t in load_benchmark(name)}
    assert not {k: v for k, v in refused.items() if v}


def test_verify_proof_sends_one_command_and_handles_timeouts():
    sent: list[tuple[str, float]] = []

    async def answering(cmd: str, timeout: float) -> dict:
        sent.append((cmd, timeout))
        return {"env": 5, "messages": [CLEAN]}      # the report sits on the command's last line

    async def hanging(cmd: str, timeout: float) -> dict:
        raise TimeoutError

    verdict = run(verify_proof(answering, T, ["omega"], 7.0))
    assert verdict.ok and len(sent) == 1
    assert sent[0] == (T.statement + "\n  omega\n\n#print axioms v1", 7.0)
    refused = run(verify_proof(answering, T, ["sorry"], 7.0))
    assert not refused.ok and len(sent) == 1          # prechecks reject without sending
    timed_out = run(verify_proof(hanging, T, ["omega"], 7.0))
    assert not timed_out.ok and "timed out" in timed_out.reasons[0]


@needs_embedded
def test_verification_timeout_rejects_and_the_pool_recovers():
    async def go():
        env = make_env(workers=1, verify_timeout=0.5)
        try:
            refused = await env.verify(T, ["sorry"])
            assert not refused.ok and env.workers[0].proc is None     # refused without starting Lean
            slow = await env.verify(T, ["sleep 5000", "omega"])
            assert not slow.ok and "timed out" in slow.reasons[0]
            assert (await env.verify(T, ["omega"])).ok
        finally:
            await env.close()
    run(go())


# ---------------------------------------------------------------- the optional kernel re-check

FAKE_LAKE = """#!{python}
import sys, pathlib
args = sys.argv[1:]
assert args[0] == "env", args
if args[1] == "lean":                     # lake env lean -o OUT.olean IN.lean: "compile"
    out, src = args[3], args[4]
    text = pathlib.Path(src).read_text()
    if "does_not_compile" in text:
        print("error: unknown identifier"); sys.exit(1)
    pathlib.Path(out).write_text(text)
    sys.exit(0)
sys.exit(99)
"""
# stands in for SafeVerify: the submission must contain the target's statement and no `cheat`
FAKE_CHECKER = """#!{python}
import sys, pathlib
target, sub = (pathlib.Path(p).read_text() for p in sys.argv[1:3])
statement = target.strip().splitlines()[-1].removesuffix(" sorry")
if statement not in sub or "cheat" in sub:
    print("theorem v1 does not match the target"); sys.exit(1)
"""


def _fake_toolchain(tmp_path, monkeypatch):
    import sys as _sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("lake", FAKE_LAKE), ("checker", FAKE_CHECKER)):
        f = bin_dir / name
        f.write_text(text.format(python=_sys.executable))
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    project = tmp_path / "proj"
    project.mkdir()
    return project, str(bin_dir / "checker")


def test_kernel_recheck_compiles_both_files_and_maps_the_checker_verdict(tmp_path, monkeypatch):
    project, checker = _fake_toolchain(tmp_path, monkeypatch)
    recheck = KernelRecheck.from_setting(project, checker)
    honest = build_proof_text(T, ["omega"])
    assert run(recheck(T, honest)) == []
    rejected = run(recheck(T, build_proof_text(T, ["exact cheat"])))
    assert len(rejected) == 1 and rejected[0].startswith("kernel re-check: the checker rejected") and "match" in rejected[0]
    broken = run(recheck(T, build_proof_text(T, ["exact does_not_compile"])))
    assert broken[0].startswith("kernel re-check: compiling Submission failed")


def test_kernel_recheck_needs_a_toolchain(tmp_path, monkeypatch):
    with pytest.raises(LeanNotFoundError, match="--lean-project"):
        KernelRecheck.from_setting(None, "checker")
    with pytest.raises(LeanNotFoundError, match="not found"):
        KernelRecheck.from_setting(tmp_path / "nope", "checker")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LeanNotFoundError, match="lake"):
        KernelRecheck.from_setting(tmp_path, "checker")


def test_prover_verify_refuses_a_recheck_without_real_lean(tmp_path):
    from prover.verify_cmd import run_verify

    proofs = tmp_path / "p.jsonl"
    proofs.write_text('{"id": "x", "tactics": ["omega"]}\n')
    with pytest.raises(ValueError, match="needs real Lean"):
        run_verify(proofs, "embedded", "embedded", None, None, 1, 10.0, recheck="checker")
