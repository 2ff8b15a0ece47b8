"""Scheduler benchmark: does the cross-search batcher keep both the model and Lean busy?

    python bench/bench_scheduler.py

A simulated generator answers a batch of up to B states in a fixed latency; a simulated environment
runs W tactics at a time with a fixed latency each. The ideal node (tactic) throughput is
min(generator capacity, environment capacity); we report the achieved fraction (target >= 0.9 for
B=64, W=32), and the bookkeeping time per expansion with zero-latency fakes (target < 1 ms).
"""
from __future__ import annotations

import asyncio
import itertools
import time

from lean_env.types import LeanError, TacticState, Theorem, Verdict
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig
from search.generators.base import TacticCandidate
from search.scheduler import RunConfig, run_attempts


class SimGenerator:
    def __init__(self, latency: float):
        self.latency = latency
        self.count = itertools.count()

    def generate(self, states, n):
        time.sleep(self.latency)  # runs in a worker thread, like a real model call
        return [[TacticCandidate(f"t{next(self.count)}", -0.1, 1) for _ in range(n)] for _ in states]


class SimEnv:
    """Every tactic yields a fresh state after `latency`; W run at once."""

    def __init__(self, latency: float, workers: int):
        self.latency, self.slots, self.ids = latency, asyncio.Semaphore(workers), itertools.count()
        self.tactics = 0

    async def start(self, t):
        return TacticState((f"{t.id}",), next(self.ids))

    async def run_tactic(self, s, tac):
        async with self.slots:
            if self.latency:
                await asyncio.sleep(self.latency)
            self.tactics += 1
            i = next(self.ids)
            return TacticState((f"{s.goals[0]}/{i}",), i) if i % 3 else LeanError("no")

    async def verify(self, t, tactics):
        return Verdict(False, ("sim",))

    async def close(self):
        pass


async def throughput(B: int, W: int, gen_latency: float, env_latency: float, n: int, seconds: float = 6.0) -> float:
    env = SimEnv(env_latency, W)
    batcher = GenerationBatcher(SimGenerator(gen_latency), max_batch=B, linger=0.001)
    thms = [Theorem(f"s{i}", "", f"theorem s{i} : True := by", id=f"s{i}") for i in range(4 * B)]
    cfg = SearchConfig(tactics_per_expansion=n, max_expansions=10_000, wall_seconds=seconds)
    t0 = time.perf_counter()
    await run_attempts(thms, env, batcher, cfg, RunConfig(attempts=1, concurrency=len(thms)))
    elapsed = time.perf_counter() - t0
    await batcher.close()
    achieved = env.tactics / elapsed
    gen_cap = B * n / gen_latency
    env_cap = W / env_latency
    return achieved / min(gen_cap, env_cap)


async def overhead(expansions: int = 3000, n: int = 8) -> float:
    env = SimEnv(0.0, 10_000)
    batcher = GenerationBatcher(SimGenerator(0.0), max_batch=64, linger=0.0)
    thms = [Theorem("o", "", "theorem o : True := by", id="o")]
    cfg = SearchConfig(tactics_per_expansion=n, max_expansions=expansions, wall_seconds=600)
    recs = await run_attempts(thms, env, batcher, cfg, RunConfig())
    await batcher.close()
    r = recs[0]
    return r.time_bookkeeping / max(r.expansions, 1)


if __name__ == "__main__":
    for gen_latency, env_latency in ((0.20, 0.05), (0.10, 0.10), (0.05, 0.20)):
        frac = asyncio.run(throughput(64, 32, gen_latency, env_latency, 8))
        print(f"B=64 W=32 gen {gen_latency * 1e3:.0f} ms/batch, env {env_latency * 1e3:.0f} ms/tactic: "
              f"{frac:.2f} of ideal node throughput")
    print(f"bookkeeping per expansion (8 tactics, zero-latency fakes): {asyncio.run(overhead()) * 1e3:.3f} ms")
