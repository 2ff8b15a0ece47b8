"""The search loop's own cost: microseconds per expansion and peak memory of one best-first search
on a synthetic problem where the generator and the environment cost nothing.

    python bench/bench_search.py [--expansions 2000 20000] [--alpha 0 2] [--repeats 3]

Every expansion proposes the same 8 tactics (mean log-probs -0.025 ... -0.2). Tactics 0-2 fail with a fresh
Lean error message, 3-6 give fresh goal states, 7 gives a goal seen five states earlier (a merge,
sometimes into an ancestor: a cycle the search must refuse). Nothing is ever proved, so the search
runs its whole expansion budget. Time is measured without tracemalloc; peak memory (tracemalloc:
every Python allocation the search and the returned states make) in a separate run.

Two environments: `batched` answers all of an expansion's tactics in one `run_tactics` call,
`per-tactic` has only `run_tactic`, so the search runs the tactics concurrently itself (eight
asyncio tasks per expansion). `--alpha 0` ranks nodes by cumulative log-prob alone, the order
ReProver's `BestFirstSearchProver` uses, so that is the setting to compare with it; 2 is the
default of `SearchConfig`. Target (issue 9): at most half of ReProver's time per expansion on the
same problem and no more peak memory.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import tracemalloc

from lean_env.types import LeanError, TacticState, Theorem, Verdict
from search.best_first import SearchConfig, search
from policy.base import TacticCandidate

N_TACTICS = 8
CANDIDATES = [TacticCandidate(f"tactic_{j}", -0.1 * (j + 1), 4) for j in range(N_TACTICS)]
THEOREM = Theorem("synthetic", "", "theorem synthetic : True := by", id="synthetic")


class PerTacticEnv:
    """State i has the goal `⊢ g{i}`; its handle id is i. Holds no memory of its own."""

    def __init__(self) -> None:
        self.next_state = 1
        self.next_error = 0

    async def start(self, theorem: Theorem) -> TacticState:
        return TacticState(("⊢ g0",), 0)

    def _step(self, state: TacticState, tactic: str):
        j = int(tactic[-1])
        if j < 3:
            self.next_error += 1
            return LeanError(f"unsolved goals (error {self.next_error})")
        if j == 7:
            i = max(state.id - 5, 0)
            return TacticState((f"⊢ g{i}",), i)
        i = self.next_state
        self.next_state += 1
        return TacticState((f"⊢ g{i}",), i)

    async def run_tactic(self, state: TacticState, tactic: str):
        return self._step(state, tactic)

    async def verify(self, theorem: Theorem, tactics) -> Verdict:
        return Verdict(False, ("synthetic",))

    async def close(self) -> None:
        pass


class BatchedEnv(PerTacticEnv):
    async def run_tactics(self, state: TacticState, tactics):
        return [self._step(state, t) for t in tactics]


async def propose(state: str, n: int) -> list[TacticCandidate]:
    return CANDIDATES[:n]


def one_search(env_cls, expansions: int, alpha: float):
    cfg = SearchConfig(tactics_per_expansion=N_TACTICS, max_expansions=expansions, alpha=alpha, wall_seconds=1e6)
    rec, tree = asyncio.run(search(THEOREM, env_cls(), propose, cfg))
    assert rec.expansions == expansions and rec.failure == "budget: expansions", rec.failure
    return rec, tree


def per_expansion(env_cls, expansions: int, alpha: float) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per expansion; CPU time is steadier on a shared machine."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    one_search(env_cls, expansions, alpha)
    return (time.perf_counter() - t0) / expansions, (time.process_time() - c0) / expansions


def peak_mib(env_cls, expansions: int, alpha: float) -> float:
    gc.collect()
    tracemalloc.start()
    result = one_search(env_cls, expansions, alpha)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expansions", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--alpha", type=float, nargs="+", default=[0.0, 2.0],
                    help="depth normalisation; 0 ranks like ReProver (cumulative log-prob), 2 is the default")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    for alpha in args.alpha:
        for env_cls, label in ((BatchedEnv, "batched"), (PerTacticEnv, "per-tactic")):
            for n in args.expansions:
                wall, cpu = zip(*(per_expansion(env_cls, n, alpha) for _ in range(args.repeats)))
                print(f"alpha {alpha:g} {label:10s} {n:6d} expansions x {N_TACTICS}: "
                      f"wall {statistics.median(wall) * 1e6:6.1f} us/expansion (min {min(wall) * 1e6:.1f}), "
                      f"cpu {statistics.median(cpu) * 1e6:6.1f} (min {min(cpu) * 1e6:.1f}), "
                      f"peak {peak_mib(env_cls, n, alpha):6.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
