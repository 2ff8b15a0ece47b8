"""What the refutation screen decides, and what it costs next to the kernel's verification.

    python bench/bench_screen.py [--benchmarks embedded minif2f] [--proofs 300] [--show-refuted]

For each benchmark file: how many statements the screen refutes, proves not refutable (z3
unsat, or exact evaluation of a closed statement), or leaves unknown (and why), with its time per
statement. Then, on shipped known proofs, the kernel's whole-proof verification time (in
process, without the screen: a lower bound on a campaign's, which also pays the server pipe)
against the screen's time on the same statement, first time (uncached) and again (the memo a
campaign hits on every later proof of the theorem).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from lean_env.screen.refute import ScreenConfig, _screen, _screen_cached, screen  # noqa: E402
from lean_env.types import Theorem  # noqa: E402
from soundness_fuzz import known_proofs, verify_in_process  # noqa: E402

FILES = {"embedded": ROOT / "data" / "embedded" / "theorems.jsonl",
         "minif2f": ROOT / "data" / "benchmarks" / "minif2f.jsonl"}


def decide(name: str, show_refuted: bool) -> None:
    rows = [json.loads(line) for line in FILES[name].read_text().splitlines() if line.strip()]
    status: Counter[str] = Counter()
    why: Counter[str] = Counter()
    times = []
    for row in rows:
        t0 = time.perf_counter()
        r = _screen(row["formal_statement"], ScreenConfig())
        times.append(time.perf_counter() - t0)
        status[r.status] += 1
        if r.status == "unknown":
            why[r.how.split(":")[0] if r.how.startswith("outside") else r.how[:40]] += 1
        if r.refuted and show_refuted:
            print(f"  refuted {row['id']}: {r.counterexample} ({r.how})")
    n = len(rows)
    print(f"{name}: {n} statements: refuted {status['refuted']}, not refutable {status['not_refutable']}, "
          f"unknown {status['unknown']}; per statement mean {1000 * statistics.mean(times):.1f} ms, "
          f"median {1000 * statistics.median(times):.1f} ms, max {1000 * max(times):.0f} ms")
    for reason, count in why.most_common(8):
        print(f"    {count:4d} {reason}")


def cost(limit: int) -> None:
    proofs = known_proofs(ROOT)[:limit]
    header = json.loads(FILES["embedded"].read_text().splitlines()[0])["header"]
    kernel, first, again = [], [], []
    for _, statement, tactics in proofs:
        t0 = time.perf_counter()
        verdict = verify_in_process(Theorem("t", header, statement), tactics, timeout=30, screen=False)
        kernel.append(time.perf_counter() - t0)
        assert verdict.ok, statement
        t0 = time.perf_counter()
        _screen(statement, ScreenConfig())
        first.append(time.perf_counter() - t0)
        screen(statement)                   # fill the memo
        t0 = time.perf_counter()
        screen(statement)
        again.append(time.perf_counter() - t0)
    k, f, a = (sum(x) / len(x) for x in (kernel, first, again))
    print(f"cost on {len(proofs)} shipped proofs: kernel verification {1000 * k:.1f} ms/proof (in process); "
          f"screen first time {1000 * f:.1f} ms ({100 * f / k:.0f}% of the kernel's), "
          f"memoized {1000 * a:.3f} ms ({100 * a / k:.2f}%)")


def campaign_cost(limit: int) -> None:
    """Best-first search with the scripted generator over the embedded server pool (a campaign's
    path), twice over the same theorems (a second round), once with the screen and once with it
    stubbed out: the wall time inside `env.verify` each way, and the CPU the screen itself spent
    (it runs beside the backend's check, so most of it does not add to the wall time)."""
    import asyncio

    import lean_env.verify as verify_module
    from lean_env.benchmarks import load_benchmark
    from lean_env.factory import make_env
    from lean_env.screen.refute import ScreenResult
    from policy.scripted import ScriptedGenerator
    from search.batcher import GenerationBatcher
    from search.best_first import SearchConfig, search

    theorems = load_benchmark("embedded", "valid")[:limit]
    real = verify_module.screen_statement

    def run(screen_fn) -> dict:
        spent = {"screen": 0.0, "verify": 0.0, "calls": 0, "proved": 0}

        def timed_screen(statement: str):
            t0 = time.perf_counter()
            try:
                return screen_fn(statement)
            finally:
                spent["screen"] += time.perf_counter() - t0

        async def go() -> None:
            env = make_env("embedded", workers=2)
            real_verify = env.verify

            async def timed_verify(theorem, tactics):
                t0 = time.perf_counter()
                try:
                    return await real_verify(theorem, tactics)
                finally:
                    spent["verify"] += time.perf_counter() - t0
                    spent["calls"] += 1

            env.verify = timed_verify
            batcher = GenerationBatcher(ScriptedGenerator())
            try:
                for _round in range(2):
                    for t in theorems:
                        rec, _ = await search(t, env, batcher.propose, SearchConfig(max_expansions=8))
                        spent["proved"] += rec.proved
            finally:
                await batcher.close()
                await env.close()

        verify_module.screen_statement = timed_screen
        try:
            asyncio.run(go())
        finally:
            verify_module.screen_statement = real
        return spent

    _screen_cached.cache_clear()             # nothing screened before this run counts
    on = run(real)
    off = run(lambda statement: ScreenResult("unknown", how="stubbed"))
    print(f"campaign-like run ({len(theorems)} embedded valid theorems x 2 rounds, scripted generator, server pool, "
          f"{on['proved']} proofs, {on['calls']} verifications): verification {on['verify']:.2f} s with the screen, "
          f"{off['verify']:.2f} s without ({100 * (on['verify'] - off['verify']) / off['verify']:+.1f}%); the screen's "
          f"own time {on['screen']:.3f} s ({100 * on['screen'] / off['verify']:.1f}% of verification, run beside it)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--benchmarks", nargs="+", choices=sorted(FILES), default=sorted(FILES))
    ap.add_argument("--proofs", type=int, default=300, help="shipped proofs timed for the cost comparison")
    ap.add_argument("--show-refuted", action="store_true")
    ap.add_argument("--campaign", type=int, default=40, help="theorems in the campaign-like cost run (0: skip)")
    args = ap.parse_args()
    for name in args.benchmarks:
        decide(name, args.show_refuted)
    if args.proofs > 0:
        cost(args.proofs)
    if args.campaign > 0:
        campaign_cost(args.campaign)
    return 0


if __name__ == "__main__":
    sys.exit(main())
