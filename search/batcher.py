"""Batch generation requests across concurrent searches into one model call.

Every search awaits `propose(state, n)`; one background task gathers whatever requests are pending
(up to `max_batch` states, waiting at most `linger` seconds for more) and runs one
`TacticGenerator.generate` call in a worker thread, so the model sees big batches while the event
loop keeps the environment busy. While the model is busy with one batch, the next one keeps
filling, so a slow model gets fuller batches (that is what keeps it efficient). The request queue
is bounded: when the model falls behind, searches wait (back-pressure) instead of piling up memory.

Every request keeps its key (`request_key`: theorem, attempt, goal state, visit) through the batch
to the generator, which draws its samples from the run's seed and that key alone: what a search
samples never depends on which requests shared its batch, on interleaving, or on what the process
did before (a resumed run samples what an uninterrupted one did).
"""
from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from policy.base import TacticCandidate, TacticGenerator


# (goal state text, n) -> sampled tactics: what a search calls (`search.best_first.Propose`)
Propose = Callable[[str, int], Awaitable[Sequence[TacticCandidate]]]


def request_key(theorem_id: str, attempt: int, state: str, visit: int) -> str:
    """The identity of a generation request: the `visit`-th time attempt `attempt` of a theorem
    asked for tactics at `state` (a best-first attempt expands each state once: visit 0)."""
    return f"{theorem_id}\x00{attempt}\x00{visit}\x00{state}"


@dataclass
class _Request:
    state: str
    n: int
    key: str | None
    future: asyncio.Future


class GenerationBatcher:
    def __init__(self, generator: TacticGenerator, max_batch: int = 64, linger: float = 0.002,
                 max_pending: int = 4096, max_inflight: int = 1):
        if max_batch < 1 or max_pending < 1 or max_inflight < 1 or linger < 0:
            raise ValueError("max_batch, max_pending and max_inflight must be >= 1 and linger >= 0")
        self.generator = generator
        # generators that sample at random take the requests' keys; deterministic ones may not
        self._keyed = "keys" in inspect.signature(generator.generate).parameters
        self.max_batch = max_batch
        self.linger = linger
        self.max_pending = max_pending
        self.max_inflight = max_inflight      # generator calls running at once (1 for one GPU)
        self.batches: list[int] = []           # sizes of the calls made (for tests and benchmarks)
        self._queue: asyncio.Queue[_Request] | None = None
        self._task: asyncio.Task | None = None
        self._slots: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task] = set()

    def for_attempt(self, theorem_id: str, attempt: int) -> Propose:
        """`propose` for one attempt: every request carries the attempt's identity and how often
        the attempt asked for that state before (`request_key`)."""
        visits: dict[str, int] = {}

        async def propose(state: str, n: int) -> list[TacticCandidate]:
            visit = visits.get(state, 0)
            visits[state] = visit + 1
            return await self.propose(state, n, request_key(theorem_id, attempt, state, visit))
        return propose

    async def propose(self, state: str, n: int, key: str | None = None) -> list[TacticCandidate]:
        """Up to `n` tactics for `state`, from a batched generator call. Raises what the generator raised.
        `key` names the request (default: the state; see `request_key`)."""
        if self._task is None:
            # Created lazily: queues and tasks belong to the running event loop.
            self._queue = asyncio.Queue(self.max_pending)
            self._slots = asyncio.Semaphore(self.max_inflight)
            self._task = asyncio.create_task(self._loop())
        fut = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(state, n, key, fut))
        return await fut

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            await self._slots.acquire()  # wait for the model first, so the batch fills meanwhile
            batch = [first]
            deadline = loop.time() + self.linger
            while len(batch) < self.max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[_Request]) -> None:
        try:
            by_n: dict[int, list[_Request]] = {}
            for r in batch:
                by_n.setdefault(r.n, []).append(r)
            for n, reqs in by_n.items():
                live = [r for r in reqs if not r.future.done()]  # a cancelled search needs nothing
                if live:
                    await self._call(live, n)
        finally:
            self._slots.release()

    async def _call(self, reqs: list[_Request], n: int) -> None:
        self.batches.append(len(reqs))
        try:
            states = [r.state for r in reqs]
            if self._keyed:
                keys = [r.state if r.key is None else r.key for r in reqs]
                out = await asyncio.to_thread(self.generator.generate, states, n, keys)
            else:
                out = await asyncio.to_thread(self.generator.generate, states, n)
            if len(out) != len(reqs):
                raise RuntimeError(f"generator returned {len(out)} candidate lists for {len(reqs)} states")
        except asyncio.CancelledError:  # the batcher is closing: nobody will answer these
            for r in reqs:
                r.future.cancel()
            raise
        except Exception as e:
            if len(reqs) > 1:
                # One bad state (or a batch too big for memory) must not fail its batch-mates:
                # retry one by one, so only requests that fail on their own get the error.
                for r in reqs:
                    await self._call([r], n)
                return
            if not reqs[0].future.done():
                reqs[0].future.set_exception(e)
            return
        for r, cands in zip(reqs, out):
            if not r.future.done():
                r.future.set_result(list(cands))

    async def close(self) -> None:
        """Stop the background task; requests still waiting get CancelledError."""
        tasks = [t for t in (self._task, *self._running) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
        if self._queue is not None:
            while not self._queue.empty():
                r = self._queue.get_nowait()
                if not r.future.done():
                    r.future.cancel()
        self._task, self._queue, self._running = None, None, set()
