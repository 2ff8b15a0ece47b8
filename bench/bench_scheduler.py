"""Scheduler benchmark: does the cross-search batcher keep both the model and Lean busy?

    python bench/bench_scheduler.py

A simulated generator answers a batch of up to B states in a fixed latency; a simulated environment
runs W tactics at a time with a fixed latency each. The ideal node (tactic) throughput is
min(generator capacity, environment capacity); we report the achieved steady-state fraction
(target >= 0.9 for B=64, W=32), and the bookkeeping time per expansion with zero-latency fakes (target < 1 ms).
"""
from __future__ import annotations

import asyncio
import itertools
import time

from lean_env.types import LeanError, TacticState, Theorem, Verdict
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig
from policy.base import TacticCandidate
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


async def throughput(B: int, W: int, gen_latency: float, env_latency: float, n: int, seconds: float = 6.0,
                     warmup: float = 1.5) -> float:
    """Steady-state tactics/s over ideal: counted from `warmup` s after the start (the first batch
    and the pipeline filling up) to 0.5 s before the searches' wall-clock budget ends."""
    env = SimEnv(env_latency, W)
    batcher = GenerationBatcher(SimGenerator(gen_latency), max_batch=B, linger=0.001)
    thms = [Theorem(f"s{i}", "", f"theorem s{i} : True := by", id=f"s{i}") for i in range(4 * B)]
    cfg = SearchConfig(tactics_per_expansion=n, max_expansions=10_000, wall_seconds=seconds)
    run = asyncio.create_task(run_attempts(thms, env, batcher, cfg, RunConfig(attempts=1, concurrency=len(thms))))
    await asyncio.sleep(warmup)
    t0, c0 = time.perf_counter(), env.tactics
    await asyncio.sleep(seconds - warmup - 0.5)
    t1, c1 = time.perf_counter(), env.tactics
    await run
    await batcher.close()
    achieved = (c1 - c0) / (t1 - t0)
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
    # Latencies scaled down ~5x from a 7B-32B model on one GPU (about 1-2 s per batch of 64 x 8)
    # and Lean (50-250 ms per tactic), keeping the ratios; cases span env-bound to model-bound.
    cases = (("env-bound", 0.20, 0.05), ("env-bound", 0.30, 0.20), ("balanced", 0.40, 0.025),
             ("model-bound", 0.40, 0.01))
    for label, gen_latency, env_latency in cases:
        frac = asyncio.run(throughput(64, 32, gen_latency, env_latency, 8))
        gen_cap, env_cap = 64 * 8 / gen_latency, 32 / env_latency
        print(f"B=64 W=32 n=8 {label:11s} gen {gen_latency * 1e3:.0f} ms/batch ({gen_cap:.0f} tactics/s), "
              f"env {env_latency * 1e3:.0f} ms/tactic ({env_cap:.0f} tactics/s): {frac:.2f} of ideal")
    print(f"bookkeeping per expansion (8 tactics, zero-latency fakes): {asyncio.run(overhead()) * 1e3:.3f} ms")
