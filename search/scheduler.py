"""Run many search attempts at once: pass@k over a list of theorems, sharing one environment and
one generation batcher, with early stop per theorem and resumable bookkeeping.

Attempts are interleaved across theorems (attempt 0 of every theorem before attempt 1 of any),
at most `concurrency` in flight. Once an attempt of a theorem passes verification, the theorem's
pending attempts are dropped and its running ones cancelled (unless `stop_on_success` is off,
which the unbiased pass@k estimator needs). Each finished attempt is handed to `on_record` at
once, so the caller can append it to disk before anything else happens.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable, Sequence

from lean_env.base import ProofEnv
from lean_env.types import Theorem
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, search
from search.records import AttemptRecord

OnRecord = Callable[[AttemptRecord], Awaitable[None] | None]


@dataclass
class RunConfig:
    attempts: int = 1                 # k (or n for the unbiased estimator)
    concurrency: int = 32
    stop_on_success: bool = True
    skip: set[tuple[str, int]] = field(default_factory=set)   # (theorem id, attempt) already recorded
    solved: set[str] = field(default_factory=set)              # theorems already proved (resume)


async def run_attempts(
    theorems: Sequence[Theorem],
    env: ProofEnv,
    batcher: GenerationBatcher,
    search_cfg: SearchConfig,
    run_cfg: RunConfig,
    on_record: OnRecord | None = None,
) -> list[AttemptRecord]:
    solved = set(run_cfg.solved)
    cancels: dict[str, asyncio.Event] = {t.id: asyncio.Event() for t in theorems}
    for tid in solved:
        if tid in cancels and run_cfg.stop_on_success:
            cancels[tid].set()
    records: list[AttemptRecord] = []
    slots = asyncio.Semaphore(run_cfg.concurrency)

    def jobs() -> Iterable[tuple[Theorem, int]]:
        for attempt in range(run_cfg.attempts):
            for t in theorems:
                if (t.id, attempt) not in run_cfg.skip:
                    yield t, attempt

    async def one(t: Theorem, attempt: int) -> None:
        try:
            if run_cfg.stop_on_success and t.id in solved:
                return
            rec, _ = await search(t, env, batcher.propose, search_cfg, attempt, cancels[t.id])
            if rec.failure == "cancelled" or (run_cfg.stop_on_success and t.id in solved):
                return  # another attempt proved it first: this one never counts
            if rec.proved:
                solved.add(t.id)
                if run_cfg.stop_on_success:
                    cancels[t.id].set()
            records.append(rec)
            if on_record is not None:
                out = on_record(rec)
                if asyncio.iscoroutine(out):
                    await out
        finally:
            slots.release()

    tasks = []
    for t, attempt in jobs():
        await slots.acquire()  # bounded: never more than `concurrency` attempts alive
        tasks.append(asyncio.create_task(one(t, attempt)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return records
