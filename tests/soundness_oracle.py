"""An independent truth oracle for the soundness fuzzer: the fragment's syntax trees, their Lean
text, and their meaning, written from Lean 4's definitions and never from the embedded kernel.

Semantics (Lean 4 core / Mathlib):
- ℕ: `a - b` truncates at 0; `a / 0 = 0`, `a % 0 = a` (`Nat.div`, `Nat.mod`).
- ℤ: `/` is `Int.ediv` and `%` is `Int.emod` (the E-rounding convention that powers `/` on `Int`):
  for `b ≠ 0`, `0 ≤ a % b < |b|` and `a = b * (a / b) + a % b`; `a / 0 = 0`, `a % 0 = a`.
  So `-12 / 7 = -2`, `12 / -7 = -1`, `-12 / -7 = 2`, `-12 % 7 = 2`, `12 % -7 = 5`.
- `a ^ n` has a ℕ exponent (`Monoid.npow`), `0 ^ 0 = 1`; `a ∣ b` is `∃ c, b = a * c`.
- `((e : ℕ) : ℤ)` is `↑e`: `e` is computed in ℕ first (so `((2 - 3 : ℕ) : ℤ) = 0`).

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
from dataclasses import dataclass, field
from typing import Iterator, Union

import z3

NAT, INT = "ℕ", "ℤ"


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
    arg: "Expr"                 # a ℕ expression, seen in ℤ
    ty: str = INT


@dataclass(frozen=True)
class Succ:
    arg: "Expr"                 # `Nat.succ e` or `e.succ`: e + 1 in ℕ
    dot: bool = False
    ty: str = NAT


Expr = Union[Lit, Var, Arith, Pow, Neg, Cast, Succ]


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
class Atom:
    """A propositional variable `p : Prop` (library lemmas such as `Or.elim` quantify over them)."""

    name: str


PROP = "Prop"
Prop = Union[Rel, Not, Conn, Truth, Bounded, Unbounded, Atom]


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
    if isinstance(e, Succ):
        return False
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
        return Neg(_anchor(e.arg))
    return e


def anchor_rel(r: Rel) -> Rel:
    if r.lhs.ty == INT and not (_anchored(r.lhs) or _anchored(r.rhs)):
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
            return f"({e.arg.name} : ℤ)"
        return f"(({pp_expr(e.arg)} : ℕ) : ℤ)"
    if isinstance(e, Succ):                 # an application: its argument is an atom
        arg = pp_expr(e.arg, 1024)
        if e.dot:
            return f"{arg}.succ" if isinstance(e.arg, Var) else f"({pp_expr(e.arg)}).succ"
        return par(f"Nat.succ {arg}", 1024)
    if isinstance(e, Neg):
        if isinstance(e.arg, Lit) and e.arg.ascribed:      # `(-3 : ℤ)` rather than `-(3 : ℤ)`
            return f"(-{e.arg.value} : ℤ)"
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


def value(e: Expr, env: dict[str, int]) -> int:
    if isinstance(e, Lit):
        return e.value
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
        if n > 64 or (abs(base) > 1 and n * abs(base).bit_length() > 4096):
            raise Undefined("power too large")
        return base ** n
    a, b = value(e.lhs, env), value(e.rhs, env)
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
    if isinstance(p, Rel):
        a, b = value(p.lhs, env), value(p.rhs, env)
        return {"=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b,
                "∣": _divides(a, b)}[p.op]
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


def _box(binders: list[tuple[str, str, str]]) -> Iterator[dict[str, int]]:
    radius = {0: 0, 1: 12, 2: 7, 3: 4}.get(len(binders), 3)
    ranges = [range(2) if ty == PROP else range(0, 2 * radius + 1) if ty == NAT else range(-radius, radius + 1)
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
        return z3.IntVal(e.value)
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, Neg):
        return -_z3_expr(e.arg, env)
    if isinstance(e, Cast):
        return _z3_expr(e.arg, env)
    if isinstance(e, Succ):
        return _z3_expr(e.arg, env) + 1
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
    # SMT-LIB integer div/mod are Euclidean (0 <= mod < |b|), like Int.ediv/emod; x / 0 is ours
    if e.op == "/":
        return z3.If(b == 0, 0, a / b)
    return z3.If(b == 0, a, a % b)


def _z3_prop(p: Prop, env: dict[str, z3.ArithRef]) -> z3.BoolRef:
    if isinstance(p, Truth):
        return z3.BoolVal(p.value)
    if isinstance(p, Atom):
        return env[p.name]
    if isinstance(p, Rel):
        a, b = _z3_expr(p.lhs, env), _z3_expr(p.rhs, env)
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
    if isinstance(p, Unbounded):
        k = z3.Int(f"{p.var}_{len(env)}_{id(p)}")
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


def _z3_decide(s: Statement, timeout_ms: int) -> Decision:
    keys = {key: z3.Bool(key) if ty == PROP else z3.Int(key) for key, _, ty in s.binders()}
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
        model = solver.model()
        point = {key: (int(z3.is_true(model.eval(var, model_completion=True))) if z3.is_bool(var)
                       else model.eval(var, model_completion=True).as_long()) for key, var in keys.items()}
        try:
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
_TYPES = {"ℕ": NAT, "ℤ": INT, "Nat": NAT, "Int": INT, "Prop": PROP}


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
        elif t == "↑":                    # the fragment's only coercion: ℕ into ℤ
            self.take()
            lhs = ("asc", ("asc", self.term(1024), NAT), INT)
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
        else:
            lhs = self.atom()
        while self.peek() in _INFIX and _INFIX[self.peek()][0] >= prec:
            op = self.take()
            _, _, rp = _INFIX[op]
            lhs = ("op", op, lhs, self.term(rp))
        return lhs

    def atom(self):
        t = self.take()
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
    elif kind == "op" and raw[1] in _ARITH:
        _leaf_types(raw[2], out)
        if raw[1] != "^":                 # the exponent is a tree of its own
            _leaf_types(raw[3], out)


def _tree_type(raws, default: str = NAT) -> str:
    """`binop%`: one type for a whole tree, the largest of its leaves' (ℕ < ℤ), else the default."""
    leaves: set[str] = set()
    for r in raws:
        _leaf_types(r, leaves)
    return INT if INT in leaves else NAT if NAT in leaves else default


def _expr(raw, ty: str) -> Expr:
    kind = raw[0]
    if kind == "num":
        return Lit(raw[1], ty)
    if kind == "var":
        v = Var(raw[1], raw[2])
        return Cast(v) if raw[2] == NAT and ty == INT else v
    if kind == "asc":
        inner = _expr(raw[1], raw[2])
        return Cast(inner) if raw[2] == NAT and ty == INT else inner
    if kind == "neg":
        if ty == NAT:
            raise ReadError("failed to synthesize Neg ℕ")
        return Neg(_expr(raw[1], ty))
    op, a, b = raw[1], raw[2], raw[3]
    if op == "^":
        return Pow(_expr(a, ty), _expr(b, _tree_type([b])), ty)
    return Arith(op, _expr(a, ty), _expr(b, ty), ty)


def _prop(raw) -> Prop:
    kind = raw[0]
    if kind == "const":
        return Truth(raw[1])
    if kind == "pvar":
        return Atom(raw[1])
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
