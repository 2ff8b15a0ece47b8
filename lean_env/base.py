"""The one interface that search code sees, whatever runs the tactics."""
from __future__ import annotations

import asyncio
import types
from typing import Protocol, Sequence, runtime_checkable

from lean_env.types import EnvFailure, StartResult, TacticResult, TacticState, Theorem, Verdict


@runtime_checkable
class ProofEnv(Protocol):
    """An asynchronous proof environment shared by many concurrent searches.

    Proof states are immutable: `run_tactic` may be called on any state returned earlier (branching
    and backtracking, as the Lean REPL allows). Implementations must be safe to call from many
    asyncio tasks at once and must never raise for a bad tactic or a failed worker: those come back
    as `LeanError`, `TacticTimeout` or `EnvFailure` outcomes.

    An environment may also offer `run_tactics(state, tactics) -> list[TacticResult]`, all of one
    expansion's tactics in one call (see `run_tactics` below, which the search calls).
    """

    async def start(self, theorem: Theorem) -> StartResult:
        """Elaborate the statement with `sorry` and return its initial goal state."""
        ...

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        """Run one tactic on an earlier state."""
        ...

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        """Check a whole proof from scratch (see `lean_env.verify`)."""
        ...

    async def close(self) -> None:
        """Stop every worker process."""
        ...


async def run_tactics(env: ProofEnv, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
    """Run several tactics on one state: in one call when `env` has `run_tactics`, otherwise as
    concurrent `run_tactic` calls. Never raises: an exception from the environment becomes an
    `EnvFailure` for the tactics it concerns (all of a batch; only its own for a single call)."""
    batched = getattr(env, "run_tactics", None)
    if batched is not None:
        try:
            results = list(await batched(state, tactics))
        except Exception as e:
            return [EnvFailure(f"{type(e).__name__}: {e}")] * len(tactics)
        if len(results) != len(tactics):
            return [EnvFailure(f"run_tactics returned {len(results)} results for {len(tactics)} tactics")] * len(tactics)
        return results
    results: list[TacticResult] = []
    others: list[asyncio.Future] = []
    try:
        for i, tactic in enumerate(tactics):
            # Each tactic starts in the caller's task. An environment that answers without waiting
            # (in-process, a cached or refused tactic) costs no task at all; at the first tactic
            # that has to wait, the remaining ones start in tasks of their own, so they run while
            # this one waits, as concurrently as a gather (the search's hot path, issue 19).
            coro = env.run_tactic(state, tactic)
            if type(coro) is not types.CoroutineType:
                coro = coro.__await__()  # another awaitable (a future, say): its iterator steps alike
            try:
                waits_on = coro.send(None)
            except StopIteration as done:
                results.append(done.value)
                continue
            except Exception as e:
                results.append(EnvFailure(f"{type(e).__name__}: {e}"))
                continue
            others = [asyncio.ensure_future(env.run_tactic(state, t)) for t in tactics[i + 1:]]
            try:
                results.append(await _finish(coro, waits_on))  # still in the caller's task, as started
            except Exception as e:
                results.append(EnvFailure(f"{type(e).__name__}: {e}"))
            for task in others:
                try:
                    results.append(await task)
                except Exception as e:
                    results.append(EnvFailure(f"{type(e).__name__}: {e}"))
            break
    finally:
        if len(results) < len(tactics):  # cancelled: the tactics still running are not wanted
            for task in others:
                task.cancel()
    return results


@types.coroutine
def _finish(coro, waits_on):
    """Finish a coroutine that `run_tactics` started with `send(None)` and that now waits on
    `waits_on`, as `await coro` would have (PEP 380's `yield from`), in the same task."""
    while True:
        try:
            sent = yield waits_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as e:
            try:
                waits_on = coro.throw(e)
            except StopIteration as done:
                return done.value
        else:
            try:
                waits_on = coro.send(sent)
            except StopIteration as done:
                return done.value


async def release(env: ProofEnv, root: TacticState) -> None:
    """Tell `env` that the attempt started at `root` is over, when it frees per-attempt resources.
    Never raises: a failure to free is the environment's to log, not the attempt's to report."""
    free = getattr(env, "release", None)
    if free is not None:
        try:
            await free(root)
        except Exception:
            pass
