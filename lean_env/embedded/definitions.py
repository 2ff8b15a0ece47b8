"""Mathlib definitions the fragment unfolds, each as its Mathlib definition says (δ-reduction):

    IsLeast s a              := a ∈ s ∧ a ∈ lowerBounds s
    IsGreatest s a           := a ∈ s ∧ a ∈ upperBounds s
    a ∈ lowerBounds s        := ∀ ⦃x⦄, x ∈ s → a ≤ x          (`lowerBounds s = {x | ∀ ⦃a⦄, a ∈ s → x ≤ a}`)
    a ∈ upperBounds s        := ∀ ⦃x⦄, x ∈ s → x ≤ a
    a ∈ {x | p x}            := p a                            (`Set.mem_setOf_eq`, a simp lemma)
    a ∈ s \\ t                := a ∈ s ∧ a ∉ t                  (`Set.mem_diff`, a simp lemma)
    a ∈ ({b} : Set α)        := a = b                          (`Set.mem_singleton_iff`, a simp lemma)
    a ≡ b [MOD n]            := a % n = b % n                  (`Nat.ModEq`; `Int.ModEq` for `[ZMOD n]`)
    Function.Injective f     := ∀ ⦃a₁ a₂⦄, f a₁ = f a₂ → a₁ = a₂
    Even n                   := ∃ r, n = r + r                 (Mathlib/Algebra/Group/Even.lean, additive `IsSquare`)
    Odd n                    := ∃ k, n = 2 * k + 1             (Mathlib/Algebra/Ring/Parity.lean)

`unfold_head` unfolds the head of a proposition one step: what `intro`, `constructor`, `obtain`,
`⟨_, _⟩` and `h.1` see, since Lean's `whnf` does the same. `unfold_all` unfolds everywhere: what
`exact` compares up to. `REWRITES` are the same rules by the names a proof gives them (`simp
[Nat.ModEq]`, `unfold IsLeast`, `rw [Set.mem_setOf_eq]`); `SIMP_SET` are the ones in Mathlib's
default simp set. Nothing here decides anything: unfolding is the whole of what the kernel knows
about these definitions.
"""
from __future__ import annotations

from typing import Callable

from lean_env.embedded.functions import local_function
from lean_env.embedded.terms import App, Bin, Num, Quant, Term, Un, Var, fresh_name, free_vars, subst, type_of

MEM = "Membership.mem"


def _head(t: Term) -> str | None:
    return t.fn.name if isinstance(t, App) and isinstance(t.fn, Var) else None


def mem(a: Term, s: Term) -> Term:
    return App(Var(MEM), (a, s))


def _bound(a: Term, s: Term) -> tuple[Term, str]:
    """A fresh variable for `∀ ⦃x⦄, x ∈ s → ...` at the type of `a`."""
    x = fresh_name("x", free_vars(a) | free_vars(s))
    return Var(x, type_of(a)), x


def _is_least(t: Term, bounds: str) -> Term | None:
    if len(t.args) != 2:
        return None
    s, a = t.args
    return Bin("∧", mem(a, s), mem(a, App(Var(bounds), (s,))))


def _mem_bounds(t: Term, bounds: str) -> Term | None:
    if _head(t) != MEM or _head(t.args[1]) != bounds:
        return None
    a, (s,) = t.args[0], t.args[1].args
    x, name = _bound(a, s)
    rel = Bin("≤", a, x) if bounds == "lowerBounds" else Bin("≤", x, a)
    return Quant("∀", name, type_of(a), Bin("→", mem(x, s), rel))


def _mem_set_of(t: Term) -> Term | None:
    if _head(t) != MEM or _head(t.args[1]) != "setOf":
        return None
    a, (f,) = t.args[0], t.args[1].args
    return subst(f.body, f.var, a) if isinstance(f, Quant) else None


def _mem_diff(t: Term) -> Term | None:
    if _head(t) != MEM or _head(t.args[1]) != "SDiff.sdiff":
        return None
    a, (s, u) = t.args[0], t.args[1].args
    return Bin("∧", mem(a, s), Un("¬", mem(a, u)))


def _mem_singleton(t: Term) -> Term | None:
    if _head(t) != MEM or _head(t.args[1]) != "Singleton.singleton":
        return None
    return Bin("=", t.args[0], t.args[1].args[0])


def _mod_eq(t: Term, name: str) -> Term | None:
    if _head(t) != name or len(t.args) != 3:
        return None
    n, a, b = t.args
    return Bin("=", Bin("%", a, n), Bin("%", b, n))


def _injective(t: Term) -> Term | None:
    if _head(t) != "Function.Injective" or len(t.args) != 1 or not isinstance(t.args[0], Var):
        return None
    f = t.args[0]
    sig = local_function(f.ty)
    if sig is None or len(sig[0]) != 1:
        return None
    ty = sig[0][0]
    a1, a2 = "a₁", "a₂"
    eq = Bin("=", App(f, (Var(a1, ty),)), App(f, (Var(a2, ty),)))
    return Quant("∀", a1, ty, Quant("∀", a2, ty, Bin("→", eq, Bin("=", Var(a1, ty), Var(a2, ty)))))


def _parity(t: Term, name: str) -> Term | None:
    """`Even n` and `Odd n` at the type of `n` (ℕ or ℤ here): the bound name as Mathlib's (`r`,
    `k`), renamed away from the variables of `n` so that nothing in `n` is captured."""
    if _head(t) != name or len(t.args) != 1:
        return None
    n = t.args[0]
    ty = type_of(n)
    if ty is None:   # not elaborated: no type to quantify over
        return None
    v = fresh_name("r" if name == "Even" else "k", free_vars(n))
    w = Var(v, ty)
    rhs = Bin("+", w, w) if name == "Even" else Bin("+", Bin("*", Num(2, ty), w), Num(1, ty))
    return Quant("∃", v, ty, Bin("=", n, rhs))


# name a proof may give -> the rule (a term it unfolds, or None)
REWRITES: dict[str, Callable[[Term], Term | None]] = {
    "IsLeast": lambda t: _is_least(t, "lowerBounds") if _head(t) == "IsLeast" else None,
    "IsGreatest": lambda t: _is_least(t, "upperBounds") if _head(t) == "IsGreatest" else None,
    "lowerBounds": lambda t: _mem_bounds(t, "lowerBounds"),
    "upperBounds": lambda t: _mem_bounds(t, "upperBounds"),
    "mem_lowerBounds": lambda t: _mem_bounds(t, "lowerBounds"),
    "mem_upperBounds": lambda t: _mem_bounds(t, "upperBounds"),
    "Set.mem_setOf_eq": _mem_set_of,
    "Set.mem_def": _mem_set_of,
    "Set.mem_diff": _mem_diff,
    "Set.mem_singleton_iff": _mem_singleton,
    "Nat.ModEq": lambda t: _mod_eq(t, "Nat.ModEq"),
    "Int.ModEq": lambda t: _mod_eq(t, "Int.ModEq"),
    "Function.Injective": _injective,
    "Even": lambda t: _parity(t, "Even"),
    "Odd": lambda t: _parity(t, "Odd"),
}
SIMP_SET = ("Set.mem_setOf_eq", "Set.mem_diff", "Set.mem_singleton_iff")   # @[simp] in Mathlib
_ALL = tuple(REWRITES.values())


def unfold_head(p: Term) -> Term | None:
    """One δ-step at the head of `p`, or None when its head is no definition of this table."""
    for rule in _ALL:
        out = rule(p)
        if out is not None:
            return out
    return None


def unfold_all(p: Term) -> Term:
    """Every definition of the table unfolded, wherever it stands."""
    for _ in range(50):
        q = unfold_head(p)
        if q is None:
            break
        p = q
    if isinstance(p, Bin):
        return Bin(p.op, unfold_all(p.lhs), unfold_all(p.rhs))
    if isinstance(p, Un) and p.op == "¬":
        return Un("¬", unfold_all(p.arg))
    if isinstance(p, Quant) and p.kind != "fun":
        return Quant(p.kind, p.var, p.ty, unfold_all(p.body))
    return p
