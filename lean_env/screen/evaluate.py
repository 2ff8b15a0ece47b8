"""Exact evaluation of typed terms at a point, with Lean's semantics, and three-valued truth.

Numbers are Python ints (ℕ ℤ) and `Fraction`s (ℚ, and ℝ at rational points). ℕ: `a - b`
truncates, `a / 0 = 0`, `a % 0 = a`. ℤ: `/` is `Int.ediv`, `%` is `Int.emod` (0 ≤ a % b < |b|),
`a / 0 = 0`, `a % 0 = a`. Fields: `a / 0 = 0`, `0⁻¹ = 0`. `Real.sqrt x = 0` for x ≤ 0,
`Real.log 0 = 0`, `Real.log (-x) = Real.log x`. Values not known exactly (`√2`, `π`, `exp 1`)
raise `Opaque`; a relation over them is unknown (None), never guessed.

Truth is Kleene's: a quantifier over an infinite type is False (∀) or True (∃) once a search
finds a witness, and unknown otherwise; over a range its guard bounds, it is exact.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, Iterable, Union

from lean_env.screen.elaborate import FIELDS, INT, NAT, PROP, RAT, REAL, T

Value = Union[int, Fraction]
Truth = Union[bool, None]

SEARCH = 12             # an unbounded ℕ/ℤ quantifier is searched over [-SEARCH, SEARCH]
MAX_RANGE = 400         # the longest range a sum, a set or a bounded quantifier is enumerated over
MAX_BITS = 20_000       # bigger numbers are not computed
FIELD_SEARCH = tuple(Fraction(n, d) for n, d in ((0, 1), (1, 1), (-1, 1), (1, 2), (-1, 2), (2, 1), (-2, 1),
                                                  (3, 1), (1, 3), (-3, 1), (3, 2), (10, 1)))


class Opaque(Exception):
    """A value the screen does not know exactly."""


class TooBig(Opaque):
    pass


def int_ediv(a: int, b: int) -> int:
    """`Int.ediv` (Lean 4's `/` on ℤ): floor(a / b) for b > 0, -floor(a / -b) for b < 0, 0 for b = 0."""
    if b == 0:
        return 0
    return a // b if b > 0 else -(a // -b)


def int_emod(a: int, b: int) -> int:
    return a if b == 0 else a - b * int_ediv(a, b)


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n > 10 ** 12:
        raise TooBig("primality of a large number")
    if n % 2 == 0:
        return n == 2
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2))


def _exact_sqrt(q: Value) -> Value:
    if q <= 0:
        return 0
    q = Fraction(q)
    n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if n * n == q.numerator and d * d == q.denominator:
        return Fraction(n, d)
    raise Opaque("Real.sqrt of a non-square")


def _check(v: Value) -> Value:
    f = Fraction(v)
    if f.numerator.bit_length() > MAX_BITS or f.denominator.bit_length() > MAX_BITS:
        raise TooBig("number too large")
    return v


def _field_value(v: Value) -> Value:
    return v.numerator if isinstance(v, Fraction) and v.denominator == 1 else v


_KNOWN = {("Real.log", 1): 0, ("Real.exp", 0): 1, ("Real.sin", 0): 0, ("Real.cos", 0): 1, ("Real.tan", 0): 0,
          ("Real.arctan", 0): 0, ("Real.sinh", 0): 0, ("Real.cosh", 0): 1}


def call(name: str, args: list[Value]) -> Value:
    if name == "Real.sqrt":
        return _exact_sqrt(args[0])
    if name == "Real.log":
        if args[0] == 0:
            return 0
        if abs(args[0]) == 1:
            return 0
        raise Opaque(name)
    if name == "Real.logb":          # log x / log b
        b, x = args
        lx = call("Real.log", [x])
        if lx == 0:
            return 0
        raise Opaque(name)
    if name == "Real.rpow":
        x, y = args
        if Fraction(y).denominator == 1 and (x != 0 or y >= 0):
            return pow_value(x, int(y), True)
        if x == 0 and y != 0:
            return 0                 # `Real.zero_rpow`
        raise Opaque(name)
    if (name, args[0] if args else None) in _KNOWN:
        return _KNOWN[(name, args[0])]
    if name in ("π", "Real.pi") or name.startswith("Real."):
        raise Opaque(name)
    if name == "abs":
        return abs(args[0])
    if name == "min":
        return min(args)
    if name == "max":
        return max(args)
    if name == "Inv.inv":
        return Fraction(1) / args[0] if args[0] != 0 else 0
    if name == "Int.floor":
        return math.floor(args[0])
    if name == "Int.ceil":
        return math.ceil(args[0])
    if name == "Int.fract":
        return args[0] - math.floor(args[0])
    if name == "Nat.floor":
        return max(math.floor(args[0]), 0)
    if name == "Nat.ceil":
        return max(math.ceil(args[0]), 0)
    if name in ("Nat.gcd", "Int.gcd"):
        return math.gcd(*args)
    if name == "Nat.lcm":
        a, b = args
        return a * b // math.gcd(a, b) if a and b else 0
    if name == "Nat.choose":
        n, k = args
        if k > 5000:
            raise TooBig("choose")
        return math.comb(n, k) if k <= n else 0
    if name == "Nat.factorial":
        if args[0] > 1000:
            raise TooBig("factorial")
        return math.factorial(args[0])
    if name == "Nat.sqrt":
        return math.isqrt(args[0])
    if name == "Nat.succ":
        return args[0] + 1
    if name == "Nat.pred":
        return max(args[0] - 1, 0)
    if name == "Int.natAbs":
        return abs(args[0])
    if name == "Int.toNat":
        return max(args[0], 0)
    raise Opaque(name)


def pow_value(base: Value, n: int, field: bool) -> Value:
    if n < 0:                        # zpow over a field: (x ^ n)⁻¹, with 0⁻¹ = 0
        if base == 0:
            return 0
        return Fraction(1) / pow_value(base, -n, field)
    if base in (0, 1) or n == 0:
        return 1 if n == 0 else base
    if base == -1:
        return 1 if n % 2 == 0 else -1
    f = Fraction(base)
    if n * max(f.numerator.bit_length(), f.denominator.bit_length()) > MAX_BITS:
        raise TooBig("power too large")
    return base ** n


Env = dict[str, object]     # variable key -> value (a number, a bool, or a callable for a local function)


def value(t: T, env: Env) -> Value:
    op = t.op
    if op == "num":
        return t.data
    if op == "var":
        return env[t.data]
    if op == "cast":
        return value(t.args[0], env)
    if op == "neg":
        return -value(t.args[0], env)
    if op in ("add", "sub", "mul", "div", "mod"):
        a, b = value(t.args[0], env), value(t.args[1], env)
        ty = t.ty
        if op == "add":
            return _check(a + b)
        if op == "mul":
            return _check(a * b)
        if op == "sub":
            return max(a - b, 0) if ty == NAT else a - b
        if ty in FIELDS:
            if op == "div":
                return _field_value(Fraction(a) / b) if b != 0 else 0
            raise Opaque("% on a field")
        if op == "div":
            return (a // b if b else 0) if ty == NAT else int_ediv(a, b)
        return (a % b if b else a) if ty == NAT else int_emod(a, b)
    if op == "pow":
        base, n = value(t.args[0], env), value(t.args[1], env)
        if t.args[1].ty in FIELDS:       # `Real.rpow`
            return call("Real.rpow", [base, n])
        return _field_value(pow_value(base, int(n), t.ty in FIELDS))
    if op == "call":
        return _field_value(call(t.data, [value(a, env) for a in t.args]))
    if op == "app":
        f = env.get(t.data)
        if f is None:
            raise Opaque(f"local function {t.data}")
        return f(*[value(a, env) for a in t.args])
    if op in ("sum", "prod"):
        out: Value = 0 if op == "sum" else 1
        for k in elements(t.args[0], env):
            v = value(t.args[1], {**env, t.data: k})
            out = _check(out + v if op == "sum" else out * v)
        return _field_value(out)
    if op == "card":
        return len(elements(t.args[0], env))
    raise Opaque(f"no value for {op}")


def elements(s: T, env: Env) -> list[Value]:
    """A finite set's elements, in order, without repeats."""
    op = s.op
    if op == "range":
        n = value(s.args[0], env)
        return _bounded(range(n))
    if op == "divisors":
        n = value(s.args[0], env)
        if n > 10 ** 6:
            raise TooBig("divisors")
        return [d for d in range(1, n + 1) if n % d == 0]
    if op in ("Icc", "Ico", "Ioc", "Ioo"):
        lo, hi = value(s.args[0], env), value(s.args[1], env)
        if s.ty.elem in FIELDS:
            if lo == hi and op == "Icc":
                return [lo]
            if lo >= hi or (op == "Icc" and lo > hi):
                return []
            raise Opaque("an interval of a field")   # an infinite Finset does not typecheck anyway
        a = lo if op in ("Icc", "Ico") else lo + 1
        b = hi if op in ("Icc", "Ioc") else hi - 1
        return _bounded(range(a, b + 1))
    if op == "filter":
        out = []
        for k in elements(s.args[0], env):
            v = truth(s.args[1], {**env, s.data: k})
            if v is None:
                raise Opaque("an undecided filter")
            if v:
                out.append(k)
        return out
    raise Opaque(f"no elements for {op}")


def _bounded(r: range) -> list[int]:
    if len(r) > MAX_RANGE:
        raise TooBig("range too long")
    return list(r)


def _divides(a: Value, b: Value, field: bool) -> bool:
    if field:
        return a != 0 or b == 0
    return b == 0 if a == 0 else b % a == 0


_REL: dict[str, Callable[[Value, Value], bool]] = {
    "=": lambda a, b: a == b, "≠": lambda a, b: a != b, "<": lambda a, b: a < b, "≤": lambda a, b: a <= b,
    ">": lambda a, b: a > b, "≥": lambda a, b: a >= b}


def _and(values: Iterable[Truth]) -> Truth:
    out: Truth = True
    for v in values:
        if v is False:
            return False
        if v is None:
            out = None
    return out


def _or(values: Iterable[Truth]) -> Truth:
    out: Truth = False
    for v in values:
        if v is True:
            return True
        if v is None:
            out = None
    return out


def truth(p: T, env: Env) -> Truth:
    op = p.op
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "pvar":
        return bool(env[p.data])
    if op == "not":
        v = truth(p.args[0], env)
        return None if v is None else not v
    if op == "and":
        return _and(truth(a, env) for a in p.args)
    if op == "or":
        return _or(truth(a, env) for a in p.args)
    if op == "imp":
        a = truth(p.args[0], env)
        if a is False:
            return True
        b = truth(p.args[1], env)
        return _or((None if a is None else not a, b))
    if op == "iff":
        a, b = truth(p.args[0], env), truth(p.args[1], env)
        return None if a is None or b is None else a == b
    if op in ("forall", "exists"):
        return _quantifier(p, env)
    try:
        if op == "rel":
            a, b = value(p.args[0], env), value(p.args[1], env)
            if p.data == "∣":
                return _divides(a, b, p.args[0].ty in FIELDS)
            return _REL[p.data](a, b)
        if op == "pred":
            v = value(p.args[0], env)
            if p.data == "Nat.Prime":
                return _is_prime(v)
            if p.args[0].ty in FIELDS:     # in a field every number is even and odd
                return True
            return v % 2 == (0 if p.data == "Even" else 1)
        if op == "mem":
            return value(p.args[0], env) in elements(p.args[1], env)
    except Opaque:
        return None
    except RecursionError:
        return None
    raise ValueError(f"not a proposition: {op}")


def _quantifier(p: T, env: Env) -> Truth:
    key, ty = p.data
    body = p.args[0]
    forall = p.op == "forall"
    try:
        domain, exact = domain_of(key, ty, body, forall, env)
    except Opaque:
        return None
    results = (truth(body, {**env, key: k}) for k in domain)
    if forall:
        v = _and(results)
        return v if exact or v is False else None
    v = _or(results)
    return v if exact or v is True else None


def domain_of(key: str, ty: str, body: T, forall: bool, env: Env) -> tuple[list, bool]:
    """The values a bound variable is tried at, and whether they are all that matter: a guard
    `x < n →` (∀) or `x < n ∧` (∃) over ℕ, two-sided over ℤ, or membership in a finite set."""
    if ty == PROP:
        return [False, True], True
    if ty in (NAT, INT):
        lo, hi = (0 if ty == NAT else None), None
        for g in _guards(body, forall):
            try:
                bound = _bound_of(g, key, env)
            except Opaque:
                continue
            if bound is None:
                continue
            kind, v = bound
            if kind == "set":
                return v, True
            if kind == "hi":
                hi = v if hi is None else min(hi, v)
            else:
                lo = v if lo is None else max(lo, v)
        if lo is not None and hi is not None and hi - lo <= MAX_RANGE:
            return list(range(lo, hi + 1)), True
        if ty == NAT:
            top = SEARCH * 3 if hi is None else min(hi, SEARCH * 3)
            return list(range(lo or 0, max(top, lo or 0) + 1)), False
        if lo is None and hi is None:
            lo, hi = -SEARCH, SEARCH
        elif hi is None or (lo is not None and hi - lo > MAX_RANGE):
            hi = lo + 2 * SEARCH
        elif lo is None:
            lo = hi - 2 * SEARCH
        return list(range(lo, hi + 1)), False
    if ty in FIELDS:
        return list(FIELD_SEARCH), False
    raise Opaque(f"a quantifier over {ty}")


def _guards(body: T, forall: bool) -> list[T]:
    """The conjuncts guarding a quantifier's body: `g₁ → g₂ → P` (∀) or `g₁ ∧ g₂ ∧ P` (∃)."""
    out = []
    link = "imp" if forall else "and"
    while body.op == link:
        g = body.args[0]
        stack = [g]
        while stack:                      # `a ≤ x ∧ x ≤ b → P` guards too
            h = stack.pop()
            if h.op == "and":
                stack.extend(h.args)
            else:
                out.append(h)
        body = body.args[1]
    return out


def _mentions(t: T, key: str) -> bool:
    if t.op in ("var", "pvar") and t.data == key:
        return True
    return any(_mentions(a, key) for a in t.args)


def _bound_of(g: T, key: str, env: Env):
    """("hi", v) / ("lo", v) for a guard `x < e`, `x ≤ e`, `e ≤ x` ..., ("set", values) for `x ∈ s`."""
    if g.op == "mem" and _is_var(g.args[0], key) and not _mentions(g.args[1], key):
        return "set", elements(g.args[1], env)
    if g.op != "rel" or g.data not in ("<", "≤", ">", "≥"):
        return None
    a, b = g.args
    op = g.data
    if _is_var(b, key):
        a, b = b, a
        op = {"<": ">", "≤": "≥", ">": "<", "≥": "≤"}[op]
    if not _is_var(a, key) or _mentions(b, key):
        return None
    v = value(b, env)
    if isinstance(v, Fraction):
        return None
    return {"<": ("hi", v - 1), "≤": ("hi", v), ">": ("lo", v + 1), "≥": ("lo", v)}[op]


def _is_var(t: T, key: str) -> bool:
    while t.op == "cast":           # `(x : ℤ) < 5` bounds x too (a cast from ℕ/ℤ keeps values)
        t = t.args[0]
    return t.op == "var" and t.data == key
