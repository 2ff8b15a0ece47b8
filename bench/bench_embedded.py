"""Embedded server benchmark over the raw REPL protocol (no pool, no asyncio).

    python bench/bench_embedded.py [--theorems 40]

Spawns `python -m lean_env.embedded`, starts benchmark theorems with `sorry`, then reports the
median round-trip of a cheap tactic (`skip`) and the median/p95 of closing arithmetic tactics
(successful or not: a failing closer costs as much as a succeeding one in a search).
Targets: cheap median < 5 ms, closers p95 < 50 ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lean_env.benchmarks import load_benchmark  # noqa: E402

CLOSERS = ["omega", "linarith", "nlinarith", "norm_num", "ring", "simp", "decide"]


class RawRepl:
    """The server as a child process, one blank-line-terminated JSON object each way."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "lean_env.embedded"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def send(self, request: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n\n")
        self.proc.stdin.flush()
        lines: list[str] = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("embedded server exited")
            if line.strip():
                lines.append(line)
            elif lines:
                return json.loads("".join(lines))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--theorems", type=int, default=40)
    args = ap.parse_args()
    repl = RawRepl()
    try:
        header = load_benchmark("embedded", "test")[0].header
        env = repl.send({"cmd": header})["env"]
        states = []
        for thm in load_benchmark("embedded", "test")[: args.theorems]:
            r = repl.send({"cmd": thm.statement + " sorry", "env": env})
            if r.get("sorries"):
                states.append(r["sorries"][0]["proofState"])
        cheap: list[float] = []
        for _ in range(5):
            for ps in states:
                t0 = time.perf_counter()
                repl.send({"tactic": "skip", "proofState": ps})
                cheap.append(time.perf_counter() - t0)
        closing: list[float] = []
        for ps in states:
            for tac in CLOSERS:
                t0 = time.perf_counter()
                repl.send({"tactic": tac, "proofState": ps})
                closing.append(time.perf_counter() - t0)
        print(f"theorems started: {len(states)}")
        print(f"cheap tactic (skip) round-trip: median {statistics.median(cheap) * 1e3:.2f} ms over {len(cheap)}")
        print(f"closing tactics ({', '.join(CLOSERS)}): median {statistics.median(closing) * 1e3:.2f} ms, "
              f"p95 {percentile(closing, 0.95) * 1e3:.2f} ms, max {max(closing) * 1e3:.1f} ms over {len(closing)}")
    finally:
        repl.close()


if __name__ == "__main__":
    main()
