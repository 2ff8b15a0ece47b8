"""Generate the embedded benchmark: graded theorems in the embedded Lean fragment, with a known
proof for each and human-style seed proofs for the first fine-tuning round.

    python scripts/make_embedded_benchmark.py --seed 0 --out data/embedded

Every statement is true under Lean's semantics and every known proof is checked by the embedded
kernel before it is written; a family that produces a proof the kernel rejects is a bug here.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
VARS = ["x", "y", "z", "a", "b", "c", "m", "n", "t", "u", "v", "w"]
PROPS = ["p", "q", "r", "s", "t", "u", "v", "w", "P", "Q", "R", "S"]
SUB = "₀₁₂₃₄₅₆₇₈₉"


@dataclass
class Item:
    family: str
    difficulty: int
    binders: str                 # "(x : ℤ) (h₀ : ...)"
    goal: str
    proof: list[str]
    informal: str


def h(i: int) -> str:
    return "h" + SUB[i] if i < 10 else f"h{i}"


def _vars(rng: random.Random, k: int) -> list[str]:
    return rng.sample(VARS, k)


# ---------------------------------------------------------------- families

def lin_eq(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    a, v, b = rng.randint(2, 9), rng.randint(-9, 12), rng.randint(-20, 20)
    c = a * v + b
    ty = "ℤ"
    lhs = f"{a} * {x} + {b}" if b >= 0 else f"{a} * {x} - {-b}"
    return Item("linear_equation", 1, f"({x} : {ty}) ({h(0)} : {lhs} = {c})", f"{x} = {v}",
                [f"linarith"], f"Solve {lhs} = {c} for {x}.")


def lin_eq_steps(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    a, v, b = rng.randint(2, 9), rng.randint(1, 12), rng.randint(1, 20)
    c = a * v + b
    return Item("linear_equation_steps", 2, f"({x} : ℕ) ({h(0)} : {a} * {x} + {b} = {c})", f"{x} = {v}",
                [f"have {h(1)} : {a} * {x} = {a * v} := by omega", "omega"],
                f"Natural {x} with {a}{x}+{b}={c}: show {x}={v}.")


def lin_system(rng: random.Random) -> Item:
    x, y = _vars(rng, 2)
    vx, vy = rng.randint(-6, 9), rng.randint(-6, 9)
    a, b = rng.randint(1, 4), rng.randint(1, 4)
    s1, s2 = vx + vy, a * vx - b * vy
    return Item("linear_system", 2, f"({x} {y} : ℤ) ({h(0)} : {x} + {y} = {s1}) ({h(1)} : {a} * {x} - {b} * {y} = {s2})",
                f"{x} = {vx} ∧ {y} = {vy}",
                ["constructor", "· linarith", "· linarith"],
                f"Solve the system {x}+{y}={s1}, {a}{x}-{b}{y}={s2}.")


def solve_then_product(rng: random.Random) -> Item:
    k = rng.choice([2, 3, 3, 4])
    names = _vars(rng, k)
    vals = [rng.randint(1, 5) for _ in names]
    total = sum(vals)
    hyps = [f"({h(0)} : {' + '.join(names)} = {total})"]
    proof = []
    for i in range(k - 1):
        d = vals[i] - vals[i + 1]
        rhs = f"{names[i + 1]} + {d}" if d >= 0 else f"{names[i + 1]} - {-d}"
        hyps.append(f"({h(i + 1)} : {names[i]} = {rhs})")
    for i in reversed(range(k)):
        proof.append(f"have e{i} : {names[i]} = {vals[i]} := by linarith")
    proof.append("rw [" + ", ".join(f"e{i}" for i in range(k)) + "]")
    proof.append("norm_num")
    product = " * ".join(names)
    value = 1
    for v in vals:
        value *= v
    return Item("solve_then_product", 3 + k // 2, f"({' '.join(names)} : ℤ) " + " ".join(hyps), f"{product} = {value}",
                proof,
                f"Find the product {product} given linear relations.")


def prop_comm(rng: random.Random) -> Item:
    p, q, r = rng.sample(PROPS, 3)
    kind = rng.randint(0, 3)
    if kind == 0:
        return Item("prop_and_comm", 1, f"({p} {q} : Prop)", f"{p} ∧ {q} → {q} ∧ {p}",
                    ["intro h", "obtain ⟨hp, hq⟩ := h", "exact ⟨hq, hp⟩"], "Conjunction is commutative.")
    if kind == 1:
        return Item("prop_or_comm", 2, f"({p} {q} : Prop)", f"{p} ∨ {q} → {q} ∨ {p}",
                    ["intro h", "rcases h with hp | hq", "· right; exact hp", "· left; exact hq"], "Disjunction is commutative.")
    if kind == 2:
        return Item("prop_and_assoc", 2, f"({p} {q} {r} : Prop)", f"{p} ∧ {q} ∧ {r} → {r} ∧ {q} ∧ {p}",
                    ["intro h", "obtain ⟨hp, hq, hr⟩ := h", "exact ⟨hr, hq, hp⟩"], "Reverse a triple conjunction.")
    return Item("prop_or_elim", 2, f"({p} {q} {r} : Prop) ({h(0)} : {p} ∨ {q}) ({h(1)} : {p} → {r}) ({h(2)} : {q} → {r})", r,
                [f"rcases {h(0)} with hp | hq", f"· exact {h(1)} hp", f"· exact {h(2)} hq"], "Or-elimination.")


def prop_chain(rng: random.Random) -> Item:
    n = rng.randint(3, 10)
    ps = [f"{rng.choice(['p', 'q', 'r', 'P', 'Q'])}{SUB[i]}" for i in range(n)]
    ps = list(dict.fromkeys(ps))
    while len(ps) < n:
        ps.append(f"s{SUB[len(ps)]}")
    order = list(range(n - 1))
    rng.shuffle(order)
    hyps = " ".join(f"(h{SUB[i]} : {ps[i]} → {ps[i + 1]})" for i in order)
    proof = ["intro hp"] + [f"apply h{SUB[i]}" for i in reversed(range(1, n - 1))] + [f"exact h{SUB[0]} hp"]
    return Item("implication_chain", min(5, 1 + n // 2), f"({' '.join(ps)} : Prop) {hyps}", f"{ps[0]} → {ps[-1]}",
                proof, f"Chain {n - 1} implications.")


def contrapositive(rng: random.Random) -> Item:
    p, q = rng.sample(PROPS, 2)
    return Item("contrapositive", 2, f"({p} {q} : Prop) ({h(0)} : {p} → {q})", f"¬{q} → ¬{p}",
                ["intro hnq", "intro hp", f"exact hnq ({h(0)} hp)"], "Contrapositive.")


def exists_witness(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    a, v, b = rng.randint(2, 9), rng.randint(0, 12), rng.randint(0, 30)
    c = a * v + b
    return Item("exists_witness", 1, "", f"∃ {x} : ℕ, {a} * {x} + {b} = {c}", [f"use {v}"],
                f"Find a natural {x} with {a}{x}+{b}={c}.")


def exists_pair(rng: random.Random) -> Item:
    x, y = _vars(rng, 2)
    vx, vy = rng.randint(0, 15), rng.randint(0, 15)
    if vx < vy:
        vx, vy = vy, vx
    return Item("exists_pair", 2, "", f"∃ {x} {y} : ℕ, {x} + {y} = {vx + vy} ∧ {x} - {y} = {vx - vy}",
                [f"use {vx}, {vy}"], "Find two naturals with given sum and difference.")


def exists_from_hyp(rng: random.Random) -> Item:
    n, k = rng.choice(["n", "m", "a", "x"]), rng.choice(["k", "j", "i"])
    m = rng.choice([2, 3, 4, 5])
    r = rng.randint(0, m - 1)
    off = f" + {r}" if r else ""
    return Item("exists_hypothesis", 3, f"({n} : ℕ) ({h(0)} : ∃ {k} : ℕ, {n} = {m} * {k}{off})", f"{n} % {m} = {r}",
                [f"obtain ⟨{k}, h{k}⟩ := {h(0)}", "omega"], f"If {n} = {m}k+{r} then {n} mod {m} is {r}.")


def exists_transfer(rng: random.Random) -> Item:
    x, k = rng.choice(["x", "a", "n"]), "k"
    m = rng.choice([2, 3, 4])
    c = rng.randint(1, 9)
    return Item("exists_transfer", 4, f"({x} : ℕ) ({h(0)} : ∃ {k} : ℕ, {x} = {m} * {k})",
                f"∃ j : ℕ, {x} + {m * c} = {m} * j",
                [f"obtain ⟨{k}, hk⟩ := {h(0)}", f"use {k} + {c}", "rw [hk]", "ring"],
                f"Multiples of {m} stay multiples after adding {m * c}.")


def case_split(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    a, b = rng.sample(range(-5, 8), 2)
    s, p = a + b, a * b
    mid = f"{s} * {x}" if s >= 0 else f"({s}) * {x}"
    goal = f"{x} ^ 2 - {mid} + {p} = 0" if p >= 0 else f"{x} ^ 2 - {mid} - {-p} = 0"
    return Item("case_split_roots", 3, f"({x} : ℤ) ({h(0)} : {x} = {a} ∨ {x} = {b})", goal,
                [f"rcases {h(0)} with h | h", "· rw [h]; norm_num", "· rw [h]; norm_num"],
                f"Both {a} and {b} are roots.")


def bounded_cases(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    hi = rng.randint(3, 6)
    bad = rng.randrange(0, hi)
    allowed = [v for v in range(hi) if v != bad]
    goal = " ∨ ".join(f"{x} = {v}" for v in allowed)
    return Item("bounded_cases", 3, f"({x} : ℕ) ({h(0)} : {x} < {hi}) ({h(1)} : {x} ≠ {bad})", goal,
                ["omega"], f"Enumerate the naturals below {hi} other than {bad}.")


def square_cases(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    hi = rng.randint(3, 5)
    k = rng.randint(2, 4)
    vals = sorted({(v * v) % k for v in range(hi)})
    goal = " ∨ ".join(f"{x} ^ 2 % {k} = {v}" for v in vals)
    proof = [f"interval_cases {x}", "all_goals norm_num"]
    return Item("square_cases", 3, f"({x} : ℕ) ({h(0)} : {x} < {hi})", goal, proof,
                f"Squares mod {k} of naturals below {hi}.")


def ineq_chain(rng: random.Random) -> Item:
    names = _vars(rng, 4)
    rels = [rng.choice(["<", "≤"]) for _ in range(3)]
    hyps = " ".join(f"({h(i)} : {names[i]} {rels[i]} {names[i + 1]})" for i in range(3))
    final = "<" if "<" in rels else "≤"
    return Item("inequality_chain", 1, f"({' '.join(names)} : ℤ) {hyps}", f"{names[0]} {final} {names[3]}",
                ["linarith"], "Chain three inequalities.")


def amgm(rng: random.Random) -> Item:
    a, b = _vars(rng, 2)
    k = rng.randint(1, 6)
    kind = rng.randint(0, 2)
    if kind == 0:
        return Item("square_inequality", 3, f"({a} {b} : ℤ)", f"{a} ^ 2 + {b} ^ 2 ≥ 2 * {a} * {b}",
                    [f"nlinarith [sq_nonneg ({a} - {b})]"], "AM-GM for two squares.")
    if kind == 1:
        return Item("square_inequality", 3, f"({a} : ℤ)", f"{a} ^ 2 + {k * k} ≥ {2 * k} * {a}",
                    [f"nlinarith [sq_nonneg ({a} - {k})]"], f"Complete the square around {k}.")
    c = rng.choice([v for v in VARS if v not in (a, b)])
    return Item("square_inequality", 4, f"({a} {b} {c} : ℤ)",
                f"{a} ^ 2 + {b} ^ 2 + {c} ^ 2 ≥ {a} * {b} + {b} * {c} + {c} * {a}",
                [f"have h1 := sq_nonneg ({a} - {b})", f"have h2 := sq_nonneg ({b} - {c})",
                 f"have h3 := sq_nonneg ({c} - {a})", "nlinarith [h1, h2, h3]"], "Sum of squares dominates pairwise products.")


def product_pos(rng: random.Random) -> Item:
    a, b = _vars(rng, 2)
    k = rng.randint(1, 5)
    return Item("product_positive", 2, f"({a} {b} : ℤ) ({h(0)} : {a} > {k}) ({h(1)} : {b} > {k})", f"{a} * {b} > {k * k}",
                ["nlinarith"], "Product of numbers above k exceeds k².")


def induction_pow(rng: random.Random) -> Item:
    n = rng.choice(["n", "m", "k"])
    base = rng.randint(2, 5)
    c = rng.randint(1, base - 1)
    return Item("induction_power", 4, f"({n} : ℕ)", f"{base} ^ {n} ≥ {c} * {n} + 1",
                [f"induction' {n} with {n} ih", "norm_num", "rw [pow_succ]", "omega"],
                f"Bernoulli-type bound {base}^n ≥ {c}n+1.")


def induction_even(rng: random.Random) -> Item:
    n = rng.choice(["n", "m", "k"])
    return Item("induction_even", 5, f"({n} : ℕ)", f"2 ∣ {n} ^ 2 + {n}",
                [f"induction' {n} with {n} ih", "norm_num", "ring_nf", "omega"], "n² + n is even.")


def mod_arith(rng: random.Random) -> Item:
    n = rng.choice(VARS)
    m = rng.choice([4, 6, 8, 9, 10, 12])
    d = rng.choice([d for d in (2, 3, 4, 5, 6) if m % d == 0])
    r = rng.randint(0, m - 1)
    return Item("modular", 2, f"({n} : ℕ) ({h(0)} : {n} % {m} = {r})", f"{n} % {d} = {r % d}",
                ["omega"], f"Reduce a residue mod {m} to mod {d}.")


def iff_linear(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    a, v, b = rng.randint(2, 7), rng.randint(-5, 9), rng.randint(0, 15)
    c = a * v + b
    return Item("iff_linear", 3, f"({x} : ℤ)", f"{a} * {x} + {b} = {c} ↔ {x} = {v}",
                ["constructor", "· intro h; linarith", "· intro h; rw [h]; norm_num"],
                "An equation and its solution are equivalent.")


def neg_push(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    k = rng.randint(1, 20)
    return Item("negation", 2, f"({x} : ℕ) ({h(0)} : ¬{x} ≤ {k})", f"{x} > {k}",
                [f"push_neg at {h(0)}", f"exact {h(0)}"], "Push a negation.")


def forall_spec(rng: random.Random) -> Item:
    f, x = "hf", rng.choice(["a", "b", "c"])
    k = rng.randint(1, 9)
    return Item("forall_instantiate", 3, f"({x} : ℕ) ({f} : ∀ y : ℕ, y + {x} = y + {k})", f"{x} = {k}",
                [f"specialize {f} 0", f"simp at {f}", f"exact {f}"],
                "Instantiate a universal hypothesis.")


def mixed_parity(rng: random.Random) -> Item:
    x, y = rng.sample(["x", "y", "a", "b"], 2)
    c = rng.randint(1, 9)
    return Item("mixed_parity", 5,
                f"({x} {y} : ℕ) ({h(0)} : ∃ k : ℕ, {x} = 2 * k) ({h(1)} : {y} = {x} + {2 * c + 1})",
                f"∃ m : ℕ, {x} + {y} = 2 * m + 1",
                [f"obtain ⟨k, hk⟩ := {h(0)}", f"use 2 * k + {c}", f"rw [{h(1)}, hk]", "ring"],
                "Even plus the next odd number is odd.")


def and_arith(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    lo, hi = sorted(rng.sample(range(0, 30), 2))
    return Item("and_bounds", 2, f"({x} : ℕ) ({h(0)} : {lo} < {x} ∧ {x} < {hi})", f"{x} > {lo} ∧ {x} ≤ {hi}",
                [f"obtain ⟨h1, h2⟩ := {h(0)}", "constructor", "· exact h1", "· omega"], "Weaken strict bounds.")


def exists_square(rng: random.Random) -> Item:
    x = rng.choice(VARS)
    v, e = rng.randint(2, 30), rng.choice([2, 3])
    return Item("exists_power", 1, "", f"∃ {x} : ℕ, {x} ^ {e} = {v ** e}", [f"use {v}"], f"{v ** e} is a perfect power.")


def evaluate_after_subst(rng: random.Random) -> Item:
    x, y = _vars(rng, 2)
    a, b = rng.randint(-6, 9), rng.randint(-6, 9)
    c = rng.randint(1, 5)
    value = a * a * b + c * a
    return Item("substitute_evaluate", 2, f"({x} {y} : ℤ) ({h(0)} : {x} = {a}) ({h(1)} : {y} = {b})",
                f"{x} ^ 2 * {y} + {c} * {x} = {value}", [f"rw [{h(0)}, {h(1)}]", "norm_num"],
                "Substitute known values and evaluate.")


FAMILIES: list[tuple[Callable[[random.Random], Item], int]] = [
    (lin_eq, 20), (lin_eq_steps, 15), (lin_system, 25), (solve_then_product, 60), (prop_comm, 60),
    (prop_chain, 70), (contrapositive, 12), (exists_witness, 45), (exists_pair, 30), (exists_from_hyp, 35),
    (exists_transfer, 40), (case_split, 50), (bounded_cases, 10), (square_cases, 30), (ineq_chain, 18),
    (amgm, 50), (product_pos, 20), (induction_pow, 30), (induction_even, 3), (mod_arith, 12),
    (iff_linear, 30), (neg_push, 10), (forall_spec, 25), (mixed_parity, 40), (and_arith, 18),
    (exists_square, 30), (evaluate_after_subst, 40),
]


# ---------------------------------------------------------------- assembly and checking

def normalise(statement_wo_name: str) -> str:
    """Whitespace-normalised and alpha-normalised (single-letter names renamed in order of first
    appearance), so `(p q : Prop) : p → q` and `(r s : Prop) : r → s` count as one statement."""
    text = re.sub(r"\s+", " ", statement_wo_name).strip()
    names: dict[str, str] = {}
    return re.sub(r"(?<![\w])[A-Za-z][₀-₉]?(?![\w'])", lambda m: names.setdefault(m.group(), f"v{len(names)}"), text)


def check_proof(session, statement: str, name: str, tactics: list[str]) -> bool:
    body = "\n".join("  " + line for t in tactics for line in t.split("\n"))
    r = session.handle({"cmd": f"{statement}\n{body}\n\n#print axioms {name}", "env": 0})
    msgs = r.get("messages", [])
    if "message" in r or r.get("sorries") or any(m["severity"] == "error" for m in msgs):
        return False
    info = [m["data"] for m in msgs if m["severity"] == "info" and name in m["data"]]
    return bool(info) and "sorryAx" not in info[-1]


def generate(seed: int, target: int = 660) -> tuple[list[dict], list[dict], list[dict], list[str]]:
    from lean_env.embedded.session import Session

    rng = random.Random(seed)
    session = Session()
    session.handle({"cmd": HEADER})
    seen: set[str] = set()
    items: list[tuple[str, Item]] = []
    rejected: list[str] = []
    weights = [w for _, w in FAMILIES]
    tries = 0
    while len(items) < target and tries < target * 20:
        tries += 1
        fam = rng.choices([f for f, _ in FAMILIES], weights)[0]
        it = fam(rng)
        key = normalise(f"{it.binders} : {it.goal}")
        if key in seen:
            continue
        seen.add(key)
        name = f"emb_{it.family}_{len(items):04d}"
        statement = f"theorem {name} {it.binders} : {it.goal} := by".replace("  ", " ")
        if not check_proof(session, statement, name, it.proof):
            rejected.append(statement)
            continue
        items.append((statement, it))

    # stratified split by (family, difficulty): 70 / 15 / 15
    by_stratum: dict[tuple[str, int], list[int]] = {}
    for i, (_, it) in enumerate(items):
        by_stratum.setdefault((it.family, it.difficulty), []).append(i)
    split_of: dict[int, str] = {}
    for key in sorted(by_stratum):
        idx = by_stratum[key]
        rng.shuffle(idx)
        n = len(idx)
        n_test = max(1, round(0.15 * n)) if n >= 3 else 0
        n_valid = max(1, round(0.15 * n)) if n >= 5 else 0
        for j, i in enumerate(idx):
            split_of[i] = "test" if j < n_test else "valid" if j < n_test + n_valid else "train"

    rows, known, seeds = [], [], []
    for i, (statement, it) in enumerate(items):
        name = statement.split()[1]
        rows.append({
            "name": name, "id": name, "split": split_of[i], "header": HEADER, "formal_statement": statement,
            "informal_statement": it.informal, "source": f"generated by scripts/make_embedded_benchmark.py seed={seed}",
            "family": it.family, "difficulty": it.difficulty, "proof_steps": len(it.proof),
        })
        known.append({"id": name, "tactics": it.proof})
    train = [r for r in rows if r["split"] == "train"]
    # seeds: human-style proofs of train theorems, every family represented, multi-step ones preferred
    rng.shuffle(train)
    train.sort(key=lambda r: -min(r["proof_steps"], 3))
    seed_ids: list[str] = []
    per_family: dict[str, int] = {}
    for r in train:
        if per_family.get(r["family"], 0) < 9:
            per_family[r["family"]] = per_family.get(r["family"], 0) + 1
            seed_ids.append(r["id"])
    proofs = {k["id"]: k["tactics"] for k in known}
    seeds = [{"id": i, "tactics": proofs[i]} for i in sorted(seed_ids)]
    return rows, known, seeds, rejected


CLOSERS = ("omega", "linarith", "nlinarith", "norm_num", "simp", "decide", "ring", "trivial", "positivity", "tauto")


def closer_rates(rows: list[dict], split: str = "test") -> tuple[dict[str, float], float]:
    """Fraction of a split each one-tactic proof closes, and the fraction any of them closes."""
    from lean_env.embedded.session import Session

    session = Session()
    session.handle({"cmd": HEADER})
    subset = [r for r in rows if r["split"] == split]
    solved: dict[str, set[str]] = {c: set() for c in CLOSERS}
    for r in subset:
        for c in CLOSERS:
            if check_proof(session, r["formal_statement"], r["name"], [c]):
                solved[c].add(r["id"])
    n = max(len(subset), 1)
    union = set().union(*solved.values())
    return {c: len(v) / n for c, v in solved.items()}, len(union) / n


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("data/embedded"))
    ap.add_argument("--count", type=int, default=660)
    args = ap.parse_args()
    rows, known, seeds, rejected = generate(args.seed, args.count)
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / "theorems.jsonl", rows)
    write_jsonl(args.out / "known_proofs.jsonl", known)
    write_jsonl(args.out / "seed_proofs.jsonl", seeds)
    splits = {s: sum(r["split"] == s for r in rows) for s in ("train", "valid", "test")}
    print(f"{len(rows)} theorems {splits}, {len(seeds)} seed proofs, {len(rejected)} generated proofs rejected")
    for r in rejected[:10]:
        print("  rejected:", r)
    rates, union = closer_rates(rows)
    print("one-tactic closers on the test split: " + ", ".join(f"{c} {v:.1%}" for c, v in rates.items()) + f"; any {union:.1%}")


if __name__ == "__main__":
    main()
