"""The environment contract, asserted identically against every backend: the embedded server
(always) and a real Lean REPL + Mathlib project (when BFS_LEAN_PROJECT and BFS_LEAN_REPL name one)."""
from __future__ import annotations

import asyncio
import os

import pytest

from conftest import lean_backend_available, run, thm
from lean_env.factory import EnvSpec, make_env
from lean_env.types import EnvFailure, LeanError, ProofFinished, ProofGivenUp, TacticState, TacticTimeout

BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param(
        "lean-repl", id="lean-repl",
        marks=pytest.mark.skipif(not lean_backend_available(),
                                 reason="no Lean here: set BFS_LEAN_PROJECT (Mathlib project) and BFS_LEAN_REPL (built repl) to run"),
    ),
]


def env_for(kind: str, **kw):
    spec = EnvSpec(kind=kind, workers=kw.pop("workers", 2), tactic_timeout=kw.pop("tactic_timeout", 10 if kind == "embedded" else 60),
                   lean_project=os.environ.get("BFS_LEAN_PROJECT"), repl_path=os.environ.get("BFS_LEAN_REPL"))
    return make_env(spec)


@pytest.mark.parametrize("kind", BACKENDS)
def test_step_by_step_proof_and_branching(kind, two_step):
    async def go():
        env = env_for(kind)
        try:
            s0 = await env.start(two_step)
            assert isinstance(s0, TacticState)
            assert s0.goals == ("a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2",)
            s1 = await env.run_tactic(s0, "rw [h₀]")
            assert isinstance(s1, TacticState) and s1.pp.endswith("⊢ 2 + b = b + 2")
            # branch from the same earlier state twice: states are immutable
            done_a = await env.run_tactic(s1, "ring")
            done_b = await env.run_tactic(s0, "omega")
            assert isinstance(done_a, ProofFinished) and isinstance(done_b, ProofFinished)
            assert (await env.verify(two_step, ["rw [h₀]", "ring"])).ok
        finally:
            await env.close()
    run(go())


@pytest.mark.parametrize("kind", BACKENDS)
def test_errors_are_outcomes_not_exceptions(kind, two_step):
    async def go():
        env = env_for(kind)
        try:
            s0 = await env.start(two_step)
            unknown_id = await env.run_tactic(s0, "exact my_fake_premise")
            assert isinstance(unknown_id, LeanError) and "my_fake_premise" in unknown_id.message
            unknown_tac = await env.run_tactic(s0, "frobnicate")
            assert isinstance(unknown_tac, LeanError)
            failed = await env.run_tactic(s0, "linarith [h₀, foo_lemma]")
            assert isinstance(failed, LeanError)
            refused = await env.run_tactic(s0, "sorry")
            assert isinstance(refused, LeanError) and "sorry" in refused.message
            malformed = await env.start(thm("theorem bad (a : ℕ) (h : a = ) : a = 1 := by"))
            assert isinstance(malformed, LeanError)
            unbound = await env.start(thm("theorem unb (a : ℕ) : a + q = 1 := by"))
            assert isinstance(unbound, LeanError) and "q" in unbound.message
        finally:
            await env.close()
    run(go())


@pytest.mark.parametrize("kind", BACKENDS)
def test_timeout_kills_worker_and_siblings_survive(kind, two_step):
    async def go():
        env = env_for(kind, workers=1, tactic_timeout=1.0)
        try:
            s0 = await env.start(two_step)
            s1 = await env.run_tactic(s0, "rw [h₀]")
            slow = await env.run_tactic(s1, "sleep 20000")
            assert isinstance(slow, TacticTimeout)
            # the worker was killed; both the timed-out state's sibling and its parent are replayed
            again = await env.run_tactic(s1, "ring")
            assert isinstance(again, ProofFinished)
            parent = await env.run_tactic(s0, "omega")
            assert isinstance(parent, ProofFinished)
        finally:
            await env.close()
    run(go())


def test_sigkill_mid_request_is_recovered_and_others_undisturbed(two_step):
    async def go():
        env = env_for("embedded", workers=2, tactic_timeout=10)
        try:
            a = await env.start(two_step)
            b = await env.start(thm("theorem other (x : ℕ) (h : x + 3 = 7) : x = 4 := by"))
            victim = env.workers[env._states[a.id].worker]
            slow = asyncio.create_task(env.run_tactic(a, "sleep 3000"))
            await asyncio.sleep(0.5)
            os.kill(victim.proc.pid, 9)
            outcome = await slow
            # the pool replays the state on a fresh process and retries the request once
            assert isinstance(outcome, (TacticState, EnvFailure))
            other = await env.run_tactic(b, "omega")
            assert isinstance(other, ProofFinished)
            after = await env.run_tactic(a, "rw [h₀]")
            assert isinstance(after, TacticState)
        finally:
            await env.close()
    run(go())


def test_many_concurrent_searches_share_two_workers():
    async def go():
        env = env_for("embedded", workers=2)
        try:
            theorems = [thm(f"theorem c{i} (x : ℕ) (h : x + {i} = {i + 5}) : x = 5 := by") for i in range(20)]
            starts = await asyncio.gather(*(env.start(t) for t in theorems))
            assert all(isinstance(s, TacticState) for s in starts)
            results = await asyncio.gather(*(env.run_tactic(s, "omega") for s in starts))
            assert all(isinstance(r, ProofFinished) for r in results)
            wrong = await asyncio.gather(*(env.run_tactic(s, "rfl") for s in starts))
            assert all(isinstance(r, LeanError) for r in wrong)
            assert {w.index for w in env.workers if w.proc is not None} == {0, 1}
        finally:
            await env.close()
    run(go())


def test_given_up_is_distinguished():
    from lean_env.pool import classify_tactic_reply

    assert classify_tactic_reply({"proofState": 1, "goals": [], "proofStatus": "Completed"})[0] == "finished"
    # the protocol pitfall: an empty goal list with an error is an error, not a proof
    pitfall = {"proofState": 1, "goals": [], "proofStatus": "Incomplete: contains sorry",
               "messages": [{"severity": "error", "data": "Unknown identifier `x`"}]}
    assert classify_tactic_reply(pitfall)[0] == "error"
    assert classify_tactic_reply({"proofState": 2, "goals": [], "sorries": [{"goal": "⊢ p"}]})[0] == "given_up"
    assert classify_tactic_reply({"message": "Lean error:\n<input>:1:1: unknown tactic"})[0] == "error"
    assert classify_tactic_reply({"proofState": 3, "goals": ["⊢ True"]}) == ("state", ("⊢ True",))
    assert isinstance(ProofGivenUp(), ProofGivenUp)
