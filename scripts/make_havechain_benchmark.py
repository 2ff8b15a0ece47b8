"""Generate the embedded have-chain benchmark: theorems whose natural proof is a chain of `have`
steps (solve a small linear system variable by variable, then evaluate a nonlinear goal), for
the planner's evaluation. A NEW file with its own splits; the main benchmark is untouched.

    python scripts/make_havechain_benchmark.py --seed 0 --out data/embedded

writes `havechain.jsonl` (benchmark `embedded-havechain`, splits valid / test) and
`havechain_known_proofs.jsonl` (one checked proof each, for tests only). Each step of the known
proof is one closer (`linarith`, `omega`); the goal is nonlinear in the variables, so no
one-tactic closer proves the theorem and a search without the values must invent them.
Every known proof is checked by the embedded kernel before it is written, and a theorem that a
single closer proves outright is dropped (the table printed at the end re-measures that).
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_embedded_benchmark import CLOSERS, HEADER, VARS, Item, check_proof, h, normalise, write_jsonl  # noqa: E402


def _signed(term: str, c: int) -> str:
    """`term + c` / `term - |c|` (and just `term` for 0)."""
    return term if c == 0 else f"{term} + {c}" if c > 0 else f"{term} - {-c}"


def _values(rng: random.Random, k: int, lo: int, hi: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(k)]


def _steps(names: list[str], vals: list[int], closer: str, order: list[int]) -> list[str]:
    return [f"have e{i} : {names[i]} = {vals[i]} := by {closer}" for i in order]


def cyclic_product(rng: random.Random) -> Item:
    """x+y, y+z, z+x given; the product asked: each value by linarith, then evaluate."""
    names = rng.sample(VARS, 3)
    vals = _values(rng, 3, 1, 7)
    x, y, z = names
    hyps = [f"({h(0)} : {x} + {y} = {vals[0] + vals[1]})", f"({h(1)} : {y} + {z} = {vals[1] + vals[2]})",
            f"({h(2)} : {z} + {x} = {vals[2] + vals[0]})"]
    goal = f"{x} * {y} * {z} = {vals[0] * vals[1] * vals[2]}"
    proof = _steps(names, vals, "linarith", [0, 1, 2]) + ["rw [e0, e1, e2]", "norm_num"]
    return Item("havechain_cyclic_product", 4, f"({x} {y} {z} : ℤ) " + " ".join(hyps), goal, proof,
                "Solve the pairwise sums, then multiply.")


def nat_divisible(rng: random.Random) -> Item:
    """ℕ: a sum and a difference given; a divisibility of the product asked (omega cannot multiply)."""
    x, y = rng.sample(VARS, 2)
    while True:   # a proper divisor, so that the rewritten goal is not closed by `rw`'s `rfl`
        vy = rng.randint(1, 8)
        vx = vy + rng.randint(1, 6)
        p = vx * vy
        divisors = [d for d in range(2, p) if p % d == 0]
        if divisors:
            break
    k = rng.choice(divisors)
    hyps = [f"({h(0)} : {x} + {y} = {vx + vy})", f"({h(1)} : {x} = {y} + {vx - vy})"]
    goal = f"{k} ∣ {x} * {y}"
    proof = _steps([x, y], [vx, vy], "omega", [0, 1]) + ["rw [e0, e1]", "norm_num"]
    return Item("havechain_nat_divisible", 3, f"({x} {y} : ℕ) " + " ".join(hyps), goal, proof,
                "Solve for the two numbers, then check a divisibility of their product.")


def four_product(rng: random.Random) -> Item:
    """Four unknowns, each equation links two of them; a product of all four asked."""
    names = rng.sample(VARS, 4)
    vals = _values(rng, 4, 1, 4)
    a, b, c, d = names
    hyps = [f"({h(0)} : {a} + {b} + {c} + {d} = {sum(vals)})", f"({h(1)} : {a} = {_signed(b, vals[0] - vals[1])})",
            f"({h(2)} : {b} = {_signed(c, vals[1] - vals[2])})", f"({h(3)} : {c} = {_signed(d, vals[2] - vals[3])})"]
    prod = 1
    for v in vals:
        prod *= v
    goal = f"{a} * {b} * {c} * {d} = {prod}"
    proof = _steps(names, vals, "linarith", [3, 2, 1, 0]) + ["rw [e0, e1, e2, e3]", "norm_num"]
    return Item("havechain_four_product", 5, f"({a} {b} {c} {d} : ℤ) " + " ".join(hyps), goal, proof,
                "Solve four linked unknowns, then multiply.")


# Quadratic goals over two or three unknowns were tried too: nlinarith proves them outright, so
# they are no test of planning.
FAMILIES = [cyclic_product, nat_divisible, four_product]


def generate(seed: int, per_family: int) -> tuple[list[dict], list[dict], int]:
    from lean_env.embedded.session import Session

    rng = random.Random(seed)
    session = Session()
    session.handle({"cmd": HEADER})
    rows, known, seen, dropped = [], [], set(), 0
    for fam in FAMILIES:
        made, tries = 0, 0
        while made < per_family and tries < per_family * 50:
            tries += 1
            it = fam(rng)
            key = normalise(f"{it.binders} : {it.goal}")
            if key in seen:
                continue
            seen.add(key)
            name = f"hc_{it.family.removeprefix('havechain_')}_{len(rows):04d}"
            statement = f"theorem {name} {it.binders} : {it.goal} := by"
            if not check_proof(session, statement, name, it.proof):
                raise RuntimeError(f"generated proof rejected by the kernel (a bug here): {statement} {it.proof}")
            if any(check_proof(session, statement, name, [c]) for c in CLOSERS):
                dropped += 1
                continue
            split = "valid" if made % 3 == 2 else "test"
            rows.append({"name": name, "id": name, "split": split, "header": HEADER, "formal_statement": statement,
                         "informal_statement": it.informal,
                         "source": f"generated by scripts/make_havechain_benchmark.py seed={seed}",
                         "family": it.family, "difficulty": it.difficulty, "proof_steps": len(it.proof)})
            known.append({"id": name, "tactics": it.proof})
            made += 1
    return rows, known, dropped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("data/embedded"))
    ap.add_argument("--per-family", type=int, default=24)
    args = ap.parse_args()
    rows, known, dropped = generate(args.seed, args.per_family)
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / "havechain.jsonl", rows)
    write_jsonl(args.out / "havechain_known_proofs.jsonl", known)
    splits = {s: sum(r["split"] == s for r in rows) for s in ("valid", "test")}
    print(f"{len(rows)} theorems {splits}; {dropped} dropped because one closer proves them")


if __name__ == "__main__":
    main()
