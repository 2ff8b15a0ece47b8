"""Environment benchmark: tactic round-trips through `ReplPool` on the embedded server.

    python bench/bench_env.py [--theorems 40] [--seconds 3]

Prints the median round-trip of a cheap tactic, the median/p95 of closing arithmetic tactics,
throughput (tactics/s) with 1 and 2 workers, and the cost of rebuilding a depth-5 state after its
worker is killed (replay). Targets: median < 5 ms, closers p95 < 50 ms. Throughput with 2 workers
only beats 1 worker when 2 idle cores are free.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lean_env.benchmarks import load_benchmark  # noqa: E402
from lean_env.factory import make_env  # noqa: E402
from lean_env.types import TacticState, Theorem  # noqa: E402

CLOSERS = ["omega", "linarith", "nlinarith", "norm_num", "ring"]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def start_all(env, theorems: list[Theorem]) -> list[TacticState]:
    return [s for s in [await env.start(t) for t in theorems] if isinstance(s, TacticState)]


async def latency(theorems: list[Theorem]) -> None:
    env = make_env("embedded", workers=1)
    try:
        states = await start_all(env, theorems)
        cheap: list[float] = []
        for _ in range(5):
            for s in states:
                t0 = time.perf_counter()
                await env.run_tactic(s, "skip")
                cheap.append(time.perf_counter() - t0)
        closing: list[float] = []
        outcomes: collections.Counter[str] = collections.Counter()
        for s in states:
            for c in CLOSERS:
                t0 = time.perf_counter()
                out = await env.run_tactic(s, c)
                closing.append(time.perf_counter() - t0)
                outcomes[type(out).__name__] += 1
        print(f"cheap tactic (skip) round-trip: median {statistics.median(cheap) * 1e3:.2f} ms over {len(cheap)}")
        print(f"closing tactics ({', '.join(CLOSERS)}): median {statistics.median(closing) * 1e3:.2f} ms, "
              f"p95 {pct(closing, 0.95) * 1e3:.2f} ms over {len(closing)}; outcomes {dict(outcomes)}")
    finally:
        await env.close()


async def throughput(theorems: list[Theorem], workers: int, seconds: float) -> float:
    env = make_env("embedded", workers=workers)
    try:
        states = await start_all(env, theorems)
        done = 0
        stop = time.perf_counter() + seconds

        async def search(s: TacticState) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await env.run_tactic(s, "linarith")
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(search(s) for s in states))
        return done / (time.perf_counter() - t0)
    finally:
        await env.close()


async def replay_cost(theorem: Theorem, depth: int = 5, rounds: int = 5) -> None:
    env = make_env("embedded", workers=1)
    try:
        s = await env.start(theorem)
        for _ in range(depth):
            s = await env.run_tactic(s, "skip")
        times = []
        for _ in range(rounds):
            os.kill(env.workers[0].proc.pid, signal.SIGKILL)
            await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            await env.run_tactic(s, "skip")      # restart + header + statement + `depth` tactics + 1
            times.append(time.perf_counter() - t0)
        print(f"rebuild a depth-{depth} state after SIGKILL (restart + replay): median {statistics.median(times) * 1e3:.0f} ms")
    finally:
        await env.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theorems", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    theorems = load_benchmark("embedded", "test")[: args.theorems]
    asyncio.run(latency(theorems))
    for w in (1, 2):
        rate = asyncio.run(throughput(theorems, w, args.seconds))
        print(f"throughput with {w} worker(s): {rate:.0f} linarith calls/s ({os.cpu_count()} CPU cores here)")
    asyncio.run(replay_cost(theorems[0]))


if __name__ == "__main__":
    main()
