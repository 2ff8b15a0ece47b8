"""Elaborate proof terms: what proposition does `h.1`, `mul_pos ha hb` or `⟨3, by norm_num⟩` prove?

The term language is the part of Lean's that tactic proofs in this fragment use: hypotheses,
earlier theorems and axioms, the typed library lemmas (`lemmas.py`), application, projections,
anonymous constructors, `fun`, `Or.inl`/`Or.inr`, `absurd`, `sorry` and nested `by` blocks.
Lemmas are typed: an argument is elaborated at its binder's type, and a lemma's type variable
`α` is fixed by the first argument or hypothesis that tells it, which must have the lemma's
class (`sub_sq` needs a commutative ring; ℕ is not one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lean_env.embedded import carriers
from lean_env.embedded.definitions import unfold_head
from lean_env.embedded.functions import equiv_types
from lean_env.embedded.values import ArithError, evaluate, is_closed_arith, relation_type, term_type, typed
from lean_env.embedded.goals import CLASSICAL, Goal, TacticError, canon, defeq, fresh_inaccessible
from lean_env.embedded.lemmas import LIBRARY, Lemma
from lean_env.embedded.terms import (
    NAT, REL_OPS, Anon, App, Bin, ByTac, Cast, Const, Hole, Num, Proj, Quant, Term, TyVar, Typed, Un, Var, free_vars,
    fresh_name, pp, subst, subst_all,
)
from lean_env.embedded.types import (
    ElabError, check_class, elab_prop, elab_value, mismatch, nat_succ, subst_type, type_vars,
)

# The elaborator needs to run nested `by` blocks; the tactic engine plugs itself in here.
RunBy = Callable[[Goal, str], frozenset]


@dataclass
class Elab:
    """Elaborates terms in the context of one goal."""

    goal: Goal
    theorems: dict[str, tuple[Term, frozenset]]   # earlier declarations: statement, axioms
    run_by: RunBy
    axioms: frozenset = frozenset()
    holes: list[Goal] | None = None   # `refine`: the goals its `?_` leave (each in its own context)
    meta_types: dict[str, str] = field(default_factory=dict)   # `apply`: types of its open variables
    sorries: int = 0   # term-mode `sorry`s elaborated (each proves its expected type, via `sorryAx`)

    # -- proofs
    def check(self, t: Term, expected: Term) -> None:
        """Check that `t` proves `expected` (Lean's `exact`)."""
        ctx = self.goal.ctx
        if isinstance(t, ByTac):
            self.axioms |= self.run_by(self.goal.with_target(expected), t.text)
            return
        if isinstance(t, Var) and t.name == "sorry" and self.goal.hyp("sorry") is None:
            self.axioms |= {"sorryAx"}
            self.sorries += 1
            return
        if isinstance(t, Anon):
            self._check_anon(t, expected)
            return
        if isinstance(t, Quant) and t.kind == "fun":
            self._check_fun(t, expected)
            return
        if isinstance(t, Typed) and not isinstance(t.ty, str):
            got = self.infer(t)
            if not defeq(got, expected, ctx):
                raise TacticError(f"type mismatch\n  {pp(t)}\nhas type\n  {pp(got)} : Prop\n"
                                  f"but is expected to have type\n  {pp(expected)} : Prop")
            return
        if isinstance(t, Hole):
            if t.synthetic and self.holes is not None:
                self.holes.append(self.goal.with_target(expected))   # in its own context (under `fun`)
                return
            raise TacticError(f"don't know how to synthesize placeholder\ncontext:\n{self.goal.with_target(expected).pp()}")
        if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in ("Or.inl", "Or.inr"):
            if not (isinstance(expected, Bin) and expected.op == "∨") or len(t.args) != 1:
                raise TacticError(f"type mismatch\n  {pp(t)}\nis not a proof of\n  {pp(expected)}")
            self.check(t.args[0], expected.lhs if t.fn.name == "Or.inl" else expected.rhs)
            return
        if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in ("absurd", "False.elim"):
            if t.fn.name == "absurd" and len(t.args) == 2:
                p = self.infer(t.args[0])
                self.check(t.args[1], Un("¬", p))
                return
            if t.fn.name == "False.elim" and len(t.args) == 1:
                self.check(t.args[0], Const(False))
                return
        if isinstance(t, Var) and t.name == "rfl":   # the term `rfl` is `Eq.refl`: equations only
            if not _is_refl(expected, ctx, eq_only=True):
                raise TacticError(f"type mismatch\n  rfl\nhas type\n  ?a = ?a\nbut is expected to have type\n  {pp(expected)}")
            return
        got = self.infer(t, expected)
        if not defeq(got, expected, ctx):
            if _is_relation(got) and _is_relation(expected):   # name the carriers when they differ
                carriers.require_same_carrier(relation_type(got, ctx), relation_type(expected, ctx), f"`{pp(t)}`")
            raise TacticError(
                f"type mismatch\n  {pp(t)}\nhas type\n  {pp(got)} : Prop\nbut is expected to have type\n  {pp(expected)} : Prop"
            )

    def _check_fun(self, t: Quant, expected: Term) -> None:
        """`fun x => e` against `∀ x, P x` (a new variable) or `fun h => e` against `P → Q` (a new
        hypothesis); the name shadows an older one, which becomes inaccessible."""
        g = self.goal
        while not (isinstance(expected, (Quant, Bin, Un))) and unfold_head(expected) is not None:
            expected = unfold_head(expected)   # `fun x hx => _ : a ∈ lowerBounds s`
        if isinstance(expected, Quant) and expected.kind == "∀":
            if t.ty is not None and t.ty != expected.ty:
                raise mismatch(Var(t.var), t.ty, expected.ty)
            name = t.var if t.var != "_" else fresh_inaccessible(expected.var, g.names())
            placeholder = Var("#bound")
            g2, (body,) = g.intro_var(name, expected.ty, subst(expected.body, expected.var, placeholder))
            body = subst(body, "#bound", Var(name))
        elif isinstance(expected, Bin) and expected.op in ("→", "≠") or isinstance(expected, Un) and expected.op == "¬":
            if isinstance(expected, Bin) and expected.op == "→":
                premise, body = expected.lhs, expected.rhs
            elif isinstance(expected, Bin):
                premise, body = Bin("=", expected.lhs, expected.rhs), Const(False)
            else:
                premise, body = expected.arg, Const(False)
            name = t.var if t.var != "_" else fresh_inaccessible("a", g.names())
            g2 = g.add(name, premise)
        else:
            raise TacticError(f"type mismatch\n  {pp(t)}\nis a function, but is expected to have type\n  {pp(expected)}")
        inner = Elab(g2.with_target(body), self.theorems, self.run_by, holes=self.holes)
        inner.check(t.body, body)
        self.axioms |= inner.axioms
        self.sorries += inner.sorries

    def _check_anon(self, t: Anon, expected: Term) -> None:
        items = list(t.items)
        if not items:
            raise TacticError("invalid constructor ⟨...⟩, insufficient number of arguments")
        if isinstance(expected, Const) and expected.value and not items:
            return
        if isinstance(expected, Bin) and expected.op in ("∧", "↔"):
            if len(items) < 2:
                raise TacticError("invalid constructor ⟨...⟩, insufficient number of arguments")
            if expected.op == "∧":
                self.check(items[0], expected.lhs)
                rest = items[1] if len(items) == 2 else Anon(tuple(items[1:]))
                self.check(rest, expected.rhs)
            else:
                if len(items) != 2:
                    raise TacticError("invalid constructor ⟨...⟩, too many arguments")
                self.check(items[0], Bin("→", expected.lhs, expected.rhs))
                self.check(items[1], Bin("→", expected.rhs, expected.lhs))
            return
        if isinstance(expected, Bin) and expected.op == "∣":
            expected = unfold_dvd(expected, self.goal.ctx)
        if isinstance(expected, Quant) and expected.kind == "∃":
            witness = self.value(items[0], expected.ty)
            body = subst(expected.body, expected.var, witness)
            rest = items[1] if len(items) == 2 else Anon(tuple(items[1:]))
            if len(items) < 2:
                raise TacticError("invalid constructor ⟨...⟩, insufficient number of arguments")
            self.check(rest, body)
            return
        unfolded = unfold_head(expected)   # `⟨h₁, h₂⟩ : IsLeast s a`: the `whnf` is an `∧`
        if unfolded is not None:
            self._check_anon(t, unfolded)
            return
        raise TacticError(
            f"invalid constructor ⟨...⟩, expected type must be an inductive type \n  {pp(expected)}"
        )

    def _known(self, name: str) -> bool:
        return self.goal.hyp(name) is not None or name in self.theorems or name in LIBRARY

    def resolve(self, t: Term) -> Term:
        """`Nat.succ_le.mpr` is the field `mpr` of the lemma `Nat.succ_le` (the parser splits
        dotted names only after a local name; a global name's fields are found here)."""
        if isinstance(t, Var) and "." in t.name and not self._known(t.name):
            parts = t.name.split(".")
            for k in range(len(parts) - 1, 0, -1):
                head = ".".join(parts[:k])
                if self._known(head):
                    out: Term = Var(head)
                    for f in parts[k:]:
                        out = Proj(out, f)
                    return out
        return t

    def infer(self, t: Term, expected: Term | None = None) -> Term:
        """The proposition a proof term proves."""
        t = self.resolve(t)
        if isinstance(t, Proj) and isinstance(t.term, Var) and self._lemma(t.term.name):
            lemma = self._lemma(t.term.name)   # a field of a lemma with implicit arguments
            self.axioms |= CLASSICAL
            out = self._project(lemma.statement, t.field, t)
            for n, ty in reversed(lemma.implicit):
                out = Quant("∀", n[1:], ty, subst(out, n, Var(n[1:])))
            return out
        if isinstance(t, Var):
            h = self.goal.hyp(t.name)
            if h is not None:
                if h.is_var:
                    raise TacticError(f"type mismatch\n  {t.name}\nhas type\n  {h.type} : Type")
                return h.type
            if t.name in self.theorems:
                stmt, ax = self.theorems[t.name]
                self.axioms |= ax
                return stmt
            if t.name in LIBRARY:
                lemma = LIBRARY[t.name]
                self.axioms |= CLASSICAL
                if expected is not None and type_vars(lemma.statement) and not lemma.implicit:
                    # a constant such as `zero_le_one` takes its carrier from the expected type
                    return self._apply_args(lemma.statement, [], {}, t.name, expected=expected)
                # implicit arguments become ∀-binders, which `rw` and `apply` instantiate
                out = lemma.statement
                for n, ty in reversed(lemma.implicit):
                    out = Quant("∀", n[1:], ty, subst(out, n, Var(n[1:])))
                return out
            raise TacticError(f"unknown identifier '{t.name}'")
        if isinstance(t, Proj) and isinstance(t.term, Var) and _equiv_lemma(t.term.name, t.field, self.goal.ctx):
            self.axioms |= CLASSICAL
            return _equiv_lemma(t.term.name, t.field, self.goal.ctx)
        if isinstance(t, Proj):
            dotted = self._dot_lemma(t)
            if dotted is not None:
                return self._apply(App(Var(dotted), (t.term,)), expected)
            return self._project(self.infer(t.term), t.field, t)
        if isinstance(t, App):
            return self._apply(t, expected)
        if isinstance(t, Typed) and not isinstance(t.ty, str):   # `(e : P)`: e proves P
            p = self.prop(t.ty)
            self.check(t.term, p)
            return p
        if isinstance(t, ByTac) and expected is not None:
            self.check(t, expected)
            return expected
        if isinstance(t, Anon) and expected is not None:
            self.check(t, expected)
            return expected
        raise TacticError(f"cannot elaborate '{pp(t)}' as a proof here")

    def _project(self, p: Term, field: str, t: Term) -> Term:
        while unfold_head(p) is not None and not (isinstance(p, Bin) and p.op in ("∧", "↔")):
            p = unfold_head(p)   # `h.1` with `h : IsLeast s a`
        if isinstance(p, Bin) and p.op == "∧" and field in ("1", "2", "left", "right"):
            return p.lhs if field in ("1", "left") else p.rhs
        if isinstance(p, Bin) and p.op == "↔" and field in ("1", "2", "mp", "mpr"):
            return Bin("→", p.lhs, p.rhs) if field in ("1", "mp") else Bin("→", p.rhs, p.lhs)
        if field == "symm" and isinstance(p, Bin) and p.op in ("=", "≠", "↔"):
            return Bin(p.op, p.rhs, p.lhs)
        if field == "le" and isinstance(p, Bin) and p.op in ("<", ">"):
            return Bin("≤" if p.op == "<" else "≥", p.lhs, p.rhs)
        if field == "ne" and isinstance(p, Bin) and p.op == "<":
            return Bin("≠", p.lhs, p.rhs)
        if field == "ne'" and isinstance(p, Bin) and p.op == "<":
            return Bin("≠", p.rhs, p.lhs)
        raise TacticError(f"invalid field '{field}', the environment does not contain it\n  {pp(p)}")

    def _dot_lemma(self, t: Proj) -> str | None:
        """The library lemma `h.f` means when `f` is not a built-in projection: `Or.f` for a proof
        of a disjunction, `And.f`, `Iff.f`, `Eq.f`, `Ne.f`, `Not.f` likewise."""
        try:
            p = self.infer(t.term)
            self._project(p, t.field, t)
            return None   # a built-in projection (`h.1`, `h.mp`, `h.symm`, `h.le` of `<`, ...)
        except TacticError:
            pass
        try:
            p = self.infer(t.term)
        except TacticError:
            return None
        head = {"∨": "Or", "∧": "And", "↔": "Iff", "=": "Eq", "≠": "Ne"}.get(p.op) if isinstance(p, Bin) else None
        if isinstance(p, Un) and p.op == "¬":
            head = "Not"
        if isinstance(p, App) and isinstance(p.fn, Var):   # `hp.two_le` with `hp : Nat.Prime p`
            head = p.fn.name
        name = f"{head}.{t.field}"
        return name if head and self._lemma(name) else None

    def _lemma(self, name: str) -> Lemma | None:
        """The library lemma `name` (not shadowed by a hypothesis or a declaration)."""
        if name in LIBRARY and self.goal.hyp(name) is None and name not in self.theorems:
            return LIBRARY[name]
        return None

    def _apply(self, t: App, expected: Term | None = None) -> Term:
        fn = self.resolve(t.fn)
        if isinstance(fn, Var) and fn.name.startswith("Equiv.") and t.args and isinstance(t.args[0], Var) \
                and _equiv_lemma(t.args[0].name, fn.name[len("Equiv."):], self.goal.ctx):   # `Equiv.left_inv σ x`
            return self._apply(App(Proj(t.args[0], fn.name[len("Equiv."):]), t.args[1:]), expected) \
                if len(t.args) > 1 else self.infer(Proj(t.args[0], fn.name[len("Equiv."):]))
        if isinstance(fn, Proj) and fn.field in _TRANS_FIELDS and len(t.args) == 1:
            return _trans(self.infer(fn.term), self.infer(t.args[0]), fn.field, self.goal.ctx, pp(t))
        if isinstance(fn, Proj) and not (isinstance(fn.term, Var) and self._lemma(fn.term.name)):
            dotted = self._dot_lemma(fn)
            if dotted is not None:   # `h.elim a b` is `Or.elim h a b` (generalized field notation)
                return self._apply(App(Var(dotted), (fn.term,) + tuple(t.args)), expected)
        if isinstance(fn, Proj) and isinstance(fn.term, Var) and self._lemma(fn.term.name):
            lemma = self._lemma(fn.term.name)
            self.axioms |= CLASSICAL
            p = self._project(lemma.statement, fn.field, fn)
            return self._apply_args(p, list(t.args), dict(lemma.implicit), pp(t), expected=expected)
        if isinstance(fn, Var) and fn.name in LIBRARY and self.goal.hyp(fn.name) is None:
            lemma = LIBRARY[fn.name]
            self.axioms |= CLASSICAL
            return self._apply_args(lemma.statement, list(t.args), dict(lemma.implicit), pp(t), expected=expected)
        return self._apply_args(self.infer(fn), list(t.args), {}, pp(t), expected=expected)

    def partial_app(self, t: Term) -> tuple[Term, set[str]]:
        """What `apply t` starts from: the statement of `t` with the implicit variables its
        arguments did not determine still open (the goal's unification may solve them)."""
        fn, args = (t.fn, list(t.args)) if isinstance(t, App) else (t, [])
        if isinstance(fn, Var) and fn.name in LIBRARY and self.goal.hyp(fn.name) is None and fn.name not in self.theorems:
            lemma = LIBRARY[fn.name]
            self.axioms |= CLASSICAL
            metas = dict(lemma.implicit)
            p = self._apply_args(lemma.statement, args, metas, pp(t), open_metas=True)
            self.meta_types.update(metas)
            return p, set(metas) & free_vars(p)
        return self.infer(t), set()

    def _apply_args(self, p: Term, args: list[Term], metas: dict[str, str], shown: str,
                    open_metas: bool = False, expected: Term | None = None) -> Term:
        """Feed arguments to a ∀/→ statement. Each explicit argument is elaborated at its
        binder's type; a lemma's type variable `α` is fixed by the first argument or premise
        that tells it, and must have the lemma's class. A `by` or `⟨..⟩` argument whose type
        still has implicit variables waits until the expected type has fixed them (Lean
        elaborates such arguments last, too)."""
        binding: dict[str, Term] = {}
        postponed: list[tuple[Term, Term]] = []
        holes: list[tuple[str, str]] = []   # (meta, binder name) for each `_` given for a value
        ctx = self.goal.ctx
        for arg in args:
            p = _instantiate(p, binding, ctx)
            if unfold_head(p) is not None:   # `h.2 hx` with `h.2 : a ∈ lowerBounds s`: a `∀` after `whnf`
                p = unfold_head(p)
                while isinstance(p, Quant) and p.kind == "∀":   # `∀ ⦃x⦄`: strict-implicit, solved by unification
                    meta = "?" + p.var
                    while meta in metas or meta in free_vars(p):
                        meta += "'"
                    metas = {**metas, meta: p.ty}
                    p = subst(p.body, p.var, Var(meta))
            if isinstance(p, Quant) and p.kind == "∀" and isinstance(arg, Hole) and not arg.synthetic:
                # `_` for an explicit argument: a new implicit variable, solved by unification
                meta = "?" + p.var
                while meta in metas or meta in free_vars(p):
                    meta += "'"
                metas = {**metas, meta: p.ty}
                holes.append((meta, p.var))
                p = subst(p.body, p.var, Var(meta))
                continue
            if isinstance(p, Quant) and p.kind == "∀":
                want = None if isinstance(p.ty, TyVar) else p.ty
                v, got = self.value_typed(arg, want)
                if isinstance(p.ty, TyVar):
                    tv = p.ty
                    p = _fix_type(p, tv, got)
                    postponed = [(a, subst_type(q, tv, got)) for a, q in postponed]
                p = subst(p.body, p.var, v)
            elif isinstance(p, Bin) and p.op in ("→", "≠") or isinstance(p, Un) and p.op == "¬":
                # `a ≠ b` unfolds to `a = b → False`, so `h hab` applies it as Lean allows
                if isinstance(p, Bin) and p.op == "≠":
                    premise, rest = Bin("=", p.lhs, p.rhs), Const(False)
                else:
                    premise, rest = (p.lhs, p.rhs) if isinstance(p, Bin) else (p.arg, Const(False))
                open_vars = set(metas) & free_vars(premise) or type_vars(premise)
                if open_vars and (isinstance(arg, (ByTac, Anon, Hole)) or isinstance(arg, Quant) and arg.kind == "fun"):
                    postponed.append((arg, premise))
                elif open_vars:
                    got = self.infer(arg)
                    if not _match(premise, got, set(metas), binding, ctx, metas):
                        raise TacticError(f"application type mismatch\n  {shown}\nargument has type\n  {pp(got)} : Prop\n"
                                          f"but is expected to have type\n  {pp(_instantiate(premise, binding, ctx))} : Prop")
                else:
                    self.check(arg, premise)
                p = rest
            else:
                raise TacticError(f"function expected\n  {shown}")
        p = _instantiate(p, binding, ctx)
        if expected is not None and (set(metas) & free_vars(p) or postponed or type_vars(p)):
            _match(p, expected, set(metas), binding, ctx, metas)
            p = _instantiate(p, binding, ctx)
        for arg, premise in postponed:
            premise = _instantiate(premise, binding, ctx)
            if set(metas) & free_vars(premise):
                raise TacticError(f"don't know how to synthesize implicit arguments in\n  {shown}")
            self.check(arg, premise)
        if set(metas) & free_vars(p) and not open_metas:
            raise TacticError(f"don't know how to synthesize implicit arguments in\n  {shown}")
        for meta, var in holes:   # a `_` that nothing determined (Lean does not pick a value)
            if meta not in binding and not (open_metas and meta in free_vars(p)):
                raise TacticError(f"don't know how to synthesize placeholder for argument '{var}'\n  {shown}")
        return p

    # -- values (witnesses, ∀ instantiation)
    def value(self, t: Term, ty: str | None) -> Term:
        """Elaborate a value term (a witness, a ∀ instance) at type `ty` (None: its own type)."""
        return self.value_typed(t, ty)[0]

    def value_typed(self, t: Term, ty: str | None) -> tuple[Term, str]:
        ctx = self.goal.ctx
        for v in free_vars(t) - {"Nat.succ"}:
            if v not in ctx:
                if self.goal.hyp(v) is not None:
                    raise TacticError(f"type mismatch: '{v}' is a proof, expected a term of type {ty}")
                raise TacticError(f"unknown identifier '{v}'")
        if isinstance(t, (Anon, ByTac, Proj, App)) and nat_succ(t) is None:
            raise TacticError(f"type mismatch: expected a term of type {ty}, got\n  {pp(t)}")
        return elab_value(t, ctx, ty)

    def prop(self, t: Term) -> Term:
        """Elaborate a proposition written in a tactic (`have h : p`, `show p`, a calc step)."""
        return elab_prop(t, self.goal.ctx)


def _equiv_lemma(sigma: str, field: str, ctx: dict) -> Term | None:
    """What `σ.left_inv` & co. state for `σ : Equiv α β` (Mathlib's `Equiv.left_inv`,
    `Equiv.symm_apply_apply`, `Equiv.right_inv`, `Equiv.apply_symm_apply`, `Equiv.injective`)."""
    types = equiv_types(ctx.get(sigma))
    if types is None:
        return None
    alpha, beta = types
    to, inv = Var(f"{sigma}.toFun", ctx[f"{sigma}.toFun"]), Var(f"{sigma}.invFun", ctx[f"{sigma}.invFun"])
    if field in ("left_inv", "symm_apply_apply"):
        return Quant("∀", "x", alpha, Bin("=", App(inv, (App(to, (Var("x", alpha),)),)), Var("x", alpha)))
    if field in ("right_inv", "apply_symm_apply"):
        return Quant("∀", "x", beta, Bin("=", App(to, (App(inv, (Var("x", beta),)),)), Var("x", beta)))
    if field == "injective":
        return App(Var("Function.Injective"), (to,))
    return None


def _is_relation(p: Term) -> bool:
    return isinstance(p, Bin) and p.op in REL_OPS


def unfold_dvd(p: Bin, ctx: dict) -> Term:
    """`a ∣ b` is by definition (`Nat.instDvdNat`, `Int.instDvdInt`) `∃ c, b = a * c`: what an
    anonymous constructor `⟨c, h⟩` (and `rcases`, `use`) sees."""
    ty = relation_type(p, ctx)
    c = fresh_name("c", free_vars(p))
    return Quant("∃", c, ty, Bin("=", p.rhs, Bin("*", p.lhs, Var(c))))


_TRANS_FIELDS = ("trans", "trans_le", "trans_lt")
_FLIP = {"≥": "≤", ">": "<"}
_CHAIN = {("=", "="): "=", ("≤", "≤"): "≤", ("<", "<"): "<", ("<", "≤"): "<", ("≤", "<"): "<",
          ("=", "≤"): "≤", ("≤", "="): "≤", ("=", "<"): "<", ("<", "="): "<"}


def _trans(p: Term, q: Term, field: str, ctx: dict, shown: str) -> Term:
    """`h₁.trans h₂` (`Eq.trans`, `LE.le.trans`, `LT.lt.trans`, `.trans_le`, `.trans_lt`)."""
    def norm(r: Term) -> Term:
        if isinstance(r, Bin) and r.op in _FLIP:
            return Bin(_FLIP[r.op], r.rhs, r.lhs)
        return r
    p, q = norm(p), norm(q)
    if not (isinstance(p, Bin) and isinstance(q, Bin) and (p.op, q.op) in _CHAIN):
        raise TacticError(f"invalid field '{field}', the environment does not contain it\n  {pp(p)}")
    wanted = {"trans": p.op, "trans_le": "≤", "trans_lt": "<"}[field]
    if q.op != wanted and not (field == "trans" and p.op == "=" or q.op == "="):
        raise TacticError(f"application type mismatch\n  {shown}\nargument has type\n  {pp(q)} : Prop")
    carriers.require_same_carrier(relation_type(p, ctx), relation_type(q, ctx), f"`{shown}` (.{field})")
    if not defeq(p.rhs, q.lhs, ctx):
        raise TacticError(f"application type mismatch\n  {shown}\nargument has type\n  {pp(q)} : Prop\n"
                          f"but is expected to start at\n  {pp(p.rhs)}")
    return Bin(_CHAIN[(p.op, q.op)], p.lhs, q.rhs)


def _instantiate(p: Term, binding: dict[str, Term], ctx: dict | None = None) -> Term:
    """Put the solved implicit variables into `p`; a value of a known type also fixes the type
    variable `α` of the lemma (its numerals and binders), checking the lemma's class."""
    for k, v in binding.items():
        if not k.startswith("?"):   # a type variable fixed by `_match`: `α ↦ ℤ`
            for tv in type_vars(p):
                if tv == k:
                    p = _fix_type(p, tv, v.name)
        elif k in free_vars(p):
            p = subst(p, k, v)
    if ctx is not None:
        for tv in type_vars(p):
            ty = _type_from_binding(binding, ctx)
            if ty is not None:
                p = _fix_type(p, tv, ty)
    return p


def _type_from_binding(binding: dict[str, Term], ctx: dict) -> str | None:
    for v in binding.values():
        ty = term_type(v, ctx)
        if ty is not None and not isinstance(ty, TyVar):
            return ty
    return None


def _fix_type(p: Term, tv: str, ty: str) -> Term:
    check_class(tv, ty)
    return subst_type(p, tv, ty)


def instantiate_rule(binders: list[tuple[str, str]], inst: dict[str, Term], sides: tuple[Term, ...],
                     ctx: dict) -> tuple[Term, ...]:
    """A rewrite rule `∀ binders, lhs = rhs` at the instance `inst` found in the goal: every
    value must have its binder's type (a `Nat.*` lemma does not rewrite an integer), and the
    lemma's `α` takes the values' type if that type has the lemma's class."""
    fixed: dict[str, str] = {}
    for var, ty in binders:
        val = inst.get(var)
        vty = term_type(val, ctx) if val is not None else None
        if vty is None:
            continue
        if isinstance(ty, TyVar):
            if fixed.setdefault(ty, vty) != vty:
                raise TacticError("motive is not type correct")
            check_class(ty, vty)
        elif vty != ty:
            raise TacticError(
                f"tactic 'rewrite' failed, did not find instance of the pattern in the target expression\n"
                f"  (the instance has type {vty}, the rule is about {ty})")
    out = []
    values = {var: typed(inst[var], fixed.get(ty, ty if not isinstance(ty, TyVar) else None))
              for var, ty in binders if var in inst}
    for side in sides:
        side = subst_all(side, values)   # at once: a value may mention another binder's name
        for tv, vty in fixed.items():
            side = subst_type(side, tv, vty)
        out.append(side)
    return tuple(out)


def _match(pattern: Term, term: Term, metas: set[str], binding: dict[str, Term], ctx,
           meta_types: dict[str, str] | None = None) -> bool:
    """First-order matching of a lemma premise against a hypothesis, binding implicit variables;
    the relations matched must be at the same type (the premise's `α` takes the hypothesis')."""
    pattern = _instantiate(pattern, binding, ctx)
    pctx = {**ctx, **(meta_types or {})}
    fixed: dict[str, str] = {}
    try:
        if not _same_carriers(pattern, term, pctx, ctx, fixed):
            return False
    except ElabError:
        return False
    for tv, ty in fixed.items():   # the premise at the carrier it now has: `0 < ?a` over ℝ is no `1 ≤ ?a`
        pattern = subst_type(pattern, tv, ty)
        pctx = {k: (ty if v == tv else v) for k, v in pctx.items()}
    pc, tc = canon(pattern, pctx, True), canon(term, ctx, True)
    trial = dict(binding)
    if not _unify(pc, tc, metas, trial):
        # canon evaluates closed numerals (`4 ^ 2 - 4 * 4 - 1` is `-1`), which hides the
        # instance `?n ^ 2 - 4 * ?n - 1` Lean's unifier finds structurally: try the terms as written
        trial = dict(binding)
        if not _unify(pattern, term, metas, trial):
            return False
    binding.update(trial)
    binding.update({tv: Var(ty) for tv, ty in fixed.items()})
    return True


def _carrier(t: Bin, ctx: dict) -> str | None:
    return term_type(t.lhs, ctx) or term_type(t.rhs, ctx)


def _same_carriers(p: Term, t: Term, pctx: dict, tctx: dict, fixed: dict[str, str]) -> bool:
    """Walk two propositions of the same shape; at each relation compare the carrier types. A
    type variable in the pattern takes the term's type (its class checked); a carrier that
    cannot be told (only implicit variables of unknown type) matches anything."""
    if isinstance(p, Bin) and isinstance(t, Bin):
        rel = ("=", "≠", "<", "≤", ">", "≥", "∣")
        if p.op in rel and t.op in rel:
            pty, tty = _carrier(p, pctx), relation_type(t, tctx)
            if isinstance(pty, TyVar):
                if fixed.setdefault(pty, tty) != tty:
                    return False
                check_class(pty, tty)
                return True
            return pty is None or pty == tty
        if p.op == t.op:
            return _same_carriers(p.lhs, t.lhs, pctx, tctx, fixed) and _same_carriers(p.rhs, t.rhs, pctx, tctx, fixed)
        return True
    if isinstance(p, Un) and isinstance(t, Un):
        return _same_carriers(p.arg, t.arg, pctx, tctx, fixed)
    return True


def _unify(p: Term, t: Term, metas: set[str], binding: dict[str, Term]) -> bool:
    if isinstance(p, Var) and p.name in metas:
        if p.name in binding:
            return binding[p.name] == t
        binding[p.name] = t
        return True
    if (isinstance(p, Bin) and p.op == "+" and isinstance(p.rhs, Num) and isinstance(t, Num)
            and t.ty in (NAT, None) and t.value >= p.rhs.value):
        # Nat literals unify with offsets: `?n + 1 =?= 3` gives `?n := 2` (not so at ℤ)
        return _unify(p.lhs, Num(t.value - p.rhs.value, t.ty), metas, binding)
    if type(p) is not type(t):
        return False
    if isinstance(p, Num):   # a lemma's numeral `(2 : α)` matches `2` at any type α may take
        return p.value == t.value and (isinstance(p.ty, TyVar) or p == t)
    if isinstance(p, Bin):
        return p.op == t.op and _unify(p.lhs, t.lhs, metas, binding) and _unify(p.rhs, t.rhs, metas, binding)
    if isinstance(p, Un):
        return p.op == t.op and _unify(p.arg, t.arg, metas, binding)
    if isinstance(p, Cast):
        return p.ty == t.ty and p.src == t.src and _unify(p.arg, t.arg, metas, binding)
    if isinstance(p, App):   # a function application in a lemma (`|?a|`, `Real.sqrt ?x`)
        # closed numeral arguments unify by value, as Lean's defeq check does: `a (1 + 1)` is `a 2`
        return (p.fn == t.fn and len(p.args) == len(t.args)
                and all(_unify(a, b, metas, binding) or _same_numeral(a, b) for a, b in zip(p.args, t.args)))
    return p == t


def _same_numeral(a: Term, b: Term) -> bool:
    ty = term_type(a, {})
    if ty is None or ty != term_type(b, {}) or not (is_closed_arith(a) and is_closed_arith(b)):
        return False
    try:
        return evaluate(a, ty) == evaluate(b, ty)
    except ArithError:
        return False


def _is_refl(p: Term, ctx, eq_only: bool = False) -> bool:
    """Both sides of a reflexive relation agree up to evaluation (the `rfl` tactic also knows the
    `@[refl]` lemmas `le_refl`, `Iff.refl`, `dvd_refl`; the term `rfl` only `Eq.refl`)."""
    c = canon(p, ctx)
    if isinstance(c, Bin) and c.op in (("=",) if eq_only else ("=", "≤", "↔", "∣")):
        return c.lhs == c.rhs
    return False
