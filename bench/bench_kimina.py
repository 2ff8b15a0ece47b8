"""Verification at scale through the real Kimina Lean Server (kimina-ast-server 2.1.3 from
scripts/setup_kimina.sh) serving the embedded REPL: every known proof of the embedded benchmark,
`--repeat` times, with `--repls` REPLs; proofs/s against the embedded REPL pool alone.

    python bench/bench_kimina.py --repls 2 --repeat 3
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from kimina_real import RealKiminaServer, kimina_unavailable  # noqa: E402
from lean_env.benchmarks import load_benchmark  # noqa: E402
from lean_env.factory import make_env  # noqa: E402
from lean_env.jsonl import read_jsonl  # noqa: E402


async def verify_all(env, jobs):
    try:
        return await asyncio.gather(*(env.verify(t, tactics) for t, tactics in jobs))
    finally:
        await env.close()


def timed(env, jobs) -> tuple[int, float]:
    t0 = time.perf_counter()
    verdicts = asyncio.run(verify_all(env, jobs))
    return sum(v.ok for v in verdicts), time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repls", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    reason = kimina_unavailable()
    if reason:
        print(f"skipped: {reason}")
        return 0
    theorems = {t.id: t for t in load_benchmark("embedded")}
    rows = list(read_jsonl(ROOT / "data" / "embedded" / "known_proofs.jsonl"))
    jobs = [(theorems[r["id"]], r["tactics"]) for r in rows] * args.repeat
    with tempfile.TemporaryDirectory() as tmp, RealKiminaServer(Path(tmp), max_repls=args.repls) as url:
        ok, seconds = timed(make_env("kimina", kimina_url=url, verify_timeout=60), jobs)
    print(f"kimina-ast-server 2.1.3, {args.repls} REPLs: {ok}/{len(jobs)} verified in {seconds:.1f}s "
          f"({len(jobs) / seconds:.0f} proofs/s)")
    ok2, seconds2 = timed(make_env("embedded", workers=args.repls, verify_timeout=60), jobs)
    print(f"embedded REPL pool, {args.repls} workers: {ok2}/{len(jobs)} verified in {seconds2:.1f}s "
          f"({len(jobs) / seconds2:.0f} proofs/s)")
    return 0 if ok == ok2 == len(jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
