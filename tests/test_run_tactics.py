"""`lean_env.base.run_tactics` on environments with only `run_tactic`: tactics that answer at once
run in the caller's task, and from the first one that waits on, the rest run concurrently; every
coroutine finishes in the task it started in; failures become EnvFailure; cancelling the caller
stops them all."""
from __future__ import annotations

import asyncio

import pytest

from lean_env.base import run_tactics
from lean_env.types import EnvFailure, LeanError, TacticState

STATE = TacticState(("⊢ p",), 0)


class Env:
    """`run_tactic` answers "now:..." tactics without waiting, "wait:..." ones after `gate` opens,
    and raises for "raise..." ones; it records how many tactics wait at once and the task each
    tactic started and ended in."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = self.most_waiting = 0
        self.tasks: dict[str, tuple[asyncio.Task, asyncio.Task]] = {}

    async def run_tactic(self, state, tactic):
        first = asyncio.current_task()
        if tactic.startswith("raise now"):
            raise RuntimeError("boom")
        if tactic.startswith("wait") or tactic.startswith("raise later"):
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            async with asyncio.timeout(5):  # a cancel scope bound to the task it was entered in
                await self.gate.wait()
            self.waiting -= 1
            if tactic.startswith("raise later"):
                raise ValueError("late")
        self.tasks[tactic] = (first, asyncio.current_task())
        return LeanError(f"answer to {tactic}")


def run_with_gate(env: Env, tactics: list[str], open_after: float = 0.05):
    async def main():
        async def opener():
            await asyncio.sleep(open_after)
            env.gate.set()
        opening = asyncio.create_task(opener())
        out = await run_tactics(env, STATE, tactics)
        await opening
        return out, asyncio.current_task()
    return asyncio.run(main())


def test_answers_come_back_in_order_and_immediate_ones_need_no_task():
    env = Env()
    tactics = [f"now:{i}" for i in range(8)]
    out, caller = run_with_gate(env, tactics, open_after=0)
    assert [r.message for r in out] == [f"answer to {t}" for t in tactics]
    assert all(start is caller and end is caller for start, end in env.tasks.values())


def test_waiting_tactics_run_concurrently_and_each_ends_in_its_own_start_task():
    env = Env()
    tactics = ["now:a", "wait:1", "now:b", "wait:2", "wait:3"]
    out, caller = run_with_gate(env, tactics)
    assert [r.message for r in out] == [f"answer to {t}" for t in tactics]
    # all three waiting tactics were in flight together (a sequential loop would see one at a time)
    assert env.most_waiting == 3
    assert env.tasks["now:a"][0] is caller and env.tasks["wait:1"][0] is caller  # before the first wait
    for start, end in env.tasks.values():
        assert start is end   # asyncio.timeout (and anyio's cancel scopes) need this
    assert len({env.tasks[t][0] for t in ("now:b", "wait:2", "wait:3")} | {caller}) == 4


def test_exceptions_become_env_failures_for_their_tactic_only():
    env = Env()
    out, _ = run_with_gate(env, ["raise now", "wait:1", "raise later", "now:x"])
    assert isinstance(out[0], EnvFailure) and "RuntimeError: boom" in out[0].message
    assert out[1].message == "answer to wait:1"
    assert isinstance(out[2], EnvFailure) and "ValueError: late" in out[2].message
    assert out[3].message == "answer to now:x"


def test_cancelling_the_caller_cancels_every_tactic_still_running():
    env = Env()

    async def main():
        call = asyncio.create_task(run_tactics(env, STATE, ["wait:1", "wait:2", "wait:3"]))
        while env.waiting < 3:
            await asyncio.sleep(0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return others
    assert asyncio.run(main()) == []
    assert env.waiting == 3 and not env.tasks  # none of them got to answer


def test_awaitables_other_than_coroutines_are_run_too():
    class FutureEnv:
        def run_tactic(self, state, tactic):
            fut = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(fut.set_result, LeanError(tactic))
            return fut

    async def main():
        return await run_tactics(FutureEnv(), STATE, ["a", "b", "c"])
    assert [r.message for r in asyncio.run(main())] == ["a", "b", "c"]
