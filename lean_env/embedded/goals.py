"""Goals and proof states of the embedded kernel, printed exactly the way Lean prints them.

A goal is a local context (variables and named hypotheses) plus a target; a proof state is the
list of open goals plus the axioms the proof has used so far (for `#print axioms`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace as dc_replace

from lean_env.embedded.definitions import unfold_all
from lean_env.embedded.values import ArithError, evaluate, is_closed_arith, relation_type, term_type
from lean_env.embedded.errors import TacticError
from lean_env.embedded.functions import ALPHA, SIGNATURES, context_entries
from lean_env.embedded.carriers import NUMBER_TYPES, computes, is_integral, truncates
from lean_env.embedded.terms import (
    INT, NAT, PROP, App, Bin, Cast, Const, Num, Quant, Term, TyVar, Un, Var, fresh_name, free_vars, is_numeral, num, pp,
    subst, type_of, REL_OPS,
)

CLASSICAL = frozenset({"propext", "Classical.choice", "Quot.sound"})


@dataclass(frozen=True)
class Hyp:
    name: str
    type: object          # "ℕ"/"ℤ" for a variable, a Term for a hypothesis

    @property
    def is_var(self) -> bool:
        return isinstance(self.type, str)


@dataclass(frozen=True)
class Goal:
    hyps: tuple[Hyp, ...]
    target: Term
    case: str = ""

    @property
    def ctx(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for h in self.hyps:
            if h.is_var:
                out.update(context_entries(h.name, h.type))
        return out

    def hyp(self, name: str) -> Hyp | None:
        for h in reversed(self.hyps):  # later hypotheses shadow earlier ones
            if h.name == name:
                return h
        return None

    def props(self) -> list[Term]:
        return [h.type for h in self.hyps if not h.is_var]

    def names(self) -> set[str]:
        return {h.name for h in self.hyps}

    def with_target(self, target: Term) -> "Goal":
        return dc_replace(self, target=target)

    def add(self, name: str, type_: object) -> "Goal":
        """Add a hypothesis; an existing one with the same name becomes inaccessible (`h✝`)."""
        hyps = list(self.hyps)
        target = self.target
        old = self.hyp(name)
        if old is not None:
            dead = fresh_inaccessible(name, self.names())
            hyps = [Hyp(dead, h.type) if h is old else h for h in hyps]
            if old.is_var:  # later mentions of the shadowed variable print as `x✝`
                hyps = [h if h.is_var else Hyp(h.name, subst(h.type, name, Var(dead))) for h in hyps]
                target = subst(target, name, Var(dead))
                if not isinstance(type_, str):   # `have x : x > 0` is about the old `x`
                    type_ = subst(type_, name, Var(dead))
        hyps.append(Hyp(name, type_))
        return Goal(tuple(hyps), target, self.case)

    def rename(self, old: str, new: str) -> "Goal":
        """Rename hypothesis `old` to `new` (and its uses, when it is a variable); an existing `new`
        becomes inaccessible, as when a tactic introduces a name that is already taken."""
        g = self
        if new in g.names() and new != old:
            g = g.rename(new, fresh_inaccessible(new, g.names()))
        hyp = g.hyp(old)
        if hyp is None:
            return g
        hyps = [Hyp(new, h.type) if h is hyp else h for h in g.hyps]
        target = g.target
        if hyp.is_var:
            hyps = [h if h.is_var else Hyp(h.name, subst(h.type, old, Var(new))) for h in hyps]
            target = subst(target, old, Var(new))
        return Goal(tuple(hyps), target, g.case)

    def remove(self, name: str) -> "Goal":
        return Goal(tuple(h for h in self.hyps if h.name != name), self.target, self.case)

    def clear(self, name: str) -> "Goal":
        """Lean's `clear`: a variable that other hypotheses or the target mention cannot go
        (removing it would leave them talking about an unknown, untyped name)."""
        h = self.hyp(name)
        if h is None:
            raise TacticError(f"unknown hypothesis '{name}'")
        if h.is_var:
            users = [x.name for x in self.hyps if not x.is_var and name in free_vars(x.type)]
            if users or name in free_vars(self.target):
                dep = f"hypothesis '{users[0]}'" if users else "the goal"
                raise TacticError(f"variable '{name}' depends on {dep}, it cannot be cleared")
        hyps = list(self.hyps)
        idx = max(i for i, x in enumerate(hyps) if x.name == name)   # the accessible one
        return Goal(tuple(hyps[:idx] + hyps[idx + 1:]), self.target, self.case)

    def intro_var(self, name: str, ty: str, *terms: Term) -> tuple["Goal", tuple[Term, ...]]:
        """Add a variable, shadowing any hypothesis of that name, and return `terms` (which are
        about to mention the new variable, e.g. a binder's body) with the old one renamed to
        its inaccessible name, as `add` renames it in the context."""
        old = self.hyp(name)
        if old is not None and old.is_var:
            dead = fresh_inaccessible(name, self.names())   # the name `add` gives the old one
            terms = tuple(subst(t, name, Var(dead)) for t in terms)
        return self.add(name, ty), terms

    def replace_hyp(self, name: str, type_: Term) -> "Goal":
        return Goal(tuple(Hyp(h.name, type_) if h.name == name else h for h in self.hyps), self.target, self.case)

    def pp(self) -> str:
        lines = [f"case {self.case}"] if self.case else []
        i = 0
        while i < len(self.hyps):
            j = i
            while j + 1 < len(self.hyps) and self.hyps[j + 1].type == self.hyps[i].type:
                j += 1
            names = " ".join(h.name for h in self.hyps[i : j + 1])
            ty = self.hyps[i].type
            lines.append(f"{names} : {ty if isinstance(ty, str) else pp(ty)}")
            i = j + 1
        lines.append(f"⊢ {pp(self.target)}")
        return "\n".join(lines)


def fresh_inaccessible(name: str, taken: set[str]) -> str:
    """An inaccessible name as Lean prints it: h✝, h✝1, ..."""
    return fresh_name(name.rstrip("✝") + "✝", taken, sep="")


@dataclass(frozen=True)
class ProofState:
    goals: tuple[Goal, ...]
    axioms: frozenset[str] = field(default_factory=frozenset)
    sorries: int = 0

    @property
    def main(self) -> Goal:
        if not self.goals:
            raise TacticError("no goals to be proved")
        return self.goals[0]

    def replace_main(self, new: list[Goal] | tuple[Goal, ...], axioms: frozenset[str] = frozenset()) -> "ProofState":
        return ProofState(tuple(new) + self.goals[1:], self.axioms | axioms, self.sorries)

    def pp_goals(self) -> list[str]:
        return [g.pp() for g in self.goals]


# ---------------------------------------------------------------- definitional equality

def canon(t: Term, ctx: dict[str, str], unfold_lt: bool = False) -> Term:
    """A normal form under which Lean's `exact` would accept two propositions as the same:
    `≥`/`>` unfold to `≤`/`<`, `≠` and `→ False` to `¬`, closed numerals evaluate, binder names
    are erased, numeral ascriptions dropped; with `unfold_lt` (default transparency, `exact`),
    `a < b` over ℕ/ℤ is `a + 1 ≤ b` as `Nat.lt`/`Int.lt` are defined."""
    return _canon(unfold_all(t), ctx, 0, unfold_lt)   # `IsLeast`, `≡ [MOD n]`, `∈ {x | p x}` are definitions


def _canon(t: Term, ctx: dict[str, str], depth: int, unfold_lt: bool = False) -> Term:
    if isinstance(t, Const):
        return t
    if isinstance(t, Un):
        return Un(t.op, _canon(t.arg, ctx, depth, unfold_lt))
    if isinstance(t, Quant):
        bound = f"#{depth}"
        inner = dict(ctx)
        inner[bound] = t.ty
        return Quant(t.kind, "", t.ty, _canon(subst(t.body, t.var, Var(bound)), inner, depth + 1, unfold_lt))
    if isinstance(t, Bin):
        op, a, b = t.op, t.lhs, t.rhs
        if op == "≥":
            op, a, b = "≤", b, a
        elif op == ">":
            op, a, b = "<", b, a
        elif op == "≠":
            return Un("¬", _canon(Bin("=", a, b), ctx, depth, unfold_lt))
        elif op == "→" and isinstance(b, Const) and not b.value:
            return Un("¬", _canon(a, ctx, depth, unfold_lt))
        if op in REL_OPS:
            ty = relation_type(Bin(op, a, b), ctx)
            if unfold_lt and op == "<" and (is_integral(ty) or isinstance(ty, TyVar)):
                # `Nat.lt n m` and `Int.lt n m` are `n + 1 ≤ m` (a lemma's α is ℕ or ℤ here)
                op, a = "≤", Bin("+", a, Num(1, ty))
            return Bin(op, _canon_arith(a, ty, ctx), _canon_arith(b, ty, ctx))
        return Bin(op, _canon(a, ctx, depth, unfold_lt), _canon(b, ctx, depth, unfold_lt))
    if isinstance(t, Var) and ctx.get(t.name) is None or type_of(t) == PROP:
        return t
    # a value on its own (`h₁.trans h₂` meets the right side of one relation and the left of the
    # other): canonical at its own type, which it keeps, so values of two types never meet
    ty = type_of(t) or term_type(t, ctx)
    return _canon_arith(t, ty, ctx) if ty is not None else t


def _canon_arith(t: Term, ty: str, ctx: dict[str, str]) -> Term:
    # ℝ arithmetic does not compute (`Real.add` is irreducible): `(1 + 1 : ℝ) = 2` is not `rfl`
    if is_closed_arith(t) and (computes(ty) or isinstance(ty, TyVar)):   # a lemma's `0 + 1` is its `1`
        try:
            v = evaluate(t, ty)
            return num(v, ty)   # typed: `2 ^ 10⁶ - 2 ^ (10⁶ + 1)` means different things in ℕ and ℤ
        except ArithError:
            pass
    if isinstance(t, Cast):
        return Cast(t.ty, _canon_arith(t.arg, t.src, ctx), t.src)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES:
        sig = SIGNATURES[t.fn.name]
        # an argument of a polymorphic function is at its own type (`⌊x + 1/2⌋` floors a real),
        # which is the result's type only when the result is `α` too (`min`, `|x|`)
        def own(a: Term, p: str) -> str | None:
            if p == ALPHA:
                return ty if sig.result == ALPHA else type_of(a) or term_type(a, ctx)
            return p if p in NUMBER_TYPES else None
        return App(t.fn, tuple(_canon_arith(a, own(a, p), ctx) if own(a, p) else a for a, p in zip(t.args, sig.params)))
    if isinstance(t, Bin):
        rty = NAT if t.op == "^" else ty
        out = Bin(t.op, _canon_arith(t.lhs, ty, ctx), _canon_arith(t.rhs, rty, ctx))
        return _nat_unfold(out) if truncates(ty) else out
    if isinstance(t, Un):
        return Un(t.op, _canon_arith(t.arg, ty, ctx))
    if isinstance(t, Num):
        return Num(t.value, ty)
    if isinstance(t, Var):
        return Var(t.name, t.ty or ctx.get(t.name))
    return t


def _nat_unfold(t: Bin) -> Term:
    """What Lean's kernel sees by unfolding `Nat.add`/`Nat.mul` on their second argument, which is
    why `n + 1 + 0 = n + 1` and `n + 1 + 1 = n + 2` are `rfl` but `0 + n = n` is not: offsets by
    literals collect on the right, `a + 0` is `a`, `a * 0` is `0`, `a ^ 0` is `1`."""
    a, b = t.lhs, t.rhs
    if t.op == "+":
        if is_numeral(b, 0):
            return a
        if isinstance(b, Num):
            if isinstance(a, Bin) and a.op == "+" and isinstance(a.rhs, Num):
                return Bin("+", a.lhs, Num(a.rhs.value + b.value, NAT))
            return t
        if isinstance(b, Bin) and b.op == "+" and isinstance(b.rhs, Num):
            return _nat_unfold(Bin("+", _nat_unfold(Bin("+", a, b.lhs)), b.rhs))
    if t.op == "*" and is_numeral(b, 0):
        return Num(0, NAT)
    if t.op == "^" and is_numeral(b, 0):
        return Num(1, NAT)
    return t


def defeq(p: Term, q: Term, ctx: dict[str, str]) -> bool:
    """Definitional equality at default transparency (what `exact` checks): `<` unfolds too."""
    return p == q or canon(p, ctx, True) == canon(q, ctx, True)


def value_type(t: Term, ctx: dict[str, str], default: str = NAT) -> str:
    return term_type(t, ctx) or default


__all__ = [
    "CLASSICAL", "Goal", "Hyp", "ProofState", "TacticError", "canon", "defeq", "fresh_inaccessible",
    "value_type", "INT", "NAT", "fresh_name", "free_vars",
]
