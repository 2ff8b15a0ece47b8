"""The soundness fuzzer, run for minutes: random statements and tactic scripts through whole-proof
verification of the embedded kernel, every accepted statement held to the independent oracle.

    python bench/fuzz_soundness.py --minutes 5 [--seed 0] [--scripts 3] [--server] [--out holes.jsonl]

Prints how many statements and scripts were tried, how many proofs were accepted (true /
undecided by the oracle), and every accepted false statement with its reproduction; exits 1 when
there is one that `tests/test_fuzz_soundness.py` does not already list as a known hole.
`--server` sends every proof through the real path (`make_env("embedded")`: a pool over the
`python -m lean_env.embedded` process) instead of an in-process session: slower, same verdicts.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from soundness_fuzz import HEADER, Outcome, RandomDraw, check_case, gen_script, gen_statement  # noqa: E402
from soundness_oracle import Statement, decide  # noqa: E402
from test_fuzz_soundness import known_hole  # noqa: E402

from lean_env.factory import make_env  # noqa: E402
from lean_env.types import Theorem  # noqa: E402


def check_via_server(env, s: Statement, tactics: list[str]) -> Outcome:
    theorem = Theorem(name=s.name, header=HEADER, statement=s.text())
    verdict = asyncio.get_event_loop().run_until_complete(env.verify(theorem, tactics))
    if not verdict.ok:
        kind = "timeout" if any("timed out" in r for r in verdict.reasons) else "rejected"
        return Outcome(kind, theorem.statement, tactics, verdict=verdict)
    decision = decide(s)
    kind = {True: "accepted-true", None: "accepted-undecided", False: "HOLE"}[decision.truth]
    return Outcome(kind, theorem.statement, tactics, decision, verdict)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scripts", type=int, default=3, help="tactic scripts tried per statement")
    ap.add_argument("--server", action="store_true", help="verify through the embedded server pool")
    ap.add_argument("--out", type=Path, default=None, help="write the holes found as JSON Lines")
    args = ap.parse_args()
    if args.minutes <= 0 or args.scripts < 1:
        ap.error("--minutes must be > 0 and --scripts >= 1")

    rng = random.Random(args.seed)
    env = make_env("embedded", workers=1, verify_timeout=10) if args.server else None
    if env is not None:
        asyncio.set_event_loop(asyncio.new_event_loop())
    tally: Counter[str] = Counter()
    statements, holes = 0, []
    deadline = time.monotonic() + 60 * args.minutes
    try:
        while time.monotonic() < deadline:
            d = RandomDraw(rng)
            s = gen_statement(d)
            statements += 1
            for _ in range(args.scripts):
                tactics = gen_script(d, s)
                out = check_via_server(env, s, tactics) if env else check_case(s, tactics)
                tally[out.kind] += 1
                if out.kind == "HOLE":
                    holes.append((known_hole(s), out))
    finally:
        if env is not None:
            asyncio.get_event_loop().run_until_complete(env.close())

    scripts = sum(tally.values())
    print(f"fuzzed for {args.minutes:g} min (seed {args.seed}, {'server' if env else 'in-process'}): "
          f"{statements} statements, {scripts} scripts")
    for kind in ("rejected", "accepted-true", "accepted-undecided", "timeout", "HOLE"):
        print(f"  {kind:20s} {tally[kind]}")
    new = [o for known, o in holes if known is None]
    by_known = Counter(known for known, _ in holes if known)
    for name, count in by_known.items():
        print(f"  known hole {name!r}: {count} accepted false statements")
    for o in new[:20]:
        print("NEW HOLE:\n" + o.reproduction())
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            for known, o in holes:
                f.write(json.dumps({"known": known, "statement": o.statement, "tactics": o.tactics,
                                    "counterexample": o.decision.counterexample}, ensure_ascii=False) + "\n")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
