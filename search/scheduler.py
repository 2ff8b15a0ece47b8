"""Run many search attempts at once: pass@k over a list of theorems, sharing one environment and
one generation batcher, with early stop per theorem and resumable bookkeeping.

Attempts are interleaved across theorems (attempt 0 of every theorem before attempt 1 of any),
at most `concurrency` in flight. Once attempt i of a theorem passes verification, the theorem's
attempts after i are dropped or cancelled (unless `stop_on_success` is off, which the unbiased
pass@k estimator needs); attempts before i still run. So the attempts a run consists of are
attempts 0..i (i the first that proves), whatever finished first: `canonical` picks them from
everything recorded, in a fixed order, and a resumed run (`solved`: the first proving attempt
on disk) ends with the same set as an uninterrupted one. Cancelled attempts are not reported.

Each finished attempt is handed to `on_record` at once (or yielded by `iter_attempts`), so the
caller can append it to disk before anything else happens. If `on_record` raises (disk full),
everything stops: a record that cannot be saved must not be followed by more work that is lost.
An attempt that crashes (the generator raised, or a bug) is not reported, the others go on, and
`AttemptsCrashed` is raised at the end; rerunning with the same skip set redoes only those.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence

from pydantic import Field

from lean_env.base import ProofEnv
from lean_env.config import config_record
from lean_env.types import Theorem
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, search
from search.records import AttemptRecord, Failure

OnRecord = Callable[[AttemptRecord], Awaitable[None] | None]
# `search.best_first.search`'s signature; `search.planner.driver.PlannerSearch` is the other one.
SearchFn = Callable[..., Awaitable[tuple]]


@config_record
class RunConfig:
    attempts: int = Field(1, ge=1)    # k (or n for the unbiased estimator)
    concurrency: int = Field(32, ge=1)   # attempts alive at once
    stop_on_success: bool = True
    skip: set[tuple[str, int]] = Field(default_factory=set)   # (theorem id, attempt) already recorded
    solved: dict[str, int] = Field(default_factory=dict)       # theorem -> its first proving attempt (resume)


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
    first_proof = dict(run_cfg.solved)    # theorem -> the lowest attempt known to prove it
    running: dict[str, dict[int, asyncio.Event]] = {t.id: {} for t in theorems}
    records: list[AttemptRecord] = []
    crashed: list[tuple[str, int, BaseException]] = []
    slots = asyncio.Semaphore(run_cfg.concurrency)

    def settled(tid: str, attempt: int) -> bool:
        """An earlier attempt proved the theorem: this one is not part of the run."""
        return run_cfg.stop_on_success and first_proof.get(tid, attempt) < attempt

    async def one(t: Theorem, attempt: int) -> None:
        cancel = running[t.id][attempt] = asyncio.Event()
        try:
            if settled(t.id, attempt):
                return
            try:
                rec, _ = await search_fn(t, env, batcher.for_attempt(t.id, attempt), search_cfg, attempt, cancel)
            except Exception as e:
                crashed.append((t.id, attempt, e))
                return
        finally:
            del running[t.id][attempt]
            slots.release()
        if rec.failure_kind is Failure.CANCELLED or settled(t.id, attempt):
            return  # an earlier attempt proved it: this one is not a sample
        if rec.proved and attempt < first_proof.get(t.id, attempt + 1):
            first_proof[t.id] = attempt
            if run_cfg.stop_on_success:
                for later, event in running[t.id].items():
                    if later > attempt:
                        event.set()
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


def canonical(theorem_ids: Sequence[str], records: Iterable[AttemptRecord], stop_on_success: bool) -> list[AttemptRecord]:
    """The attempts a run consists of, whatever order they finished in and however often it was
    interrupted: one record per (theorem, attempt) (the first), by theorem in `theorem_ids` order
    and then attempt; with `stop_on_success`, a theorem's attempts after its first proving one are
    left out (a run that got to them before the proof came in wasted them, nothing more)."""
    order = {tid: i for i, tid in enumerate(theorem_ids)}
    first: dict[tuple[str, int], AttemptRecord] = {}
    for r in records:
        if r.theorem_id in order:
            first.setdefault((r.theorem_id, r.attempt), r)
    proved_at: dict[str, int] = {}
    for (tid, attempt), r in first.items():
        if r.proved:
            proved_at[tid] = min(attempt, proved_at.get(tid, attempt))
    keep = [r for (tid, attempt), r in first.items()
            if not stop_on_success or attempt <= proved_at.get(tid, attempt)]
    return sorted(keep, key=lambda r: (order[r.theorem_id], r.attempt))


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
