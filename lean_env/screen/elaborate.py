"""The screen's elaborator: a theorem statement's text -> typed terms, by Lean 4's rules.

Written apart from the embedded kernel on purpose: it shares only the lexer and the parser's
syntax trees (`lean_env.embedded.parser`), never the kernel's typing code, so a type the kernel
drops is not dropped here too. The rules it follows (docs/lean-elaboration.md, Lean's
`Elab/Extra.lean` and `Elab/App.lean`):

- `+ - * / %` and prefix `-` form one `binop%` tree (`^`'s base belongs to it, its exponent does
  not). Leaves are elaborated with no expected type; the tree's type is the largest leaf type in
  the coercion order ℕ < ℤ < ℚ < ℝ, starting from the expected type when one is known; leaves of
  a smaller type get a coercion `↑`, leaves of unknown type (numerals, untyped binders, `↑e`) are
  unified with it. A tree with no known leaf stays one unknown type (numerals default to ℕ last).
- Relations (`binrel%`) do the same over both sides, with no expected type.
- `(e : T)` elaborates `e` at expected type `T` (then coerces); applications elaborate their
  arguments against the parameter types, after unifying the result type with the expected type
  (`min (a - b) 5 : ℤ` is `min (↑a - ↑b) 5` at ℤ); `∑ i in s, f i` elaborates `f i` at the sum's type.
- An untyped binder's type is a metavariable that its uses assign; a numeral's type defaults to ℕ
  only when nothing else assigns it, at the end of the statement.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

from lean_env.embedded import parser as P

NAT, INT, RAT, REAL, PROP = "ℕ", "ℤ", "ℚ", "ℝ", "Prop"
ORDER = (NAT, INT, RAT, REAL)          # the coercion order: each casts into the ones after it
FIELDS = (RAT, REAL)
_TYPE_NAMES = {"ℕ": NAT, "Nat": NAT, "ℤ": INT, "Int": INT, "ℚ": RAT, "Rat": RAT, "ℝ": REAL, "Real": REAL,
               "Prop": PROP}


class Outside(Exception):
    """The statement is outside what the screen types (or Lean would reject it): not screened."""


class Meta:
    """A type not known yet: an untyped binder's, a numeral's (`numeral`: defaults to ℕ), or the
    target of `↑e`. Union-find: `ref` is None, a concrete type, or another Meta."""

    def __init__(self, numeral: bool = False):
        self.ref: Union[str, "Meta", None] = None
        self.numeral = numeral


Ty = Union[str, Meta]   # ℕ ℤ ℚ ℝ Prop, "Finset ℕ", or a Meta


def resolve(ty: Ty) -> Ty:
    while isinstance(ty, Meta) and ty.ref is not None:
        ty = ty.ref
    return ty


def unify(a: Ty, b: Ty) -> None:
    ra, rb = resolve(a), resolve(b)
    if ra is rb:
        return
    if isinstance(ra, Meta):
        if isinstance(rb, Meta):
            rb.numeral = rb.numeral or ra.numeral
        ra.ref = rb
    elif isinstance(rb, Meta):
        rb.ref = ra
    elif ra != rb:
        raise Outside(f"type mismatch: {ra} and {rb}")


def coerces(src: str, dst: str) -> bool:
    return src in ORDER and dst in ORDER and ORDER.index(src) < ORDER.index(dst)


@dataclass(frozen=True)
class T:
    """A typed term. `op` names the node; `ty` its type (a Meta only during elaboration);
    `data` the numeral's value, the variable's or function's name, the relation, or a binder's
    (name, type).

    ops: num var cast add sub mul div mod neg pow call app sum prod range Icc Ico Ioc Ioo filter
    card divisors | rel and or imp iff not true false forall exists pvar pred mem"""

    op: str
    ty: Ty
    args: tuple["T", ...] = ()
    data: object = None


_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
_CONNECTIVES = {"∧": "and", "∨": "or", "→": "imp", "↔": "iff"}
RELATIONS = ("=", "≠", "<", "≤", ">", "≥", "∣")
ALPHA = "α"


@dataclass(frozen=True)
class Sig:
    params: tuple[str, ...]   # concrete types, or ALPHA (one type for the whole application)
    result: str               # a concrete type or ALPHA
    alpha: tuple[str, ...] = ORDER   # the carriers ALPHA may be (Lean: the instances that exist)


# The named functions, as Mathlib types them (`alpha`: the carriers with the needed instance).
SIGNATURES: dict[str, Sig] = {
    **{f: Sig((REAL,), REAL) for f in ("Real.sqrt", "Real.log", "Real.exp", "Real.sin", "Real.cos", "Real.tan",
                                       "Real.arctan", "Real.sinh", "Real.cosh")},
    "Real.logb": Sig((REAL, REAL), REAL),
    "Real.rpow": Sig((REAL, REAL), REAL),
    "Real.pi": Sig((), REAL),
    "π": Sig((), REAL),
    "abs": Sig((ALPHA,), ALPHA, (INT, RAT, REAL)),          # a lattice-ordered additive group: not ℕ
    "min": Sig((ALPHA, ALPHA), ALPHA),
    "max": Sig((ALPHA, ALPHA), ALPHA),
    "Inv.inv": Sig((ALPHA,), ALPHA, FIELDS),
    "Int.floor": Sig((ALPHA,), INT, (INT, RAT, REAL)),      # a FloorRing
    "Int.ceil": Sig((ALPHA,), INT, (INT, RAT, REAL)),
    "Int.fract": Sig((ALPHA,), ALPHA, (INT, RAT, REAL)),
    "Nat.floor": Sig((ALPHA,), NAT, (NAT, RAT, REAL)),      # a FloorSemiring
    "Nat.ceil": Sig((ALPHA,), NAT, (NAT, RAT, REAL)),
    "Nat.gcd": Sig((NAT, NAT), NAT),
    "Nat.lcm": Sig((NAT, NAT), NAT),
    "Nat.choose": Sig((NAT, NAT), NAT),
    "Nat.factorial": Sig((NAT,), NAT),
    "Nat.sqrt": Sig((NAT,), NAT),
    "Nat.succ": Sig((NAT,), NAT),
    "Nat.pred": Sig((NAT,), NAT),
    "Int.gcd": Sig((INT, INT), NAT),
    "Int.natAbs": Sig((INT,), NAT),
    "Int.toNat": Sig((INT,), NAT),
}
# `open Nat Real` spellings that name one function only (bare `sqrt`, `gcd` are ambiguous: left out)
ALIASES = {"Real.pi": "π", "factorial": "Nat.factorial", "Nat.fact": "Nat.factorial", "choose": "Nat.choose",
           "Real.exp": "Real.exp", "rexp": "Real.exp", "Int.natCast": None}
PREDICATES = {"Nat.Prime": NAT, "Even": None, "Odd": None}     # None: the argument's own type
SETS = {"Finset.range": "range", "Finset.Icc": "Icc", "Finset.Ico": "Ico", "Finset.Ioc": "Ioc",
        "Finset.Ioo": "Ioo", "Nat.divisors": "divisors"}


@dataclass(frozen=True)
class Var:
    key: str      # unique in the problem (a shadowed binder gets `x✝`, `x✝1`, ...)
    name: str     # as written
    ty: object    # ℕ ℤ ℚ ℝ Prop, or ("fun", (param types), result type) for a local function


@dataclass(frozen=True)
class Problem:
    """`∀ variables, hyps → goal`, every term typed."""

    name: str
    variables: tuple[Var, ...]
    hyps: tuple[tuple[str, T], ...]
    goal: T


# ---------------------------------------------------------------- the elaborator

class _Elab:
    def __init__(self) -> None:
        self.ctx: dict[str, tuple[str, Ty | tuple]] = {}   # visible name -> (key, type)

    # -------------------------------------------------- propositions
    def prop(self, raw) -> T:
        if isinstance(raw, P.Const):
            return T("true" if raw.value else "false", PROP)
        if isinstance(raw, P.Bin) and raw.op in _CONNECTIVES:
            return T(_CONNECTIVES[raw.op], PROP, (self.prop(raw.lhs), self.prop(raw.rhs)))
        if isinstance(raw, P.Un) and raw.op == "¬":
            return T("not", PROP, (self.prop(raw.arg),))
        if isinstance(raw, P.Bin) and raw.op in RELATIONS:
            lhs, rhs = self.tree([raw.lhs, raw.rhs], None)
            return T("rel", PROP, (lhs, rhs), raw.op)
        if isinstance(raw, P.Quant) and raw.kind in ("∀", "∃"):
            return self.binder(raw)
        if isinstance(raw, P.Var) and raw.name in self.ctx and self.ctx[raw.name][1] == PROP:
            return T("pvar", PROP, (), self.ctx[raw.name][0])
        if isinstance(raw, P.Typed) and raw.ty == PROP:
            return self.prop(raw.term)
        if isinstance(raw, P.App) and isinstance(raw.fn, P.Var):
            name = raw.fn.name
            if name in PREDICATES and len(raw.args) == 1:
                want = PREDICATES[name]
                arg = self.expr(raw.args[0], want) if want else self.expr(raw.args[0], None)
                if want:
                    arg = self.coerce(arg, want)
                return T("pred", PROP, (arg,), name)
            if name == "Membership.mem" and len(raw.args) == 2:
                s = self.set(raw.args[1])
                x = self.coerce(self.expr(raw.args[0], s.ty.elem), s.ty.elem)
                return T("mem", PROP, (x, s))
        raise Outside(f"not a proposition the screen types: {type(raw).__name__}")

    def binder(self, raw) -> T:
        ty = raw.ty if raw.ty is not None else Meta()
        if raw.ty is not None and raw.ty not in ORDER + (PROP,):
            raise Outside(f"binder type {raw.ty}")
        key = f"{raw.var}#{id(raw)}"
        saved = self.ctx.get(raw.var)
        self.ctx[raw.var] = (key, ty)
        try:
            body = self.prop(raw.body)
        finally:
            if saved is None:
                del self.ctx[raw.var]
            else:
                self.ctx[raw.var] = saved
        node = T("forall" if raw.kind == "∀" else "exists", PROP, (body,), (key, ty))
        return node

    # -------------------------------------------------- binop% trees
    def tree(self, roots: list, expected: Ty | None) -> list[T]:
        """Elaborate the `binop%`/`binrel%` trees `roots` together (one type for all their leaves)."""
        leaves: list = []
        for r in roots:
            _leaves(r, leaves)
        done = {id(leaf): self.leaf(leaf) for leaf in leaves}
        exp = resolve(expected) if expected is not None else None
        top: str | None = exp if isinstance(exp, str) else None
        unknown: list[T] = []
        for leaf in leaves:
            t = resolve(done[id(leaf)].ty)
            if isinstance(t, Meta):
                unknown.append(done[id(leaf)])
            elif t not in ORDER:
                raise Outside(f"a {t} inside an arithmetic expression")
            elif top is None or coerces(top, t):
                top = t
            elif t != top and not coerces(t, top):
                raise Outside(f"uncomparable types {t} and {top}")
        if top is None:                       # nothing known: one unknown type for every leaf
            ty: Ty = Meta()
            for leaf in unknown:
                unify(leaf.ty, ty)
            if isinstance(exp, Meta):
                unify(exp, ty)
        else:
            ty = top
        return [self.build(r, ty, done) for r in roots]

    def build(self, raw, ty: Ty, done: dict) -> T:
        if isinstance(raw, P.Bin) and raw.op in _ARITH:
            node = T(_ARITH[raw.op], ty, (self.build(raw.lhs, ty, done), self.build(raw.rhs, ty, done)))
        elif isinstance(raw, P.Bin) and raw.op == "^":
            node = self.power(self.build(raw.lhs, ty, done), raw.rhs)
        elif isinstance(raw, P.Un) and raw.op == "-":
            node = T("neg", ty, (self.build(raw.arg, ty, done),))
        else:
            return self.coerce(done[id(raw)], ty)
        return node

    def power(self, base: T, raw_exp) -> T:
        """`x ^ e`: the exponent is its own tree (a numeral one is ℕ: `Monoid.npow`); a ℤ exponent
        is `zpow` (fields only), a real one `Real.rpow`."""
        exp = self.expr(raw_exp, None)
        unknown = resolve(exp.ty)
        if isinstance(unknown, Meta):       # `Monoid.npow` is the default instance: an exponent
            unknown.numeral = True           # nothing else types is ℕ
        return T("pow", base.ty, (base, exp))

    def leaf(self, raw) -> T:
        if isinstance(raw, P.Num):
            if raw.ty is not None:
                if raw.ty not in ORDER:
                    raise Outside(f"numeral at {raw.ty}")
                return T("num", raw.ty, (), raw.value)
            return T("num", Meta(numeral=True), (), raw.value)
        if isinstance(raw, P.Var):
            if raw.name in self.ctx:
                key, ty = self.ctx[raw.name]
                if isinstance(ty, tuple) or ty == PROP:
                    raise Outside(f"{raw.name} used as a number")
                if isinstance(ty, str) and ty.startswith("Finset"):
                    raise Outside("a set variable")
                return T("var", ty, (), key)
            return self.app(raw, ())
        if isinstance(raw, P.Typed):
            if not isinstance(raw.ty, str) or raw.ty not in ORDER:
                raise Outside("an ascription that is not a number type")
            return self.coerce(self.expr(raw.term, raw.ty), raw.ty)
        if isinstance(raw, P.Cast):
            # `↑e`: elaborated alone, its target postponed until the tree's type is known
            inner = self.expr(raw.arg, None)
            node = T("cast", Meta(), (inner,), "↑")
            return node
        if isinstance(raw, P.App):
            if not isinstance(raw.fn, P.Var):
                raise Outside("application of a non-name")
            return self.app(raw.fn, raw.args)
        if isinstance(raw, P.Proj) and raw.field == "succ":
            arg = self.coerce(self.expr(raw.term, NAT), NAT)
            return T("add", NAT, (arg, T("num", NAT, (), 1)))
        if isinstance(raw, P.Proj) and raw.field == "card":
            return T("card", NAT, (self.set(raw.term),))
        raise Outside(f"unsupported term {type(raw).__name__}")

    def expr(self, raw, expected: Ty | None) -> T:
        """An arithmetic term at an expected type (None or a Meta: none known)."""
        if _is_tree(raw):
            return self.tree([raw], expected)[0]
        node = self.leaf_expected(raw, expected)
        return node

    def leaf_expected(self, raw, expected: Ty | None) -> T:
        """A leaf elaborated with an expected type: applications use it before their arguments."""
        if isinstance(raw, P.App) and isinstance(raw.fn, P.Var):
            return self.app(raw.fn, raw.args, expected)
        if isinstance(raw, P.Num) and raw.ty is None and expected is not None:
            node = T("num", Meta(numeral=True), (), raw.value)
            unify(node.ty, expected)
            return node
        return self.leaf(raw)

    def coerce(self, e: T, ty: Ty) -> T:
        """`ensureHasType`: unify an unknown type, insert `↑` up the coercion order, else fail."""
        have, want = resolve(e.ty), resolve(ty)
        if isinstance(have, Meta) or isinstance(want, Meta):
            unify(have, want)
            return e
        if have == want:
            return e
        if coerces(have, want):
            return T("cast", want, (e,))
        raise Outside(f"type mismatch: {have} where {want} is expected")

    # -------------------------------------------------- applications
    def app(self, fn, args: tuple, expected: Ty | None = None) -> T:
        name = fn.name
        name = ALIASES.get(name, name) or name
        if name in self.ctx:                      # a local function
            key, ty = self.ctx[name]
            if not isinstance(ty, tuple):
                raise Outside(f"{name} is not a function")
            _, params, result = ty
            if len(args) != len(params):
                raise Outside(f"{name} applied to {len(args)} arguments")
            typed = tuple(self.coerce(self.expr(a, p), p) for a, p in zip(args, params))
            return T("app", result, typed, key)
        if name in ("Finset.sum", "Finset.prod") and len(args) == 2:
            return self.big_operator("sum" if name == "Finset.sum" else "prod", args, expected)
        if name == "Finset.card" and len(args) == 1:
            return T("card", NAT, (self.set(args[0]),))
        sig = SIGNATURES.get(name)
        if sig is None:
            raise Outside(f"unknown function {name}")
        if len(args) != len(sig.params):
            raise Outside(f"{name} applied to {len(args)} arguments")
        alpha = Meta()
        exp = resolve(expected) if expected is not None else None
        if sig.result == ALPHA and isinstance(exp, str) and exp in ORDER:
            unify(alpha, exp)                     # the expected type first (`propagateExpectedType`)
        typed = []
        for a, p in zip(args, sig.params):
            want = alpha if p == ALPHA else p
            typed.append(self.coerce(self.expr(a, want), want))
        result = alpha if sig.result == ALPHA else sig.result
        node = T("call", result, tuple(typed), name)
        if ALPHA in sig.params:
            node = replace(node, data=(name, alpha))
        return node

    def big_operator(self, op: str, args: tuple, expected: Ty | None) -> T:
        s, fun = args
        if not isinstance(fun, P.Quant) or fun.kind != "fun":
            raise Outside("a big operator over something other than `fun`")
        beta: Ty = Meta()
        exp = resolve(expected) if expected is not None else None
        if isinstance(exp, str):
            unify(beta, exp)
        sset = self.set(s)
        if fun.ty is not None:
            unify(sset.ty.elem, fun.ty)
        key = f"{fun.var}#{id(fun)}"
        saved = self.ctx.get(fun.var)
        self.ctx[fun.var] = (key, sset.ty.elem)
        try:
            body = self.coerce(self.expr(fun.body, beta), beta)
        finally:
            if saved is None:
                del self.ctx[fun.var]
            else:
                self.ctx[fun.var] = saved
        node = T(op, beta, (sset, body), key)
        return node

    def set(self, raw) -> T:
        if isinstance(raw, P.App) and isinstance(raw.fn, P.Var) and raw.fn.name in SETS:
            kind = SETS[raw.fn.name]
            if kind in ("range", "divisors"):
                if len(raw.args) != 1:
                    raise Outside(f"{raw.fn.name} arity")
                n = self.coerce(self.expr(raw.args[0], NAT), NAT)
                return T(kind, SetTy(NAT), (n,))
            if len(raw.args) != 2:
                raise Outside(f"{raw.fn.name} arity")
            elem: Ty = Meta()
            lo = self.coerce(self.expr(raw.args[0], elem), elem)
            hi = self.coerce(self.expr(raw.args[1], elem), elem)
            node = T(kind, SetTy(elem), (lo, hi))
            return node
        if isinstance(raw, P.App) and isinstance(raw.fn, P.Var) and raw.fn.name == "Finset.filter" and len(raw.args) == 2:
            fun, s = raw.args
            if not isinstance(fun, P.Quant) or fun.kind != "fun":
                raise Outside("Finset.filter with a predicate that is not `fun`")
            sset = self.set(s)
            if fun.ty is not None:
                unify(sset.ty.elem, fun.ty)
            key = f"{fun.var}#{id(fun)}"
            saved = self.ctx.get(fun.var)
            self.ctx[fun.var] = (key, sset.ty.elem)
            try:
                pred = self.prop(fun.body)
            finally:
                if saved is None:
                    del self.ctx[fun.var]
                else:
                    self.ctx[fun.var] = saved
            return T("filter", sset.ty, (sset, pred), key)
        raise Outside("a set the screen does not know")


@dataclass(frozen=True, eq=False)
class SetTy:
    """`Finset elem` (elem possibly still a Meta while elaborating)."""

    elem: Ty


def _is_tree(raw) -> bool:
    return (isinstance(raw, P.Bin) and (raw.op in _ARITH or raw.op == "^")) or (isinstance(raw, P.Un) and raw.op == "-")


def _leaves(raw, out: list) -> None:
    if isinstance(raw, P.Bin) and raw.op in _ARITH:
        _leaves(raw.lhs, out)
        _leaves(raw.rhs, out)
    elif isinstance(raw, P.Bin) and raw.op == "^":
        _leaves(raw.lhs, out)
    elif isinstance(raw, P.Un) and raw.op == "-":
        _leaves(raw.arg, out)
    else:
        out.append(raw)


# ---------------------------------------------------------------- after elaboration: concrete types

def _final(ty: Ty) -> str:
    r = resolve(ty)
    if isinstance(r, Meta):
        if r.numeral:
            r.ref = NAT                    # the numeral default instance, applied last
            return NAT
        raise Outside("failed to infer a type (a binder or coercion nothing constrains)")
    return r


def zonk(t: T) -> T:
    """Every Meta replaced by its type; the instance checks Lean makes (no `Neg ℕ`, no `%` on a
    field, `abs` not on ℕ ...); `↑e` made a cast to its tree's type, or dropped."""
    args = tuple(zonk(a) for a in t.args)
    if isinstance(t.ty, SetTy):
        ty: object = SetTy(_final(t.ty.elem))
        if ty.elem in FIELDS:
            raise Outside(f"failed to synthesize LocallyFiniteOrder {ty.elem}")
    else:
        ty = _final(t.ty)
    data = t.data
    if t.op in ("forall", "exists"):
        key, bty = data
        data = (key, _final(bty))
    if t.op == "cast":
        (inner,) = args
        if inner.ty == ty:
            return inner
        if not coerces(inner.ty, ty):
            raise Outside(f"no coercion from {inner.ty} to {ty}")
        return T("cast", ty, args)
    if t.op == "neg" and ty == NAT:
        raise Outside("failed to synthesize Neg ℕ")
    if t.op == "mod" and ty in FIELDS:
        raise Outside(f"failed to synthesize HMod {ty}")
    if t.op == "pow":
        et = args[1].ty
        if et == INT and ty not in FIELDS:
            raise Outside(f"failed to synthesize HPow {ty} ℤ")
        if et in FIELDS and ty != REAL:
            raise Outside(f"failed to synthesize HPow {ty} {et}")
    if t.op == "call":
        name = data[0] if isinstance(data, tuple) else data
        sig = SIGNATURES[name]
        if isinstance(data, tuple):
            alpha = _final(data[1])
            if alpha not in sig.alpha:
                raise Outside(f"failed to synthesize the instance {name} needs on {alpha}")
        data = name
    if t.op == "pred" and data in ("Even", "Odd") and args[0].ty not in ORDER:
        raise Outside(f"{data} of a {args[0].ty}")
    if t.op in ("sum", "prod") and ty not in ORDER:
        raise Outside("a sum outside ℕ ℤ ℚ ℝ")
    return T(t.op, ty, args, data)


# ---------------------------------------------------------------- statements

def elaborate(statement: str) -> Problem:
    """A benchmark statement (`theorem NAME binders : goal := by`) as a typed Problem."""
    text = statement.strip()
    if text.endswith("by"):
        text = text[: -2].rstrip()
    if text.endswith(":="):
        text = text[: -2].rstrip()
    try:
        kind, name, binders, goal = P._parse_header(text)
    except P.ParseError as e:
        raise Outside(f"does not parse: {e.message}") from None
    except RecursionError:
        raise Outside("nested too deeply") from None
    el = _Elab()
    variables: list[Var] = []
    hyps: list[tuple[str, T]] = []
    seen: dict[str, int] = {}
    try:
        for bname, bty, _implicit in binders:
            if isinstance(bty, str):
                vty = _binder_type(bty)
                seen[bname] = seen.get(bname, 0) + 1
                key = bname if seen[bname] == 1 else f"{bname}✝{seen[bname] - 1}"
                el.ctx[bname] = (key, vty)
                variables.append(Var(key, bname, vty))
            else:
                hyps.append((bname, el.prop(bty)))
        goal_t = el.prop(goal)
        hyps = [(h, zonk(p)) for h, p in hyps]
        goal_t = zonk(goal_t)
    except RecursionError:
        raise Outside("nested too deeply") from None
    return Problem(name, tuple(variables), tuple(hyps), goal_t)


def _binder_type(text: str) -> object:
    if text in ORDER or text == PROP:
        return text
    parts = text.split(" → ")
    if len(parts) > 1 and all(p in ORDER for p in parts):
        return ("fun", tuple(parts[:-1]), parts[-1])
    raise Outside(f"a variable of type {text}")


def intro(p: Problem) -> Problem:
    """Move the goal's leading `∀ x,` and `A →` into the variables and hypotheses (the same
    statement: a counterexample to one is a counterexample to the other)."""
    variables, hyps, goal = list(p.variables), list(p.hyps), p.goal
    taken = {v.key for v in variables}
    while True:
        if goal.op == "forall":
            key, ty = goal.data
            name = key.split("#")[0]
            new = name if name not in taken else f"{name}✝{len(taken)}"
            taken.add(new)
            variables.append(Var(new, name, ty))
            goal = rename(goal.args[0], key, new)
        elif goal.op == "imp":
            hyps.append((f"h✝{len(hyps)}", goal.args[0]))
            goal = goal.args[1]
        else:
            return Problem(p.name, tuple(variables), tuple(hyps), goal)


def rename(t: T, old: str, new: str) -> T:
    if t.op == "var" and t.data == old:
        return replace(t, data=new)
    if t.op == "pvar" and t.data == old:
        return replace(t, data=new)
    if not t.args:
        return t
    return replace(t, args=tuple(rename(a, old, new) for a in t.args))
