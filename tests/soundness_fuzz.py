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
from lean_env.screen.refute import NOT_REFUTABLE, screen
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


def verify_in_process(theorem: Theorem, tactics: Sequence[str], timeout: float = 5.0, screen: bool = True) -> Verdict:
    """`verify_proof` against a fresh embedded `Session`: the path every proof takes (prechecks,
    one command with `#print axioms`, the reply judged), minus the pipe. Raises _Timeout after
    `timeout` seconds of CPU time. `screen=False`: the kernel alone, without the refutation screen."""
    session = Session()
    header_env = session.handle({"cmd": theorem.header})["env"]

    async def run(cmd: str, limit: float) -> dict:
        return json.loads(json.dumps(session.handle({"cmd": cmd, "env": header_env}), ensure_ascii=False))

    old = signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, timeout)
    try:
        return asyncio.run(verify_proof(run, theorem, list(tactics), timeout, screen=screen))
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)


@dataclass
class Outcome:
    kind: str                 # rejected | accepted-true | accepted-undecided | accepted-outside | HOLE | timeout
    statement: str
    tactics: list[str]
    decision: Decision | None = None   # the old constructor-typed oracle's, where the case has one
    verdict: Verdict | None = None
    counterexample: str = ""

    def reproduction(self) -> str:
        lines = [self.statement] + ["  " + t.replace("\n", "\n  ") for t in self.tactics]
        cex = self.counterexample or (self.decision.counterexample if self.decision else None)
        return "\n".join(lines) + f"\n-- accepted, but false: counterexample {cex}"


def check_text(statement: str, tactics: Sequence[str], timeout: float = 5.0) -> Outcome:
    """One statement and script through whole-proof verification, which runs the refutation
    screen (`lean_env.screen`, the independent elaborator) on what the kernel accepts: a HOLE is
    a proof the kernel accepted of a statement the screen refutes."""
    theorem = Theorem(name="fz", header=HEADER, statement=statement)
    try:
        verdict = verify_in_process(theorem, tactics, timeout)
    except _Timeout:
        return Outcome("timeout", statement, list(tactics))
    if verdict.incident:
        cex = verdict.incident.split("counterexample: ", 1)[-1]
        return Outcome("HOLE", statement, list(tactics), verdict=verdict, counterexample=cex)
    if not verdict.ok:
        return Outcome("rejected", statement, list(tactics), verdict=verdict)
    status = screen(statement)
    kind = "accepted-true" if status.status == NOT_REFUTABLE else "accepted-undecided"
    if status.how.startswith("outside"):
        kind = "accepted-outside"      # the screen does not type it (Lean may reject it)
    return Outcome(kind, statement, list(tactics), verdict=verdict)


def check_case(s: Statement, tactics: Sequence[str], timeout: float = 5.0) -> Outcome:
    """A constructor-built statement: the screen is the arbiter, and the old typed oracle a second
    opinion (a statement it refutes that the kernel accepted is a HOLE too, so two independent
    readings of the text must both miss a false acceptance)."""
    out = check_text(s.text(), tactics, timeout)
    if out.kind.startswith("accepted"):
        decision = decide(s)
        out.decision = decision
        if decision.truth is False:
            out.kind = "HOLE"
    return out


# ---------------------------------------------------------------- Lean as people and provers write it
#
# Text, not syntax trees: untyped binders, ascriptions on composite terms, numerals with no type,
# mixed carriers in one statement, `.trans`/`calc` chains, casts around truncating operations,
# floor/ceil/abs/min/max/∑ under an expected type, facts moved between types, `have` chains. The
# generator never decides what the text means: the screen's own elaborator does.

CARRIERS = (NAT, INT, RAT, REAL)
SMALL = (0, 1, 2, 3, 4, 5, 7, 10)
CLOSED = ("1 - 2", "2 - 5 + 3", "7 / 2", "7 % 3", "1 / 2", "3 - 4 * 2", "(5 - 7) / 2", "2 ^ 3 - 10", "-7 / 2",
          "-7 % 2", "6 / 4 * 2", "1 / 3 + 1 / 3")
CAST_CLOSERS = ("omega", "norm_num", "simp", "linarith", "push_cast; ring", "push_cast; omega", "exact_mod_cast h",
                "norm_cast", "norm_cast at h", "norm_cast at h ⊢", "push_cast at h ⊢; linarith", "zify at h ⊢; omega",
                "zify [h]", "qify at h ⊢; linarith", "simpa using h", "exact h", "rw [Nat.cast_sub h]",
                "push_cast [Nat.cast_sub h]; ring", "simp [Nat.cast_sub h]", "exact Int.natCast_dvd_natCast.mp h",
                "rw [Int.natCast_dvd_natCast] at h; exact h", "exact (Nat.cast_dvd_cast h)", "norm_num at h ⊢",
                "simp at h ⊢; omega", "field_simp at h ⊢", "nlinarith [h]", "positivity", "decide", "rfl",
                "exact_mod_cast h.le", "have := h; norm_cast at this", "exact Nat.cast_inj.mp h", "ring",
                "norm_num [Finset.sum_range_succ]", "simp [Finset.sum_range_succ]", "tauto", "trivial")


def _ascribe(d: Draw, text: str, ty: str) -> str:
    return f"({text} : {ty})"


def gen_text_term(d: Draw, names: Sequence[str], depth: int) -> str:
    """An arithmetic term as a person writes it: untyped numerals, variables, ascriptions of
    variables and of composite terms, casts, and functions whose type comes from outside."""
    if depth <= 0 or d.coin(3):
        kind = d.integer(0, 5)
        if kind <= 1 and names:
            return d.choice(names)
        if kind == 2 and names:
            return _ascribe(d, d.choice(names), d.choice(CARRIERS))
        if kind == 3:
            return _ascribe(d, str(d.choice(SMALL)), d.choice(CARRIERS))
        return str(d.choice(SMALL))
    kind = d.integer(0, 11)
    a, b = gen_text_term(d, names, depth - 1), gen_text_term(d, names, depth - 1)
    op = d.choice(("+", "-", "*", "/", "%", "-", "/"))
    if kind <= 3:
        return f"{a} {op} {b}" if depth == 1 or d.coin() else f"({a} {op} {b})"
    if kind == 4:                                    # an ascription on a composite term
        return f"({a} {op} {b} : {d.choice(CARRIERS)})"
    if kind == 5:                                    # a cast around a truncating operation
        src = d.choice((NAT, INT))
        return f"(({a} {d.choice(('-', '/', '%'))} {b} : {src}) : {d.choice(CARRIERS[CARRIERS.index(src) + 1:])})"
    if kind == 6:
        return f"{d.choice(('min', 'max'))} ({a}) ({b})"
    if kind == 7:
        return f"|{a} - {b}|"
    if kind == 8:
        return f"{d.choice(('Int.floor', 'Int.ceil'))} ({a} / {b} : {d.choice((RAT, REAL))})"
    if kind == 9:
        body = d.choice(("i - 1", "i * i - 3", "2 * i - 1", "(i : ℤ) - 2", "i / 2", f"i - {d.choice(SMALL)}"))
        return f"(∑ i in Finset.range {d.integer(0, 5)}, ({body}))"
    if kind == 10:
        return f"({a}) ^ {d.integer(0, 3)}"
    return f"-({a})"


def gen_text_relation(d: Draw, names: Sequence[str], depth: int = 2) -> str:
    lhs, rhs = gen_text_term(d, names, depth), gen_text_term(d, names, d.integer(0, depth))
    op = d.choice(("=", "≤", "<", "≠", "≥", "∣"))
    form = d.integer(0, 3)
    if form == 0:                                   # the whole relation's carrier set by one ascription
        return f"({lhs} : {d.choice(CARRIERS)}) {op} {rhs}"
    return f"{lhs} {op} {rhs}"


def _binders(d: Draw, count: int) -> tuple[list[str], str]:
    names = list(VAR_NAMES[:count])
    groups, i = [], 0
    while i < len(names):
        j = min(len(names), i + d.integer(1, 2))
        groups.append(f"({' '.join(names[i:j])} : {d.choice(CARRIERS)})")
        i = j
    return names, " ".join(groups)


def gen_cast_transfer(d: Draw) -> tuple[str, list[list[str]]]:
    """`((a - b : ℕ) : ℤ) = a - b` and relatives: true with the right side condition, else false."""
    src = d.choice((NAT, NAT, INT))
    dst = d.choice(CARRIERS[CARRIERS.index(src) + 1:])
    op = d.choice(("-", "-", "/", "%", "+", "*"))
    lhs = d.choice((f"(({'a'} {op} b : {src}) : {dst})", f"(↑(a {op} b) : {dst})"))
    rhs = d.choice((f"(a : {dst}) {op} b", f"(a {op} b : {dst})", f"(a : {dst}) {op} (b : {dst})"))
    rel = d.choice(("=", "=", "≤", "≥"))
    hyp = d.choice(("", "(h : b ≤ a) ", "(h : a ≤ b) ", "(h : b ∣ a) ", "(h : 0 < b) ", "(h : a = b + 1) "))
    statement = f"theorem fz (a b : {src}) {hyp}: {lhs} {rel} {rhs} := by"
    return statement, [[d.choice(CAST_CLOSERS)] for _ in range(3)]


def gen_trans_chain(d: Draw) -> tuple[str, list[list[str]]]:
    """Two equations over one closed expression read at two carriers, joined by `.trans`, `▸`,
    `calc` or a rewrite: legal only when the carriers agree."""
    e = d.choice(CLOSED)
    t1, t2 = d.choice(CARRIERS), d.choice(CARRIERS)
    v2 = f"({e} : {t2})"
    goal = d.choice(("False", f"({d.integer(-3, 3)} : {t1}) = {d.integer(-3, 3)}", f"{d.integer(0, 3)} = {d.integer(0, 3)}"))
    joins = ("have h3 := h1.trans h2", "have h3 := Eq.trans h1 h2", "have h3 := h2.symm.trans h1.symm",
             "rw [h1] at h2", "have h3 := h1 ▸ h2", "have h3 : _ := by rw [h1]; exact h2")
    finish = ("omega", "simp at h3", "norm_num at h3", "linarith", "exact absurd h3 (by norm_num)", "simp_all",
              "exact h3", "contradiction", "norm_num at h2", "omega")
    a, b = _value_at(e, t1), _value_at(e, t2)     # right most of the time, so the join is what matters
    a = a if a is not None and d.integer(0, 3) else d.integer(-3, 3)
    b = b if b is not None and d.integer(0, 3) else d.integer(-3, 3)
    scripts = []
    for _ in range(3):
        lines = [f"have h1 : ({a} : {t1}) = {e} := by norm_num", f"have h2 : {v2} = {b} := by norm_num"]
        if d.coin(3):
            lines = [f"have h3 : ({a} : {t1}) = {b} := by\n  calc ({a} : {t1}) = {e} := by norm_num\n"
                     f"    _ = {b} := by {d.choice(('norm_num', 'rfl', 'omega', 'simp'))}"]
        else:
            lines.append(d.choice(joins))
        scripts.append(lines + [d.choice(finish)])
    return f"theorem fz : {goal} := by", scripts


def _value_at(e: str, ty: str) -> str | None:
    """The value of a closed expression at a carrier, as Lean text (by the screen's reading)."""
    from lean_env.screen.elaborate import Outside, elaborate
    from lean_env.screen.evaluate import Opaque, value

    try:
        v = value(elaborate(f"theorem v : ({e} : {ty}) = 0 := by").goal.args[0], {})
    except (Outside, Opaque):
        return None
    return f"({v})" if v < 0 or "/" in str(v) else str(v)


def gen_binder_typing(d: Draw) -> tuple[str, list[list[str]]]:
    """Untyped binders typed by their uses: `∀ x, (x : ℤ) ≥ 0` is about ℤ."""
    ty = d.choice(CARRIERS)
    c = d.choice(SMALL)
    body = d.choice((f"(x : {ty}) ≥ 0", f"(x : {ty}) - 1 + 1 = x", f"x - {c} + {c} = (x : {ty})",
                     f"(x : {ty}) * x ≥ 0", f"(x : {ty}) / 2 * 2 = x", f"x + 1 > (0 : {ty})", f"(x : {ty}) < {c}",
                     f"x % 2 = (1 : {ty})", f"(x - 1 : {ty}) < x", f"(x : {ty}) ^ 2 ≥ x"))
    q = d.choice(("∀ x,", "∃ x,", "∀ x > 0,", "∃ x < 3,", "∀ x, x ≤ 5 →"))
    scripts = []
    for _ in range(3):
        first = d.choice(("intro x", "intro x hx", "use 0", f"use {c}", "use 1", "intros", "refine ⟨0, ?_⟩"))
        scripts.append([first, d.choice(("positivity", "omega", "norm_num", "simp", "linarith", "nlinarith [sq_nonneg x]",
                                         "decide", "exact Nat.zero_le _", "ring_nf", "norm_cast", "push_cast; omega",
                                         "exact le_refl _", "constructor <;> norm_num"))])
    return f"theorem fz : {q} {body} := by", scripts


def gen_expected_type(d: Draw) -> tuple[str, list[list[str]]]:
    """floor/ceil/abs/min/max/∑ whose argument's carrier comes from an expected type."""
    k = d.choice(SMALL)
    ty = d.choice(CARRIERS)
    forms = [
        (f"(a b : ℕ)", f"(min (a - b) {k} : {ty}) ≥ 0"),
        (f"(a b : ℕ)", f"(max (a - b) (b - a) : {ty}) = |(a : {ty}) - b|"),
        ("", f"(∑ i in Finset.range {d.integer(1, 5)}, (i - {d.integer(0, 2)}) : {ty}) = {d.integer(-2, 8)}"),
        ("", f"(∏ i in Finset.range {d.integer(1, 4)}, (i + {d.integer(0, 2)} - 2) : {ty}) = {d.integer(-2, 4)}"),
        ("(x : ℝ)", f"Int.floor (x + 1/{d.integer(1, 4)}) = Int.floor (x + 1/{d.integer(1, 4)})"),
        ("(a b : ℤ)", f"Int.floor ((a : ℝ) / b) = a / b"),
        ("(a b : ℕ)", f"Int.floor ((a : ℚ) / b) = a / b"),
        ("(n : ℕ)", f"(Int.ceil ((n : ℝ) / {d.integer(1, 3)}) : ℤ) ≥ (n / {d.integer(1, 3)} : ℕ)"),
        ("(a : ℤ)", f"|a| = (a.natAbs : {ty})" if ty != NAT else "|a| = a"),
        ("(a b : ℕ)", f"(min a b : {ty}) - max a b ≤ 0"),
        ("(n : ℕ) (h : 0 < n)", f"(∑ i in Finset.range n, (1 : {ty})) = n"),
    ]
    binders, goal = d.choice(forms)
    scripts = [[d.choice(("decide", "norm_num", "simp", "omega", "rfl", "norm_num [Finset.sum_range_succ]",
                          "simp [Finset.sum_range_succ, Finset.prod_range_succ]", "positivity", "linarith",
                          "exact min_le_left _ _", "push_cast; omega", "simp [abs_eq_max_neg]", "norm_cast",
                          "exact Int.floor_le_floor _ _ (by linarith)", "rw [Int.floor_div_eq_div]", "ring_nf",
                          "simp [Int.floor_intCast]", "exact_mod_cast rfl"))] for _ in range(3)]
    return f"theorem fz {binders} : {goal} := by", scripts


# a relation over x y with a `T` slot: the hypothesis and the goal read it at two carriers
_TRANSFERS = ("{x} ∣ y", "{x} - y = {c}", "{x} % {m} = {r}", "{x} / {m} = {r}", "{x} < y", "{x} * y = {c}",
              "{x} + y = {c}", "{x} - y ≤ {c}", "y - {x} = 0", "{x} ^ 2 = {c}", "2 * {x} = {c}")


def gen_fact_transfer(d: Draw) -> tuple[str, list[list[str]]]:
    """A fact at one carrier, the goal the same relation at another: `(h : (x : ℝ) ∣ y) : x ∣ y`."""
    rel = d.choice(_TRANSFERS)
    fill = {"c": d.choice(SMALL), "m": d.integer(2, 4), "r": d.integer(0, 2)}
    src = d.choice((NAT, NAT, INT))
    t1, t2 = d.choice(CARRIERS), d.choice(CARRIERS)
    hyp = rel.format(x=f"(x : {t1})", **fill)
    goal = rel.format(x=f"(x : {t2})", **fill)
    scripts = [[d.choice(CAST_CLOSERS)] for _ in range(2)] + [[d.choice(CAST_CLOSERS), d.choice(CAST_CLOSERS)]]
    return f"theorem fz (x y : {src}) (h : {hyp}) : {goal} := by", scripts


def gen_numeral_default(d: Draw) -> tuple[str, list[list[str]]]:
    """A `have` with numerals and no type (so ℕ) used where the carrier is another."""
    e = d.choice(CLOSED[:8])
    ty = d.choice((INT, RAT, REAL))
    wrong = d.choice(("0", "3", "1", "2"))
    statement = f"theorem fz (x : {ty}) (h : x = {e}) : x = {wrong} := by"
    scripts = []
    for _ in range(3):
        scripts.append([f"have h2 : {e} = {wrong} := by {d.choice(('norm_num', 'decide', 'rfl', 'simp'))}",
                        d.choice(("rw [h, h2]", "rw [h2] at h; exact h", "exact h.trans h2", "simp [h, h2]",
                                  "linarith [h, h2]", "omega", "subst h; exact h2", "norm_num [h, h2]",
                                  "rw [h]; exact_mod_cast h2", "simp only [h2] at h; exact h"))])
    return statement, scripts


def gen_have_chain(d: Draw) -> tuple[str, list[list[str]]]:
    """Facts about the variables at mixed carriers, a chain of `have`s, and a goal next to them."""
    names, binders = _binders(d, d.integer(1, 3))
    hyps = " ".join(f"(h{i} : {gen_text_relation(d, names, 1)})" for i in range(d.integer(0, 2)))
    goal = gen_text_relation(d, names, 2)
    scripts = []
    for _ in range(3):
        steps = [f"have h{5 + j} : {gen_text_relation(d, names, 1)} := by {d.choice(CAST_CLOSERS)}"
                 for j in range(d.integer(0, 2))]
        scripts.append(steps + [d.choice(CAST_CLOSERS)])
    return f"theorem fz {binders} {hyps} : {goal} := by".replace("  ", " "), scripts


def gen_dvd_lift(d: Draw) -> tuple[str, list[list[str]]]:
    """A divisibility made in a field (where every nonzero number divides everything) and moved
    back to ℕ by a cast tactic: `↑a ∣ ↑b ↔ a ∣ b` holds from ℤ only."""
    a, b = d.integer(2, 5), d.integer(2, 7)
    ty = d.choice((RAT, REAL, INT))
    goal = d.choice(("False", "a ∣ b", f"{a} ∣ {b}"))
    move = d.choice(("norm_cast at h", "exact_mod_cast h", "push_cast at h", "simp only [Nat.cast_dvd_cast] at h",
                     "rw [Int.natCast_dvd_natCast] at h", "exact Int.natCast_dvd_natCast.mp h"))
    script = [f"have h := dvd_mul_right (a : {ty}) ({b}/{a})",
              f"have e : (a : {ty}) * ({b}/{a}) = (b : {ty}) := by rw [ha, hb]; norm_num", "rw [e] at h", move]
    if goal == "False":
        script += ["subst ha hb", d.choice(("omega", "norm_num at h", "simp at h", "decide"))]
    elif goal != "a ∣ b":
        script += ["rw [ha, hb] at h", "exact h"]
    return f"theorem fz (a b : ℕ) (ha : a = {a}) (hb : b = {b}) : {goal} := by", [script]


_RULE_BODIES = ("2 * x - 3", "x ^ 2 - x", "x - 5", "x / 2 + 1", "3 * x + y", "x * y - 1", "1 / x")
_RULE_CONDITIONS = ("", "x ≠ 0 → ", "2 ≤ x → ", "x < 4 → ", "x ≠ y → ", "0 < x ∧ x < 5 → ")


def gen_forall_rewrite(d: Draw) -> tuple[str, list[list[str]]]:
    """A local `h : ∀ x, [cond →] f x = e` used by the simp family: instances at numerals, nested,
    summed, at the local `x` (which the rule's bound `x` shadows), under the goal's own `∀ x` or a
    sum's bound `x`, with side conditions that hold or not and facts about the local `x` at hand."""
    ty = d.choice(CARRIERS)
    body, cond = d.choice(_RULE_BODIES), d.choice(_RULE_CONDITIONS)
    a, b, c = d.choice(SMALL), d.choice(SMALL), d.choice(SMALL)
    at_a = _value_at(body.replace("x", f"({a})"), ty) if "y" not in body else None
    # the rule's value at `a` (right whatever the condition says) half the time, else a guess
    v = at_a if at_a is not None and d.coin() else d.integer(-3, 20)
    fact = d.choice((f"x = {c}", f"x ≠ {c}", f"0 < x", f"x = y + {c}"))
    goal = d.choice((f"f {a} = {v}", f"f {a} = {v}", f"f {a} + f {b} = {v}", f"f (f {a}) = {v}", f"f x = {v}", f"f x = f {c}",
                     f"∀ x : {ty}, f x = {body}", f"∀ x : {ty}, f x = {d.choice(_RULE_BODIES)}",
                     f"∀ z : {ty}, f z = {body.replace('x', 'z')}",
                     f"(∑ x in Finset.range {a}, f x) = {v}" if ty == NAT else f"f y = {v}"))
    rule = f"∀ x : {ty}, {cond}f x = {body}"
    statement = f"theorem fz (f : {ty} → {ty}) (x y : {ty}) (hx : {fact}) (h : {rule}) : {goal} := by"
    tactics = ("simp [h]", "simp only [h]", "norm_num [h]", "simp [h, hx]", "norm_num [h, hx]", "simp_all",
               "simp [*] at *", "field_simp [h]", "simp [h] at hx ⊢", "simp [h] at h", "norm_num [h] at hx",
               "rw [h]", "simp [hx] at h")
    finish = ("linarith", "norm_num", "simp", "ring_nf", "omega", "exact hx", "rfl", "nlinarith [hx]")
    scripts = [[d.choice(tactics)], [d.choice(tactics), d.choice(finish)], [d.choice(tactics), d.choice(tactics)]]
    return statement, scripts


HUMAN_FAMILIES: dict[str, Callable[[Draw], tuple[str, list[list[str]]]]] = {
    "cast_transfer": gen_cast_transfer, "trans_chain": gen_trans_chain, "binder_typing": gen_binder_typing,
    "expected_type": gen_expected_type, "fact_transfer": gen_fact_transfer, "numeral_default": gen_numeral_default,
    "have_chain": gen_have_chain, "dvd_lift": gen_dvd_lift, "forall_rewrite": gen_forall_rewrite,
}


def gen_human(d: Draw) -> tuple[str, str, list[list[str]]]:
    """(family, statement, scripts) of one people-style case."""
    family = d.choice(sorted(HUMAN_FAMILIES))
    statement, scripts = HUMAN_FAMILIES[family](d)
    return family, statement, scripts


# ---------------------------------------------------------------- type perturbation of shipped proofs

def known_proofs(root) -> list[tuple[str, str, list[str]]]:
    """(id, statement, tactics) of every shipped proof: known proofs, seed proofs, have-chains."""
    from pathlib import Path

    data = Path(root) / "data" / "embedded"
    statements = {}
    for name in ("theorems.jsonl", "havechain.jsonl"):
        for line in (data / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                statements[row["id"]] = row["formal_statement"]
    out = []
    for name in ("known_proofs.jsonl", "seed_proofs.jsonl", "havechain_known_proofs.jsonl"):
        for line in (data / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                if row["id"] in statements:
                    out.append((row["id"], statements[row["id"]], row["tactics"]))
    return out


def perturb(d: Draw, statement: str) -> str:
    """One change of types or numbers in a statement: a binder's type, a numeral's value, an
    ascription on a numeral, a relation loosened or tightened."""
    from lean_env.lexer import code_tokens

    toks = code_tokens(statement)
    types = [t for t in toks if t.text in CARRIERS]
    nums = [t for t in toks if t.kind == "num"]
    rels = [t for t in toks if t.text in ("<", "≤", ">", "≥")]
    kinds = ["type"] * bool(types) * 2 + ["num"] * bool(nums) + ["ascribe"] * bool(nums) + ["rel"] * bool(rels)
    if not kinds:
        return statement
    kind = d.choice(kinds)
    if kind == "type":
        t = d.choice(types)
        return statement[:t.start] + d.choice([c for c in CARRIERS if c != t.text]) + statement[t.end:]
    if kind == "num":
        t = d.choice(nums)
        v = max(int(t.text) + d.choice((-1, 1, 2)), 0)
        return statement[:t.start] + str(v) + statement[t.end:]
    if kind == "ascribe":
        t = d.choice(nums)
        return statement[:t.start] + f"({t.text} : {d.choice(CARRIERS)})" + statement[t.end:]
    t = d.choice(rels)
    swap = {"<": "≤", "≤": "<", ">": "≥", "≥": ">"}[t.text]
    return statement[:t.start] + swap + statement[t.end:]


EXTRA_STEPS = ("rintro h", "nth_rw 1 [h₀]", "exists 0", "rename_i h'", "done", "focus\n  simp", "push_neg",
               "norm_num at *", "simp at *", "induction' n with n ih", "rcases h₀ with ⟨k, hk⟩", "interval_cases x",
               "constructor", "intro h", "exfalso", "by_contra h", "symm", "nlinarith [sq_nonneg (a - b)]",
               "field_simp", "ring_nf at h₀ ⊢", "simp only [h₀]", "rw [← h₀]", "subst h₀", "specialize h₀ 1",
               "cases' h₀ with h h", "obtain ⟨h1, h2⟩ := h₀", "exact h₀.1", "exact (h₀ 0)", "apply le_of_lt",
               "refine ⟨?_, ?_⟩", "all_goals omega", "any_goals simp", "repeat rw [pow_succ]", "tauto")


def mutate_script(d: Draw, tactics: Sequence[str]) -> list[str]:
    """A shipped proof changed a little, as a model's near-miss would be: a step dropped,
    swapped, inserted, or a closer replaced."""
    out = list(tactics)
    kind = d.integer(0, 4)
    i = d.integer(0, max(len(out) - 1, 0))
    if kind == 0 and len(out) > 1:
        del out[i]
    elif kind == 1 and len(out) > 1 and i + 1 < len(out):
        out[i], out[i + 1] = out[i + 1], out[i]
    elif kind == 2:
        out.insert(i, d.choice(EXTRA_STEPS))
    elif kind == 3 and out:
        out[-1] = d.choice(CAST_CLOSERS)
    else:
        out[i:i + 1] = [d.choice(EXTRA_STEPS), out[i]] if out else [d.choice(EXTRA_STEPS)]
    return out
