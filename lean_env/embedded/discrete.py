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

Elaboration of these applications is `types.py`'s (a sum's body is typed with its binder at the
set's element type), their exact evaluation `values.py`'s; this module holds what Mathlib's
lemmas about them do: the rewrites `Finset.sum_range_succ`, `Nat.factorial_succ`, ..., and
`norm_num`/`simp` evaluating closed applications and deciding predicates on numerals.
"""
from __future__ import annotations

from typing import Callable

from lean_env.embedded import definitions
from lean_env.embedded.carriers import is_integral
from lean_env.embedded.functions import (  # noqa: F401  (the set vocabulary, re-exported)
    BIG_OPERATORS, BINDER_FUNCTIONS, DOT_FUNCTIONS, SET_TYPES, SETS, SIGNATURES, head, set_variable,
)
from lean_env.embedded.terms import (
    NAT, PROP, App, Bin, Const, Num, Quant, Term, Un, children, free_vars, num, replace, subst, with_children,
)
from lean_env.embedded.values import (  # noqa: F401  (evaluation of the applications, re-exported)
    MAX_ELEMENTS, VALUES, ArithError, _closed_set, elements, evaluate, evaluate_app, is_closed_app, term_type,
)

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
    **definitions.REWRITES,   # `Nat.ModEq`, `IsLeast`, `Set.mem_setOf_eq`, ...: unfolding a definition
}


# The ones tagged @[simp] in Mathlib: every `simp` and `norm_num` uses them.
SIMP_LEMMAS = ("Finset.sum_range_zero", "Finset.prod_range_zero", "Finset.sum_range_one", "Finset.prod_range_one",
               "Nat.factorial_zero") + definitions.SIMP_SET


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


# What the simplifiers evaluate of a closed application, in the Mathlib of DeepSeek-Prover-V1.5's
# pin (d1d1e4b, 2024-06) on Lean v4.9. norm_num: its big-operator extension takes `Finset.range` only
# (Mathlib/Tactic/NormNum/BigOperators.lean: `Finset.proveEmptyOrCons`; "TODO: support intervals"),
# a card by the simp lemmas `Finset.card_range`, `Nat.card_Icc`, `Nat.card_Ico`, and there is no
# extension for `Nat.choose` (nor now): a sum over `Icc 1 12`, a filter's card or `choose 5 2` take
# `decide` or their lemmas. `n !` follows today's Mathlib, whose test/norm_num_ext.lean (the
# conformance oracle) evaluates it (mathlib4 #8832, after that pin). Plain simp: core's simprocs (`Nat.reduceGcd`, ...) and
# simp lemmas (`Finset.card_range`, `Finset.mem_range`, `Nat.digits_add_two_add_one`, `List.sum_cons`).
CARD_SETS = ("Finset.range", "Finset.Icc", "Finset.Ico")
NORM_NUM_LEAVES = frozenset({"Nat.choose"})
SIMP_EVALUATES = frozenset({"Nat.gcd", "Nat.lcm", "Int.gcd", "Int.lcm", "Int.natAbs", "Int.toNat", "Nat.digits",
                            "List.sum", "Finset.card", "Membership.mem"})


def norm_num_evaluates(t: App) -> bool:
    """Whether norm_num computes the closed application `t` (see NORM_NUM_LEAVES)."""
    name = head(t)
    if name in BIG_OPERATORS:
        return head(t.args[0]) == "Finset.range" and not _mentions(t.args[1], NORM_NUM_LEAVES)
    if name == "Finset.card":
        return head(t.args[0]) in CARD_SETS
    return name not in NORM_NUM_LEAVES


def simp_evaluates(t: App) -> bool:
    """Whether plain simp computes the closed application `t` (see SIMP_EVALUATES)."""
    name = head(t)
    if name == "Finset.card":
        return head(t.args[0]) in CARD_SETS
    return name in SIMP_EVALUATES


def _mentions(t: Term, names: frozenset) -> bool:
    return head(t) in names or any(_mentions(c, names) for c in children(t))


def evaluate_closed(p: Term, ctx: dict, numerals: bool = True) -> Term:
    """`norm_num` on numerals: every closed application it computes (`Nat.gcd 4 6`, a sum over
    `range 10`) becomes its value, at its own type; plain simp (`numerals` False) only those of the
    integers its simprocs and lemmas compute."""
    evaluates = norm_num_evaluates if numerals else simp_evaluates
    if isinstance(p, App) and head(p) not in SETS and is_closed_app(p) and evaluates(p):
        ty = term_type(p, ctx)
        if ty not in (None, PROP) and (numerals or is_integral(ty)):
            try:
                return num(evaluate_app(p, ty), ty)
            except ArithError:
                return p
    kids = children(p)
    if not kids or isinstance(p, Quant) and p.kind == "fun":
        return p
    return with_children(p, [evaluate_closed(c, ctx, numerals) for c in kids])


def largest_set(p: Term) -> int:
    """The size of the largest closed finite set in `p` (0 if none): what the kernel must unfold
    element by element when `decide` evaluates it. `Nat.divisors n` is `filter (· ∣ n) (Ico 1 (n + 1))`
    (Mathlib/NumberTheory/Divisors.lean): n candidates, however few divisors pass."""
    best = 0
    if head(p) in SETS and _closed_set(p):
        try:
            best = len(elements(p))
            if head(p) in ("Nat.divisors", "Nat.properDivisors"):
                best = max(best, int(evaluate(p.args[0], NAT)))
        except ArithError:
            return MAX_ELEMENTS + 1
    for c in children(p):
        best = max(best, largest_set(c))
    return best
