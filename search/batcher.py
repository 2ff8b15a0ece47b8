"""Batch generation requests across concurrent searches into one model call.

Every search awaits `propose(state, n)`; a single background task gathers whatever requests are
pending (up to `max_batch` states, waiting at most `linger` seconds for more) and runs one
`TacticGenerator.generate` call in a worker thread, so the model sees big batches while the event
loop keeps the environment busy. The request queue is bounded: when the model falls behind,
searches wait (back-pressure) instead of piling up memory.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from search.generators.base import TacticCandidate, TacticGenerator


@dataclass
class _Request:
    state: str
    n: int
    future: asyncio.Future


class GenerationBatcher:
    def __init__(self, generator: TacticGenerator, max_batch: int = 64, linger: float = 0.002,
                 max_pending: int = 4096, max_inflight: int = 1):
        self.generator = generator
        self.max_batch = max_batch
        self.linger = linger
        self.max_inflight = max_inflight
        self.queue: asyncio.Queue[_Request] = asyncio.Queue(max_pending)
        self.batches: list[int] = []           # sizes of the calls made (for tests and benchmarks)
        self._task: asyncio.Task | None = None
        self._slots: asyncio.Semaphore | None = None

    async def propose(self, state: str, n: int) -> list[TacticCandidate]:
        if self._task is None:
            self._slots = asyncio.Semaphore(self.max_inflight)
            self._task = asyncio.create_task(self._loop())
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put(_Request(state, n, fut))
        return await fut

    async def _loop(self) -> None:
        while True:
            first = await self.queue.get()
            batch = [first]
            deadline = asyncio.get_running_loop().time() + self.linger
            while len(batch) < self.max_batch:
                timeout = deadline - asyncio.get_running_loop().time()
                try:
                    batch.append(self.queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(self.queue.get(), timeout))
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
            await self._slots.acquire()
            asyncio.create_task(self._run(batch))

    async def _run(self, batch: list[_Request]) -> None:
        try:
            by_n: dict[int, list[_Request]] = {}
            for r in batch:
                by_n.setdefault(r.n, []).append(r)
            for n, reqs in by_n.items():
                live = [r for r in reqs if not r.future.done()]
                if not live:
                    continue
                self.batches.append(len(live))
                try:
                    out = await asyncio.to_thread(self.generator.generate, [r.state for r in live], n)
                except Exception as e:  # a generator failure fails these requests, not the loop
                    for r in live:
                        if not r.future.done():
                            r.future.set_exception(e)
                    continue
                for r, cands in zip(live, out):
                    if not r.future.done():
                        r.future.set_result(list(cands))
        finally:
            self._slots.release()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
