"""Terms of the embedded Lean fragment and their Lean-style pretty printer.

One small family of immutable nodes covers numbers, arithmetic, propositions and proof terms:
Lean itself does not separate them, and neither does its printer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

from lean_env.embedded.errors import IllTyped
from lean_env.embedded.functions import ALPHA, DEFINED_PREDICATES, SET_BUILDERS, SIGNATURES, local_function
from lean_env.lexer import numeral_text

from lean_env.embedded.carriers import COMPLEX, FIELDS, INT, NAT, NUMBER_TYPES, RAT, REAL  # noqa: F401  (re-exported)


class TyVar(str):
    """A lemma's type variable (`α`), with the type class its carrier must have (`CommRing`).
    It is a `str` so that it sits where the concrete types ℕ/ℤ sit, and prints as its name."""

    cls: str

    def __new__(cls_, name: str, cls: str) -> "TyVar":
        obj = super().__new__(cls_, name)
        obj.cls = cls
        return obj


PROP = "Prop"


@dataclass(frozen=True)
class Var:
    """A variable (or a constant's name). After elaboration a number variable carries its type;
    two occurrences of one name in one context have one type, so equality compares names."""

    name: str
    ty: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Num:
    """A numeral. After elaboration every numeral carries its type (`OfNat ℤ 2`), and two
    numerals are equal only at the same type: a rewrite with `(2 : ℤ) = ...` never fires on a
    natural-number `2`. `ty` is None only for a numeral as parsed, before elaboration; tactics
    build typed numerals (`Num(0, NAT)`)."""

    value: int            # non-negative; negative numerals are Un("-", Num)
    ty: str | None = None  # ℕ/ℤ/ℚ/ℝ (or a lemma's type variable) once elaborated


@dataclass(frozen=True)
class Cast:
    """The coercion `↑t` (`Nat.cast`, `Int.cast`, `Rat.cast`): a function application, not a
    no-op. `ty` is the target type once elaborated (None while `↑t` is still as parsed), `src`
    the type of `t`, so every procedure reads `t` with its own semantics (ℕ truncates)."""

    ty: str | None
    arg: "Term"
    src: str = NAT   # the type cast from: ℕ (`Nat.cast`), ℤ (`Int.cast`) or ℚ (`Rat.cast`)


@dataclass(frozen=True)
class Typed:
    """An ascription `(t : T)` as parsed: a type (ℕ/ℤ/Prop), which elaboration (`types.py`)
    removes, or a proposition for a proof (`(by omega : x < 5)`), which `elab.Elab` checks."""

    term: "Term"
    ty: "str | Term"


@dataclass(frozen=True)
class Const:
    value: bool           # True / False as propositions


@dataclass(frozen=True)
class Bin:
    op: str               # arithmetic, relation or connective
    lhs: "Term"
    rhs: "Term"
    type: str | None = field(default=None, init=False, compare=False, repr=False)   # computed

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", _bin_type(self))


@dataclass(frozen=True)
class Un:
    op: str               # "-" (negation) or "¬"
    arg: "Term"
    type: str | None = field(default=None, init=False, compare=False, repr=False)   # computed

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", PROP if self.op == "¬" else type_of(self.arg))


@dataclass(frozen=True)
class Quant:
    """A binder: `∀`/`∃` over a proposition, or `fun` (a proof term `fun x => e`, which binds
    like them, so substitution and capture avoidance are the same code)."""

    kind: str             # "∀", "∃" or "fun"
    var: str
    ty: str | None        # None: an untyped binder as parsed, until elaboration infers it
    body: "Term"


@dataclass(frozen=True)
class App:
    fn: "Term"
    args: tuple["Term", ...]
    type: str | None = field(default=None, init=False, compare=False, repr=False)   # computed

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", _app_type(self))


@dataclass(frozen=True)
class Anon:
    items: tuple["Term", ...]   # ⟨a, b, c⟩


@dataclass(frozen=True)
class Proj:
    term: "Term"
    field: str            # "1", "2", "left", "mp", "symm", ...


@dataclass(frozen=True)
class ByTac:
    text: str             # `by tac` inside a term


@dataclass(frozen=True)
class Hole:
    synthetic: bool = False  # `?_` (refine makes it a new goal) rather than `_`


Term = Union[Var, Num, Const, Bin, Un, Quant, App, Anon, Proj, ByTac, Hole, Cast, Typed]

ARITH_OPS = ("+", "-", "*", "/", "%", "^")
REL_OPS = ("=", "≠", "<", "≤", ">", "≥", "∣")
LOGIC_OPS = ("∧", "∨", "→", "↔")


# ---------------------------------------------------------------- types carried by the nodes

def type_of(t: Term) -> str | None:
    """The type a node carries: a numeral's, a variable's, a cast's target, an operator's (its
    parts'), a relation's or connective's (Prop), a function application's result. None only
    for what is not elaborated yet (a numeral or an ascription as parsed) or is not a value
    (a proof term)."""
    if isinstance(t, (Num, Var, Cast)):
        return t.ty
    if isinstance(t, (Bin, Un, App)):
        return t.type
    if isinstance(t, Const) or isinstance(t, Quant) and t.kind != "fun":
        return PROP
    return None


def _concrete(ty: str | None) -> bool:
    """A type that is fixed: not unknown, not a lemma's type variable still open."""
    return ty is not None and not isinstance(ty, TyVar)


def same_type(a: str | None, b: str | None) -> bool:
    """Can two parts of one node have these types? (Unknown or open types agree with anything.)"""
    return not (_concrete(a) and _concrete(b)) or a == b


def _meet(node: Term, a: str | None, b: str | None, lhs: Term, rhs: Term) -> str | None:
    if not same_type(a, b):
        raise IllTyped(f"ill-typed term: {pp(lhs)} : {a} and {pp(rhs)} : {b} in one "
                       f"{'relation' if isinstance(node, Bin) and node.op in REL_OPS else 'operation'}")
    return a if _concrete(a) or b is None else b


def _bin_type(t: "Bin") -> str | None:
    if t.op in LOGIC_OPS:
        return PROP
    lt, rt = type_of(t.lhs), type_of(t.rhs)
    if t.op == "^":
        if _concrete(rt) and rt != NAT:   # the monoid power: a natural-number exponent
            raise IllTyped(f"ill-typed term: the exponent {pp(t.rhs)} : {rt} of a power must be a natural number")
        return lt
    ty = _meet(t, lt, rt, t.lhs, t.rhs)
    return PROP if t.op in REL_OPS else ty


def _app_type(t: "App") -> str | None:
    """The result type of a function application, its arguments checked against the signature."""
    if not isinstance(t.fn, Var):
        return None
    sig = SIGNATURES.get(t.fn.name)
    if sig is None:
        local = local_function(t.fn.ty)
        return local[1] if local else None
    alpha = None
    for a, p in zip(t.args, sig.params):
        got = type_of(a)
        if p == ALPHA:
            alpha = _meet(t, alpha, got, t.args[0], a)
        elif p in NUMBER_TYPES and not same_type(got, p):
            raise IllTyped(f"ill-typed term: {pp(a)} : {got} where {t.fn.name} takes {p}")
    if t.fn.name in ("Finset.sum", "Finset.prod") and len(t.args) == 2 and isinstance(t.args[1], Quant):
        return type_of(t.args[1].body)
    if sig.result == ALPHA:
        return alpha
    return sig.result if sig.result in NUMBER_TYPES or sig.result == PROP else None


def is_numeral(t: Term, value: int) -> bool:
    """`t` is the numeral `value` (at whatever type it carries: the caller knows the type)."""
    return isinstance(t, Num) and t.value == value

# (precedence, lhs precedence, rhs precedence) as in Lean 4's notation declarations.
BIN_PREC: dict[str, tuple[int, int, int]] = {
    "↔": (20, 21, 21),
    "→": (25, 26, 25),
    "∨": (30, 31, 30),
    "∧": (35, 36, 35),
    **{op: (50, 51, 51) for op in REL_OPS},
    "+": (65, 65, 66),
    "-": (65, 65, 66),
    "*": (70, 70, 71),
    "/": (70, 70, 71),
    "%": (70, 70, 71),
    "^": (75, 76, 75),
}
MAX_PREC = 1024


def neg(t: Term) -> Term:
    return Un("-", t)


def num(n: int | Fraction, ty: str | None = None) -> Term:
    """The numeral term of a value: `-3`, and over a field `7 / 2` for a non-integer fraction."""
    if isinstance(n, Fraction) and n.denominator != 1:
        return Bin("/", num(n.numerator, ty), Num(n.denominator, ty))
    n = int(n)
    return Num(n, ty) if n >= 0 else Un("-", Num(-n, ty))


# ---------------------------------------------------------------- printing

def pp(t: Term) -> str:
    return _pp(t, 0, True)


def _paren(s: str, needed: bool) -> str:
    return f"({s})" if needed else s


def _pp(t: Term, prec: int, rightmost: bool) -> str:
    """Print `t` where the context demands at least precedence `prec`; `rightmost` terms may
    end with a binder (∀/∃/by) without parentheses, as Lean's parenthesizer allows."""
    if isinstance(t, Var):
        return t.name
    if isinstance(t, Num):
        return numeral_text(t.value)   # any size (no 4300-digit str limit)
    if isinstance(t, Cast):
        return _paren("↑" + _pp(t.arg, MAX_PREC + 1, rightmost), prec > MAX_PREC)
    if isinstance(t, Typed):
        return f"({pp(t.term)} : {t.ty if isinstance(t.ty, str) else pp(t.ty)})"
    if isinstance(t, Const):
        return "True" if t.value else "False"
    if isinstance(t, Hole):
        return "?_" if t.synthetic else "_"
    if isinstance(t, Bin):
        p, lp, rp = BIN_PREC[t.op]
        s = f"{_pp(t.lhs, lp, False)} {t.op} {_pp(t.rhs, rp, rightmost or p < prec)}"
        return _paren(s, p < prec)
    if isinstance(t, Un):
        if t.op == "¬":
            return f"¬{_pp(t.arg, 40, rightmost)}"  # `¬` is max-precedence, its argument level 40
        inner = _pp(t.arg, 75, rightmost)
        return _paren(f"- {inner}" if inner.startswith("-") else f"-{inner}", 75 < prec)
    if isinstance(t, Quant):
        return _paren(_pp_quant(t), prec > 0 and not rightmost)
    if isinstance(t, App) and t.fn == Var("Membership.mem") and len(t.args) == 2:   # `x ∈ s`
        return _paren(f"{_pp(t.args[0], 51, False)} ∈ {_pp(t.args[1], 51, rightmost)}", prec > 50)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in _BIG_OPS and len(t.args) == 2 \
            and isinstance(t.args[1], Quant) and t.args[1].kind == "fun":
        # `∑ i ∈ s, f i`: the body sits at precedence 67, so a following `*` would be swallowed
        f = t.args[1]
        s = f"{_BIG_OPS[t.fn.name]} {f.var} ∈ {pp(t.args[0])}, {_pp(f.body, 67, rightmost)}"
        return _paren(s, prec >= 67 and not rightmost)
    if isinstance(t, App) and t.fn in (Var("Real.rpow"), Var("zpow")) and len(t.args) == 2:   # `x ^ y`, as `^` prints
        p, lp, rp = BIN_PREC["^"]
        exponent = _pp(t.args[1], rp, rightmost or p < prec)
        if exponent.startswith("-"):   # `x ^ (-3)`: Lean parenthesizes a negative exponent
            exponent = f"({exponent})"
        return _paren(f"{_pp(t.args[0], lp, False)} ^ {exponent}", p < prec)
    if isinstance(t, App) and isinstance(t.fn, Var) and len(t.args) == 1 and t.fn.name in _NOTATION:
        return _pp_notation(t.fn.name, t.args[0], prec, rightmost)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in ("Nat.ModEq", "Int.ModEq") and len(t.args) == 3:
        n, a, b = t.args   # `notation:50 a " ≡ " b " [MOD " n "]"`
        kind = "MOD" if t.fn.name == "Nat.ModEq" else "ZMOD"
        return _paren(f"{_pp(a, 51, False)} ≡ {_pp(b, 51, False)} [{kind} {pp(n)}]", prec > 50)
    if isinstance(t, App) and t.fn == Var("Rat.divInt") and len(t.args) == 2:   # `infixl:70 " /. "`
        return _paren(f"{_pp(t.args[0], 70, False)} /. {_pp(t.args[1], 71, rightmost)}", prec > 70)
    if isinstance(t, App) and t.fn == Var("setOf") and len(t.args) == 1 and isinstance(t.args[0], Quant):
        return f"{{{t.args[0].var} | {pp(t.args[0].body)}}}"
    if isinstance(t, App) and t.fn == Var("Singleton.singleton") and len(t.args) == 1:
        return f"{{{pp(t.args[0])}}}"
    if isinstance(t, App) and t.fn == Var("SDiff.sdiff") and len(t.args) == 2:   # `infixl:70 " \\ "`
        return _paren(f"{_pp(t.args[0], 70, False)} \\ {_pp(t.args[1], 71, rightmost)}", prec > 70)
    if isinstance(t, App) and isinstance(t.fn, Var) and len(t.args) == 1 and t.fn.name in _DOT_NOTATION:
        return f"{_pp(t.args[0], MAX_PREC + 1, False)}.{t.fn.name.rpartition('.')[2]}"   # `z.re`
    if isinstance(t, App) and not t.args:   # a constant: `Complex.I`, `π`
        return _pp(t.fn, MAX_PREC, False)
    if isinstance(t, App):
        s = " ".join([_pp(t.fn, MAX_PREC, False)] + [_pp(a, MAX_PREC + 1, False) for a in t.args])
        return _paren(s, prec > MAX_PREC)
    if isinstance(t, Anon):
        return "⟨" + ", ".join(pp(i) for i in t.items) + "⟩"
    if isinstance(t, Proj):
        return f"{_pp(t.term, MAX_PREC + 1, False)}.{t.field}"
    if isinstance(t, ByTac):
        return _paren(f"by {t.text}", prec > 0 and not rightmost)
    raise TypeError(f"not a term: {t!r}")


# Function applications Mathlib prints as notation: `|x|`, `x⁻¹`, `√x` (`prefix:100`).
_NOTATION = ("abs", "Inv.inv", "Real.sqrt", "Nat.factorial")
_DOT_NOTATION = ("Complex.re", "Complex.im", "List.sum")   # printed `z.re`, as Lean's delaborator does


_BIG_OPS = {"Finset.sum": "∑", "Finset.prod": "∏"}


def _pp_notation(fn: str, arg: Term, prec: int, rightmost: bool) -> str:
    if fn == "Nat.factorial":   # `n !`, `(n + 1)!`: a space only where `n!` would be one identifier
        inner = _pp(arg, MAX_PREC + 1, False)
        return _paren(inner + ("!" if inner.endswith(")") or inner.isdigit() else " !"), prec > MAX_PREC)
    if fn == "abs":
        return f"|{pp(arg)}|"
    if fn == "Inv.inv":
        return f"{_pp(arg, MAX_PREC + 1, False)}⁻¹"
    return _paren("√" + _pp(arg, 100, rightmost), prec > 100)


BINDER_PRED_OPS = ("<", "≤", ">", "≥", "≠")


def binder_predicate(t: Quant) -> tuple[str, Term, Term] | None:
    """`∀ x, x > 0 → P` / `∃ x, x > 0 ∧ P` as (op, bound, P): Mathlib prints them `∀ x > 0, P`."""
    body = t.body
    link = "→" if t.kind == "∀" else "∧"
    if isinstance(body, Bin) and body.op == link and isinstance(body.lhs, Bin):
        pred = body.lhs
        if pred.op in BINDER_PRED_OPS and pred.lhs == Var(t.var) and t.var not in free_vars(pred.rhs):
            return pred.op, pred.rhs, body.rhs
    if isinstance(body, Bin) and body.op == link and isinstance(body.lhs, App) and body.lhs.fn == Var("Membership.mem"):
        x, s = body.lhs.args   # `∀ x ∈ s, P`
        if x == Var(t.var) and t.var not in free_vars(s):
            return "∈", s, body.rhs
    return None


def _pp_quant(t: Quant) -> str:
    """`∀ (a b : ℕ), body` and `∃ a b, body`, merging consecutive binders like Lean, and
    `∀ x > 0, body` for a binder predicate directly under its binder (Mathlib's delaborator)."""
    if t.kind == "fun":
        names, body = [t.var], t.body
        while isinstance(body, Quant) and body.kind == "fun":
            names.append(body.var)
            body = body.body
        return f"fun {' '.join(names)} => {pp(body)}"
    bp = binder_predicate(t)
    if bp is not None:
        op, bound, rest = bp
        return f"{t.kind} {t.var} {op} {pp(bound)}, {pp(rest)}"
    names, ty, body = [t.var], t.ty, t.body
    while isinstance(body, Quant) and body.kind == t.kind and (t.kind == "∃" or body.ty == ty):
        names.append(body.var)
        body = body.body
    if t.kind == "∀":
        return f"∀ ({' '.join(names)} : {ty}), {pp(body)}"
    return f"∃ {' '.join(names)}, {pp(body)}"


# ---------------------------------------------------------------- structure

def children(t: Term) -> tuple[Term, ...]:
    """The immediate subterms (a binder's body included)."""
    if isinstance(t, Bin):
        return (t.lhs, t.rhs)
    if isinstance(t, (Un, Cast)):
        return (t.arg,)
    if isinstance(t, Quant):
        return (t.body,)
    if isinstance(t, App):
        return (t.fn,) + t.args
    if isinstance(t, Anon):
        return t.items
    if isinstance(t, (Proj, Typed)):
        return (t.term,)
    return ()


def with_children(t: Term, kids: list[Term] | tuple[Term, ...]) -> Term:
    """`t` with its immediate subterms replaced (inverse of `children`)."""
    if isinstance(t, Bin):
        return Bin(t.op, kids[0], kids[1])
    if isinstance(t, Un):
        return Un(t.op, kids[0])
    if isinstance(t, Cast):
        return Cast(t.ty, kids[0], t.src)
    if isinstance(t, Quant):
        return Quant(t.kind, t.var, t.ty, kids[0])
    if isinstance(t, App):
        return App(kids[0], tuple(kids[1:]))
    if isinstance(t, Anon):
        return Anon(tuple(kids))
    if isinstance(t, Proj):
        return Proj(kids[0], t.field)
    if isinstance(t, Typed):
        return Typed(kids[0], t.ty)
    return t


def free_vars(t: Term) -> set[str]:
    if isinstance(t, Var):
        return {t.name}
    if isinstance(t, Quant):
        return free_vars(t.body) - {t.var}
    out: set[str] = set()
    for c in (t.args if is_function_app(t) else children(t)):   # `Nat.gcd` is no variable
        out |= free_vars(c)
    return out


def rename_binder(t: Quant, avoid: set[str]) -> Quant:
    """The same binder under a name outside `avoid` (alpha-conversion)."""
    fresh = fresh_name(t.var, avoid | free_vars(t.body))
    return Quant(t.kind, fresh, t.ty, subst(t.body, t.var, Var(fresh)))


def subst(t: Term, name: str, value: Term) -> Term:
    """Capture-avoiding substitution of `value` for the free variable `name`."""
    if isinstance(t, Var):
        return value if t.name == name else t
    if isinstance(t, Quant):
        if t.var == name or name not in free_vars(t.body):
            return t
        if t.var in free_vars(value):
            t = rename_binder(t, free_vars(value) | {name})
        return Quant(t.kind, t.var, t.ty, subst(t.body, name, value))
    kids = children(t)
    if not kids:
        return t
    return with_children(t, [subst(c, name, value) for c in kids])


def subst_all(t: Term, values: dict[str, Term]) -> Term:
    """Simultaneous capture-avoiding substitution of each free variable named in `values`. A value
    that mentions another of the names is not substituted again, as it would be by one `subst` after
    another: a lemma's `a ↦ n, n ↦ 1` at the goal's own `n` must give `n`, not `1`."""
    values = {k: v for k, v in values.items() if k in free_vars(t)}
    if not values:
        return t
    if isinstance(t, Var):
        return values.get(t.name, t)
    if isinstance(t, Quant):
        inner = {k: v for k, v in values.items() if k != t.var}
        if not inner:
            return t
        captured = set().union(*(free_vars(v) for v in inner.values()))
        if t.var in captured:
            t = rename_binder(t, captured | set(inner))
        return Quant(t.kind, t.var, t.ty, subst_all(t.body, inner))
    return with_children(t, [subst_all(c, values) for c in children(t)])


def replace(t: Term, old: Term, new: Term) -> Term:
    """Replace every occurrence of the subterm `old`, also under binders that do not bind its
    variables; a binder that would capture a variable of `new` is renamed first (as Lean's
    locally nameless terms make automatic)."""
    if t == old:
        return new
    if isinstance(t, Quant):
        if t.var in free_vars(old):
            return t
        if t.var in free_vars(new):
            t = rename_binder(t, free_vars(new) | free_vars(old))
        return Quant(t.kind, t.var, t.ty, replace(t.body, old, new))
    if isinstance(t, (Bin, Un, Cast)) or is_function_app(t) or _local_function_app(t):
        return with_children(t, [replace(c, old, new) for c in children(t)])
    return t


def contains(t: Term, sub: Term) -> bool:
    if t == sub:
        return True
    if isinstance(t, Quant):
        return t.var not in free_vars(sub) and contains(t.body, sub)
    if isinstance(t, (Bin, Un, Cast)) or is_function_app(t) or _local_function_app(t):
        return any(contains(c, sub) for c in children(t))
    return False


def is_function_app(t: Term) -> bool:
    """An application of a named function (`Real.sqrt x`, `min a b`) rather than of a proof."""
    return isinstance(t, App) and isinstance(t.fn, Var) and (
        t.fn.name in SIGNATURES or t.fn.name in SET_BUILDERS or t.fn.name in DEFINED_PREDICATES)


def _local_function_app(t: Term) -> bool:
    """`f (g x)` with local functions (typed `Var`s): rewriting reaches the arguments (congruence)."""
    return isinstance(t, App) and isinstance(t.fn, Var) and local_function(t.fn.ty) is not None


_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


def fresh_name(base: str, taken: set[str], sep: str = "_") -> str:
    """Lean-style fresh names: x, x_1, x_2, ... (with sep="": h✝, h✝1, h✝2, ...)."""
    if base not in taken:
        return base
    i = 1
    while f"{base}{sep}{i}" in taken:
        i += 1
    return f"{base}{sep}{i}"


def is_prop(t: Term) -> bool:
    if isinstance(t, Const) or isinstance(t, Quant) and t.kind != "fun":
        return True
    if isinstance(t, Bin):
        return t.op in REL_OPS or t.op in LOGIC_OPS
    if isinstance(t, Un):
        return t.op == "¬"
    return False
