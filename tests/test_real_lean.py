"""One set of environment assertions, run against every REPL backend: the embedded server (always,
unless it is absent) and a real Lean REPL + Mathlib project named by BFS_LEAN_PROJECT / BFS_LEAN_REPL.

Every statement and tactic here is ordinary Lean 4 + Mathlib, inside the embedded fragment."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil
import pytest

from conftest import run, thm
from lean_env.factory import make_env
from lean_env.pool import ReplPool
from lean_env.types import EnvFailure, LeanError, ProofFinished, TacticState, TacticTimeout

REPO = Path(__file__).resolve().parent.parent
EMBEDDED = REPO / "lean_env" / "embedded" / "__main__.py"

BACKENDS = [
    pytest.param("embedded", id="embedded", marks=pytest.mark.skipif(
        not EMBEDDED.exists(), reason="lean_env/embedded/__main__.py is absent: embedded server not written yet")),
    pytest.param("lean-repl", id="lean-repl", marks=pytest.mark.skipif(
        not (os.environ.get("BFS_LEAN_PROJECT") and os.environ.get("BFS_LEAN_REPL")),
        reason="no Lean here: set BFS_LEAN_PROJECT (a Mathlib project) and BFS_LEAN_REPL (a built repl) to run")),
]

TWO_STEP = thm("theorem two_step (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by")
OTHER = thm("theorem other_goal (x : ℕ) (h : x + 3 = 7) : x = 4 := by")


def lake_shim(root: Path) -> tuple[Path, Path]:
    """A Lean install whose `lake env <repl>` really runs the embedded server: the whole lean-repl
    path (PATH lookup, toolchain check, cwd, address-space cap, process group of lake + child)
    runs here without Lean. Returns (project, repl checkout); puts the fake `lake` first on PATH."""
    project, repl, bin_dir = root / "project", root / "repl", root / "bin"
    for d in (project, repl / ".lake" / "build" / "bin", bin_dir):
        d.mkdir(parents=True, exist_ok=True)
    for d in (project, repl):
        (d / "lean-toolchain").write_text("leanprover/lean4:v4.15.0\n")
    scripts = {
        bin_dir / "lake": '#!/bin/sh\n[ "$1" = env ] || exit 2\nshift\n"$@"\n',   # a parent, like lake
        repl / ".lake" / "build" / "bin" / "repl":
            f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m lean_env.embedded\n',
    }
    for path, text in scripts.items():
        path.write_text(text)
        path.chmod(0o755)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return project, repl


def env_for(kind: str, workers: int = 2, tactic_timeout: float | None = None, tmp: Path | None = None) -> ReplPool:
    real = kind == "lean-repl"
    project = os.environ.get("BFS_LEAN_PROJECT") if real else None
    repl = os.environ.get("BFS_LEAN_REPL") if real else None
    if kind == "lean-repl-shim":
        kind, project, repl = "lean-repl", *lake_shim(tmp)
    return make_env(kind, workers=workers, tactic_timeout=tactic_timeout or (60 if real else 10),
                    lean_project=str(project) if project else None, repl_path=str(repl) if repl else None)


def with_env(kind: str, body, **kw):
    async def go():
        env = env_for(kind, **kw)
        try:
            return await body(env)
        finally:
            await env.close()
    return run(go())


# ---------------------------------------------------------------- shared assertions
async def assert_step_by_step_and_branching(env) -> None:
    s0 = await env.start(TWO_STEP)
    assert isinstance(s0, TacticState) and s0.goals == ("a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2",)
    s1 = await env.run_tactic(s0, "rw [h₀]")
    assert isinstance(s1, TacticState) and s1.pp.endswith("⊢ 2 + b = b + 2")
    assert isinstance(await env.run_tactic(s1, "ring"), ProofFinished)
    assert isinstance(await env.run_tactic(s0, "omega"), ProofFinished)   # branch from the root again
    assert (await env.verify(TWO_STEP, ["rw [h₀]", "ring"])).ok


async def assert_errors_are_outcomes(env) -> None:
    malformed = await env.start(thm("theorem bad (a : ℕ) (h : a = ) : a = 1 := by"))
    assert isinstance(malformed, LeanError)
    unbound = await env.start(thm("theorem unb (a : ℕ) : a + q = 1 := by"))
    assert isinstance(unbound, LeanError) and "q" in unbound.message
    s0 = await env.start(TWO_STEP)
    unknown_id = await env.run_tactic(s0, "exact my_fake_premise")
    assert isinstance(unknown_id, LeanError) and "my_fake_premise" in unknown_id.message
    assert isinstance(await env.run_tactic(s0, "frobnicate_the_goal"), LeanError)
    refused = await env.run_tactic(s0, "sorry")
    assert isinstance(refused, LeanError) and "forbidden" in refused.message


async def assert_timeout_then_siblings_survive(env) -> None:
    s0 = await env.start(TWO_STEP)
    s1 = await env.run_tactic(s0, "rw [h₀]")
    sibling = await env.run_tactic(s0, "subst h₀")
    slow = await env.run_tactic(s1, "sleep 20000")
    assert isinstance(slow, TacticTimeout)
    assert isinstance(await env.run_tactic(s1, "ring"), ProofFinished)
    assert isinstance(await env.run_tactic(sibling, "omega"), ProofFinished)
    assert isinstance(await env.run_tactic(s0, "omega"), ProofFinished)


async def assert_sigkill_mid_request_is_recovered(env: ReplPool) -> None:
    a = await env.start(TWO_STEP)
    b = await env.start(OTHER)
    victim = env.workers[env._states[a.id].worker]
    assert env._states[b.id].worker != victim.index          # two searches on two workers
    slow = asyncio.create_task(env.run_tactic(a, "sleep 1500"))

    async def other_search() -> list[type]:
        # keeps working on the other worker before, during and after the kill
        seen = []
        for _ in range(8):
            for tactic in ("omega", "linarith", "rfl"):
                seen.append(type(await env.run_tactic(b, tactic)))
            await asyncio.sleep(0.1)
        return seen

    others = asyncio.create_task(other_search())
    await asyncio.sleep(0.5)
    # kill the REPL itself, as the OOM killer would: the innermost process (under `lake env`, if any)
    tree = [psutil.Process(victim.proc.pid)] + psutil.Process(victim.proc.pid).children(recursive=True)
    for p in tree:
        if not p.children():
            os.kill(p.pid, signal.SIGKILL)
    outcome = await slow
    assert isinstance(outcome, (TacticState, EnvFailure))    # replayed and retried, or a clear failure
    assert await others == [ProofFinished, ProofFinished, LeanError] * 8
    assert isinstance(await env.run_tactic(a, "rw [h₀]"), TacticState)


async def assert_twenty_concurrent_requests(env: ReplPool) -> None:
    theorems = [thm(f"theorem c{i} (x : ℕ) (h : x + {i} = {i + 5}) : x = 5 := by") for i in range(20)]
    starts = await asyncio.gather(*(env.start(t) for t in theorems))
    assert all(isinstance(s, TacticState) for s in starts)
    assert [s.goals[0].splitlines()[1] for s in starts] == [f"h : x + {i} = {i + 5}" for i in range(20)]
    closed = await asyncio.gather(*(env.run_tactic(s, "omega") for s in starts))
    wrong = await asyncio.gather(*(env.run_tactic(s, "rfl") for s in starts))
    assert all(isinstance(r, ProofFinished) for r in closed)
    assert all(isinstance(r, LeanError) for r in wrong)
    assert {env._states[s.id].worker for s in starts} == {0, 1}


async def assert_cheats_rejected_by_verify(env) -> None:
    # exploration declares `helper` with sorry; verification must not see it
    assert isinstance(await env.start(thm("theorem helper (x : ℕ) (h : x + 3 = 7) : x = 4 := by")), TacticState)
    for tactics in (["sorry"], ["native_decide"], ["omega", "axiom cheat : False"], ["exact helper x h"],
                    ["norm_num"], ["omega\ntheorem t2 : False := by sorry"]):
        verdict = await env.verify(OTHER, tactics)
        assert not verdict.ok and verdict.reasons, tactics
    assert (await env.verify(OTHER, ["omega"])).ok


ASSERTIONS = {
    "step_by_step": (assert_step_by_step_and_branching, {}),
    "errors": (assert_errors_are_outcomes, {}),
    "timeout_siblings": (assert_timeout_then_siblings_survive, {"workers": 1, "tactic_timeout": 1.0}),
    "sigkill": (assert_sigkill_mid_request_is_recovered, {"workers": 2}),
    "concurrency": (assert_twenty_concurrent_requests, {"workers": 2}),
    "verify_cheats": (assert_cheats_rejected_by_verify, {"workers": 1}),
}


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("name", list(ASSERTIONS))
def test_backend(kind, name):
    body, kw = ASSERTIONS[name]
    if kind == "lean-repl" and "tactic_timeout" in kw:
        kw = {**kw, "tactic_timeout": 15.0}    # Mathlib tactics need more than a second
    with_env(kind, body, **kw)


@pytest.mark.skipif(not EMBEDDED.exists(), reason="lean_env/embedded/__main__.py is absent")
@pytest.mark.parametrize("name", ["step_by_step", "errors", "timeout_siblings", "sigkill"])
def test_lean_repl_code_path_through_a_lake_shim(name, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))     # lake_shim edits PATH; restore after
    body, kw = ASSERTIONS[name]
    with_env("lean-repl-shim", body, tmp=tmp_path, **kw)
