"""Discrete mathematics of the fragment: finite sets of numbers, sums and products over them, and
number theory on numerals (`Nat.gcd`, `n !`, `Nat.Prime`, ...), with Lean's exact meaning.

Terms are ordinary applications (`functions.SIGNATURES` types the plain ones):
- sets: `Finset.range n` = {0, ..., n-1}, `Finset.Icc a b` = {a, ..., b}, `Finset.Ico a b` =
  {a, ..., b-1} (empty when the bounds cross), `Nat.divisors n` = the d ∣ n with 1 ≤ d
  (`Nat.divisors 0 = ∅`), `Nat.properDivisors n` (without n), and `Finset.filter (fun x => P) s`;
- `∑ i ∈ s, b` is `App(Var("Finset.sum"), (s, fun i => b))`, `∏` is `Finset.prod` (the empty sum is
  0, the empty product 1), `Finset.card s` counts, `x ∈ s` is `Membership.mem x s`;
- a set variable (`S : Finset ℕ`, `S : Set ℤ`) has the context type "Finset ℕ": opaque, with
  typed elements.

This module elaborates the binder-carrying applications (a sum's body is typed with its binder at
the set's element type) and evaluates every closed application exactly, with the numbers' own
semantics (a ℕ body truncates its subtractions). Evaluation refuses what Lean could not finish
either (huge sets or factorials) with `ArithError`, so a tactic fails rather than hangs.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

from lean_env.embedded.arith import ArithError, decide, evaluate, is_closed_arith, term_type
from lean_env.embedded.carriers import is_integral
from lean_env.embedded.functions import ALPHA, SIGNATURES
from lean_env.embedded.terms import (
    INT, NAT, App, Bin, Const, Num, Quant, Term, Un, Var, children, free_vars, num, pp, replace, subst, with_children,
)
from lean_env.embedded.types import PROP, ElabError, _at, _leaf_type, _leaves, _max_type, elab_prop, tree

MAX_ELEMENTS = 20_000     # sets longer than this are not enumerated (Lean's `decide` gives up far sooner)
MAX_FACTORIAL = 3_000

BIG_OPERATORS = {"Finset.sum": "∑", "Finset.prod": "∏"}
SETS = ("Finset.range", "Finset.Icc", "Finset.Ico", "Finset.filter", "Nat.divisors", "Nat.properDivisors")
BINDER_FUNCTIONS = frozenset(BIG_OPERATORS) | frozenset(SETS) | {"Finset.card", "Membership.mem"}
SET_TYPES = ("Finset", "Set")   # a set variable's type in the context: "Finset ℕ", "Set ℤ"

# `S.card`, `n.divisors`, `n !` spelled `n.factorial`: Lean's dot notation on ℕ/ℤ/Finset values
DOT_FUNCTIONS = {"card": "Finset.card", "divisors": "Nat.divisors", "properDivisors": "Nat.properDivisors",
                 "factorial": "Nat.factorial", "natAbs": "Int.natAbs", "toNat": "Int.toNat"}


def set_variable(ty: object) -> tuple[str, str] | None:
    """("Finset", "ℕ") for a context type "Finset ℕ"; None for anything else."""
    if isinstance(ty, str) and " " in ty and ty.split(" ", 1)[0] in SET_TYPES:
        kind, elem = ty.split(" ", 1)
        return kind, elem
    return None


def head(t: Term) -> str | None:
    """The function name of an application `f a b` (None for anything else)."""
    return t.fn.name if isinstance(t, App) and isinstance(t.fn, Var) else None


# ---------------------------------------------------------------- number theory on numerals

def _prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    if n > 10 ** 12:
        raise ArithError("numeral too large to test for primality")
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def _factorial(n: int) -> int:
    if n > MAX_FACTORIAL:
        raise ArithError("factorial too large to evaluate")
    return math.factorial(n)


def _choose(n: int, k: int) -> int:
    if k > n:
        return 0
    if min(k, n - k) > MAX_FACTORIAL:
        raise ArithError("binomial coefficient too large to evaluate")
    return math.comb(n, k)


# name -> exact value on integer arguments (the argument types are the signature's)
VALUES: dict[str, Callable[..., int | bool]] = {
    "Nat.gcd": math.gcd,
    "Nat.lcm": lambda a, b: 0 if a == 0 or b == 0 else a * b // math.gcd(a, b),
    "Nat.factorial": _factorial,
    "Nat.choose": _choose,
    "Nat.Prime": _prime,
    "Even": lambda n: n % 2 == 0,
    "Odd": lambda n: n % 2 == 1,
    "Int.natAbs": abs,
    "Nat.sqrt": math.isqrt,
    "Int.toNat": lambda z: max(z, 0),
    "Int.floor": math.floor,   # exact on a Fraction
    "Int.ceil": math.ceil,
    "Nat.floor": lambda x: max(math.floor(x), 0),
    "Nat.ceil": lambda x: max(math.ceil(x), 0),
}


# ---------------------------------------------------------------- elaboration

def _binder(f: Term, where: str) -> Quant:
    if not (isinstance(f, Quant) and f.kind == "fun"):
        raise ElabError(f"the embedded fragment needs a `fun x => ...` (or big-operator binder) in {where}")
    return f


def elab_set(s: Term, ctx: dict, elem: str | None = None, finite: bool = True) -> tuple[Term, str]:
    """Elaborate a finite set; returns it with its element type (`elem`: the binder's ascription).
    A `Set` variable is allowed only where any set is (`x ∈ S`, `finite=False`), not in a sum."""
    name = head(s)
    args = s.args if isinstance(s, App) else ()
    if isinstance(s, Var) and set_variable(ctx.get(s.name)) and (not finite or ctx[s.name].startswith("Finset ")):
        kind, ty = set_variable(ctx[s.name])
        if elem not in (None, ty):
            raise ElabError(f"type mismatch\n  {s.name}\nhas type {ctx[s.name]} but is expected to have type {kind} {elem}")
        return s, ty
    if name in ("Finset.range", "Nat.divisors", "Nat.properDivisors") and len(args) == 1:
        if elem not in (None, NAT):
            raise ElabError(f"type mismatch\n  {name}\nhas type Finset ℕ but is expected to have type Finset {elem}")
        n, _ = tree(args[0], ctx, NAT)
        return App(s.fn, (n,)), NAT
    if name in ("Finset.Icc", "Finset.Ico") and len(args) == 2:
        # both bounds are one tree (`Finset.Icc 1 n` with n : ℤ is a set of integers)
        pair, ty = _bounds(args, ctx, elem)
        return App(s.fn, pair), ty
    if name == "Finset.filter" and len(args) == 2:
        inner, ty = elab_set(args[1], ctx, elem)
        p = _binder(args[0], "Finset.filter")
        if p.ty not in (None, ty):
            raise ElabError(f"type mismatch: the filter's binder has type {p.ty}, the set's elements {ty}")
        body = elab_prop(p.body, {**ctx, p.var: ty})
        return App(s.fn, (Quant("fun", p.var, ty, body), inner)), ty
    raise ElabError(f"the embedded fragment has no finite set\n  {pp(s)}\n"
                    "(it has Finset.range/Icc/Ico/filter, Nat.divisors, Nat.properDivisors)")


def _bounds(args: tuple[Term, ...], ctx: dict, elem: str | None) -> tuple[tuple[Term, Term], str]:
    types = [_leaf_type(leaf, ctx) for a in args for leaf in _leaves(a, [])]
    ty = _max_type(types + [elem]) or NAT
    if elem is not None and ty != elem:
        raise ElabError(f"type mismatch: the bounds have type {ty}, the binder {elem}")
    if not is_integral(ty):
        raise ElabError(f"intervals over {ty} are not finite sets in the embedded fragment")
    return (_at(args[0], ty, ctx), _at(args[1], ty, ctx)), ty


def elab_mem(t: App, ctx: dict) -> Term:
    """`x ∈ s`: the set's element type and x's meet as Lean's unifier makes them (`x ∈ Finset.Icc
    1 10` with x : ℤ is about integers); a `Set` variable is opaque, a `Finset` one too."""
    x, s = t.args
    own = _max_type([_leaf_type(leaf, ctx) for leaf in _leaves(x, [])])
    try:
        s2, ty = elab_set(s, ctx, own, finite=False)
    except ElabError:
        s2, ty = elab_set(s, ctx, None, finite=False)
    x2, _ = tree(x, ctx, ty)
    return App(t.fn, (x2, s2))


def elab_app(t: App, ctx: dict, expected: str | None = None) -> tuple[Term, str]:
    """Elaborate `Finset.sum s f` / `Finset.prod s f` / `Finset.card s`: the binder takes the
    set's element type, the body is a tree of its own, elaborated at the `expected` type when the
    sum has one (`(∑ i ∈ range 3, (i - 1) : ℤ)` sums `↑i - 1`), else without (a leaf of a larger
    tree, as `binop%` elaborates its leaves), and that is the sum's type."""
    name = head(t)
    if name == "Finset.card" and len(t.args) == 1:
        s, _ = elab_set(t.args[0], ctx)
        return App(t.fn, (s,)), NAT
    if name in BIG_OPERATORS and len(t.args) == 2:
        f = _binder(t.args[1], BIG_OPERATORS[name])
        s, ty = elab_set(t.args[0], ctx, f.ty)
        body, bty = tree(f.body, {**ctx, f.var: ty}, expected)
        return App(t.fn, (s, Quant("fun", f.var, ty, body))), bty
    if name == "Membership.mem":
        raise ElabError(f"type expected, got\n  ({pp(t)} : Prop)")
    raise ElabError(f"type expected, got\n  {pp(t)}")


def app_type(t: App, ctx: dict, term_type: Callable[[Term, dict], str | None]) -> str | None:
    """The type of an elaborated sum/product/card (None for anything else)."""
    name = head(t)
    if name == "Finset.card":
        return NAT
    if name in BIG_OPERATORS and len(t.args) == 2 and isinstance(t.args[1], Quant):
        f = t.args[1]
        return term_type(f.body, {**ctx, f.var: f.ty})
    return None


# ---------------------------------------------------------------- evaluation

def elements(s: Term) -> list[int]:
    """The elements of a closed finite set, in increasing order."""
    name = head(s)
    args = s.args if isinstance(s, App) else ()
    if name in ("Finset.range", "Nat.divisors", "Nat.properDivisors"):
        n = _value(args[0], NAT)
        if n > MAX_ELEMENTS:
            raise ArithError("finite set too large to enumerate")
        if name == "Finset.range":
            return list(range(n))
        divs = [d for d in range(1, n + 1) if n % d == 0]
        return divs if name == "Nat.divisors" else [d for d in divs if d != n]
    if name in ("Finset.Icc", "Finset.Ico"):
        ty = _elem_type(s)
        lo, hi = _value(args[0], ty), _value(args[1], ty)
        if name == "Finset.Ico":
            hi -= 1
        if hi - lo + 1 > MAX_ELEMENTS:
            raise ArithError("finite set too large to enumerate")
        return list(range(lo, hi + 1))
    if name == "Finset.filter":
        p = args[0]
        assert isinstance(p, Quant)
        return [k for k in elements(args[1]) if decide(subst(p.body, p.var, num(k, p.ty)), {})]
    raise ArithError(f"not a finite set of the fragment: {pp(s)}")


def _elem_type(s: Term) -> str:
    name = head(s)
    if name == "Finset.filter":
        return s.args[0].ty
    if name in ("Finset.Icc", "Finset.Ico"):
        return term_type(s.args[0], {}) or term_type(s.args[1], {}) or NAT
    return NAT


def _value(t: Term, ty: str) -> int:
    if not is_closed_arith(t):
        raise ArithError(f"not a closed numeral expression: {pp(t)}")
    return evaluate(t, ty)


def evaluate_app(t: App, ty: str) -> int | bool:
    """The value of a closed application at its type `ty` (a predicate's truth value)."""
    name = head(t)
    if name == "Finset.card":
        return len(elements(t.args[0]))
    if name == "Membership.mem":
        x, s = t.args
        return _value(x, _elem_type(s)) in elements(s)
    if name in BIG_OPERATORS:
        s, f = t.args
        assert isinstance(f, Quant)
        ety = _elem_type(s)
        total = 0 if name == "Finset.sum" else 1
        for k in elements(s):
            v = evaluate(subst(f.body, f.var, num(k, ety)), ty)
            total = total + v if name == "Finset.sum" else total * v
            if _bits(total) > 100_000:
                raise ArithError("value too large to evaluate")
        return total
    fn = VALUES.get(name or "")
    if fn is None:
        raise ArithError(f"not a closed numeral expression: {pp(t)}")
    params = SIGNATURES[name].params
    # a polymorphic argument is at its own type (`Int.floor (7 / 2 : ℚ)`), read off its numerals
    return fn(*(_value(a, p if p != ALPHA else term_type(a, {}) or ty) for a, p in zip(t.args, params)))


def _bits(v: int | Fraction) -> int:
    """The size of an exact value (a sum over ℚ/ℝ is a Fraction)."""
    v = Fraction(v)
    return max(abs(v.numerator).bit_length(), v.denominator.bit_length())


def is_closed_app(t: App) -> bool:
    """Whether `t` is an application this module can evaluate: a known function of closed
    arguments, a big operator whose set is closed and whose body mentions only its binder."""
    name = head(t)
    if name in BIG_OPERATORS and len(t.args) == 2 and isinstance(t.args[1], Quant):
        f = t.args[1]
        return _closed_set(t.args[0]) and free_vars(f.body) <= {f.var}
    if name == "Finset.card" and len(t.args) == 1:
        return _closed_set(t.args[0])
    if name == "Membership.mem" and len(t.args) == 2:
        return is_closed_arith(t.args[0]) and _closed_set(t.args[1])
    return name in VALUES and all(is_closed_arith(a) for a in t.args)


def _closed_set(s: Term) -> bool:
    name = head(s)
    if name == "Finset.filter" and len(s.args) == 2 and isinstance(s.args[0], Quant):
        p = s.args[0]
        return free_vars(p.body) <= {p.var} and _closed_set(s.args[1])
    return name in SETS and all(is_closed_arith(a) for a in s.args)


# ---------------------------------------------------------------- rewriting with Mathlib's lemmas

def _range_bound(t: Term) -> Term | None:
    """`n` from `Finset.range (n + 1)`, or from `Finset.range 5` (`?n + 1 =?= 5` gives 4 at ℕ)."""
    if head(t) != "Finset.range":
        return None
    m = t.args[0]
    if isinstance(m, Bin) and m.op == "+" and m.rhs == Num(1, NAT):
        return m.lhs
    if isinstance(m, Num) and m.value >= 1:
        return Num(m.value - 1, NAT)
    return None


def _big(t: Term, name: str) -> tuple[Term, Quant] | None:
    if head(t) == name and len(t.args) == 2 and isinstance(t.args[1], Quant):
        return t.args[0], t.args[1]
    return None


def _range_succ(t: Term, name: str, op: str) -> Term | None:
    """`Finset.sum_range_succ`: `∑ x ∈ range (n + 1), f x = ∑ x ∈ range n, f x + f n`."""
    big = _big(t, name)
    n = _range_bound(big[0]) if big else None
    if n is None:
        return None
    s, f = big
    return Bin(op, App(t.fn, (App(s.fn, (n,)), f)), subst(f.body, f.var, n))


def _range_zero(t: Term, name: str, unit: int) -> Term | None:
    """`Finset.sum_range_zero`: the empty sum is 0 (the empty product 1), at the body's type."""
    big = _big(t, name)
    if big is None or head(big[0]) != "Finset.range" or big[0].args[0] != Num(0, NAT):
        return None
    return Num(unit, term_type(big[1].body, {big[1].var: big[1].ty}))


def _range_one(t: Term, name: str) -> Term | None:
    """`Finset.sum_range_one`: `∑ k ∈ range 1, f k = f 0`."""
    big = _big(t, name)
    if big is None or head(big[0]) != "Finset.range" or big[0].args[0] != Num(1, NAT):
        return None
    return subst(big[1].body, big[1].var, Num(0, NAT))


def _factorial_succ(t: Term) -> Term | None:
    """`Nat.factorial_succ`: `(n + 1)! = (n + 1) * n !` (a literal `5 !` is `(4 + 1)!`)."""
    if head(t) != "Nat.factorial":
        return None
    m = t.args[0]
    if isinstance(m, Bin) and m.op == "+" and m.rhs == Num(1, NAT):
        n = m.lhs
    elif isinstance(m, Num) and m.value >= 1:
        n = Num(m.value - 1, NAT)
    else:
        return None
    succ = Bin("+", n, Num(1, NAT))
    return Bin("*", succ, App(t.fn, (n,)))


def _factorial_zero(t: Term) -> Term | None:
    return Num(1, NAT) if head(t) == "Nat.factorial" and t.args[0] == Num(0, NAT) else None


# Lemmas whose statements quantify over a function (`f : ℕ → M`), which the lemma table cannot
# state: each is its rewrite, a map from an instance of the left side to the right side.
REWRITES: dict[str, Callable[[Term], Term | None]] = {
    "Finset.sum_range_succ": lambda t: _range_succ(t, "Finset.sum", "+"),
    "Finset.prod_range_succ": lambda t: _range_succ(t, "Finset.prod", "*"),
    "Finset.sum_range_zero": lambda t: _range_zero(t, "Finset.sum", 0),
    "Finset.prod_range_zero": lambda t: _range_zero(t, "Finset.prod", 1),
    "Finset.sum_range_one": lambda t: _range_one(t, "Finset.sum"),
    "Finset.prod_range_one": lambda t: _range_one(t, "Finset.prod"),
    "Nat.factorial_succ": _factorial_succ,
    "Nat.factorial_zero": _factorial_zero,
    "Nat.factorial": lambda t: _factorial_zero(t) or _factorial_succ(t),   # the equation lemmas
}


# The ones tagged @[simp] in Mathlib: every `simp` and `norm_num` uses them.
SIMP_LEMMAS = ("Finset.sum_range_zero", "Finset.prod_range_zero", "Finset.sum_range_one", "Finset.prod_range_one",
               "Nat.factorial_zero")


def first_instance(p: Term, rule: Callable[[Term], Term | None], bound: frozenset = frozenset()
                   ) -> tuple[Term, Term] | None:
    """The first subterm of `p` (pre-order, left to right) the rule rewrites, with its result;
    a subterm mentioning a variable bound inside `p` is skipped, as for `rw`."""
    if not (bound & free_vars(p)):
        out = rule(p)
        if out is not None:
            return p, out
    inner = bound | {p.var} if isinstance(p, Quant) else bound
    for c in children(p):
        found = first_instance(c, rule, inner)
        if found is not None:
            return found
    return None


def rewrite_all(p: Term, names: list[str], limit: int = 200) -> Term:
    """`simp [Finset.sum_range_succ]`: rewrite with the named rules until none applies."""
    rules = [REWRITES[n] for n in names]
    for _ in range(limit):
        for rule in rules:
            found = first_instance(p, rule)
            if found is not None:
                p = replace(p, *found)
                break
        else:
            return p
    return p


def fold_predicates(p: Term) -> Term:
    """`norm_num`'s `Nat.Prime` extension (and parity on numerals): a predicate applied to
    numerals becomes `True`/`False`."""
    if head(p) in VALUES and SIGNATURES[head(p)].result == PROP and is_closed_app(p):
        try:
            return Const(bool(evaluate_app(p, NAT)))
        except ArithError:
            return p
    if isinstance(p, (Bin, Un)) or isinstance(p, Quant) and p.kind != "fun":
        return with_children(p, [fold_predicates(c) for c in children(p)])
    return p


def evaluate_closed(p: Term, ctx: dict) -> Term:
    """`norm_num`/`simp` on numerals: every closed application (`Nat.gcd 4 6`, a sum over
    `range 10`) becomes its value, at its own type."""
    if isinstance(p, App) and head(p) not in SETS and is_closed_app(p):
        ty = term_type(p, ctx)
        if ty not in (None, PROP):
            try:
                return num(evaluate_app(p, ty), ty)
            except ArithError:
                return p
    kids = children(p)
    if not kids or isinstance(p, Quant) and p.kind == "fun":
        return p
    return with_children(p, [evaluate_closed(c, ctx) for c in kids])


def largest_set(p: Term) -> int:
    """The size of the largest closed finite set in `p` (0 if none): what the kernel must unfold
    element by element when `decide` evaluates it."""
    best = 0
    if head(p) in SETS and _closed_set(p):
        try:
            best = len(elements(p))
        except ArithError:
            return MAX_ELEMENTS + 1
    for c in children(p):
        best = max(best, largest_set(c))
    return best
