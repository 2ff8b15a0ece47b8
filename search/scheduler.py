"""Run many search attempts at once: pass@k over a list of theorems, sharing one environment and
one generation batcher, with early stop per theorem and resumable bookkeeping.

Attempts are interleaved across theorems (attempt 0 of every theorem before attempt 1 of any),
at most `concurrency` in flight. Once an attempt of a theorem passes verification, the theorem's
pending attempts are dropped and its running ones cancelled (unless `stop_on_success` is off,
which the unbiased pass@k estimator needs). Cancelled attempts are not reported: they are not
samples, and a resumed run skips the theorem because it is in `solved`.

Each finished attempt is handed to `on_record` at once (or yielded by `iter_attempts`), so the
caller can append it to disk before anything else happens. If `on_record` raises (disk full),
everything stops: a record that cannot be saved must not be followed by more work that is lost.
An attempt that crashes (the generator raised, or a bug) is not reported, the others go on, and
`AttemptsCrashed` is raised at the end; rerunning with the same skip set redoes only those.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Awaitable, Callable, Iterator, Sequence

from pydantic import Field

from lean_env.base import ProofEnv
from lean_env.config import config_record
from lean_env.types import Theorem
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, search
from search.records import AttemptRecord

OnRecord = Callable[[AttemptRecord], Awaitable[None] | None]
# `search.best_first.search`'s signature; `search.planner.driver.PlannerSearch` is the other one.
SearchFn = Callable[..., Awaitable[tuple]]


@config_record
class RunConfig:
    attempts: int = Field(1, ge=1)    # k (or n for the unbiased estimator)
    concurrency: int = Field(32, ge=1)   # attempts alive at once
    stop_on_success: bool = True
    skip: set[tuple[str, int]] = Field(default_factory=set)   # (theorem id, attempt) already recorded
    solved: set[str] = Field(default_factory=set)              # theorems already proved (resume)


class AttemptsCrashed(RuntimeError):
    """Some attempts raised instead of returning a record; they were not recorded."""

    def __init__(self, errors: list[tuple[str, int, BaseException]], total: int):
        self.errors = errors
        tid, attempt, first = errors[0]
        super().__init__(f"{len(errors)} of {total} attempts crashed and were not recorded (rerun to "
                         f"redo them); first: {tid} attempt {attempt}: {type(first).__name__}: {first}")


def schedule(theorems: Sequence[Theorem], run_cfg: RunConfig) -> Iterator[tuple[Theorem, int]]:
    """The order attempts start in: attempt 0 of every theorem, then attempt 1, ... minus skips."""
    ids = [t.id for t in theorems]
    if len(set(ids)) != len(ids):
        raise ValueError("theorem ids must be unique within one run")
    for attempt in range(run_cfg.attempts):
        for t in theorems:
            if (t.id, attempt) not in run_cfg.skip:
                yield t, attempt


async def run_attempts(
    theorems: Sequence[Theorem],
    env: ProofEnv,
    batcher: GenerationBatcher,
    search_cfg: SearchConfig,
    run_cfg: RunConfig,
    on_record: OnRecord | None = None,
    search_fn: SearchFn = search,
) -> list[AttemptRecord]:
    """Run every scheduled attempt; returns the records reported, in the order they finished."""
    jobs = list(schedule(theorems, run_cfg))
    solved = set(run_cfg.solved)
    cancels = {t.id: asyncio.Event() for t in theorems}
    if run_cfg.stop_on_success:
        for tid in solved & cancels.keys():
            cancels[tid].set()
    records: list[AttemptRecord] = []
    crashed: list[tuple[str, int, BaseException]] = []
    slots = asyncio.Semaphore(run_cfg.concurrency)

    async def one(t: Theorem, attempt: int) -> None:
        try:
            if cancels[t.id].is_set():
                return
            try:
                rec, _ = await search_fn(t, env, batcher.propose, search_cfg, attempt, cancels[t.id])
            except Exception as e:
                crashed.append((t.id, attempt, e))
                return
        finally:
            slots.release()
        if rec.failure == "cancelled" or (run_cfg.stop_on_success and t.id in solved):
            return  # another attempt proved it first: this one is not a sample
        if rec.proved:
            solved.add(t.id)
            if run_cfg.stop_on_success:
                cancels[t.id].set()
        records.append(rec)
        if on_record is not None:
            out = on_record(rec)
            if asyncio.iscoroutine(out):
                await out

    try:
        async with asyncio.TaskGroup() as group:
            for t, attempt in jobs:
                await slots.acquire()  # bounded: never more than `concurrency` attempts alive
                group.create_task(one(t, attempt))
    except BaseExceptionGroup as eg:
        # Only a failing on_record gets here (searches' own errors are collected in `crashed`).
        raise eg.exceptions[0] from eg
    if crashed:
        raise AttemptsCrashed(crashed, len(jobs))
    return records


async def iter_attempts(
    theorems: Sequence[Theorem],
    env: ProofEnv,
    batcher: GenerationBatcher,
    search_cfg: SearchConfig,
    run_cfg: RunConfig,
) -> AsyncIterator[AttemptRecord]:
    """`run_attempts` as an async iterator: records come out as attempts finish. Leaving the loop
    early cancels the attempts still running; crashes are raised after the last record."""
    queue: asyncio.Queue = asyncio.Queue()
    end = object()

    async def body() -> None:
        try:
            await run_attempts(theorems, env, batcher, search_cfg, run_cfg, queue.put_nowait)
        finally:
            queue.put_nowait(end)

    task = asyncio.create_task(body())
    try:
        while (item := await queue.get()) is not end:
            yield item
        await task  # re-raises AttemptsCrashed
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
