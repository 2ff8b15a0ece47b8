"""Random statements and tactic scripts for the soundness fuzzer, and the check that runs one case
through whole-proof verification and holds every accepted statement to the oracle.

Generators take a `Draw` so the same code runs under hypothesis (shrinking to a minimal case, in
the test suite) and under `random.Random` (the long run, `bench/fuzz_soundness.py`). Choices are
listed simplest first, so shrinking moves towards small, readable reproductions.
"""
from __future__ import annotations

import asyncio
import json
import random
import signal
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from lean_env.embedded.session import Session
from lean_env.types import Theorem, Verdict
from lean_env.verify import verify_proof
from soundness_oracle import (
    FIELDS, INT, NAT, RAT, REAL, Arith, BigOp, Bounded, Cast, Conn, Decision, Expr, Fn, Lit, Mem, Neg, Not, Pow, Pred, Prop, Rel,
    Statement, Succ, Truth, Undefined, Unbounded, Var, decide, pp_prop, substitute, value,
)

T = TypeVar("T")
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
VAR_NAMES = ("x", "y", "n", "a", "b")
BOUND_NAMES = ("k", "i", "x", "n")          # clash with free variables on purpose
HYP_NAMES = ("h₀", "h₁", "h₂")
LITERALS = (0, 1, 2, 3, 4, 5, 6, 7, 10, 12, 100)
RELATIONS = ("=", "≤", "<", "≠", "≥", ">", "∣")
NUMBER_TYPES = (NAT, INT, REAL, RAT)        # a variable's or a relation's type


class Draw:
    """A source of choices: `integer` is the only primitive."""

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def coin(self, one_in: int = 2) -> bool:
        return self.integer(0, one_in - 1) == 0


class RandomDraw(Draw):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class HypothesisDraw(Draw):
    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))


# ---------------------------------------------------------------- statements

Scope = dict[str, tuple[str, bool]]   # variable -> (type, may be cast to ℤ)


def gen_expr(d: Draw, ty: str, scope: Scope, depth: int) -> Expr:
    if ty in FIELDS:
        return gen_field_expr(d, ty, scope, depth)
    names = [n for n, (t, _) in scope.items() if t == ty]
    castable = [n for n, (t, ok) in scope.items() if t == NAT and ok]
    if depth <= 0 or d.coin(3):
        leaves = ["literal"] + ["variable"] * 2 * bool(names) + ["cast"] * bool(ty == INT and castable) \
            + ["negative"] * (ty == INT)
        kind = d.choice(leaves)
        if kind == "variable":
            return Var(d.choice(names), ty)
        if kind == "cast":
            return Cast(Var(d.choice(castable), NAT))
        if kind == "negative":
            return Neg(Lit(d.choice(LITERALS[1:]), INT, d.coin()))
        return Lit(d.choice(LITERALS), ty, ty == INT and d.coin())
    op = d.choice(("+", "-", "*", "/", "%", "^", "neg", "cast", "succ", "discrete"))
    if op == "discrete":
        return gen_discrete(d, ty, scope, depth - 1)
    if op == "succ" and ty == NAT:
        return Succ(gen_expr(d, NAT, scope, depth - 1), dot=d.coin())
    if op == "^":
        exp: Expr = Lit(d.integer(0, 3), NAT)
        nat_vars = [n for n, (t, _) in scope.items() if t == NAT]
        if nat_vars and d.coin(6):
            exp = Var(d.choice(nat_vars), NAT)
        return Pow(gen_expr(d, ty, scope, depth - 1), exp, ty)
    if op == "neg" and ty == INT:
        return Neg(gen_expr(d, ty, scope, depth - 1))
    if op == "cast" and ty == INT:
        return Cast(gen_expr(d, NAT, scope, depth - 1))
    if op in ("neg", "cast", "succ"):
        op = "-"
    return Arith(op, gen_expr(d, ty, scope, depth - 1), gen_expr(d, ty, scope, depth - 1), ty)


def gen_field_expr(d: Draw, ty: str, scope: Scope, depth: int) -> Expr:
    """An expression over ℚ or ℝ: field arithmetic (`/` with `x / 0 = 0`, `⁻¹`), casts from ℕ and
    ℤ (and ℚ into ℝ) of variables and of whole expressions, `|·|`, `min`, `max`, and over ℝ the
    opaque `Real.sqrt`/`Real.log`/`Real.exp` and `π` (the oracle never knows their values)."""
    names = [n for n, (t, _) in scope.items() if t == ty]
    smaller = (NAT, INT) + ((RAT,) if ty == REAL else ())
    castable = [(n, t) for n, (t, ok) in scope.items() if ok and t in smaller]
    if depth <= 0 or d.coin(3):
        kind = d.choice(["literal"] + ["variable"] * 2 * bool(names) + ["cast"] * bool(castable)
                        + ["negative", "pi" if ty == REAL else "literal"])
        if kind == "variable":
            return Var(d.choice(names), ty)
        if kind == "cast":
            n, t = d.choice(castable)
            return Cast(Var(n, t), ty)
        if kind == "negative":
            return Neg(Lit(d.choice(LITERALS[1:]), ty, d.coin()), ty)
        if kind == "pi" and d.coin(4):
            return Fn("π", (), REAL)
        return Lit(d.choice(LITERALS), ty, d.coin())
    op = d.choice(("+", "-", "*", "/", "/", "^", "neg", "cast", "fn", "opaque"))
    if op == "^":
        return Pow(gen_field_expr(d, ty, scope, depth - 1), Lit(d.integer(0, 3), NAT), ty)
    if op == "neg":
        return Neg(gen_field_expr(d, ty, scope, depth - 1), ty)
    if op == "cast":                    # computed in its own type first: `((a - b : ℕ) : ℝ)`
        return Cast(gen_expr(d, d.choice(smaller), scope, depth - 1), ty)
    if op == "fn":
        name = d.choice(("abs", "min", "max", "inv"))
        arity = 2 if name in ("min", "max") else 1
        return Fn(name, tuple(gen_field_expr(d, ty, scope, depth - 1) for _ in range(arity)), ty)
    if op == "opaque" and ty == REAL:
        return Fn(d.choice(("Real.sqrt", "Real.log", "Real.exp")), (gen_field_expr(d, REAL, scope, depth - 1),), REAL)
    if op == "opaque":
        op = "-"
    return Arith(op, gen_field_expr(d, ty, scope, depth - 1), gen_field_expr(d, ty, scope, depth - 1), ty)


FUNCTIONS = ("Nat.gcd", "Nat.lcm", "Nat.factorial", "Nat.choose")


def gen_discrete(d: Draw, ty: str, scope: Scope, depth: int) -> Expr:
    """A number-theoretic function (ℕ) or a sum/product over a small range, its body over the
    bound variable and the scope (the bound variable's name may shadow one in scope)."""
    if ty == NAT and d.coin():
        name = d.choice(FUNCTIONS)
        if name == "Nat.factorial":
            return Fn(name, (d.choice((Lit(d.integer(0, 6), NAT), gen_expr(d, NAT, scope, 0))),))
        return Fn(name, (gen_expr(d, NAT, scope, depth), gen_expr(d, NAT, scope, depth)))
    var = d.choice(BOUND_NAMES)
    elem = INT if ty == INT and d.coin() else NAT
    inner = {**scope, var: (elem, True)}
    body = gen_expr(d, ty, inner, max(depth, 1)) if d.coin(4) else Arith(
        d.choice(("+", "*", "-")), Var(var, elem) if elem == ty else Cast(Var(var, NAT)),
        gen_expr(d, ty, inner, 0), ty)
    op = d.choice(("∑", "∏"))
    if elem == INT:
        lo = -d.integer(0, 3)
        return BigOp(op, var, INT, Lit(lo, INT), Lit(lo + d.integer(-1, 4), INT), body, ty, icc=True)
    nat_vars = [n for n, (t, _) in scope.items() if t == NAT]
    hi: Expr = Var(d.choice(nat_vars), NAT) if nat_vars and d.coin(4) else Lit(d.integer(0, 6), NAT)
    if d.coin():
        return BigOp(op, var, NAT, Lit(0, NAT), hi, body, ty, new=d.coin())
    return BigOp(op, var, NAT, Lit(d.integer(0, 2), NAT), hi, body, ty, icc=True, new=d.coin())


def gen_discrete_statement(d: Draw, name: str) -> Statement:
    """A closed value stated exactly or off by one (`decide`/`norm_num` territory), a primality
    claim, or the `Finset.sum_range_succ` step with a variable bound, sometimes mutated."""
    kind = d.integer(0, 3)
    if kind <= 1:
        ty = d.choice((NAT, INT))
        e = gen_discrete(d, ty, {}, 1)
        try:
            v = value(e, {})
        except Undefined:
            v = 0
        target = Lit(max(v + d.integer(-1, 1), 0) if ty == NAT else v + d.integer(-1, 1), ty)
        return Statement(name, goal=Rel(d.choice(("=", "=", "≤", "<", "≠", "∣")), e, target))
    if kind == 2 and d.coin():            # membership: closed, or of a variable with a fact about it
        ty = d.choice((NAT, INT))
        variables = (("x", ty),) if d.coin() else ()
        scope = {n: (t, True) for n, t in variables}
        arg = gen_expr(d, ty, scope, 1)
        lo = Lit(d.integer(0, 3) if ty == NAT else -d.integer(0, 3), ty)
        p = Mem(arg, lo, Lit(lo.value + d.integer(-1, 5), ty), icc=ty == INT or d.coin())
        hyps = (("h₀", gen_fact(d, Var("x", ty), scope)),) if variables else ()
        return Statement(name, variables, hyps, Not(p) if d.coin(3) else p)
    if kind == 2:
        k = Lit(d.choice((0, 1, 2, 3, 4, 9, 11, 15, 17, 21, 29, 91, 97)), NAT)
        p: Prop = Pred(d.choice(("Nat.Prime", "Nat.Prime", "Even", "Odd")), k)
        return Statement(name, goal=Not(p) if d.coin() else p)
    n = Var("n", NAT)
    ty = d.choice((NAT, INT))
    scope = {"n": (NAT, True)}
    body = gen_expr(d, ty, {**scope, "i": (NAT, True)}, 1)
    whole = BigOp("∑", "i", NAT, Lit(0, NAT), Arith("+", n, Lit(1, NAT), NAT), body, ty, new=d.coin())
    last = d.choice((n, Arith("+", n, Lit(1, NAT), NAT)))     # the right one is `n`
    step = Arith("+", BigOp("∑", "i", NAT, Lit(0, NAT), n, body, ty), substitute(body, "i", last), ty)
    return Statement(name, (("n", NAT),), (), Rel("=", whole, step) if d.coin() else Rel("=", step, whole))


def gen_atom(d: Draw, scope: Scope, depth: int) -> Rel:
    ty = d.choice(NUMBER_TYPES)
    op = d.choice(RELATIONS if ty not in FIELDS else RELATIONS[:-1])   # the fragment has no `∣` over fields
    return Rel(op, gen_expr(d, ty, scope, depth), gen_expr(d, ty, scope, depth))


def gen_prop(d: Draw, scope: Scope, depth: int) -> Prop:
    kind = d.integer(0, 9) if depth > 0 else 0
    if kind <= 3:
        return gen_atom(d, scope, d.integer(0, 2))
    if kind == 4:
        return Not(gen_prop(d, scope, depth - 1))
    if kind <= 7:
        return Conn(d.choice(("∧", "∨", "→", "↔")), gen_prop(d, scope, depth - 1), gen_prop(d, scope, depth - 1))
    if kind == 8 and d.coin(8):
        return Truth(d.coin())
    if kind == 8:
        var, ty = d.choice(BOUND_NAMES), d.choice((NAT, INT))
        return Unbounded(d.choice(("∃", "∀")), var, ty, gen_prop(d, {**scope, var: (ty, True)}, depth - 1))
    return gen_bounded(d, scope, depth)


def gen_bounded(d: Draw, scope: Scope, depth: int) -> Bounded:
    var, q = d.choice(BOUND_NAMES), d.choice(("∀", "∃"))
    if d.coin(4):
        lo = -d.integer(0, 3)
        inner = {**scope, var: (INT, False)}
        return Bounded(q, var, INT, gen_prop(d, inner, depth - 1), lo=lo, hi=lo + d.integer(0, 5))
    sugar = d.coin()
    nat_vars = [n for n, (t, _) in scope.items() if t == NAT and n != var]
    bound: Expr = Lit(d.integer(0, 6), NAT)
    if nat_vars and d.coin(4):
        bound = Var(d.choice(nat_vars), NAT)
    # a binder-predicate variable gets its type from its uses, so it must never be cast
    inner = {**scope, var: (NAT, not sugar)}
    return Bounded(q, var, NAT, gen_prop(d, inner, depth - 1), d.choice(("<", "≤")), bound, sugar=sugar)


# identities over ℤ that fail over ℕ (truncation) or at 0 (division): near-misses for closers
_MUTATIONS: tuple[Callable[[Expr, Expr, str], tuple[Expr, Expr]], ...] = (
    lambda a, b, t: (Arith("+", Arith("-", a, b, t), b, t), a),
    lambda a, b, t: (Arith("-", a, Arith("-", a, b, t), t), b),
    lambda a, b, t: (Arith("*", Arith("/", a, b, t), b, t), a),
    lambda a, b, t: (Arith("/", Arith("*", a, b, t), b, t), a),
    lambda a, b, t: (Arith("+", Arith("%", a, b, t), Arith("*", b, Arith("/", a, b, t), t), t), a),
    lambda a, b, t: (Pow(Arith("-", a, b, t), Lit(2, NAT), t),
                     Arith("+", Arith("-", Pow(a, Lit(2, NAT), t), Arith("*", Arith("*", Lit(2, t), a, t), b, t), t),
                           Pow(b, Lit(2, NAT), t), t)),
    lambda a, b, t: (Arith("/", Arith("+", a, b, t), Lit(2, t), t), Arith("+", Arith("/", a, Lit(2, t), t), Arith("/", b, Lit(2, t), t), t)),
    lambda a, b, t: (Arith("%", Arith("-", a, b, t), Lit(3, t), t), Arith("-", Arith("%", a, Lit(3, t), t), Arith("%", b, Lit(3, t), t), t)),
    lambda a, b, t: (Arith("-", Arith("*", a, a, t), Arith("*", b, b, t), t), Arith("*", Arith("+", a, b, t), Arith("-", a, b, t), t)),
)


# over a field: no `%`; `a / b * b = a` and `(a * b) / b = a` fail only at b = 0, `a * a⁻¹ = 1` at a = 0
_FIELD_MUTATIONS = tuple(m for i, m in enumerate(_MUTATIONS) if i not in (4, 7)) + (
    lambda a, b, t: (Arith("*", a, Fn("inv", (a,), t), t), Lit(1, t)),
    lambda a, b, t: (Arith("+", Arith("/", a, b, t), Arith("/", b, a, t), t),
                     Arith("/", Arith("+", Arith("*", a, a, t), Arith("*", b, b, t), t), Arith("*", a, b, t), t)),
    lambda a, b, t: (Fn("abs", (Arith("-", a, b, t),), t), Arith("-", Fn("max", (a, b), t), Fn("min", (a, b), t), t)),
    lambda a, b, t: (Fn("abs", (Arith("+", a, b, t),), t), Arith("+", Fn("abs", (a,), t), Fn("abs", (b,), t), t)),
)


def gen_fact(d: Draw, v: Var, scope: Scope) -> Prop:
    """A hypothesis that tactics can use: a bound, a value, a residue, a divisor, a witness."""
    c = Lit(d.choice(LITERALS[:8]), v.ty)
    kind = d.integer(0, 8)
    if v.ty in FIELDS and kind in (3, 4):   # no `%` or `∣` over a field: a reciprocal or a ratio instead
        return Rel(d.choice(("=", "<", "≤")), d.choice((Fn("inv", (v,), v.ty), Arith("/", c, v, v.ty))), Lit(d.integer(0, 3), v.ty))
    if kind == 6:                       # truncation and rounding: `x - 3 = 0`, `x / 2 = 1`
        return Rel("=", Arith(d.choice(("-", "/")), v, Lit(d.choice((1, 2, 3)), v.ty), v.ty), Lit(d.integer(0, 3), v.ty))
    if kind == 7:                       # a square bound: `x * x < 10`
        return Rel(d.choice(("<", "≤")), Arith("*", v, v, v.ty), c)
    if kind == 8:                       # from the other side: `5 - x = 2`
        return Rel("=", Arith("-", c, v, v.ty), Lit(d.integer(0, 3), v.ty))
    if kind == 0:
        return Rel("=", v, c)
    if kind == 1:
        return Rel(d.choice(("≤", "<")), v, c)
    if kind == 2:
        return Rel(d.choice(("≤", "<")), c, v)
    if kind == 3:
        m = Lit(d.choice((2, 3, 4, 5)), v.ty)
        return Rel("=", Arith("%", v, m, v.ty), Lit(d.integer(0, 3), v.ty))
    if kind == 4:
        return Rel("∣", Lit(d.choice((2, 3, 4)), v.ty), v)
    k = d.choice(("k", v.name))                 # the witness's name may shadow the variable
    body = Rel("=", v, Arith("+", Arith("*", Lit(d.choice((2, 3)), v.ty), Var(k, v.ty), v.ty), Lit(d.integer(0, 2), v.ty), v.ty))
    return Unbounded("∃", k, v.ty, body)


def near_miss(d: Draw, fact: Prop, scope: Scope) -> Prop:
    """A goal close to what a fact gives: often true, often off by one or one case."""
    if isinstance(fact, Rel) and fact.op in ("=", "≤", "<") and isinstance(fact.lhs, Var):
        v = fact.lhs
        rhs = fact.rhs if isinstance(fact.rhs, Lit) else Lit(1, v.ty)
        bump = Lit(max(rhs.value + d.integer(-1, 1), 0), v.ty)
        lhs = d.choice((v, Pow(v, Lit(2, NAT), v.ty), Arith("*", Lit(2, v.ty), v, v.ty),
                        Arith("-", v, Lit(1, v.ty), v.ty), Arith("/", v, Lit(2, v.ty), v.ty)))
        target = Pow(bump, Lit(2, NAT), v.ty) if isinstance(lhs, Pow) else bump
        return Rel(d.choice(("=", "≤", "<", "≠", "≥")), lhs, target)
    if isinstance(fact, Rel) and isinstance(fact.rhs, Lit):
        # any other fact about a variable: bound that variable near the fact's constant
        v = next((e for e in (fact.lhs, getattr(fact.lhs, "lhs", None), getattr(fact.lhs, "rhs", None))
                  if isinstance(e, Var)), None)
        if v is not None:
            c = Lit(max(fact.rhs.value + d.integer(-1, 3), 0), v.ty)
            return Rel(d.choice(("=", "≤", "<", "≠", "≥", ">")), v, c)
    if isinstance(fact, Unbounded) and isinstance(fact.body, Rel):
        v = fact.body.lhs
        m = Lit(d.choice((2, 3)), v.ty)
        return Rel(d.choice(("=", "≠")), Arith("/" if v.ty in FIELDS else "%", v, m, v.ty), Lit(d.integer(0, 2), v.ty))
    return gen_prop(d, scope, 1)


def gen_statement(d: Draw, name: str = "fz") -> Statement:
    shape = d.integer(0, 7) if d.coin(3) else d.choice((4, 5, 6, 7))
    if shape == 7:
        return gen_discrete_statement(d, name)
    if shape == 0:                      # closed: exact evaluation decides it
        return Statement(name, goal=gen_prop(d, {}, d.integer(0, 2)))
    nvars = d.integer(1, 3)
    names = list(VAR_NAMES[:nvars])
    variables = tuple((n, d.choice(NUMBER_TYPES)) for n in names)
    scope: Scope = {n: (t, True) for n, t in variables}
    hyps = tuple((HYP_NAMES[i], gen_prop(d, scope, d.integer(0, 1))) for i in range(d.integer(0, 2)))
    if shape == 6:                      # a cast moved through an operation: true for + * / % ^, not for -
        # (into ℤ from ℕ; into a field from ℕ or ℤ, where `/` is another operation altogether)
        target = d.choice((INT, INT, REAL, RAT))
        src = INT if target in FIELDS and d.coin() else NAT
        src_scope = {n: (src, True) for n, _ in variables}
        a, b = gen_expr(d, src, src_scope, 1), gen_expr(d, src, src_scope, 1)
        op = d.choice(("-", "+", "*", "/", "%", "-") if target == INT else ("-", "+", "*", "/", "/", "^"))
        if op == "^":
            lhs, rhs = Cast(Pow(a, Lit(2, NAT), src), target), Pow(Cast(a, target), Lit(2, NAT), target)
        else:
            lhs, rhs = Cast(Arith(op, a, b, src), target), Arith(op, Cast(a, target), Cast(b, target), target)
        src_vars = tuple((n, src) for n, _ in variables)
        facts = (("h₀", Rel(d.choice(("≤", "<", "≠")), b, a if src == NAT else Lit(0, src))),) if d.coin() else ()
        return Statement(name, src_vars, facts, Rel(d.choice(("=", "≤", "≥")), lhs, rhs) if d.coin(3) else Rel("=", lhs, rhs))
    if shape == 5:                      # a goal to introduce or to witness, about the facts
        facts = tuple((HYP_NAMES[j], gen_fact(d, Var(n, t), scope)) for j, (n, t) in enumerate(variables[:2]))
        v = d.choice(BOUND_NAMES)
        ty = d.choice(NUMBER_TYPES)
        inner = {**scope, v: (ty, True)}
        body = near_miss(d, gen_fact(d, Var(v, ty), inner), inner)
        if d.coin():
            body = Conn("→", gen_fact(d, Var(v, ty), inner), body)
        return Statement(name, variables, facts, Unbounded(d.choice(("∀", "∃")), v, ty, body))
    if shape == 4:                      # facts about the variables, and a goal just next to them
        facts = tuple((HYP_NAMES[j], gen_fact(d, Var(n, t), scope)) for j, (n, t) in enumerate(variables[:2]))
        goal = near_miss(d, facts[0][1], scope)
        # a later binder of the same name makes the goal about a new variable the facts never saw
        late = (variables[0],) if d.coin(3) else ()
        return Statement(name, variables, facts, goal, late)
    if shape == 1:                      # an identity that may only hold over ℤ or away from 0
        ty = d.choice(NUMBER_TYPES)
        mutations = _MUTATIONS if ty not in FIELDS else _FIELD_MUTATIONS
        lhs, rhs = d.choice(mutations)(gen_expr(d, ty, scope, 1), gen_expr(d, ty, scope, 1), ty)
        if d.coin():
            lhs, rhs = rhs, lhs
        return Statement(name, variables, hyps, Rel(d.choice(("=", "≤", "≥")), lhs, rhs))
    late: tuple[tuple[str, str], ...] = ()
    if hyps and d.coin(3):              # a variable after the hypotheses, often shadowing one before
        late = ((d.choice(VAR_NAMES[:nvars + 1]), d.choice((NAT, INT))),)
        scope = {**scope, late[0][0]: (late[0][1], True)}
    return Statement(name, variables, hyps, gen_prop(d, scope, d.integer(0, 2)), late)


# ---------------------------------------------------------------- tactic scripts

CLOSERS = ("omega", "decide", "norm_num", "simp", "linarith", "nlinarith", "positivity", "ring", "ring_nf",
           "rfl", "trivial", "tauto", "simp_all", "assumption", "contradiction", "exact h₀", "norm_num [h₀]",
           "simp [h₀]", "linarith [h₀]", "nlinarith [h₀, h₁]", "omega", "decide", "exact_mod_cast h₀",
           "push_cast; omega", "norm_num at h₀", "simp at h₀", "exact absurd h₀ (by decide)", "exact h₀.1",
           "exact h₀.2", "exact h₀ 0", "exact ⟨_, _⟩", "exact (by omega)", "exact Nat.le_refl _",
           "push_cast; ring", "norm_cast", "exact_mod_cast (by omega)", "zify; omega", "simp [Nat.cast_sub]",
           "rw [Nat.cast_sub h₀]", "push_cast [Nat.cast_sub h₀]; ring", "norm_num [Nat.cast_sub]",
           "norm_num [Finset.sum_range_succ]", "simp [Finset.sum_range_succ, Finset.prod_range_succ]",
           "rw [Finset.sum_range_succ]", "decide", "norm_num [Nat.factorial]", "simp [Nat.Prime]",
           "field_simp", "field_simp; ring", "field_simp at h₀", "field_simp [h₀]", "nlinarith [sq_nonneg (x - y)]",
           "linarith [abs_nonneg x]", "nlinarith [sq_abs x, abs_nonneg x]", "norm_num [div_eq_mul_inv]",
           "exact abs_nonneg _", "push_cast; linarith", "exact_mod_cast h₀.le", "simp [abs_of_nonneg h₀]",
           "positivity", "linarith [Real.exp_pos x, Real.sqrt_nonneg x]", "rw [div_add_div _ _ h₀ h₁]",
           "exact div_pos h₀ h₁", "push_cast; field_simp", "norm_num [abs_of_nonneg]",
           "rfl", "simp [Finset.sum_range_succ]; ring", "exact Finset.sum_range_succ _ _")
LEMMAS = ("Nat.add_comm", "Nat.mul_comm", "Nat.sub_add_cancel", "Nat.add_sub_cancel", "mul_comm", "add_comm",
          "sub_sq", "add_sq", "sub_self", "two_mul", "pow_two", "sq", "mul_add", "add_mul", "mul_assoc",
          "add_assoc", "Nat.mod_lt", "pow_succ", "pow_zero", "mul_one", "one_mul", "add_zero", "zero_add",
          "mul_zero", "zero_mul", "Nat.div_add_mod", "Nat.mod_add_div", "Nat.sub_self", "Nat.sub_zero",
          "Nat.zero_sub", "Nat.mul_div_cancel", "Nat.div_mul_cancel", "Int.sub_add_cancel", "Nat.succ_ne_zero",
          "Finset.sum_range_succ", "Finset.prod_range_succ", "Finset.sum_range_zero", "Finset.prod_range_zero",
          "Nat.factorial_succ", "Nat.factorial", "Nat.gcd_comm", "Nat.lcm_comm", "Finset.sum_range_one",
          "div_add_div_same", "add_div", "sub_div", "div_self", "div_div", "one_div", "div_eq_mul_inv", "inv_inv",
          "mul_inv_cancel₀", "div_mul_cancel₀", "le_div_iff₀", "abs_of_nonneg", "abs_of_neg", "abs_sub_comm",
          "abs_mul", "min_comm", "max_comm", "Real.sqrt_sq", "Real.sq_sqrt", "Real.exp_log", "Real.log_exp",
          "h₀", "h₁")


def _names_in(s: Statement) -> list[str]:
    return [n for n, _ in s.variables + s.late] + [h for h, _ in s.hyps]


def gen_step(d: Draw, s: Statement) -> str:
    """One tactic that changes the state (it may fail, or be wrong in a kernel with a hole)."""
    names = _names_in(s) + ["h", "k"]
    hyps = tuple(h for h, _ in s.hyps) or ("h",)
    nat_vars = [n for n, t in s.variables + s.late if t == NAT] or ["x"]
    scope: Scope = {n: (t, True) for n, t in s.variables + s.late}
    kind = d.integer(0, 24)
    if kind == 0:
        return "intro " + " ".join(d.choice(names) for _ in range(d.integer(1, 2)))
    if kind == 1:
        return d.choice(("constructor", "left", "right", "exfalso", "refine ⟨?_, ?_⟩", "intros", "symm", "push_neg"))
    if kind == 2:
        return f"use {d.choice(LITERALS)}"
    if kind == 3:
        claim = pp_prop(gen_prop(d, scope, d.integer(0, 1)))
        return f"have {d.choice(('h', 'h₀', 'this'))} : {claim} := by {d.choice(CLOSERS)}"
    if kind == 4:
        return f"obtain ⟨{d.choice(names)}, {d.choice(names)}⟩ := {d.choice(hyps)}"
    if kind == 5:
        return f"rcases {d.choice(hyps)} with {d.choice(names)} | {d.choice(names)}"
    if kind == 6:
        x = d.choice(nat_vars)
        ih = d.choice(("ih", "h₀", x))
        return (f"induction {x} with\n  | zero => {d.choice(CLOSERS)}\n"
                f"  | succ {d.choice((x, 'm'))} {ih} => {d.choice(CLOSERS)}")
    if kind == 7:
        return d.choice((f"cases {d.choice(nat_vars)}", f"interval_cases {d.choice(nat_vars)}",
                         f"interval_cases {d.choice([n for n, _ in s.variables + s.late] or ['x'])}",
                         f"subst {d.choice(names)}", f"clear {d.choice(names)}", f"specialize h₀ {d.choice(LITERALS)}"))
    if kind in (8, 9):
        lemma = d.choice(LEMMAS)
        arrow = "← " if d.coin(3) else ""
        where = f" at {d.choice(hyps)}" if d.coin(3) else ""
        return d.choice((f"rw [{arrow}{lemma}]{where}", f"nth_rewrite 1 [{lemma}]{where}",
                         f"simp only [{lemma}]{where}", f"rwa [{arrow}{lemma}]{where}"))
    if kind == 10:
        return f"by_contra {d.choice(('h', 'h₀'))}"
    if kind == 11:
        return f"show {pp_prop(gen_prop(d, scope, 1))}"
    if kind == 12:
        return d.choice(("norm_num at h₀", "simp at h₀", "ring_nf at h₀", "push_neg at h₀", "norm_num at h₀ ⊢",
                         "ring_nf", "push_cast", "norm_cast", "simp at *"))
    if kind == 13:
        inner = d.choice(CLOSERS)
        return f"have h : {pp_prop(gen_prop(d, scope, 0))} := by\n  have h' : {pp_prop(gen_prop(d, scope, 0))} := by {inner}\n  {d.choice(CLOSERS)}"
    if kind == 14:
        return f"exact (by {d.choice(CLOSERS)} : {pp_prop(gen_prop(d, scope, 0))})"
    if kind == 15:
        return f"refine ⟨by {d.choice(CLOSERS)}, ?_⟩"
    if kind == 16:
        return f"cases' {d.choice(hyps)} with {d.choice(names)} {d.choice(names)}"
    if kind == 18:
        return (f"by_cases {d.choice(('h', 'h₀'))} : {pp_prop(gen_atom(d, scope, 1))}\n"
                f"· {d.choice(CLOSERS)}\n· {d.choice(CLOSERS)}")
    if kind == 19:
        return d.choice((f"exact fun {d.choice(names)} {d.choice(names)} => by {d.choice(CLOSERS)}",
                         f"refine fun {d.choice(names)} => ?_", f"exact fun {d.choice(names)} => by {d.choice(CLOSERS)}"))
    if kind == 20:
        return f"rw [{d.choice(hyps)}] at {d.choice(hyps)} ⊢"
    if kind == 21:
        claim = pp_prop(Unbounded("∃", "k", NAT, gen_prop(d, {**scope, "k": (NAT, True)}, 0)))
        return f"obtain ⟨{d.choice(names)}, {d.choice(names)}⟩ : {claim} := ⟨{d.choice(LITERALS)}, by {d.choice(CLOSERS)}⟩"
    if kind == 22:
        return f"have ⟨{d.choice(names)}, {d.choice(names)}⟩ := {d.choice(hyps)}"
    if kind == 23:
        return d.choice((f"exact ⟨{d.choice(LITERALS)}, by {d.choice(CLOSERS)}⟩", f"apply {d.choice(LEMMAS)}",
                         f"exact {d.choice(hyps)}.symm", f"exact {d.choice(hyps)}.le", f"exact {d.choice(LEMMAS)} _ _"))
    return f"obtain {d.choice(names)} | {d.choice(names)} := {d.choice(hyps)}"


def gen_finish(d: Draw) -> list[str]:
    c = d.choice(CLOSERS)
    kind = d.integer(0, 7)
    if kind == 1:
        return [f"all_goals {c}"]
    if kind == 2:
        return [f"{d.choice(('constructor', 'refine ⟨?_, ?_⟩', 'left', 'right', 'intro h', 'skip'))} <;> {c}"]
    if kind == 3:
        return [f"first | {c} | {d.choice(CLOSERS)}"]
    if kind == 4:
        return [f"try {c}", d.choice(CLOSERS)]
    if kind == 5:
        return ["constructor", f"· {c}", f"· {d.choice(CLOSERS)}"]
    if kind == 6:
        return [f"any_goals {c}", f"repeat {d.choice(CLOSERS)}"]
    return [c]


def gen_script(d: Draw, s: Statement) -> list[str]:
    return [gen_step(d, s) for _ in range(d.integer(0, 2))] + gen_finish(d)


# ---------------------------------------------------------------- running one case

class _Timeout(BaseException):
    """Raised by SIGVTALRM inside the kernel; a BaseException so no `except Exception` eats it.
    CPU time, not wall time (fair on a loaded machine), and not SIGALRM, which pytest-timeout owns."""


def _alarm(_signum, _frame):
    raise _Timeout()


def verify_in_process(theorem: Theorem, tactics: Sequence[str], timeout: float = 5.0) -> Verdict:
    """`verify_proof` against a fresh embedded `Session`: the path every proof takes (prechecks,
    one command with `#print axioms`, the reply judged), minus the pipe. Raises _Timeout after
    `timeout` seconds of CPU time."""
    session = Session()
    header_env = session.handle({"cmd": theorem.header})["env"]

    async def run(cmd: str, limit: float) -> dict:
        return json.loads(json.dumps(session.handle({"cmd": cmd, "env": header_env}), ensure_ascii=False))

    old = signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, timeout)
    try:
        return asyncio.run(verify_proof(run, theorem, list(tactics), timeout))
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)


@dataclass
class Outcome:
    kind: str                 # rejected | accepted-true | accepted-undecided | HOLE | timeout
    statement: str
    tactics: list[str]
    decision: Decision | None = None
    verdict: Verdict | None = None

    def reproduction(self) -> str:
        lines = [self.statement] + ["  " + t.replace("\n", "\n  ") for t in self.tactics]
        cex = self.decision.counterexample if self.decision else None
        return "\n".join(lines) + f"\n-- accepted, but false: counterexample {cex} ({self.decision.how if self.decision else ''})"


def check_case(s: Statement, tactics: Sequence[str], timeout: float = 5.0) -> Outcome:
    theorem = Theorem(name=s.name, header=HEADER, statement=s.text())
    try:
        verdict = verify_in_process(theorem, tactics, timeout)
    except _Timeout:
        return Outcome("timeout", theorem.statement, list(tactics))
    if not verdict.ok:
        return Outcome("rejected", theorem.statement, list(tactics), verdict=verdict)
    decision = decide(s)
    kind = {True: "accepted-true", None: "accepted-undecided", False: "HOLE"}[decision.truth]
    return Outcome(kind, theorem.statement, list(tactics), decision, verdict)
