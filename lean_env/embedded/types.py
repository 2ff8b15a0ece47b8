"""Elaboration: give every term of the fragment its type, the way Lean's elaborator does.

Arithmetic and relations elaborate like Lean's `binop%`/`binrel%`: the leaves of an operator tree
(`a - b ≥ 0` has leaves a, b, 0) meet at their largest type (ℕ < ℤ, and an ascription's expected
type counts as a leaf), and every leaf of a smaller type gets the coercion `↑` (`Cast`). So with
`a : ℕ` and `b : ℤ`, `a - b ≥ 0` is `↑a - b ≥ 0` over ℤ, while `((a - b : ℕ) : ℤ)` is the cast of a
truncated subtraction. Numerals take the type of their tree (`OfNat`), ℕ when nothing else says;
the exponent of `^` is its own tree (a natural number). A negation at ℕ fails as Lean fails.
Untyped binders (`∀ x, x < y → ...`) get their type from their first use next to a typed leaf.

The result has no `Typed` nodes and no untyped binder; every numeral carries its type, so the
arithmetic procedures read a relation's type off any leaf.
"""
from __future__ import annotations

from lean_env.embedded import carriers
from lean_env.embedded.carriers import has_class, is_integral  # noqa: F401  (has_class re-exported)
from lean_env.embedded.functions import (
    ALPHA, BIG_OPERATORS, BINDER_FUNCTIONS, DOT_FUNCTIONS, EQUIV_FIELDS, SET_BUILDERS, SETS, SIGNATURES, equiv_types, head,
    local_function, set_variable,
)
from lean_env.embedded.errors import TacticError
from lean_env.embedded.terms import (
    INT, LOGIC_OPS, NAT, REAL, REL_OPS, App, Bin, Cast, Const, Num, Proj, Quant, Term, TyVar, Typed, Un, Var, children, pp,
)

PROP = "Prop"
_TREE_OPS = ("+", "-", "*", "/", "%")
Ctx = dict[str, str | None]   # variable -> ℕ / ℤ / Prop / a lemma's α (None: not yet inferred)


class ElabError(TacticError):
    """The term does not elaborate; the message is Lean's."""


def mismatch(t: Term, got: str, want: str) -> ElabError:
    return ElabError(f"type mismatch\n  {pp(t)}\nhas type\n  {got} : Type\nbut is expected to have type\n  {want} : Type")


def failed_to_synthesize(cls: str, ty: str) -> ElabError:
    return ElabError(
        f"failed to synthesize\n  {cls} {ty}\n"
        "Additional diagnostic information may be available using the `set_option diagnostics true` command."
    )


# ---------------------------------------------------------------- type classes

def check_class(tv: str, ty: str) -> None:
    """Instantiating a lemma's `α` at `ty` needs `ty` to have the lemma's class."""
    if isinstance(tv, TyVar) and not has_class(ty, tv.cls):
        raise failed_to_synthesize(tv.cls, ty)


# ---------------------------------------------------------------- trees

def nat_succ(t: Term) -> Term | None:
    """`Nat.succ n` / `n.succ` is `n + 1` at ℕ (definitionally; Mathlib's simp normal form)."""
    if isinstance(t, App) and t.fn == Var("Nat.succ") and len(t.args) == 1:
        return Typed(Bin("+", t.args[0], Num(1)), NAT)
    if isinstance(t, Proj) and t.field == "succ":
        return Typed(Bin("+", t.term, Num(1)), NAT)
    return None


def _leaves(t: Term, out: list[Term]) -> list[Term]:
    """The leaves of the operator tree rooted at `t` (an exponent is a tree of its own)."""
    succ = nat_succ(t)
    if succ is not None:
        out.append(succ)
    elif isinstance(t, Bin) and t.op in _TREE_OPS:
        _leaves(t.lhs, out)
        _leaves(t.rhs, out)
    elif isinstance(t, Bin) and t.op == "^":
        _leaves(t.lhs, out)
    elif isinstance(t, Un) and t.op == "-":
        _leaves(t.arg, out)
    else:
        out.append(t)
    return out


def _leaf_type(t: Term, ctx: Ctx) -> str | None:
    t = _dot_call(t, ctx) or t
    if isinstance(t, Num):
        return t.ty
    if isinstance(t, Var):
        if t.name not in ctx:
            raise ElabError(f"unknown identifier '{t.name}'")
        if local_function(ctx[t.name]) or set_variable(ctx[t.name]):
            raise ElabError(f"type mismatch\n  {t.name}\nhas type\n  {ctx[t.name]} : Type\nbut is expected to be a number")
        return ctx[t.name]
    if _local_app(t, ctx):   # `f x` with `f : ℕ → ℝ`: a leaf of the result type
        return local_function(ctx[t.fn.name])[1]
    if _binder_function(t):   # a sum's type is its body's
        return elab_app(t, ctx)[1]
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES:
        sig = SIGNATURES[t.fn.name]
        if sig.result == PROP:
            raise ElabError(f"type expected, got\n  ({pp(t)} : Prop)")
        if sig.result != ALPHA:
            return sig.result
        return _max_type([_leaf_type(leaf, ctx) for a in t.args for leaf in _leaves(a, [])])
    if isinstance(t, Typed):
        if not isinstance(t.ty, str):   # `(h : P)` is a proof, not a number
            raise ElabError(f"type expected, got\n  {pp(t)}")
        return t.ty
    if isinstance(t, Cast):
        return t.ty   # `↑e` as parsed takes the type its tree decides
    raise ElabError(f"type expected, got\n  {pp(t)}")


def _max_type(types: list[str | None]) -> str | None:
    """The type a tree's leaves meet at: the largest of ℕ < ℤ < ℚ < ℝ (each casts into the next)."""
    known = [ty for ty in types if ty is not None]
    return carriers.join(known) or (known[0] if known else None)


def _coerce(t: Term, got: str, want: str) -> Term:
    if got == want:
        return t
    if carriers.coerces(got, want):
        return Cast(want, t, got)   # `Nat.cast`, `Int.cast`, `Rat.cast`: one coercion, from the leaf's own type
    raise mismatch(t, got, want)


def _at(t: Term, ty: str, ctx: Ctx) -> Term:
    """Elaborate the tree `t` at the type `ty` its analysis chose, inserting casts at leaves."""
    t = nat_succ(t) or _dot_call(t, ctx) or t
    if isinstance(t, Bin) and t.op == "%" and carriers.is_field(ty):   # no `%` in a field
        raise failed_to_synthesize("HMod", f"{ty} {ty} ?m")
    if isinstance(t, Bin) and t.op in _TREE_OPS:
        return Bin(t.op, _at(t.lhs, ty, ctx), _at(t.rhs, ty, ctx))
    if isinstance(t, Bin) and t.op == "^":
        exponent, ety = tree(t.rhs, ctx, None)
        if ety == REAL and ty == REAL:   # `Real.rpow`: an opaque function, never the monoid power
            return App(Var("Real.rpow"), (_at(t.lhs, ty, ctx), exponent))
        if ety == INT and has_class(ty, "DivisionRing"):   # `zpow`: x ^ (-n) = (x ^ n)⁻¹, opaque but for numerals
            return App(Var("zpow"), (_at(t.lhs, ty, ctx), exponent))
        if ety != NAT:
            raise failed_to_synthesize("HPow", f"{ty} {ety} ?m")
        return Bin("^", _at(t.lhs, ty, ctx), exponent)
    if isinstance(t, Un) and t.op == "-":
        if not (has_class(INT, ty.cls) if isinstance(ty, TyVar) else has_class(ty, "Neg")):
            raise failed_to_synthesize("Neg", ty)
        return Un("-", _at(t.arg, ty, ctx))
    if isinstance(t, Num):
        if t.ty is not None and t.ty != ty:
            return _coerce(t, t.ty, ty)
        return Num(t.value, ty)
    if _local_app(t, ctx):
        params, result = local_function(ctx[t.fn.name])
        args = tuple(tree(a, ctx, p)[0] for a, p in zip(t.args, params))
        return _coerce(App(Var(t.fn.name, ctx[t.fn.name]), args), result, ty)
    if _binder_function(t):
        term, got = elab_app(t, ctx)
        return _coerce(term, got, ty)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES:
        return _function_at(t, ty, ctx)
    if isinstance(t, Var):
        got = _leaf_type(t, ctx)
        if got == PROP:
            raise ElabError(f"failed to synthesize\n  OfNat Prop\n  {pp(t)} is a proposition, not a number")
        return _coerce(Var(t.name, got or ty), got or ty, ty)
    if isinstance(t, Typed):
        inner, got = tree(t.term, ctx, t.ty)
        return _coerce(inner, got, ty)
    if isinstance(t, Cast):
        if t.ty is not None:   # already elaborated
            return _coerce(t, t.ty, ty)
        inner, got = tree(t.arg, ctx, None)
        return _coerce(inner, got, ty)
    raise ElabError(f"type expected, got\n  {pp(t)}")


def _dot_call(t: Term, ctx: Ctx) -> Term | None:
    """`S.card` is `Finset.card S`, `n.divisors` is `Nat.divisors n` (dot notation on a value;
    the parser reads `S.card` with a capital `S` as one name)."""
    dots = DOT_FUNCTIONS
    if isinstance(t, App) and isinstance(t.fn, Proj) and isinstance(t.fn.term, Var) \
            and equiv_types(ctx.get(t.fn.term.name)) and t.fn.field in EQUIV_FIELDS:
        return App(Var(f"{t.fn.term.name}.{EQUIV_FIELDS[t.fn.field]}"), t.args)   # `σ.1 x`, `σ.symm x`
    if isinstance(t, App) and isinstance(t.fn, Var) and equiv_types(ctx.get(t.fn.name)):
        return App(Var(f"{t.fn.name}.toFun"), t.args)   # `σ x`: the coercion to a function is `toFun`
    if isinstance(t, Var) and "." in t.name and t.name not in ctx:
        head, _, field = t.name.partition(".")
        if head in ctx and field in dots:
            return App(Var(dots[field]), (Var(head),))
    if isinstance(t, Proj) and t.field in dots:
        return App(Var(dots[t.field]), (_dot_call(t.term, ctx) or t.term,))
    return None


def _local_app(t: Term, ctx: Ctx) -> bool:
    """A full application of a local function variable (`a (n + 1)` with `a : ℕ → ℤ`)."""
    if not (isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in ctx):
        return False
    sig = local_function(ctx[t.fn.name])
    if sig is None:
        return False
    if len(t.args) != len(sig[0]):
        raise ElabError(f"the embedded fragment applies a function to all its arguments\n  {pp(t)}")
    return True


def _binder_function(t: Term) -> bool:
    return isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in BINDER_FUNCTIONS


def _predicate(t: App, ctx: Ctx) -> Term:
    """`Nat.Prime p`, `Even n`: the arguments elaborated at the signature's types (a polymorphic
    one at its own type, which must have the class: `Even` is about ℕ and ℤ here)."""
    sig = SIGNATURES[t.fn.name]
    if len(t.args) != len(sig.params):
        raise ElabError(f"function expected\n  {pp(t)}")
    args = []
    for a, p in zip(t.args, sig.params):
        v, got = tree(a, ctx, None if p == ALPHA else p)
        if p == ALPHA and not has_class(got, sig.cls):
            raise failed_to_synthesize(sig.cls, got)
        args.append(v)
    return App(t.fn, tuple(args))


def _function_at(t: App, ty: str, ctx: Ctx, expected: bool = False) -> Term:
    """`f a b` at `ty`: the arguments elaborated at the signature's types (a polymorphic function
    at its arguments' own type, or at `ty` when they have none, like numerals), the result cast.
    With `expected` (an ascription `(min (a - b) 5 : ℤ)`, not a leaf among others) `ty` is the
    expected type, and Lean's app elaborator unifies it with a result `α` first: the arguments
    are elaborated at it (`a - b` becomes `↑a - ↑b`)."""
    sig = SIGNATURES[t.fn.name]
    if len(t.args) != len(sig.params):
        raise ElabError(f"function expected\n  {pp(t)}")
    # α is the arguments' own type (`Int.floor (1 / a)` floors a real), else the tree's (`min 1 2`);
    # a function whose result is not α (`Int.floor`) leaves numerals to their default, ℕ
    own = _max_type([_leaf_type(leaf, ctx) for a, p in zip(t.args, sig.params) if p == ALPHA
                     for leaf in _leaves(a, [])])
    if sig.result == ALPHA:
        alpha = ty if expected else own or ty
    else:
        alpha = own or NAT
    if ALPHA in sig.params and not isinstance(alpha, TyVar) and not has_class(alpha, sig.cls):
        raise failed_to_synthesize(sig.cls, alpha)
    own = alpha if sig.result == ALPHA else sig.result
    args = tuple(tree(a, ctx, alpha if p == ALPHA else p)[0] for a, p in zip(t.args, sig.params))
    return _coerce(App(t.fn, args), own, ty)


def tree(t: Term, ctx: Ctx, expected: str | None) -> tuple[Term, str]:
    """Elaborate an arithmetic term; with an `expected` type (an ascription, a witness) it must
    end up of that type (ℕ terms are cast up to ℤ, a ℤ term where ℕ is expected is an error).
    A term that is a single application (`min`, `max`, `|·|`, `∑`, `∏`) takes the expected type
    into its arguments, as Lean's app elaborator does; a leaf among others does not (`binop%`
    elaborates leaves without one)."""
    t = nat_succ(t) or _dot_call(t, ctx) or t
    if expected is not None and expected != PROP and not isinstance(expected, TyVar):
        if _binder_function(t) and BIG_OPERATORS.get(t.fn.name):
            term, got = elab_app(t, ctx, expected)
            return _coerce(term, got, expected), expected
        if (isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES
                and SIGNATURES[t.fn.name].result == ALPHA and t.fn.name not in ctx):
            return _function_at(t, expected, ctx, expected=True), expected
    types = [_leaf_type(leaf, ctx) for leaf in _leaves(t, [])]
    ty = _max_type(types + [expected]) or NAT
    out = _at(t, ty, ctx)
    if expected is not None and ty != expected:
        out = _coerce(out, ty, expected)
        ty = expected
    return out, ty


# ---------------------------------------------------------------- finite sets, sums and products

def _binder(f: Term, where: str) -> Quant:
    if isinstance(f, Typed) and f.term == Var("id") and isinstance(f.ty, Bin) and f.ty.op == "→" \
            and f.ty.lhs == f.ty.rhs and isinstance(f.ty.lhs, Var) and carriers.is_number(carriers.lean_type_name(f.ty.lhs.name)):
        return Quant("fun", "x", carriers.lean_type_name(f.ty.lhs.name), Var("x"))   # `(id : ℕ → ℕ)` is `fun x => x`
    if f == Var("id"):
        return Quant("fun", "x", None, Var("x"))
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
    if not finite and name in SET_BUILDERS:
        return _elab_set_builder(s, ctx, elem)
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


def _elab_set_builder(s: App, ctx: dict, elem: str | None) -> tuple[Term, str]:
    """`{x : α | p x}`, `s \\ t`, `{a}`, `lowerBounds s`, `upperBounds s`: sets (`Set α`), which
    `definitions.py` unfolds under `∈`; none of them is a finite set to sum over."""
    name, args = head(s), s.args
    if name == "setOf" and len(args) == 1:
        f = _binder(args[0], "setOf")
        ty = f.ty or elem or binder_type(f.var, f.body, ctx)
        if elem not in (None, ty):
            raise ElabError(f"type mismatch: the set-builder's binder has type {ty}, expected {elem}")
        return App(s.fn, (Quant("fun", f.var, ty, elab_prop(f.body, {**ctx, f.var: ty})),)), ty
    if name == "SDiff.sdiff" and len(args) == 2:
        left, ty = elab_set(args[0], ctx, elem, finite=False)
        right, _ = elab_set(args[1], ctx, ty, finite=False)
        return App(s.fn, (left, right)), ty
    if name == "Singleton.singleton" and len(args) == 1:
        item, ty = tree(args[0], ctx, elem)
        return App(s.fn, (item,)), ty
    if name in ("lowerBounds", "upperBounds") and len(args) == 1:
        inner, ty = elab_set(args[0], ctx, elem, finite=False)
        if not has_class(ty, "Preorder"):
            raise failed_to_synthesize("Preorder", ty)
        return App(s.fn, (inner,)), ty
    raise ElabError(f"type expected, got\n  {pp(s)}")


def _elab_definition(t: App, ctx: Ctx) -> Term:
    """`IsLeast s a`, `IsGreatest s a` (over a preorder), `Function.Injective f` (a local function)."""
    name, args = head(t), t.args
    if name in ("IsLeast", "IsGreatest") and len(args) == 2:
        own = _max_type([_leaf_type(leaf, ctx) for leaf in _leaves(args[1], [])])
        try:
            s, ty = elab_set(args[0], ctx, own, finite=False)
        except ElabError:
            s, ty = elab_set(args[0], ctx, None, finite=False)
        if not has_class(ty, "Preorder"):
            raise failed_to_synthesize("Preorder", ty)
        a, _ = tree(args[1], ctx, ty)
        return App(t.fn, (s, a))
    if name == "Function.Injective" and len(args) == 1:
        f = args[0]
        sig = local_function(ctx.get(f.name)) if isinstance(f, Var) else None
        if sig is None or len(sig[0]) != 1:
            raise ElabError(f"the embedded fragment has `Function.Injective f` for a local function of one argument\n  {pp(t)}")
        return App(t.fn, (Var(f.name, ctx[f.name]),))
    raise ElabError(f"function expected\n  {pp(t)}")


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



# ---------------------------------------------------------------- propositions

_ORDER_CLASS = {"<": "LT", ">": "LT", "≤": "LE", "≥": "LE"}


def _is_prop_side(t: Term, ctx: Ctx) -> bool:
    if isinstance(t, Var):
        return ctx.get(t.name) == PROP
    if isinstance(t, Const) or isinstance(t, Quant):
        return True
    if isinstance(t, Bin):
        return t.op in REL_OPS or t.op in LOGIC_OPS
    return isinstance(t, Un) and t.op == "¬"


def elab_prop(t: Term, ctx: Ctx) -> Term:
    """Elaborate a proposition over the variables `ctx`."""
    if isinstance(t, Const):
        return t
    if isinstance(t, Var):
        if t.name not in ctx:
            raise ElabError(f"unknown identifier '{t.name}'")
        if ctx[t.name] != PROP:
            raise ElabError(f"type expected, got\n  ({t.name} : {ctx[t.name]})")
        return t
    if isinstance(t, Typed) and t.ty == PROP:
        return elab_prop(t.term, ctx)
    if isinstance(t, App) and t.fn == Var("Membership.mem") and len(t.args) == 2:
        return elab_mem(t, ctx)
    if isinstance(t, App) and head(t) in ("IsLeast", "IsGreatest", "Function.Injective"):
        return _elab_definition(t, ctx)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES and SIGNATURES[t.fn.name].result == PROP:
        return _predicate(t, ctx)
    if isinstance(t, Un) and t.op == "¬":
        return Un("¬", elab_prop(t.arg, ctx))
    if isinstance(t, Bin) and t.op in LOGIC_OPS:
        return Bin(t.op, elab_prop(t.lhs, ctx), elab_prop(t.rhs, ctx))
    if isinstance(t, Bin) and t.op in REL_OPS:
        if t.op in ("=", "≠") and _is_prop_side(t.lhs, ctx) and _is_prop_side(t.rhs, ctx):
            return Bin(t.op, elab_prop(t.lhs, ctx), elab_prop(t.rhs, ctx))
        types = [_leaf_type(leaf, ctx) for leaf in _leaves(t.lhs, []) + _leaves(t.rhs, [])]
        ty = _max_type(types) or NAT
        if ty == PROP:
            raise ElabError(f"failed to synthesize\n  LT Prop\n  {pp(t)}")
        if t.op == "∣" and carriers.is_number(ty) and not carriers.has_dvd(ty):
            raise ElabError(f"the embedded fragment has `∣` over ℕ and ℤ only, not {ty}")
        if t.op in _ORDER_CLASS and carriers.is_number(ty) and not carriers.is_ordered(ty):
            raise failed_to_synthesize(_ORDER_CLASS[t.op], ty)   # `(2 : ℂ) ≤ 3`: ℂ has no order
        return Bin(t.op, _at(t.lhs, ty, ctx), _at(t.rhs, ty, ctx))
    if isinstance(t, Quant):
        ty = t.ty if t.ty is not None else binder_type(t.var, t.body, ctx)
        return Quant(t.kind, t.var, ty, elab_prop(t.body, {**ctx, t.var: ty}))
    raise ElabError(f"type expected, got\n  {pp(t)}")


def elab_value(t: Term, ctx: Ctx, expected: str | None = None) -> tuple[Term, str]:
    """Elaborate a value (a witness, a lemma argument); returns it with its type."""
    if expected == PROP:
        return elab_prop(t, ctx), PROP
    if isinstance(t, Var) and ctx.get(t.name) == PROP and expected is None:
        return t, PROP
    return tree(t, ctx, expected)


# ---------------------------------------------------------------- untyped binders

def binder_type(var: str, body: Term, ctx: Ctx) -> str:
    """The type Lean's unifier gives an untyped binder. Every operator tree of the body is a
    constraint: its leaves share one type. The binder takes the type of the first tree that
    fixes it, directly or through other untyped binders it shares a tree with (`∀ x y, x < y ∧
    y = z` makes both integers when z is); Prop where it is used as a proposition; else ℕ."""
    trees: list[tuple[list[str], str | None]] = []   # (untyped binders in the tree, known type)
    props: set[str] = set()
    _collect(body, {**ctx, var: None}, trees, props)
    if var in props:
        return PROP
    fixed: dict[str, str] = {}
    for _ in range(len(trees) + 1):
        changed = False
        for names, known in trees:
            ty = known or next((fixed[n] for n in names if n in fixed), None)
            if ty is None:
                continue
            for n in names:
                if n not in fixed:
                    fixed[n] = ty
                    changed = True
        if not changed:
            break
    return fixed.get(var, NAT)


def _collect(t: Term, ctx: Ctx, trees: list, props: set[str]) -> None:
    if isinstance(t, Var):
        if ctx.get(t.name, PROP) is None:
            props.add(t.name)
    elif isinstance(t, Quant):
        _collect(t.body, {**ctx, t.var: t.ty}, trees, props)
    elif isinstance(t, Un) and t.op == "¬":
        _collect(t.arg, ctx, trees, props)
    elif isinstance(t, Bin) and t.op in LOGIC_OPS:
        _collect(t.lhs, ctx, trees, props)
        _collect(t.rhs, ctx, trees, props)
    elif isinstance(t, Bin) and t.op in REL_OPS:
        _collect_tree([t.lhs, t.rhs], ctx, trees)
    elif (isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES
          and SIGNATURES[t.fn.name].result == PROP and t.fn.name != "Membership.mem"):
        for a, p in zip(t.args, SIGNATURES[t.fn.name].params):   # `Nat.Prime p` makes p natural
            _collect_tree([a], ctx, trees, None if p == ALPHA else p)
    elif isinstance(t, App) and t.fn == Var("Membership.mem") and len(t.args) == 2:
        s = t.args[1]   # `∀ x ∈ S, ...`: x takes the type of S's elements
        known = set_variable(ctx.get(s.name)) if isinstance(s, Var) else None
        _collect_tree([t.args[0]], ctx, trees)
        if known:
            trees.append(([x.name for x in _leaves(t.args[0], []) if isinstance(x, Var) and ctx.get(x.name, NAT) is None],
                          known[1]))


def _collect_tree(sides: list[Term], ctx: Ctx, trees: list, expected: str | None = None) -> None:
    """The constraints of one operator tree: its untyped binders share the type of its typed
    leaves (and of the `expected` type of an ascription around it)."""
    leaves: list[Term] = []
    for side in sides:
        _leaves(side, leaves)
    for leaf in list(leaves):   # an ascription `(x + 1 : ℤ)` is a tree of its own, at its type
        if isinstance(leaf, Typed) and isinstance(leaf.ty, str):
            _collect_tree([leaf.term], ctx, trees, leaf.ty)
    leaves = [_dot_call(leaf, ctx) or leaf for leaf in leaves]   # `σ.1 x` is `σ.toFun x`
    for leaf in list(leaves):   # a function's arguments: in this tree (`|x|`), or typed by it (`√x`)
        if isinstance(leaf, App) and isinstance(leaf.fn, Var) and leaf.fn.name in SIGNATURES:
            for a, p in zip(leaf.args, SIGNATURES[leaf.fn.name].params):
                if p == ALPHA:
                    _leaves(a, leaves)
                else:
                    _collect_tree([a], ctx, trees)
                    trees.append(([x.name for x in _leaves(a, []) if isinstance(x, Var) and ctx.get(x.name, p) is None], p))
        sig = local_function(ctx.get(leaf.fn.name)) if isinstance(leaf, App) and isinstance(leaf.fn, Var) else None
        for a, p in zip(leaf.args, sig[0]) if sig else ():   # `∀ x, y x = 0` with y : ℝ → ℝ makes x real
            _collect_tree([a], ctx, trees)
            trees.append(([x.name for x in _leaves(a, []) if isinstance(x, Var) and ctx.get(x.name, p) is None], p))
    names, types = [], []
    for leaf in leaves:
        if isinstance(leaf, Var) and leaf.name in ctx and ctx[leaf.name] is None:
            names.append(leaf.name)
            continue
        try:
            types.append(_leaf_type(leaf, ctx))
        except ElabError:
            pass
    trees.append((names, _max_type(types + [expected])))
    for side in sides:   # an exponent is a tree of its own, of natural numbers by default
        for sub in _exponents(side):
            _collect_tree([sub], ctx, trees)
            trees.append(([leaf.name for leaf in _leaves(sub, []) if isinstance(leaf, Var)
                           and ctx.get(leaf.name, NAT) is None], NAT))


def _exponents(t: Term) -> list[Term]:
    if isinstance(t, Bin) and t.op == "^":
        return _exponents(t.lhs) + [t.rhs]
    if isinstance(t, Bin) and t.op in _TREE_OPS:
        return _exponents(t.lhs) + _exponents(t.rhs)
    if isinstance(t, Un):
        return _exponents(t.arg)
    return []


# ---------------------------------------------------------------- instantiating type variables

def subst_type(t: Term, tv: str, ty: str) -> Term:
    """Replace the type variable `tv` by `ty` in numerals, casts and binders."""
    if isinstance(t, (Num, Var)):
        return type(t)(t.name if isinstance(t, Var) else t.value, ty) if t.ty == tv and isinstance(t.ty, TyVar) else t
    if isinstance(t, Cast):
        src = ty if t.src == tv and isinstance(t.src, TyVar) else t.src
        return Cast(ty if t.ty == tv and isinstance(t.ty, TyVar) else t.ty, subst_type(t.arg, tv, ty), src)
    if isinstance(t, Quant):
        qty = ty if isinstance(t.ty, TyVar) and t.ty == tv else t.ty
        return Quant(t.kind, t.var, qty, subst_type(t.body, tv, ty))
    if isinstance(t, Bin):
        return Bin(t.op, subst_type(t.lhs, tv, ty), subst_type(t.rhs, tv, ty))
    if isinstance(t, Un):
        return Un(t.op, subst_type(t.arg, tv, ty))
    if isinstance(t, App):
        return App(t.fn, tuple(subst_type(a, tv, ty) for a in t.args))
    return t


def type_vars(t: Term) -> set[TyVar]:
    """The lemma type variables a term mentions (in numerals, casts and binders)."""
    ty = getattr(t, "ty", None)
    out = {ty} if isinstance(ty, TyVar) else set()
    for c in children(t):
        out |= type_vars(c)
    return out
