"""The decision procedures of the embedded fragment: polynomial normal forms and what `linarith`,
`nlinarith`, `omega`, `ring` and `field_simp` decide (the values of terms and `decide` are
`values.py`'s, re-exported here).

Each procedure is held to the strength of its Lean namesake (the learning experiments depend on
that): `linarith` sees only linear facts over an ordered field with nonlinear monomials as opaque
atoms; `nlinarith` adds pairwise products of its facts first; `omega` is linear integer arithmetic
with `/` and `%` by literals, and ignores facts over ℚ/ℝ; `ring` proves commutative-ring
identities only, over a field with `b⁻¹` an atom unless `b` is a numeral (so `x / x = 1` is not
one). Over ℚ/ℝ values are exact Fractions with Lean's `x / 0 = 0`; `decide` refuses ℝ (its order
is classical in Lean); the real functions are atoms everywhere, known only through lemmas.
"""
from __future__ import annotations

from fractions import Fraction
from itertools import combinations_with_replacement
from math import gcd
from typing import Iterable

import z3

from lean_env.embedded.carriers import computes, is_field, is_integral, is_ordered
from lean_env.embedded.terms import (
    INT, NAT, App, Bin, Cast, Const, Num, Proj, Quant, Term, Un, Var, free_vars, fresh_name, pp, subst, type_of, REL_OPS,
)
from lean_env.embedded.values import (  # noqa: F401  (the values of terms, re-exported for the tactics)
    MAX_DECIDE_RANGE, ArithError, decide, decide_relation, ediv, emod, evaluate, is_closed_arith, relation_type,
    term_type, typed,
)

Ctx = dict[str, str]  # variable name -> "ℕ" / "ℤ" / "ℚ" / "ℝ"


# ---------------------------------------------------------------- polynomials

Monomial = tuple[tuple[str, int], ...]   # sorted (atom key, exponent)
Poly = dict[Monomial, Fraction]


def _padd(p: Poly, q: Poly, scale: Fraction = Fraction(1)) -> Poly:
    out = dict(p)
    for m, c in q.items():
        out[m] = out.get(m, Fraction(0)) + scale * c
        if out[m] == 0:
            del out[m]
    return out


def _pmul(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            exps = dict(m1)
            for a, e in m2:
                exps[a] = exps.get(a, 0) + e
            m = tuple(sorted(exps.items()))
            out[m] = out.get(m, Fraction(0)) + c1 * c2
            if out[m] == 0:
                del out[m]
    return out


def _const(c: int | Fraction) -> Poly:
    return {(): Fraction(c)} if c != 0 else {}


class Atoms:
    """Opaque subterms (ℕ subtraction, `/`, `%`, ...), named by their printed form. For `ring`
    (`ring=True`) a power with a symbolic exponent splits along its exponent (`x ^ (n + 1)` is
    `x ^ n * x`) and a function's arguments are normalised first (`ring_nf` recurses into atoms);
    linarith's atoms stay as they are, as in Mathlib."""

    def __init__(self, ring: bool = False) -> None:
        self.terms: dict[str, Term] = {}
        self.ring = ring

    def key(self, t: Term, ty: str | None = None) -> str:
        """Over a field the same text can mean another value (`|1 / 2 - 1|` is 1 in ℤ, 1/2 in ℚ),
        so a compound atom's key there carries the type."""
        k = pp(t) if not is_field(ty) or isinstance(t, Var) else f"{pp(t)} : {ty}"
        self.terms.setdefault(k, t)
        return k


def to_poly(t: Term, ty: str, atoms: Atoms, casts: bool = False) -> Poly:
    """Normal form as a commutative-ring polynomial; non-ring operations become atoms. A cast
    `↑e` is an atom (as for `ring`) unless `casts`: then, as linarith's ℕ-to-ℤ preprocessing
    does, it is `e` read in ℕ (the same value), so facts about `n` and `↑n` share atoms."""
    if isinstance(t, Num):
        return _const(t.value)
    if isinstance(t, Cast):
        if casts:   # a cast is a ring embedding (ℕ/ℤ/ℚ into the field): read `e` in its own type
            return to_poly(t.arg, t.src, atoms, casts)
        if is_closed_arith(t, functions=False):
            return _const(evaluate(t, ty))
        return {((atoms.key(t, ty), 1),): Fraction(1)}
    if isinstance(t, Var):
        return {((atoms.key(t), 1),): Fraction(1)}
    if isinstance(t, Un) and t.op == "-" and ty != NAT:
        return _padd({}, to_poly(t.arg, ty, atoms, casts), Fraction(-1))
    if is_field(ty) and isinstance(t, App) and t.fn == Var("Inv.inv") and len(t.args) == 1:
        return _inverse(t.args[0], ty, atoms, casts)
    if isinstance(t, Bin):
        if t.op == "+":
            return _padd(to_poly(t.lhs, ty, atoms, casts), to_poly(t.rhs, ty, atoms, casts))
        if t.op == "*":
            return _pmul(to_poly(t.lhs, ty, atoms, casts), to_poly(t.rhs, ty, atoms, casts))
        if t.op == "-" and ty != NAT:
            return _padd(to_poly(t.lhs, ty, atoms, casts), to_poly(t.rhs, ty, atoms, casts), Fraction(-1))
        if t.op == "/" and is_field(ty):   # `a / b = a * b⁻¹` (`div_eq_mul_inv`)
            return _pmul(to_poly(t.lhs, ty, atoms, casts), _inverse(t.rhs, ty, atoms, casts))
        if t.op == "^" and is_closed_arith(t.rhs, functions=False):
            n = evaluate(t.rhs, NAT)
            if n <= 64:
                base = to_poly(t.lhs, ty, atoms, casts)
                out = _const(1)
                for _ in range(n):
                    out = _pmul(out, base)
                return out
        if is_closed_arith(t, functions=False):
            try:
                return _const(evaluate(t, ty))
            except ArithError:
                pass
        if t.op == "^" and atoms.ring:
            return _symbolic_power(t, ty, atoms, casts)
    if isinstance(t, App) and atoms.ring:
        t = _normalize_arguments(t)
    return {((atoms.key(t, ty), 1),): Fraction(1)}


def _symbolic_power(t: Bin, ty: str, atoms: Atoms, casts: bool) -> Poly:
    """`b ^ (k + c₁ m₁ + ..)` = `b ^ k * (b ^ m₁) ^ c₁ * ..` (`pow_add`, `pow_mul`), each `b ^ mᵢ`
    an atom over `b` in normal form; the exponent is a polynomial over ℕ (truncated `-` stays an
    atom in it)."""
    exp_atoms = Atoms(ring=True)
    exponent = to_poly(t.rhs, NAT, exp_atoms)
    base_atoms = Atoms(ring=True)
    base = poly_to_term(to_poly(t.lhs, ty, base_atoms, casts), base_atoms, ty)
    k = int(exponent.pop((), 0))
    if k > 64 or any(c.denominator != 1 or c < 0 for c in exponent.values()):
        return {((atoms.key(t, ty), 1),): Fraction(1)}
    out = _const(1)
    for _ in range(k):
        out = _pmul(out, to_poly(t.lhs, ty, atoms, casts))
    for m, c in exponent.items():
        power = Bin("^", base, poly_to_term({m: Fraction(1)}, exp_atoms, NAT))
        factor = {((atoms.key(power, ty), 1),): Fraction(1)}
        for _ in range(int(c)):
            out = _pmul(out, factor)
    return out


def _normalize_arguments(t: App) -> App:
    """`f (2 * x + x)` as `f (x * 3)`: each number argument in ring normal form at its own type."""
    args = []
    for a in t.args:
        ty = type_of(a)
        if ty in (NAT, INT, "ℚ", "ℝ") and not isinstance(a, (Var, Num)):
            try:
                a = ring_normalize(a, ty)
            except ArithError:
                pass
        args.append(a)
    return App(t.fn, tuple(args))


def _inverse(t: Term, ty: str, atoms: Atoms, casts: bool) -> Poly:
    """`t⁻¹` over a field: a rational constant when `t` is one (`0⁻¹ = 0`), else an atom (`ring`
    knows no more: `x * x⁻¹ = 1` needs `x ≠ 0`, which is `field_simp`'s business)."""
    p = to_poly(t, ty, atoms, casts)
    if not p:
        return {}
    if list(p) == [()]:
        return _const(1 / p[()])
    inv = App(Var("Inv.inv"), (t,))
    return {((atoms.key(inv, ty), 1),): Fraction(1)}


def clear_denominators(op: str, lhs: Term, rhs: Term, ty: str, sign_of) -> tuple[Term, Term] | None:
    """`field_simp` on `lhs op rhs` over a field: multiply through by each denominator `d` that
    `sign_of(d)` says is "pos" (any relation) or "nonzero" (`=`/`≠` only), so that `d⁻¹ * d = 1`
    cancels, then by the common denominator of the coefficients; the sides come back with the
    positive monomials on the left. Multiplying by a nonzero (positive, for an order) factor keeps
    the relation's truth. None when there was no denominator to clear."""
    atoms = Atoms()
    p = _padd(to_poly(lhs, ty, atoms), to_poly(rhs, ty, atoms), Fraction(-1))
    cleared = False
    for key, t in list(atoms.terms.items()):
        if not (isinstance(t, App) and t.fn == Var("Inv.inv")):
            continue
        sign = sign_of(t.args[0])
        if sign != "pos" and not (sign == "nonzero" and op in ("=", "≠")):
            continue
        k = max((e for m in p for a, e in m if a == key), default=0)
        if k == 0:
            continue
        d = to_poly(t.args[0], ty, atoms)
        out: Poly = {}
        for m, c in p.items():   # c * rest * (d⁻¹)^e  ↦  c * rest * d^(k - e)
            e = dict(m).get(key, 0)
            part: Poly = {tuple((a, x) for a, x in m if a != key): c}
            for _ in range(k - e):
                part = _pmul(part, d)
            out = _padd(out, part)
        p, cleared = out, True
    if not cleared and p and all(c.denominator == 1 for c in p.values()):
        return None
    scale = 1
    for c in p.values():
        scale = scale * c.denominator // gcd(scale, c.denominator)
    pos = {m: c * scale for m, c in p.items() if c > 0}
    neg = {m: -c * scale for m, c in p.items() if c < 0}
    return poly_to_term(pos, atoms, ty), poly_to_term(neg, atoms, ty)


def ring_equal(lhs: Term, rhs: Term, ty: str) -> bool:
    atoms = Atoms(ring=True)
    return to_poly(lhs, ty, atoms) == to_poly(rhs, ty, atoms)


# ---------------------------------------------------------------- linarith / nlinarith

# A linear fact: poly REL 0 with REL in {"=", "≤", "<"}.
Fact = tuple[Poly, str]


def comparison_fact(p: Term, ctx: Ctx, atoms: Atoms) -> list[Fact] | None:
    """`a R b` (or its negation) as facts `poly REL 0`; None if `p` is not a comparison."""
    negated = False
    while isinstance(p, Un) and p.op == "¬":
        negated = not negated
        p = p.arg
    if not isinstance(p, Bin) or p.op not in ("=", "<", "≤", ">", "≥", "≠"):
        return None
    op, a, b = p.op, p.lhs, p.rhs
    if op in (">", "≥"):
        op, a, b = {">": "<", "≥": "≤"}[op], b, a
    if op == "≠":
        if negated:
            op, negated = "=", False
        else:
            return None  # linarith does not use disequalities
    if negated:
        if op == "=":
            return None
        op, a, b = {"<": "≤", "≤": "<"}[op], b, a  # ¬ a < b  ->  b ≤ a
    ty = relation_type(Bin(op, a, b), ctx)
    if not is_ordered(ty):   # no `LinearOrderedField ℂ`: linarith's preprocessing drops such facts
        return None
    diff = _padd(to_poly(a, ty, atoms, casts=True), to_poly(b, ty, atoms, casts=True), Fraction(-1))
    if op == "<" and is_integral(ty):
        return [(_padd(diff, _const(1)), "≤")]  # integer strengthening: a < b  ->  a + 1 ≤ b
    return [(diff, op)]


def _nat_atoms(atoms: Atoms, ctx: Ctx) -> list[Fact]:
    """Mathlib's ℕ preprocessing (`Linarith.natToInt`): the facts move to ℤ with `push_cast`, and
    every cast `↑t` left standing is nonnegative. `push_cast` distributes over `+`, `*` and `^`,
    so a power or product of naturals is no such atom (`0 ≤ x ^ 9890` is out of linarith's
    reach, as in Lean); a variable, a truncated `a - b`, `a / b`, `a % b` or a function value is."""
    facts = []
    for k, t in atoms.terms.items():
        if term_type(t, ctx) == NAT and not (isinstance(t, Bin) and t.op in ("+", "*", "^")):
            facts.append(({((k, 1),): Fraction(-1)}, "≤"))
    return facts


def _infeasible(facts: Iterable[Fact]) -> bool:
    """Is the conjunction of linear facts unsatisfiable over ℚ (monomials as real variables)?"""
    solver = z3.Solver()
    solver.set("timeout", 2000)
    vars_: dict[Monomial, z3.ArithRef] = {}
    for poly, rel in facts:
        expr = z3.RealVal(0)
        for m, c in poly.items():
            coeff = z3.RealVal(f"{c.numerator}/{c.denominator}")
            if m == ():
                expr = expr + coeff
            else:
                v = vars_.setdefault(m, z3.Real("m" + str(len(vars_))))
                expr = expr + coeff * v
        solver.add({"=": expr == 0, "≤": expr <= 0, "<": expr < 0}[rel])
    return solver.check() == z3.unsat


def negated_goal_facts(goal: Term, ctx: Ctx, atoms: Atoms) -> list[list[Fact]] | None:
    """Ways the goal could fail, each a list of facts; [] means "prove False from hypotheses".
    `a = b` needs both `a < b` and `a > b` refuted, as in Mathlib's linarith."""
    if isinstance(goal, Const) and not goal.value:
        return [[]]
    if isinstance(goal, Bin) and goal.op == "=":
        lt = comparison_fact(Bin("<", goal.lhs, goal.rhs), ctx, atoms)
        gt = comparison_fact(Bin(">", goal.lhs, goal.rhs), ctx, atoms)
        return [lt or [], gt or []]
    neg = comparison_fact(Un("¬", goal), ctx, atoms)
    if neg is not None:
        return [neg]
    return [[]]  # not a comparison: linarith proves it by exfalso


def _conjuncts(p: Term) -> list[Term]:
    """Mathlib's linarith preprocessing splits conjunctions in hypotheses (`splitHypotheses`)."""
    if isinstance(p, Bin) and p.op == "∧":
        return _conjuncts(p.lhs) + _conjuncts(p.rhs)
    return [p]


MAX_NE_SPLITS = 6   # `splitNe` case-splits every `≠` hypothesis: 2^k runs


def _disequality(p: Term) -> tuple[Term, Term] | None:
    """`a ≠ b` or `¬ a = b`: what `splitNe` splits into `a < b ∨ a > b`."""
    if isinstance(p, Bin) and p.op == "≠":
        return p.lhs, p.rhs
    if isinstance(p, Un) and p.op == "¬" and isinstance(p.arg, Bin) and p.arg.op == "=":
        return p.arg.lhs, p.arg.rhs
    return None


def linarith(hyps: list[Term], goal: Term, ctx: Ctx, extra: list[Term] = (), products: bool = False,
             split_ne: bool = False) -> bool:
    facts_in = [c for h in list(hyps) + list(extra) for c in _conjuncts(h)]
    atoms = Atoms()
    base: list[Fact] = []
    for h in facts_in:
        f = comparison_fact(h, ctx, atoms)
        if f:
            base.extend(f)
    branches = negated_goal_facts(goal, ctx, atoms)
    nes = [d for d in map(_disequality, facts_in) if d is not None] if split_ne else []
    if len(nes) > MAX_NE_SPLITS:
        return False
    for a, b in nes:   # each branch must be refuted both with `a < b` and with `a > b`
        lt = comparison_fact(Bin("<", a, b), ctx, atoms) or []
        gt = comparison_fact(Bin(">", a, b), ctx, atoms) or []
        branches = [br + side for br in branches for side in (lt, gt)]
    nat_facts = _nat_atoms(atoms, ctx)
    for branch in branches:
        facts = base + branch + nat_facts
        if products:
            # Mathlib multiplies every pair of the preprocessed comparisons: the negated goal,
            # the hypotheses, and the nonnegativity of natural-number atoms (natToInt)
            facts = facts + _pairwise_products(branch + base + nat_facts)
        if not _infeasible(facts):
            return False
    return True


def _pairwise_products(facts: list[Fact]) -> list[Fact]:
    """nlinarith's preprocessing: the product of every pair of facts (squares included)."""
    out: list[Fact] = []
    for (p, r1), (q, r2) in combinations_with_replacement(facts[:24], 2):
        prod = _pmul(p, q)
        if r1 == "=" or r2 == "=":
            out.append((prod, "="))
        elif r1 == "<" and r2 == "<":
            out.append((_padd({}, prod, Fraction(-1)), "<"))   # p<0, q<0  ->  pq > 0
        else:
            out.append((_padd({}, prod, Fraction(-1)), "≤"))   # p≤0, q≤0  ->  pq ≥ 0
    return out


# ---------------------------------------------------------------- omega

class _OmegaUnsupported(Exception):
    pass


def _succ_of(e: Term) -> Term | None:
    """`k` when `e` is `k + 1` (the literal 1 on the right), `Nat.succ k` or `k.succ`: what omega's
    `succ?` matches (Lean core, src/Lean/Elab/Tactic/Omega/Frontend.lean); else None."""
    if isinstance(e, Bin) and e.op == "+" and isinstance(e.rhs, Num) and e.rhs.value == 1:
        return e.lhs
    if isinstance(e, App) and isinstance(e.fn, Var) and e.fn.name == "Nat.succ" and len(e.args) == 1:
        return e.args[0]
    if isinstance(e, Proj) and e.field == "succ":
        return e.term
    return None


class _Z3Int:
    """Translate arithmetic propositions to z3 integer formulas with Lean's ℕ/ℤ semantics."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.vars: dict[str, z3.ArithRef] = {}
        self.side: list[z3.BoolRef] = []

    def var(self, key: str, nat: bool) -> z3.ArithRef:
        if key not in self.vars:
            v = z3.Int(key)
            self.vars[key] = v
            if nat:
                self.side.append(v >= 0)
        return self.vars[key]

    def term(self, t: Term, ty: str) -> z3.ArithRef:
        if isinstance(t, Num):
            return z3.IntVal(t.value)
        if isinstance(t, Cast):   # omega knows `↑(n : ℕ) : ℤ`: the same value, computed in ℕ
            if not is_integral(t.ty):
                raise _OmegaUnsupported()
            return self.term(t.arg, t.src)
        if isinstance(t, Var):
            return self.var(t.name, self.ctx.get(t.name, ty) == NAT)
        if isinstance(t, Un) and t.op == "-":
            if ty == NAT:   # no `Neg ℕ`: such a term never elaborates; never read it as ℤ
                raise _OmegaUnsupported()
            return -self.term(t.arg, ty)
        if isinstance(t, Bin):
            if is_closed_arith(t, functions=False):
                try:
                    return z3.IntVal(evaluate(t, ty))
                except ArithError:
                    pass
            if t.op == "+":
                return self.term(t.lhs, ty) + self.term(t.rhs, ty)
            if t.op == "-":
                a, b = self.term(t.lhs, ty), self.term(t.rhs, ty)
                return z3.If(a >= b, a - b, 0) if ty == NAT else a - b
            if t.op == "*":
                if is_closed_arith(t.lhs, functions=False) or is_closed_arith(t.rhs, functions=False):
                    return self.term(t.lhs, ty) * self.term(t.rhs, ty)
            if t.op in ("/", "%") and is_closed_arith(t.rhs, functions=False):
                k = evaluate(t.rhs, ty)
                a = self.term(t.lhs, ty)
                if k == 0:
                    return z3.IntVal(0) if t.op == "/" else a
                return a / k if t.op == "/" else a % k
            if t.op == "^" and is_closed_arith(t.rhs, functions=False) and is_closed_arith(t.lhs, functions=False):
                return z3.IntVal(evaluate(t, ty))
            if t.op == "^" and is_closed_arith(t.lhs, functions=False):
                return self._power(t, ty)
            if t.op == "%" and self._positive_power(t.rhs, ty):   # `emod_nonneg`, `emod_lt_of_pos`
                r, m = self.var("atom:" + pp(t), ty == NAT), self.term(t.rhs, ty)
                self.side.extend([r >= 0, r < m])
                return r
        if isinstance(t, App) and isinstance(t.fn, Var):
            name = t.fn.name
            if name == "Int.natAbs" and len(t.args) == 1:   # `splitNatAbs`
                a = self.term(t.args[0], INT)
                return z3.If(a >= 0, a, -a)
            if name in ("min", "max") and len(t.args) == 2:   # `splitMinMax`
                a, b = self.term(t.args[0], ty), self.term(t.args[1], ty)
                return z3.If(a <= b, a, b) if name == "min" else z3.If(a <= b, b, a)
        # products of variables, powers, `/` by a variable: opaque atoms, as omega treats them
        return self.var("atom:" + pp(t), ty == NAT)

    def _positive_power(self, t: Term, ty: str) -> bool:
        """`b ^ e` with a numeral base b > 0: as the modulus of an `x % b ^ e` atom, omega's
        `analyzeAtom` records `0 ≤ x % b ^ e < b ^ e` (via `pos_pow_of_pos`); nowhere else."""
        if not (isinstance(t, Bin) and t.op == "^" and is_closed_arith(t.lhs, functions=False)):
            return False
        try:
            return evaluate(t.lhs, ty) > 0
        except ArithError:
            return False

    def _power(self, t: Bin, ty: str) -> z3.ArithRef:
        """`b ^ e` with a numeral base, as Lean core's omega reads it (src/Lean/Elab/Tactic/Omega/
        Frontend.lean, `asLinearComboImpl`, the `HPow.hPow` case with `succ?`; a ℕ power first
        becomes `(↑b : ℤ) ^ e` in `handleNatCast`): only an exponent `k + 1` (the literal 1) or
        `k.succ` is unfolded, by `Int.pow_succ`, to `b ^ k * b`, again and again; any other power is
        an atom. `b ^ (n + 2)` is then unrelated to `b ^ n`. The atom carries no facts: `analyzeAtom`
        (Omega/OmegaM.lean) records none for a power, so omega does not know `0 ≤ 2 ^ n`
        (lean4 issue #9206); it learns `0 < b ^ k` only from an `x % b ^ k` atom (the `%` case)."""
        e, k = t.rhs, 0
        while _succ_of(e) is not None:
            e, k = _succ_of(e), k + 1
        atom = self.var("atom:" + pp(Bin("^", t.lhs, e)), False)
        return atom * z3.IntVal(evaluate(t.lhs, ty) ** k) if k else atom

    def prop(self, p: Term) -> z3.BoolRef:
        if isinstance(p, Const):   # no linear constraint: omega does not use `True`/`False` as facts
            raise _OmegaUnsupported()
        if isinstance(p, Un) and p.op == "¬":
            return z3.Not(self.prop(p.arg))
        if isinstance(p, Bin):
            if p.op in REL_OPS:
                ty = relation_type(p, self.ctx)
                if not is_integral(ty):   # omega is integer arithmetic: facts over ℚ/ℝ are not its
                    raise _OmegaUnsupported()
                a, b = self.term(p.lhs, ty), self.term(p.rhs, ty)
                if p.op == "∣":
                    if not is_closed_arith(p.lhs, functions=False):
                        raise _OmegaUnsupported()
                    k = evaluate(p.lhs, ty)
                    return b == 0 if k == 0 else b % abs(k) == 0
                return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b}[p.op]
            a, b = self.prop(p.lhs), self.prop(p.rhs)
            return {"∧": z3.And(a, b), "∨": z3.Or(a, b), "→": z3.Implies(a, b), "↔": a == b}[p.op]
        raise _OmegaUnsupported()


def _open_exists(h: Term, ctx: dict) -> list[Term]:
    """omega's fact collection destructures `∃` and `∧` hypotheses: the witness becomes a fresh
    variable (added to `ctx`)."""
    if isinstance(h, Bin) and h.op == "∧":
        return _open_exists(h.lhs, ctx) + _open_exists(h.rhs, ctx)
    if isinstance(h, Quant) and h.kind == "∃" and h.ty is not None:
        fresh = fresh_name(h.var, set(ctx) | free_vars(h.body))
        ctx[fresh] = h.ty
        return _open_exists(subst(h.body, h.var, Var(fresh, h.ty)), ctx)
    return [h]


def omega(hyps: list[Term], goal: Term, ctx: Ctx) -> bool:
    ctx = dict(ctx)
    hyps = [f for h in hyps for f in _open_exists(h, ctx)]
    tr = _Z3Int(ctx)
    solver = z3.Solver()
    solver.set("timeout", 3000)
    for h in hyps:
        try:
            solver.add(tr.prop(h))
        except _OmegaUnsupported:
            continue  # omega ignores facts outside its language
    try:
        solver.add(z3.Not(tr.prop(goal)))
    except _OmegaUnsupported:
        pass  # omega then proves False from the hypotheses
    solver.add(*tr.side)
    return solver.check() == z3.unsat


def has_quantifier(p: Term) -> bool:
    if isinstance(p, Quant):
        return True
    if isinstance(p, Bin):
        return has_quantifier(p.lhs) or has_quantifier(p.rhs)
    if isinstance(p, Un):
        return has_quantifier(p.arg)
    return False


def poly_to_term(poly: Poly, atoms: Atoms, ty: str) -> Term:
    """Print a polynomial of type `ty` the way Mathlib's `ring_nf` does: constant first, then
    monomials by degree, numeric coefficients on the right (`1 + x * 2 + x ^ 2`)."""
    field = is_field(ty)

    def mono_term(m: Monomial) -> Term:
        out: Term | None = None
        for key, e in m:
            factor = atoms.terms[key]
            if e > 1:
                factor = Bin("^", factor, Num(e, NAT))
            out = factor if out is None else Bin("*", out, factor)
        return out

    def coefficient(c: Fraction) -> Term:   # over a field: `2⁻¹`, `(3 / 4)`
        if c.denominator == 1:
            return Num(c.numerator, ty)
        if c.numerator == 1:
            return App(Var("Inv.inv"), (Num(c.denominator, ty),))
        return Bin("/", Num(c.numerator, ty), Num(c.denominator, ty))

    items = sorted(poly.items(), key=lambda kv: (sum(e for _, e in kv[0]), kv[0]))
    out: Term | None = None
    for m, c in items:
        if c.denominator != 1 and not field:
            raise ArithError("ring_nf: rational coefficients are outside the fragment")
        if m == ():
            t: Term = coefficient(abs(c))
        else:
            t = mono_term(m)
            if abs(c) != 1:
                t = Bin("*", t, coefficient(abs(c)))
        if out is None:
            out = t if c > 0 else Un("-", t)
        else:
            out = Bin("+" if c > 0 else "-", out, t)
    return out if out is not None else Num(0, ty)


def ring_normalize(t: Term, ty: str) -> Term:
    """`ring_nf`'s normal form of `t`, its numerals typed `ty` (a closed `1 / 2` must stay a
    real half, not become a natural-number division)."""
    atoms = Atoms(ring=True)
    return poly_to_term(to_poly(t, ty, atoms), atoms, ty)
