"""The soundness fuzzer, run for minutes: statements and tactic scripts through whole-proof
verification of the embedded kernel; the refutation screen (`lean_env.screen`, an independent
elaborator and model finder) is the arbiter of every accepted statement.

    python bench/fuzz_soundness.py --minutes 5 [--seed 0] [--mode all] [--coverage cov.json]
                                   [--out holes.jsonl] [--server]

Modes (`all` cycles through them): `classic` (the constructor-built statements of the first
fuzzer, with the old typed oracle as a second opinion), `human` (Lean as people and provers
write it: untyped binders, ascriptions on composite terms, mixed carriers, `.trans`/`calc`,
casts around truncating operations, facts moved between types, `have` chains) and `perturb`
(every shipped known proof against its statement with one binder type, numeral, ascription or
relation changed, and the proof itself mutated a little). A HOLE is a proof the kernel accepted of a statement the screen refutes.
Prints the tally per mode and family, every distinct hole with a reproduction (its script
minimised), and with `--coverage` the branch coverage of `lean_env/embedded/` per module.
Exits 1 when it finds a hole that `tests/test_fuzz_soundness.py` does not already list.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MODES = ("classic", "human", "perturb")


def check_via_server(env, statement: str, tactics: list[str]):
    from lean_env.types import Theorem
    from soundness_fuzz import HEADER, Outcome

    verdict = asyncio.get_event_loop().run_until_complete(env.verify(Theorem("fz", HEADER, statement), tactics))
    if verdict.incident:
        return Outcome("HOLE", statement, tactics, verdict=verdict,
                       counterexample=verdict.incident.split("counterexample: ", 1)[-1])
    return Outcome("accepted" if verdict.ok else "rejected", statement, tactics, verdict=verdict)


def minimise(statement: str, tactics: list[str], check) -> list[str]:
    """Drop tactics (and `have` steps) while the case stays a hole."""
    best = list(tactics)
    changed = True
    while changed and len(best) > 1:
        changed = False
        for i in range(len(best)):
            trial = best[:i] + best[i + 1:]
            if trial and check(statement, trial).kind == "HOLE":
                best, changed = trial, True
                break
    return best


def shape(statement: str) -> str:
    """A hole's class for de-duplication: the statement with numerals and names blurred."""
    return re.sub(r"\d+", "N", statement.split(" : ", 1)[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode", choices=MODES + ("all",), default="all")
    ap.add_argument("--scripts", type=int, default=3, help="tactic scripts tried per classic statement")
    ap.add_argument("--server", action="store_true", help="verify through the embedded server pool")
    ap.add_argument("--out", type=Path, default=None, help="write the holes found as JSON Lines")
    ap.add_argument("--coverage", type=Path, default=None,
                    help="measure branch coverage of lean_env/embedded/ and write coverage.py's JSON report here")
    args = ap.parse_args()
    if args.minutes <= 0 or args.scripts < 1:
        ap.error("--minutes must be > 0 and --scripts >= 1")

    cov = None
    if args.coverage:   # started before the kernel is imported, so its module-level code counts too
        import coverage

        cov = coverage.Coverage(branch=True, source=[str(ROOT / "lean_env" / "embedded")], data_file=None)
        cov.start()
    from lean_env.factory import make_env
    from soundness_fuzz import (
        RandomDraw, check_case, check_text, gen_human, gen_script, gen_statement, known_proofs, mutate_script,
        perturb,
    )
    from test_fuzz_soundness import known_hole_text

    env = make_env("embedded", workers=1, verify_timeout=10) if args.server else None
    if env is not None:
        asyncio.set_event_loop(asyncio.new_event_loop())
    check = (lambda s, t: check_via_server(env, s, t)) if env else check_text
    modes = MODES if args.mode == "all" else (args.mode,)
    proofs = known_proofs(ROOT) if "perturb" in modes else []
    rng = random.Random(args.seed)
    tally: Counter[tuple[str, str]] = Counter()
    families: Counter[tuple[str, str]] = Counter()
    statements = 0
    holes: dict[str, list] = defaultdict(list)
    deadline = time.monotonic() + 60 * args.minutes
    try:
        while time.monotonic() < deadline:
            mode = modes[statements % len(modes)]
            d = RandomDraw(random.Random(rng.getrandbits(64)))   # each case from its own seed
            if mode == "classic":
                s = gen_statement(d)
                family, statement = "classic", s.text()
                cases = [gen_script(d, s) for _ in range(args.scripts)]
                run = (lambda t, s=s: check_case(s, t)) if env is None else (lambda t, st=statement: check(st, t))
            elif mode == "human":
                family, statement, cases = gen_human(d)
                run = (lambda t, st=statement: check(st, t))
            else:
                pid, original, tactics = d.choice(proofs)     # the statement perturbed, the proof too at times
                statement = perturb(d, original) if d.integer(0, 3) else original
                family, cases = "perturb", [tactics, mutate_script(d, tactics)]
                run = (lambda t, st=statement: check(st, t))
            statements += 1
            for tactics in cases:
                out = run(tactics)
                tally[(mode, out.kind)] += 1
                families[(family, out.kind)] += 1
                if out.kind == "HOLE":
                    holes[shape(out.statement)].append((family, out))
    finally:
        if env is not None:
            asyncio.get_event_loop().run_until_complete(env.close())
        if cov is not None:
            cov.stop()

    scripts = sum(tally.values())
    print(f"fuzzed for {args.minutes:g} min (seed {args.seed}, modes {','.join(modes)}, "
          f"{'server' if env else 'in-process'}): {statements} statements, {scripts} scripts")
    kinds = ("rejected", "accepted-true", "accepted-undecided", "accepted-outside", "accepted", "timeout", "HOLE")
    for mode in modes:
        print(f"  {mode:8s} " + ", ".join(f"{k} {tally[(mode, k)]}" for k in kinds if tally[(mode, k)] or k == "HOLE"))
    for family in sorted({f for f, _ in families}):
        print(f"    {family:16s} " + ", ".join(f"{k} {families[(family, k)]}" for k in kinds if families[(family, k)]))
    total = sum(len(v) for v in holes.values())
    print(f"  HOLE {total} ({len(holes)} distinct shapes)")
    new = 0
    records = []
    for key, found in sorted(holes.items(), key=lambda kv: -len(kv[1])):
        family, first = found[0]
        tactics = minimise(first.statement, first.tactics, check)
        known = known_hole_text(first.statement, tactics)
        new += known is None
        print(f"{'known hole ' + repr(known) if known else 'NEW HOLE'} ({family}, {len(found)} found):")
        print("\n".join(["  " + first.statement] + ["    " + t.replace("\n", "\n    ") for t in tactics]))
        print(f"  -- counterexample: {first.counterexample}")
        records.append({"family": family, "count": len(found), "known": known, "statement": first.statement,
                        "tactics": tactics, "counterexample": first.counterexample})
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if cov is not None:
        cov.json_report(outfile=str(args.coverage))
        report = json.loads(args.coverage.read_text())
        print("branch coverage of lean_env/embedded/ (coverage.py, branch=True):")
        for path, info in sorted(report["files"].items()):
            summ = info["summary"]
            name = Path(path).resolve().relative_to(ROOT / "lean_env" / "embedded").as_posix()
            print(f"  {name:28s} branches {summ['covered_branches']:5d}/{summ['num_branches']:5d} "
                  f"({100 * summ['covered_branches'] / max(summ['num_branches'], 1):5.1f}%), "
                  f"lines+branches {summ['percent_covered']:5.1f}%")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
