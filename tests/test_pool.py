"""`ReplPool` over real subprocesses of the scriptable fake REPL: routing, replay, faults, recycling.

The same pool against the embedded server and real Lean is in test_real_lean.py."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import run
from lean_env.factory import make_env
from lean_env.pool import ReplPoolConfig, ReplPool, classify_tactic_reply
from lean_env.repl import LeanNotFoundError, ReplCommand
from lean_env.types import EnvFailure, LeanError, ProofFinished, ProofGivenUp, TacticState, TacticTimeout, Theorem

FAKES = Path(__file__).parent / "fakes"


def fake_pool(workers: int = 1, script: str = "fake_repl.py", env: dict | None = None, **cfg) -> ReplPool:
    cfg = {"tactic_timeout": 5.0, "start_timeout": 5.0, **cfg}
    return ReplPool(ReplCommand([sys.executable, str(FAKES / script)], env=env or {}), ReplPoolConfig(workers=workers, **cfg))


def T(name: str = "t") -> Theorem:
    return Theorem(name=name, header="import Mathlib", statement=f"theorem {name} : True := by")


def pool_test(coro_fn, **pool_kw):
    """Run `coro_fn(pool)` against a fresh fake pool and always close it."""
    async def go():
        pool = fake_pool(**pool_kw)
        try:
            return await coro_fn(pool)
        finally:
            await pool.close()
    return run(go())


def worker_of(pool: ReplPool, state: TacticState):
    return pool.workers[pool._states[state.id].worker]


# ---------------------------------------------------------------- reply classification
@pytest.mark.parametrize("reply,kind", [
    ({"proofState": 1, "goals": [], "proofStatus": "Completed"}, "finished"),
    ({"proofState": 1, "goals": []}, "finished"),                                  # older REPL, no status
    ({"proofState": 1, "goals": [], "proofStatus": "Incomplete: contains sorry",
      "messages": [{"severity": "error", "data": "Unknown identifier `x`"}]}, "error"),  # the pitfall
    ({"proofState": 2, "goals": [], "sorries": [{"goal": "⊢ p"}]}, "given_up"),
    ({"proofState": 2, "goals": [], "proofStatus": "Incomplete: contains sorry"}, "given_up"),
    ({"proofState": 2, "goals": [], "proofStatus": "Incomplete: contains metavariable(s)"}, "error"),
    ({"message": "Lean error:\n<input>:1:1: unknown tactic"}, "error"),
    ({"proofState": 3, "goals": ["⊢ True"], "messages": [{"severity": "warning", "data": "unused"}]}, "state"),
    ({"goals": ["⊢ True"]}, "error"),                                               # no proofState: malformed
])
def test_reply_classification(reply, kind):
    assert classify_tactic_reply(reply)[0] == kind


# ---------------------------------------------------------------- the basic contract
def test_states_branch_and_outcomes_are_classified():
    async def body(pool):
        s0 = await pool.start(T())
        assert isinstance(s0, TacticState) and s0.goals == ("⊢ t",)
        a, b = await pool.run_tactic(s0, "step a"), await pool.run_tactic(s0, "step b")
        assert a.goals == ("⊢ t / a",) and b.goals == ("⊢ t / b",) and a.id != b.id
        assert isinstance(await pool.run_tactic(a, "close"), ProofFinished)
        assert isinstance(await pool.run_tactic(a, "fail"), LeanError)
        assert isinstance(await pool.run_tactic(a, "giveup"), ProofGivenUp)
        assert isinstance(await pool.run_tactic(a, "frobnicate"), LeanError)
        bad = await pool.start(Theorem("b", "import Mathlib", "theorem bad_statement (x : ) := by"))
        assert isinstance(bad, LeanError) and "unexpected token" in bad.message
        unknown = await pool.run_tactic(TacticState(("⊢ x",), 10**9), "close")
        assert isinstance(unknown, EnvFailure) and "unknown state handle" in unknown.message
    pool_test(body)


def test_forbidden_tactics_never_reach_the_process():
    async def body(pool):
        s0 = await pool.start(T())
        sent = pool.workers[0].proc.requests
        for tac in ("sorry", "admit", "native_decide", "exact?", "apply?", "simp; sorry", "run_tac pure ()",
                    "set_option debug.skipKernelTC true in simp", "exact «sorry»", "omega\naxiom cheat : False",
                    "decide +native", "ѕorry"):
            out = await pool.run_tactic(s0, tac)
            assert isinstance(out, LeanError) and "forbidden" in out.message
        assert pool.workers[0].proc.requests == sent
    pool_test(body)


# ---------------------------------------------------------------- faults
def test_timeout_then_siblings_and_parent_are_replayed():
    async def body(pool):
        s0 = await pool.start(T())
        a = await pool.run_tactic(s0, "step a")
        b = await pool.run_tactic(s0, "step b")
        pid = pool.workers[0].proc.pid
        slow = await pool.run_tactic(a, "sleep 5000")
        assert isinstance(slow, TacticTimeout) and slow.seconds == 1.0
        assert pool.workers[0].proc.pid != pid                        # killed and replaced
        assert (await pool.run_tactic(b, "step c")).goals == ("⊢ t / b / c",)
        assert (await pool.run_tactic(a, "step d")).goals == ("⊢ t / a / d",)
        assert isinstance(await pool.run_tactic(s0, "close"), ProofFinished)
    pool_test(body, tactic_timeout=1.0)


def test_replay_reuses_shared_prefixes():
    async def body(pool):
        s = await pool.start(T())
        for x in "abc":
            s = await pool.run_tactic(s, f"step {x}")
        sibling = await pool.run_tactic(s, "step d")            # path a, b, c, d
        os.kill(pool.workers[0].proc.pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        deep = await pool.run_tactic(s, "step e")                 # replays header, start, a, b, c
        assert deep.goals == ("⊢ t / a / b / c / e",)
        sent = pool.workers[0].proc.requests
        assert sent == 6
        again = await pool.run_tactic(sibling, "step f")          # only `d` is replayed
        assert again.goals == ("⊢ t / a / b / c / d / f",)
        assert pool.workers[0].proc.requests == sent + 2
    pool_test(body)


@pytest.mark.parametrize("tactic,expect", [("flood", "bytes"), ("garbage", "not a JSON reply"), ("crash", "code 3")])
def test_broken_output_gives_env_failure_and_the_pool_recovers(tactic, expect):
    async def body(pool):
        s0 = await pool.start(T())
        a = await pool.run_tactic(s0, "step a")
        out = await pool.run_tactic(a, tactic)
        assert isinstance(out, EnvFailure) and expect in out.message and "twice" in out.message
        assert (await pool.run_tactic(a, "step b")).goals == ("⊢ t / a / b",)
    pool_test(body)


def test_crash_once_is_retried_on_a_replayed_state(tmp_path):
    async def body(pool):
        s0 = await pool.start(T())
        a = await pool.run_tactic(s0, "step a")
        out = await pool.run_tactic(a, "crash_once")
        assert isinstance(out, TacticState) and out.goals == ("⊢ t / a / survived",)
        assert pool.workers[0].generation == 2
    pool_test(body, env={"FAKE_MARKER": str(tmp_path / "crashed")})


def test_replay_that_diverges_is_an_env_failure_not_a_wrong_state():
    async def body(pool):
        s0 = await pool.start(T())
        r = await pool.run_tactic(s0, "nondet")
        os.kill(pool.workers[0].proc.pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        out = await pool.run_tactic(r, "step x")
        assert isinstance(out, EnvFailure) and "diverged" in out.message
        assert isinstance(await pool.run_tactic(s0, "close"), ProofFinished)
    pool_test(body)


def test_a_cancelled_request_never_leaks_its_late_reply():
    async def body(pool):
        s0 = await pool.start(T())
        a = await pool.run_tactic(s0, "step a")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pool.run_tactic(a, "sleep 600"), 0.2)   # the caller gives up
        await asyncio.sleep(0.8)                                           # the late reply is due now
        b = await pool.run_tactic(a, "step b")
        assert b.goals == ("⊢ t / a / b",)                                 # not "⊢ t / a / slept"
    pool_test(body)


def test_a_slow_worker_does_not_block_the_others():
    async def body(pool):
        a = await pool.start(T("a"))
        b = await pool.start(T("b"))
        assert worker_of(pool, a) is not worker_of(pool, b)       # least-loaded placement
        finished: list[str] = []

        async def slow():
            await pool.run_tactic(a, "sleep 1500")
            finished.append("slow")

        async def fast():
            s = b
            for i in range(10):
                s = await pool.run_tactic(s, f"step {i}")
            finished.append("fast")

        await asyncio.gather(slow(), fast())
        assert finished == ["fast", "slow"]
    pool_test(body, workers=2)


def test_recycling_by_request_count_and_memory_keeps_every_state():
    async def body(pool):
        s0 = await pool.start(T())
        states = [s0]
        for i in range(8):
            states.append(await pool.run_tactic(states[-1], f"step {i}"))
        assert pool.workers[0].generation >= 3                     # recycled along the way
        for i, s in enumerate(states):
            assert isinstance(await pool.run_tactic(s, "close"), ProofFinished), i
    pool_test(body, max_requests=4)

    async def by_memory(pool):
        s0 = await pool.start(T())
        a = await pool.run_tactic(s0, "step a")
        gen = pool.workers[0].generation
        b = await pool.run_tactic(a, "step b")
        assert pool.workers[0].generation > gen and b.goals == ("⊢ t / a / b",)
    pool_test(by_memory, max_rss_bytes=1, rss_check_every=1)


def test_missing_binary_is_an_outcome_and_lean_repl_refuses_up_front(tmp_path):
    async def go():
        pool = ReplPool(ReplCommand([str(tmp_path / "no-such-repl")]), ReplPoolConfig(workers=1))
        try:
            out = await pool.start(T())
            assert isinstance(out, EnvFailure) and "no-such-repl" in out.message
            verdict = await pool.verify(T(), ["close"])
            assert not verdict.ok and "no-such-repl" in verdict.reasons[0]
        finally:
            await pool.close()
    run(go())
    with pytest.raises(LeanNotFoundError, match="Lean project not found"):
        make_env("lean-repl", lean_project=str(tmp_path / "nope"), repl_path=str(tmp_path))


def test_closed_pool_answers_env_failure():
    async def go():
        pool = fake_pool()
        s0 = await pool.start(T())
        await pool.close()
        assert isinstance(await pool.run_tactic(s0, "step a"), EnvFailure)
        assert isinstance(await pool.start(T()), EnvFailure)
    run(go())


def test_warm_starts_every_worker_with_the_header():
    async def body(pool):
        await pool.warm("import Mathlib")
        assert all(w.alive and w.proc.requests == 1 for w in pool.workers)
        await pool.start(T())                 # header already paid: one more request only
        assert sum(w.proc.requests for w in pool.workers) == 3
    pool_test(body, workers=2)


def test_make_env_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown environment"):
        make_env("coq")
    with pytest.raises(ValueError, match="unknown environment setting"):
        make_env("embedded", wokers=3)
    with pytest.raises(ValueError, match="workers"):
        make_env("embedded", workers=0)
    with pytest.raises(ValueError, match="--lean-project"):
        make_env("lean-repl")
