"""Environment benchmark: tactic round-trips through the pool on the embedded server.

    python bench/bench_env.py

Reports the median round-trip of a cheap tactic, the p95 of closing arithmetic tactics, and
throughput (tactics/s) with 1 and 2 workers. Targets (issue): median < 5 ms, closers p95 < 50 ms.
"""
from __future__ import annotations

import asyncio
import statistics
import time

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from lean_env.types import TacticState

CLOSERS = ["omega", "linarith", "nlinarith", "norm_num", "ring"]


async def latency() -> None:
    env = make_env(workers=1)
    try:
        thms = load_benchmark("embedded", "test")[:40]
        states = [s for s in [await env.start(t) for t in thms] if isinstance(s, TacticState)]
        cheap = []
        for _ in range(5):
            for s in states:
                t0 = time.perf_counter()
                await env.run_tactic(s, "intro h")
                cheap.append(time.perf_counter() - t0)
        closing = []
        for s in states:
            for c in CLOSERS:
                t0 = time.perf_counter()
                await env.run_tactic(s, c)
                closing.append(time.perf_counter() - t0)
        closing.sort()
        print(f"cheap tactic round-trip: median {statistics.median(cheap) * 1e3:.2f} ms over {len(cheap)}")
        print(f"closing tactics ({', '.join(CLOSERS)}): median {statistics.median(closing) * 1e3:.2f} ms, "
              f"p95 {closing[int(0.95 * len(closing))] * 1e3:.2f} ms over {len(closing)}")
    finally:
        await env.close()


async def throughput(workers: int, seconds: float = 3.0) -> float:
    env = make_env(workers=workers)
    try:
        thms = load_benchmark("embedded", "test")[:32]
        states = [s for s in [await env.start(t) for t in thms] if isinstance(s, TacticState)]
        done = 0
        stop = time.perf_counter() + seconds

        async def worker(s):
            nonlocal done
            while time.perf_counter() < stop:
                await env.run_tactic(s, "linarith")
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in states))
        return done / (time.perf_counter() - t0)
    finally:
        await env.close()


if __name__ == "__main__":
    asyncio.run(latency())
    for w in (1, 2):
        print(f"throughput with {w} worker(s): {asyncio.run(throughput(w)):.0f} linarith calls/s")
