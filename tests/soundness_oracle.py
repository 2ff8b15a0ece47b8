"""An independent truth oracle for the soundness fuzzer: the fragment's syntax trees, their Lean
text, and their meaning, written from Lean 4's definitions and never from the embedded kernel.

Semantics (Lean 4 core / Mathlib):
- ℕ: `a - b` truncates at 0; `a / 0 = 0`, `a % 0 = a` (`Nat.div`, `Nat.mod`).
- ℤ: `/` is `Int.ediv` and `%` is `Int.emod` (the E-rounding convention that powers `/` on `Int`):
  for `b ≠ 0`, `0 ≤ a % b < |b|` and `a = b * (a / b) + a % b`; `a / 0 = 0`, `a % 0 = a`.
  So `-12 / 7 = -2`, `12 / -7 = -1`, `-12 / -7 = 2`, `-12 % 7 = 2`, `12 % -7 = 5`.
- `a ^ n` has a ℕ exponent (`Monoid.npow`), `0 ^ 0 = 1`; `a ∣ b` is `∃ c, b = a * c`.
- `((e : ℕ) : ℤ)` is `↑e`: `e` is computed in ℕ first (so `((2 - 3 : ℕ) : ℤ) = 0`); likewise
  `((e : ℤ) : ℝ)`: every cast computes its argument in the argument's own type.
- ℚ and ℝ are ordered fields, computed with exact rationals (`fractions.Fraction`): `a / 0 = 0`,
  `0⁻¹ = 0`, no `%`, `a ∣ b` is `a ≠ 0 ∨ b = 0`; `|a|`, `min`, `max` are exact. `Real.sqrt`,
  `Real.log`, `Real.exp` and `π` are opaque: a relation mentioning them has unknown truth, and z3
  sees them as uninterpreted functions, so a statement about them counts as true only when it
  holds for every function in their place, and is never refuted by a model.

Elaboration: `binop%`/`binrel%` give every leaf of a relation one type, so a ℤ relation must
contain a ℤ-typed leaf (a ℤ variable, `(n : ℤ)`, or a cast); the printer ascribes a numeral when
none is present. ℕ variables enter ℤ relations only through an explicit cast, and a variable bound
by `∀ k < n` (whose type Lean infers from its uses) is never cast, so every printed statement has
exactly the meaning `holds` gives it.

Precedences are Lean's: `+ -` 65 left, `* / %` 70 left, `^` 80 right, prefix `-` 75, relations 50,
`¬` max with its argument at 40, `∧` 35 right, `∨` 30 right, `→` 25 right, `↔` 20.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, Union

import z3

NAT, INT, RAT, REAL = "ℕ", "ℤ", "ℚ", "ℝ"
FIELDS = (RAT, REAL)
FIELD_FNS = ("abs", "min", "max", "inv")            # exact, at the type of their arguments
OPAQUE_FNS = ("Real.sqrt", "Real.log", "Real.exp", "π",   # ℝ → ... → ℝ (π: no argument), unknown values
              "Real.cos", "Real.sin", "Real.tan", "Real.logb", "Real.rpow")


# ---------------------------------------------------------------- syntax

@dataclass(frozen=True)
class Lit:
    value: int
    ty: str
    ascribed: bool = False      # print as `(n : ℤ)`


@dataclass(frozen=True)
class Var:
    name: str
    ty: str


@dataclass(frozen=True)
class Arith:
    op: str                     # + - * / %
    lhs: "Expr"
    rhs: "Expr"
    ty: str


@dataclass(frozen=True)
class Pow:
    base: "Expr"
    exp: "Expr"                 # always ℕ
    ty: str


@dataclass(frozen=True)
class Neg:
    arg: "Expr"                 # ℤ only
    ty: str = INT


@dataclass(frozen=True)
class Cast:
    arg: "Expr"                 # an expression of a smaller type (ℕ < ℤ < ℚ < ℝ), seen in `ty`
    ty: str = INT


@dataclass(frozen=True)
class Succ:
    arg: "Expr"                 # `Nat.succ e` or `e.succ`: e + 1 in ℕ
    dot: bool = False
    ty: str = NAT


@dataclass(frozen=True)
class Fn:
    """`Nat.gcd a b`, `Nat.lcm a b`, `Nat.choose n k`, `n !` (`Nat.factorial`): ℕ functions;
    `|a|`, `min a b`, `max a b`, `a⁻¹` (FIELD_FNS, at `ty`); `Real.sqrt a`, ..., `π` (OPAQUE_FNS)."""

    name: str
    args: tuple["Expr", ...]
    ty: str = NAT


@dataclass(frozen=True)
class BigOp:
    """`∑ i in Finset.range n, body` / `∏ i ∈ Finset.Icc lo hi, body` (`new`: the `∈` spelling).
    The binder ranges over ℕ, or over ℤ for an `Icc` ascribed `(i : ℤ)`; the body's type is the
    sum's (an ℤ body has a ℤ-typed leaf, so Lean elaborates it at ℤ without an expected type)."""

    op: str                     # ∑ ∏
    var: str
    elem: str                   # the binder's type
    lo: "Expr"                  # Icc's lower bound (unused for range)
    hi: "Expr"                  # range's n / Icc's upper bound
    body: "Expr"
    ty: str
    icc: bool = False
    new: bool = False           # only over ℕ: the ascribed binder is spelled with `in`


Expr = Union[Lit, Var, Arith, Pow, Neg, Cast, Succ, Fn, BigOp]


@dataclass(frozen=True)
class Rel:
    op: str                     # = ≠ < ≤ > ≥ ∣
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class Not:
    arg: "Prop"


@dataclass(frozen=True)
class Conn:
    op: str                     # ∧ ∨ → ↔
    lhs: "Prop"
    rhs: "Prop"


@dataclass(frozen=True)
class Truth:
    value: bool


@dataclass(frozen=True)
class Bounded:
    """`∀ k < n, P` / `∃ k ≤ n, P` over ℕ (`sugar`: the binder-predicate spelling), or over ℤ
    `∀ k : ℤ, lo ≤ k → k ≤ hi → P` / `∃ k : ℤ, lo ≤ k ∧ k ≤ hi ∧ P`."""

    kind: str                   # ∀ ∃
    var: str
    ty: str
    body: "Prop"
    rel: str = "<"              # ℕ: < or ≤
    bound: Expr = Lit(0, NAT)   # ℕ upper bound (a numeral or a ℕ variable)
    lo: int = 0                 # ℤ range
    hi: int = 0
    sugar: bool = True


@dataclass(frozen=True)
class Unbounded:
    """`∀ k : ℕ, P` / `∃ k : ℤ, P`: only a search can witness it, so its truth may stay unknown."""

    kind: str
    var: str
    ty: str
    body: "Prop"


@dataclass(frozen=True)
class Pred:
    """`Nat.Prime e`, `Even e`, `Odd e` (ℕ or ℤ argument)."""

    name: str
    arg: Expr


@dataclass(frozen=True)
class Mem:
    """`x ∈ Finset.range hi` / `x ∈ Finset.Icc lo hi`, at x's type (ℕ, or ℤ for Icc)."""

    arg: Expr
    lo: Expr
    hi: Expr
    icc: bool = False


@dataclass(frozen=True)
class Atom:
    """A propositional variable `p : Prop` (library lemmas such as `Or.elim` quantify over them)."""

    name: str


PROP = "Prop"
Prop = Union[Rel, Not, Conn, Truth, Bounded, Unbounded, Atom, Pred, Mem]


@dataclass(frozen=True)
class Statement:
    name: str
    variables: tuple[tuple[str, str], ...] = ()
    hyps: tuple[tuple[str, Prop], ...] = ()
    goal: Prop = Truth(True)
    late: tuple[tuple[str, str], ...] = ()   # variables bound after the hypotheses (may shadow)

    def text(self) -> str:
        def group(variables: tuple[tuple[str, str], ...]) -> list[str]:
            return [f"({' '.join(n for n, _ in g)} : {ty})" for ty, g in itertools.groupby(variables, key=lambda v: v[1])]

        parts = [f"theorem {self.name}"] + group(self.variables)
        parts += [f"({h} : {pp_prop(p)})" for h, p in self.hyps]
        return " ".join(parts + group(self.late)) + f" : {pp_prop(self.goal)} := by"

    def binders(self) -> list[tuple[str, str, str]]:
        """(key, name, type) of every variable; a late variable's key is `name@late`."""
        return [(n, n, t) for n, t in self.variables] + [(f"{n}@late", n, t) for n, t in self.late]


# ---------------------------------------------------------------- printing

_ARITH_PREC = {"+": 65, "-": 65, "*": 70, "/": 70, "%": 70}
_CONN_PREC = {"∧": (35, 36, 35), "∨": (30, 31, 30), "→": (25, 26, 25), "↔": (20, 21, 21)}


def _anchored(e: Expr) -> bool:
    """Whether a leaf of `e` (outside exponents) fixes its type to ℤ for the elaborator."""
    if isinstance(e, Lit):
        return e.ascribed
    if isinstance(e, (Var, Cast)):
        return True
    if isinstance(e, Arith):
        return _anchored(e.lhs) or _anchored(e.rhs)
    if isinstance(e, Pow):
        return _anchored(e.base)
    if isinstance(e, Fn) and e.name in OPAQUE_FNS:
        return True                     # an ℝ-valued function fixes the tree's type
    if isinstance(e, Fn) and e.name in FIELD_FNS:
        return any(_anchored(a) for a in e.args)
    if isinstance(e, (Succ, Fn)):
        return False
    if isinstance(e, BigOp):            # a leaf whose type is its body's
        return e.ty == INT
    return _anchored(e.arg)


def _anchor(e: Expr) -> Expr:
    """Ascribe the leftmost ℤ numeral of a relation side that has no ℤ-typed leaf."""
    if isinstance(e, Lit):
        return Lit(e.value, e.ty, True)
    if isinstance(e, Arith):
        return Arith(e.op, _anchor(e.lhs), e.rhs, e.ty)
    if isinstance(e, Pow):
        return Pow(_anchor(e.base), e.exp, e.ty)
    if isinstance(e, Neg):
        return Neg(_anchor(e.arg), e.ty)
    if isinstance(e, Fn) and e.name in FIELD_FNS:
        return Fn(e.name, (_anchor(e.args[0]),) + e.args[1:], e.ty)
    return e


def anchor_body(e: Expr) -> Expr:
    """A big operator's body is elaborated without an expected type: an ℤ body needs a ℤ leaf."""
    return _anchor(e) if e.ty == INT and not _anchored(e) else e


def anchor_rel(r: Rel) -> Rel:
    if r.lhs.ty != NAT and not (_anchored(r.lhs) or _anchored(r.rhs)):
        return Rel(r.op, _anchor(r.lhs), r.rhs)
    return r


def pp_expr(e: Expr, prec: int = 0) -> str:
    def par(s: str, level: int) -> str:
        return f"({s})" if level < prec else s

    if isinstance(e, Lit):
        if e.ascribed:
            return f"({e.value} : {e.ty})"
        return par(str(e.value), 1024) if e.value >= 0 else par(f"-{-e.value}", 75)
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Cast):
        if isinstance(e.arg, Var):
            return f"({e.arg.name} : {e.ty})"
        return f"(({pp_expr(e.arg)} : {e.arg.ty}) : {e.ty})"
    if isinstance(e, Fn) and e.name in FIELD_FNS + OPAQUE_FNS:
        if e.name in FIELD_FNS and not any(_anchored(a) for a in e.args):
            e = _anchor(e)              # `min (1 : ℝ) 2`: numerals alone would default to ℕ
        if e.name == "π":
            return "π"
        if e.name == "abs":
            return f"|{pp_expr(e.args[0])}|"
        if e.name == "inv":
            return f"{pp_expr(e.args[0], 1024)}⁻¹"
        return par(" ".join([e.name] + [pp_expr(a, 1024) for a in e.args]), 1023)   # arguments in ()
    if isinstance(e, Succ):                 # an application: its argument is an atom
        arg = pp_expr(e.arg, 1024)
        if e.dot:
            return f"{arg}.succ" if isinstance(e.arg, Var) else f"({pp_expr(e.arg)}).succ"
        return par(f"Nat.succ {arg}", 1024)
    if isinstance(e, Fn):
        if e.name == "Nat.factorial":   # `x !`, `(e)!`
            arg = e.args[0]
            return par(f"{arg.name} !" if isinstance(arg, Var) else f"({pp_expr(arg)})!", 1023)
        return par(" ".join([e.name] + [pp_expr(a, 1024) for a in e.args]), 1023)   # an argument: in ()
    if isinstance(e, BigOp):            # always in parentheses: the body sits at precedence 67
        binder = f"{e.var} : ℤ" if e.elem == INT else e.var
        sets = (f"Finset.Icc {pp_expr(e.lo, 1024)} {pp_expr(e.hi, 1024)}" if e.icc
                else f"Finset.range {pp_expr(e.hi, 1024)}")
        return f"({e.op} {binder} {'∈' if e.new else 'in'} {sets}, {pp_expr(anchor_body(e.body), 67)})"
    if isinstance(e, Neg):
        if isinstance(e.arg, Lit) and e.arg.ascribed:      # `(-3 : ℤ)` rather than `-(3 : ℤ)`
            return f"(-{e.arg.value} : {e.ty})"
        arg = pp_expr(e.arg, 75)
        return par("-" + (f"({arg})" if arg.startswith("-") else arg), 75)   # `--` opens a comment
    if isinstance(e, Pow):
        return par(f"{pp_expr(e.base, 81)} ^ {pp_expr(e.exp, 80)}", 80)
    p = _ARITH_PREC[e.op]
    return par(f"{pp_expr(e.lhs, p)} {e.op} {pp_expr(e.rhs, p + 1)}", p)


def pp_prop(p: Prop, prec: int = 0) -> str:
    def par(s: str, level: int) -> str:
        return f"({s})" if level < prec else s

    if isinstance(p, Truth):
        return "True" if p.value else "False"
    if isinstance(p, Atom):
        return p.name
    if isinstance(p, Pred):
        arg = p.arg if p.arg.ty == NAT or _anchored(p.arg) else _anchor(p.arg)
        return par(f"{p.name} {pp_expr(arg, 1024)}", 1024)
    if isinstance(p, Mem):               # the set's type comes from the element's
        arg = p.arg if p.arg.ty == NAT or _anchored(p.arg) else _anchor(p.arg)
        sets = (f"Finset.Icc {pp_expr(p.lo, 1024)} {pp_expr(p.hi, 1024)}" if p.icc
                else f"Finset.range {pp_expr(p.hi, 1024)}")
        return par(f"{pp_expr(arg, 51)} ∈ {sets}", 50)
    if isinstance(p, Rel):
        r = anchor_rel(p)
        return par(f"{pp_expr(r.lhs, 51)} {r.op} {pp_expr(r.rhs, 51)}", 50)
    if isinstance(p, Not):
        return par("¬" + pp_prop(p.arg, 40), 1024)
    if isinstance(p, Conn):
        lvl, lp, rp = _CONN_PREC[p.op]
        return par(f"{pp_prop(p.lhs, lp)} {p.op} {pp_prop(p.rhs, rp)}", lvl)
    if isinstance(p, Unbounded):
        text = f"{p.kind} {p.var} : {p.ty}, {pp_prop(p.body)}"
        return f"({text})" if prec > 0 else text
    link, link_prec = ("→", 25) if p.kind == "∀" else ("∧", 35)
    body = pp_prop(p.body, link_prec)      # the right operand of the chain of links
    if p.ty == NAT and p.sugar:
        text = f"{p.kind} {p.var} {p.rel} {pp_expr(p.bound, 51)}, {pp_prop(p.body)}"
    elif p.ty == NAT:
        text = f"{p.kind} {p.var} : ℕ, {p.var} {p.rel} {pp_expr(p.bound, 51)} {link} {body}"
    else:
        text = f"{p.kind} {p.var} : ℤ, {p.lo} ≤ {p.var} {link} {p.var} ≤ {p.hi} {link} {body}"
    # a binder's body runs as far right as possible: parenthesise unless nothing follows
    return f"({text})" if prec > 0 else text


# ---------------------------------------------------------------- meaning

class Undefined(Exception):
    """The value is too large to compute exactly (a huge power)."""


def int_ediv(a: int, b: int) -> int:
    """`Int.ediv`: floor(a / b) for b > 0, ceil(a / b) for b < 0, and 0 for b = 0."""
    if b == 0:
        return 0
    q = a // abs(b)              # Python's // is floor division
    return q if b > 0 else -q


def int_emod(a: int, b: int) -> int:
    return a if b == 0 else a - b * int_ediv(a, b)


NAT_FNS = {"Nat.gcd": 2, "Nat.lcm": 2, "Nat.choose": 2, "Nat.factorial": 1}   # name -> arity
PREDICATES = ("Nat.Prime", "Even", "Odd")


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 2) if d < n)


def _fn_value(name: str, args: list[int]) -> int:
    if name == "Nat.gcd":
        return math.gcd(*args)
    if name == "Nat.lcm":
        a, b = args
        return a * b // math.gcd(a, b) if a and b else 0
    if name == "Nat.choose":
        n, k = args
        return math.comb(n, k)          # 0 when k > n, as `Nat.choose`
    (n,) = args
    if n > 200:
        raise Undefined("factorial too large")
    return math.factorial(n)


class Opaque(Exception):
    """The value involves `Real.sqrt`, `Real.log`, `Real.exp` or `π`: the oracle does not know it."""


# the values Mathlib's definitions give at 0 and 1 (`Real.log 0 = 0` is its junk value), so that
# a simplifier evaluating them is held to something
_OPAQUE_VALUES = {("Real.sqrt", 0): 0, ("Real.sqrt", 1): 1, ("Real.exp", 0): 1, ("Real.log", 0): 0,
                  ("Real.log", 1): 0, ("Real.cos", 0): 1, ("Real.sin", 0): 0, ("Real.tan", 0): 0}


def _field_fn_value(name: str, args: list) -> int | Fraction:
    if name == "abs":
        return abs(args[0])
    if name == "min":
        return min(args)
    if name == "max":
        return max(args)
    return 1 / Fraction(args[0]) if args[0] else Fraction(0)   # `inv`: 0⁻¹ = 0


def value(e: Expr, env: dict[str, int]) -> int | Fraction:
    if isinstance(e, Lit):
        return e.value
    if isinstance(e, Fn) and e.name in OPAQUE_FNS:
        known = _OPAQUE_VALUES.get((e.name, value(e.args[0], env))) if len(e.args) == 1 else None
        if known is None:
            raise Opaque(e.name)
        return known
    if isinstance(e, Fn) and e.name in FIELD_FNS:
        return _field_fn_value(e.name, [value(a, env) for a in e.args])
    if isinstance(e, Fn):
        return _fn_value(e.name, [value(a, env) for a in e.args])
    if isinstance(e, BigOp):
        hi = value(e.hi, env)
        ks = range(value(e.lo, env), hi + 1) if e.icc else range(hi)
        if len(ks) > 200:
            raise Undefined("sum too long")
        out = 0 if e.op == "∑" else 1
        for k in ks:
            v = value(e.body, {**env, e.var: k})
            out = out + v if e.op == "∑" else out * v
        return out
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, Neg):
        return -value(e.arg, env)
    if isinstance(e, Cast):
        return value(e.arg, env)
    if isinstance(e, Succ):
        return value(e.arg, env) + 1
    if isinstance(e, Pow):
        base, n = value(e.base, env), value(e.exp, env)
        size = max(Fraction(base).numerator.bit_length(), Fraction(base).denominator.bit_length())
        if n > 64 or (abs(base) != 1 and n * size > 4096):
            raise Undefined("power too large")
        return base ** n
    a, b = value(e.lhs, env), value(e.rhs, env)
    if e.ty in FIELDS:
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                "/": lambda: Fraction(a) / b if b else Fraction(0)}[e.op]()
    nat = e.ty == NAT
    if e.op == "+":
        return a + b
    if e.op == "*":
        return a * b
    if e.op == "-":
        return max(a - b, 0) if nat else a - b
    if e.op == "/":
        return (a // b if b else 0) if nat else int_ediv(a, b)
    return (a % b if b else a) if nat else int_emod(a, b)


def substitute(e: Expr, name: str, by: Expr) -> Expr:
    """`e` with the variable `name` replaced by `by` (a big operator binding `name` is left alone)."""
    if isinstance(e, Var):
        return by if e.name == name else e
    if isinstance(e, Lit):
        return e
    if isinstance(e, BigOp):
        if e.var == name:
            return e
        return BigOp(e.op, e.var, e.elem, substitute(e.lo, name, by), substitute(e.hi, name, by),
                     substitute(e.body, name, by), e.ty, e.icc, e.new)
    if isinstance(e, Fn):
        return Fn(e.name, tuple(substitute(a, name, by) for a in e.args), e.ty)
    if isinstance(e, Arith):
        return Arith(e.op, substitute(e.lhs, name, by), substitute(e.rhs, name, by), e.ty)
    if isinstance(e, Pow):
        return Pow(substitute(e.base, name, by), substitute(e.exp, name, by), e.ty)
    if isinstance(e, Succ):
        return Succ(substitute(e.arg, name, by), e.dot)
    return type(e)(substitute(e.arg, name, by))   # Neg, Cast


def _divides(a: int, b: int) -> bool:
    return b == 0 if a == 0 else b % abs(a) == 0


SEARCH = 30   # an unbounded quantifier is searched over [0, SEARCH] (ℕ) or [-SEARCH, SEARCH] (ℤ)
Truth3 = Union[bool, None]   # None: the searches could not settle it


def _and(values) -> Truth3:
    out: Truth3 = True
    for v in values:
        if v is False:
            return False
        if v is None:
            out = None
    return out


def _or(values) -> Truth3:
    out: Truth3 = False
    for v in values:
        if v is True:
            return True
        if v is None:
            out = None
    return out


def truth(p: Prop, env: dict[str, int]) -> Truth3:
    """Kleene's three-valued truth: exact for everything but unbounded quantifiers, which are
    True (∃) or False (∀) once a search finds a witness and unknown otherwise."""
    if isinstance(p, Truth):
        return p.value
    if isinstance(p, Atom):
        return bool(env[p.name])
    if isinstance(p, Mem):
        v = value(p.arg, env)
        return value(p.lo, env) <= v <= value(p.hi, env) if p.icc else 0 <= v < value(p.hi, env)
    if isinstance(p, Pred):
        v = value(p.arg, env)
        return _is_prime(v) if p.name == "Nat.Prime" else (v % 2 == 0) == (p.name == "Even")
    if isinstance(p, Rel):
        try:
            a, b = value(p.lhs, env), value(p.rhs, env)
        except Opaque:
            return None
        divides = (a != 0 or b == 0) if p.lhs.ty in FIELDS else _divides(a, b)
        return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b,
                "∣": divides}[p.op]
    if isinstance(p, Not):
        v = truth(p.arg, env)
        return None if v is None else not v
    if isinstance(p, Conn):
        a, b = truth(p.lhs, env), truth(p.rhs, env)
        if p.op == "∧":
            return _and((a, b))
        if p.op == "∨":
            return _or((a, b))
        if p.op == "→":
            return _or((None if a is None else not a, b))
        return None if a is None or b is None else a == b
    if isinstance(p, Unbounded) and p.ty == PROP:      # two values: the search is exhaustive
        results = [truth(p.body, {**env, p.var: k}) for k in (0, 1)]
        return _and(results) if p.kind == "∀" else _or(results)
    if isinstance(p, Unbounded):
        values = range(0, SEARCH + 1) if p.ty == NAT else range(-SEARCH, SEARCH + 1)
        found = (truth(p.body, {**env, p.var: k}) for k in values)
        if p.kind == "∀":
            return False if any(v is False for v in found) else None
        return True if any(v is True for v in found) else None
    results = (truth(p.body, {**env, p.var: k}) for k in bounded_range(p, env))
    return _and(results) if p.kind == "∀" else _or(results)


def holds(p: Prop, env: dict[str, int]) -> bool:
    """Two-valued truth, for propositions without unbounded quantifiers."""
    v = truth(p, env)
    if v is None:
        raise ValueError(f"undetermined: {pp_prop(p)}")
    return v


def bounded_range(p: Bounded, env: dict[str, int]) -> range:
    if p.ty == INT:
        return range(p.lo, p.hi + 1)
    n = value(p.bound, env)
    return range(n + 1 if p.rel == "≤" else n)


def statement_truth_at(s: Statement, env: dict[str, int]) -> Truth3:
    """Whether `hyps → goal` holds at a point (keys of `Statement.binders`); False only with
    every hypothesis surely true. Hypotheses see the early variables, the goal the late ones."""
    early = {name: env[name] for name, _ in s.variables}
    hyps = _and(truth(h, early) for _, h in s.hyps)
    late = {**early, **{name: env[f"{name}@late"] for name, _ in s.late}}
    return _or((None if hyps is None else not hyps, truth(s.goal, late)))


# ---------------------------------------------------------------- deciding a statement

@dataclass
class Decision:
    truth: bool | None                      # None: neither refuted nor proved
    counterexample: dict[str, int] | None = None
    how: str = ""                           # "eval", "brute force", "z3"


_FIELD_BOX = (0, 1, -1, 2, Fraction(1, 2), Fraction(-1, 2), 3, -2, Fraction(3, 2), Fraction(1, 3))


def _box(binders: list[tuple[str, str, str]]) -> Iterator[dict[str, int | Fraction]]:
    radius = {0: 0, 1: 12, 2: 7, 3: 4}.get(len(binders), 3)
    ranges = [range(2) if ty == PROP else range(0, 2 * radius + 1) if ty == NAT
              else _FIELD_BOX[:{1: 10, 2: 8}.get(len(binders), 5)] if ty in FIELDS
              else range(-radius, radius + 1)
              for _, _, ty in binders]
    for combo in itertools.product(*ranges):
        yield {key: v for (key, _, _), v in zip(binders, combo)}


def decide(s: Statement, z3_timeout_ms: int = 2000) -> Decision:
    """Refute by brute force over a box of small values (an exact counterexample), then ask z3,
    whose counterexamples are re-checked by exact evaluation before they count."""
    unknown = False
    try:
        for env in _box(s.binders()):
            v = statement_truth_at(s, env)
            if v is False:
                return Decision(False, env, "eval" if not s.binders() else "brute force")
            unknown = unknown or v is None
    except Undefined:
        return Decision(None, how="too large")
    if not s.binders() and not unknown:
        return Decision(True, how="eval")
    return _z3_decide(s, z3_timeout_ms)


class _NoZ3(Exception):
    pass


def _z3_expr(e: Expr, env: dict[str, z3.ArithRef]) -> z3.ArithRef:
    if isinstance(e, Lit):
        return z3.RealVal(e.value) if e.ty in FIELDS else z3.IntVal(e.value)
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, Neg):
        return -_z3_expr(e.arg, env)
    if isinstance(e, Cast):
        inner = _z3_expr(e.arg, env)
        return z3.ToReal(inner) if e.ty in FIELDS and e.arg.ty not in FIELDS else inner
    if isinstance(e, Fn) and e.name == "π":
        return z3.Real("π_opaque")
    if isinstance(e, Fn) and e.name in OPAQUE_FNS:   # any function at all: no property of sqrt/log/exp
        f = z3.Function(e.name, *[z3.RealSort()] * (len(e.args) + 1))
        return f(*[_z3_expr(a, env) for a in e.args])
    if isinstance(e, Fn) and e.name in FIELD_FNS:
        args = [_z3_expr(a, env) for a in e.args]
        if e.name == "abs":
            return z3.If(args[0] >= 0, args[0], -args[0])
        if e.name in ("min", "max"):
            a, b = args
            return z3.If(a <= b, a, b) if e.name == "min" else z3.If(a <= b, b, a)
        return z3.If(args[0] == 0, z3.RealVal(0), 1 / args[0])
    if isinstance(e, Succ):
        return _z3_expr(e.arg, env) + 1
    if isinstance(e, Fn):
        raise _NoZ3("number-theoretic function")
    if isinstance(e, BigOp):
        if not (isinstance(e.hi, Lit) and isinstance(e.lo, Lit)):
            raise _NoZ3("variable bound")
        ks = range(e.lo.value, e.hi.value + 1) if e.icc else range(e.hi.value)
        terms = [_z3_expr(e.body, {**env, e.var: z3.IntVal(k)}) for k in ks]
        out = z3.IntVal(0 if e.op == "∑" else 1)
        for t in terms:
            out = out + t if e.op == "∑" else out * t
        return out
    if isinstance(e, Pow):
        if not isinstance(e.exp, Lit) or e.exp.value > 6:
            raise _NoZ3("non-literal exponent")
        base, out = _z3_expr(e.base, env), z3.IntVal(1)
        for _ in range(e.exp.value):
            out = out * base
        return out
    a, b = _z3_expr(e.lhs, env), _z3_expr(e.rhs, env)
    if e.op == "+":
        return a + b
    if e.op == "*":
        return a * b
    if e.op == "-":
        return z3.If(a >= b, a - b, 0) if e.ty == NAT else a - b
    if e.ty in FIELDS:                  # field division, x / 0 = 0
        return z3.If(b == 0, z3.RealVal(0), a / b)
    # SMT-LIB integer div/mod are Euclidean (0 <= mod < |b|), like Int.ediv/emod; x / 0 is ours
    if e.op == "/":
        return z3.If(b == 0, 0, a / b)
    return z3.If(b == 0, a, a % b)


def _z3_prop(p: Prop, env: dict[str, z3.ArithRef]) -> z3.BoolRef:
    if isinstance(p, Truth):
        return z3.BoolVal(p.value)
    if isinstance(p, Atom):
        return env[p.name]
    if isinstance(p, Mem):
        a, hi = _z3_expr(p.arg, env), _z3_expr(p.hi, env)
        return z3.And(_z3_expr(p.lo, env) <= a, a <= hi) if p.icc else z3.And(0 <= a, a < hi)
    if isinstance(p, Pred):
        if p.name == "Nat.Prime":
            raise _NoZ3("primality")
        return _z3_expr(p.arg, env) % 2 == (0 if p.name == "Even" else 1)
    if isinstance(p, Rel):
        a, b = _z3_expr(p.lhs, env), _z3_expr(p.rhs, env)
        if p.op == "∣" and p.lhs.ty in FIELDS:
            return z3.Or(a != 0, b == 0)
        if p.op == "∣":
            return z3.If(a == 0, b == 0, b % a == 0)   # `%` by a nonzero value is Euclidean
        return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b}[p.op]
    if isinstance(p, Not):
        return z3.Not(_z3_prop(p.arg, env))
    if isinstance(p, Conn):
        a, b = _z3_prop(p.lhs, env), _z3_prop(p.rhs, env)
        return {"∧": z3.And, "∨": z3.Or, "→": z3.Implies, "↔": lambda x, y: x == y}[p.op](a, b)
    if isinstance(p, Unbounded) and p.ty == PROP:
        k = z3.Bool(f"{p.var}_{len(env)}_{id(p)}")
        body = _z3_prop(p.body, {**env, p.var: k})
        return z3.ForAll([k], body) if p.kind == "∀" else z3.Exists([k], body)
    if isinstance(p, Unbounded) and p.ty == RAT:
        raise _NoZ3("a quantifier over ℚ is not one over z3's reals")
    if isinstance(p, Unbounded):
        k = (z3.Real if p.ty == REAL else z3.Int)(f"{p.var}_{len(env)}_{id(p)}")
        body = _z3_prop(p.body, {**env, p.var: k})
        guard = k >= 0 if p.ty == NAT else z3.BoolVal(True)
        return z3.ForAll([k], z3.Implies(guard, body)) if p.kind == "∀" else z3.Exists([k], z3.And(guard, body))
    if p.ty == INT:
        values = range(p.lo, p.hi + 1)
    elif isinstance(p.bound, Lit):
        values = range(p.bound.value + (1 if p.rel == "≤" else 0))
    else:
        raise _NoZ3("variable bound")
    if len(values) > 40:
        raise _NoZ3("range too long")
    cases = [_z3_prop(p.body, {**env, p.var: z3.IntVal(k)}) for k in values]
    return z3.And(*cases) if p.kind == "∀" else z3.Or(*cases)


def _has_opaque(x) -> bool:
    if isinstance(x, Fn) and x.name in OPAQUE_FNS:
        return True
    if isinstance(x, tuple):
        return any(_has_opaque(y) for y in x)
    if hasattr(x, "__dataclass_fields__"):
        return any(_has_opaque(getattr(x, f)) for f in x.__dataclass_fields__)
    return False


def _z3_value(v: z3.ExprRef) -> int | Fraction:
    if z3.is_bool(v):
        return int(z3.is_true(v))
    if z3.is_int_value(v):
        return v.as_long()
    if z3.is_rational_value(v):
        return v.as_fraction()
    raise Undefined("an irrational model value")   # (an algebraic number): not checkable exactly


def _z3_decide(s: Statement, timeout_ms: int) -> Decision:
    # ℚ variables range over z3's reals: no real counterexample means no rational one, and a real
    # model counts only once exact evaluation at its (rational) values refutes the statement
    keys = {key: z3.Bool(key) if ty == PROP else z3.Real(key) if ty in FIELDS else z3.Int(key)
            for key, _, ty in s.binders()}
    early = {name: keys[name] for name, _ in s.variables}
    late = {**early, **{name: keys[f"{name}@late"] for name, _ in s.late}}
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    try:
        for key, _, ty in s.binders():
            if ty == NAT:
                solver.add(keys[key] >= 0)
        for _, h in s.hyps:
            solver.add(_z3_prop(h, early))
        solver.add(z3.Not(_z3_prop(s.goal, late)))
    except _NoZ3:
        return Decision(None, how="outside z3 encoding")
    verdict = solver.check()
    if verdict == z3.unsat:
        return Decision(True, how="z3")
    if verdict == z3.sat:
        if _has_opaque(s):               # z3 chose the functions too: not a counterexample
            return Decision(None, how="z3 model of opaque functions")
        model = solver.model()
        try:
            point = {key: _z3_value(model.eval(var, model_completion=True)) for key, var in keys.items()}
            v = statement_truth_at(s, point)
        except Undefined:
            v = True
        if v is False:
            return Decision(False, point, "z3")
        if v is None:
            # an unbounded quantifier no search settles: z3's model is the only witness
            return Decision(False, point, "z3 (quantified)")
    return Decision(None, how="z3 unknown")


@dataclass
class Tally:
    """What a fuzzing run tried and found."""

    statements: int = 0
    scripts: int = 0
    accepted: int = 0
    accepted_true: int = 0
    accepted_undecided: int = 0
    timeouts: int = 0
    holes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading Lean statements

class ReadError(ValueError):
    pass


# (precedence, left operand's precedence, right operand's precedence), as Lean declares them
_INFIX = {"↔": (20, 21, 21), "→": (25, 26, 25), "∨": (30, 31, 30), "∧": (35, 36, 35),
          **{r: (50, 51, 51) for r in ("=", "≠", "<", "≤", ">", "≥", "∣")},
          "+": (65, 65, 66), "-": (65, 65, 66), "*": (70, 70, 71), "/": (70, 70, 71), "%": (70, 70, 71),
          "^": (80, 81, 80)}
_TYPES = {"ℕ": NAT, "ℤ": INT, "ℚ": RAT, "ℝ": REAL, "Nat": NAT, "Int": INT, "Rat": RAT, "Real": REAL, "Prop": PROP}
_READ_FNS = {"min": "min", "max": "max", **{f: f for f in OPAQUE_FNS if f != "π"}}


class _Reader:
    """Lean text -> raw trees, then Lean's `binop%` elaboration -> the oracle's typed syntax.

    Raw trees are tuples: ("num", n) ("var", x, T) ("asc", t, T) ("neg", t) ("op", o, a, b)
    ("not", p) ("all", x, T, p) ("const", bool); `↑e` reads as `((e : ℕ) : ℤ)`."""

    def __init__(self, text: str, types: dict[str, str]):
        from lean_env.lexer import code_tokens

        self.toks = [t.text for t in code_tokens(text)] + ["<end>"]
        self.i = 0
        self.types = dict(types)        # variable -> type, as the binders say

    def peek(self) -> str:
        return self.toks[self.i]

    def take(self, want: str | None = None) -> str:
        t = self.toks[self.i]
        if want is not None and t != want:
            raise ReadError(f"expected {want!r}, found {t!r}")
        self.i += 1
        return t

    def type_name(self) -> str:
        t = self.take()
        if t not in self.types.get("<types>", {}) and t not in _TYPES:
            raise ReadError(f"unknown type {t!r}")
        return _TYPES.get(t) or self.types["<types>"][t]

    def binders(self) -> list[tuple[str, str]]:
        out = []
        while self.peek() in ("(", "{"):
            close = ")" if self.take() == "(" else "}"
            names = []
            while self.peek() != ":":
                names.append(self.take())
            self.take(":")
            ty = self.type_name()
            self.take(close)
            out += [(n, ty) for n in names]
        return out

    def term(self, prec: int = 0):
        t = self.peek()
        if t == "¬":
            self.take()
            lhs = ("not", self.term(40))
        elif t == "-":
            self.take()
            lhs = ("neg", self.term(75))
        elif t == "↑":                    # a cast into the type of its tree, from its argument's own
            self.take()
            lhs = ("cast", self.atom())
        elif t == "√":
            self.take()
            lhs = ("fn", "Real.sqrt", [self.term(100)])
        elif t == "∀":
            self.take()
            bound = self.binders()
            self.take(",")
            saved = dict(self.types)
            self.types.update(bound)
            body = self.term(0)
            self.types = saved
            for name, ty in reversed(bound):
                body = ("all", name, ty, body)
            return body
        elif t in _READ_FNS:              # an application: its arguments are atoms
            self.take()
            args = [self.atom()]
            while self.peek() not in _INFIX and self.peek() not in (")", "|", ",", "<end>", "↔", "⁻¹"):
                args.append(self.atom())
            lhs = ("fn", _READ_FNS[t], args)
        else:
            lhs = self.atom()
        while self.peek() in _INFIX and _INFIX[self.peek()][0] >= prec:
            op = self.take()
            _, _, rp = _INFIX[op]
            lhs = ("op", op, lhs, self.term(rp))
        return lhs

    def atom(self):
        out = self._atom()
        while self.peek() in ("⁻¹", "!"):
            out = ("fn", "inv" if self.take() == "⁻¹" else "Nat.factorial", [out])
        return out

    def _atom(self):
        t = self.take()
        if t == "|":
            inner = self.term(0)
            self.take("|")
            return ("fn", "abs", [inner])
        if t in ("π", "Real.pi"):
            return ("fn", "π", [])
        if t in NAT_FNS:                  # `Nat.gcd a b`: arguments are atoms
            return ("fn", t, [self.atom() for _ in range(NAT_FNS[t])])
        if t in PREDICATES:
            return ("pred", t, self.atom())
        if t == "(":
            inner = self.term(0)
            if self.peek() == ":":
                self.take()
                ty = self.type_name()
                self.take(")")
                return ("asc", inner, ty)
            self.take(")")
            return inner
        if t in ("True", "False"):
            return ("const", t == "True")
        if t.isdigit():
            return ("num", int(t))
        if t in self.types:
            return ("pvar", t) if self.types[t] == PROP else ("var", t, self.types[t])
        raise ReadError(f"unexpected token {t!r}")


_ARITH = {"+", "-", "*", "/", "%", "^"}


def _leaf_types(raw, out: set[str]) -> None:
    kind = raw[0]
    if kind == "var":
        out.add(raw[2])
    elif kind == "asc":
        out.add(raw[2])
    elif kind == "neg":
        _leaf_types(raw[1], out)
    elif kind == "fn" and raw[1] in OPAQUE_FNS:
        out.add(REAL)
    elif kind == "fn" and raw[1] in NAT_FNS:   # ℕ-valued, whatever the tree
        out.add(NAT)
    elif kind == "fn":                    # |a|, min a b, a⁻¹: the type of their arguments
        for a in raw[2]:
            _leaf_types(a, out)
    elif kind == "op" and raw[1] in _ARITH:
        _leaf_types(raw[2], out)
        if raw[1] != "^":                 # the exponent is a tree of its own
            _leaf_types(raw[3], out)


def _tree_type(raws, default: str = NAT) -> str:
    """`binop%`: one type for a whole tree, the largest of its leaves' (ℕ < ℤ < ℚ < ℝ), else the default."""
    leaves: set[str] = set()
    for r in raws:
        _leaf_types(r, leaves)
    return next((ty for ty in (REAL, RAT, INT, NAT) if ty in leaves), default)


_ORDER = (NAT, INT, RAT, REAL)


def _up(e: Expr, ty: str) -> Expr:
    """`e` where the tree wants `ty`: itself, or its cast from a smaller type."""
    if e.ty == ty:
        return e
    if e.ty in _ORDER and _ORDER.index(e.ty) < _ORDER.index(ty):
        return Cast(e, ty)
    raise ReadError(f"type mismatch: {e.ty} where {ty} is expected")


def _expr(raw, ty: str) -> Expr:
    kind = raw[0]
    if kind == "num":
        return Lit(raw[1], ty)
    if kind == "var":
        return _up(Var(raw[1], raw[2]), ty)
    if kind == "asc":
        return _up(_expr(raw[1], raw[2]), ty)
    if kind == "cast":
        return _up(_expr(raw[1], _tree_type([raw[1]])), ty)
    if kind == "neg":
        if ty == NAT:
            raise ReadError("failed to synthesize Neg ℕ")
        return Neg(_expr(raw[1], ty), ty)
    if kind == "fn" and raw[1] in OPAQUE_FNS:
        return _up(Fn(raw[1], tuple(_expr(a, REAL) for a in raw[2]), REAL), ty)
    if kind == "fn" and raw[1] in NAT_FNS:
        return _up(Fn(raw[1], tuple(_expr(a, NAT) for a in raw[2]), NAT), ty)
    if kind == "fn":
        own = _tree_type(raw[2], default=ty)
        if own == NAT and raw[1] in ("abs", "inv") or own == INT and raw[1] == "inv":
            raise ReadError(f"failed to synthesize {raw[1]} {own}")
        return _up(Fn(raw[1], tuple(_expr(a, own) for a in raw[2]), own), ty)
    op, a, b = raw[1], raw[2], raw[3]
    if op == "%" and ty in FIELDS:
        raise ReadError(f"failed to synthesize HMod {ty}")
    if op == "^" and _tree_type([b]) == REAL:   # `Real.rpow`: opaque
        return _up(Fn("Real.rpow", (_expr(a, REAL), _expr(b, REAL)), REAL), ty)
    if op == "^":
        return Pow(_expr(a, ty), _expr(b, _tree_type([b])), ty)
    return Arith(op, _expr(a, ty), _expr(b, ty), ty)


def _prop(raw) -> Prop:
    kind = raw[0]
    if kind == "const":
        return Truth(raw[1])
    if kind == "pvar":
        return Atom(raw[1])
    if kind == "pred":
        arg_ty = NAT if raw[1] == "Nat.Prime" else _tree_type([raw[2]])
        return Pred(raw[1], _expr(raw[2], arg_ty))
    if kind == "not":
        return Not(_prop(raw[1]))
    if kind == "all":
        return Unbounded("∀", raw[1], raw[2], _prop(raw[3]))
    if kind == "op" and raw[1] in ("∧", "∨", "→", "↔"):
        return Conn(raw[1], _prop(raw[2]), _prop(raw[3]))
    if kind == "op" and raw[1] in _INFIX and raw[1] not in _ARITH:
        ty = _tree_type([raw[2], raw[3]])
        return Rel(raw[1], _expr(raw[2], ty), _expr(raw[3], ty))
    raise ReadError(f"not a proposition: {raw}")


def read_declaration(text: str, type_vars: dict[str, str] | None = None) -> Statement:
    """`NAME binders : prop` (a library lemma's Lean declaration) as a statement, type variables
    such as `α` instantiated by `type_vars`; ReadError outside the fragment."""
    r = _Reader(text, {"<types>": type_vars or {}})
    name = r.take()
    variables = tuple(r.binders())
    r.types.update(variables)
    r.take(":")
    goal = _prop(r.term(0))
    if r.peek() != "<end>":
        raise ReadError(f"unexpected {r.peek()!r} after the statement")
    # `∀ a b, P → ∀ n, Q` as binders `(a b) (h : P) (n)`: the same truth, searched on a small box
    taken = {n for n, _ in variables}
    while isinstance(goal, Unbounded) and goal.kind == "∀" and goal.var not in taken:
        variables, goal = variables + ((goal.var, goal.ty),), goal.body
        taken.add(variables[-1][0])
    hyps: tuple[tuple[str, Prop], ...] = ()
    while isinstance(goal, Conn) and goal.op == "→":
        hyps, goal = hyps + ((f"h{len(hyps)}", goal.lhs),), goal.rhs
    late: tuple[tuple[str, str], ...] = ()
    while hyps and isinstance(goal, Unbounded) and goal.kind == "∀" and goal.var not in taken:
        late, goal = late + ((goal.var, goal.ty),), goal.body
        taken.add(late[-1][0])
    return Statement(name.replace(".", "_"), variables, hyps, goal, late)
