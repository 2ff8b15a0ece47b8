"""Elaborate proof terms: what proposition does `h.1`, `mul_pos ha hb` or `⟨3, by norm_num⟩` prove?

The term language is the part of Lean's that tactic proofs in this fragment use: hypotheses,
earlier theorems and axioms, a small library of Mathlib lemmas, application, projections,
anonymous constructors, `Or.inl`/`Or.inr`, `absurd`, and nested `by` blocks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from lean_env.embedded.goals import CLASSICAL, Goal, TacticError, defeq, value_type
from lean_env.embedded.parser import parse_term
from lean_env.embedded.terms import (
    NAT, Anon, App, Bin, ByTac, Const, Hole, Num, Proj, Quant, Term, Un, Var, free_vars, pp, subst,
)


@dataclass(frozen=True)
class Lemma:
    """A library lemma: implicit variables (solved by matching), then its statement, where
    leading `∀` are explicit arguments and `→` premises are proof arguments."""

    implicit: tuple[str, ...]
    statement: Term
    axioms: frozenset[str] = frozenset()


def _lemma(implicit: str, statement: str) -> Lemma:
    """Implicit variables are named `?a` so they can never clash with a goal's own `a`."""
    names = implicit.split()
    p = parse_term(statement)
    for n in names:
        p = subst(p, n, Var("?" + n))
    return Lemma(tuple("?" + n for n in names), p)


LIBRARY: dict[str, Lemma] = {
    "sq_nonneg": _lemma("", "∀ (a : ℤ), 0 ≤ a ^ 2"),
    "mul_self_nonneg": _lemma("", "∀ (a : ℤ), 0 ≤ a * a"),
    "pow_two_nonneg": _lemma("", "∀ (a : ℤ), 0 ≤ a ^ 2"),
    "mul_pos": _lemma("a b", "0 < a → 0 < b → 0 < a * b"),
    "mul_nonneg": _lemma("a b", "0 ≤ a → 0 ≤ b → 0 ≤ a * b"),
    "add_pos": _lemma("a b", "0 < a → 0 < b → 0 < a + b"),
    "add_nonneg": _lemma("a b", "0 ≤ a → 0 ≤ b → 0 ≤ a + b"),
    "pow_pos": _lemma("a", "0 < a → ∀ (n : ℕ), 0 < a ^ n"),
    "pow_nonneg": _lemma("a", "0 ≤ a → ∀ (n : ℕ), 0 ≤ a ^ n"),
    "le_refl": _lemma("", "∀ (a : ℤ), a ≤ a"),
    "le_rfl": _lemma("a", "a ≤ a"),
    "le_of_lt": _lemma("a b", "a < b → a ≤ b"),
    "le_of_eq": _lemma("a b", "a = b → a ≤ b"),
    "ne_of_gt": _lemma("a b", "a > b → a ≠ b"),
    "ne_of_lt": _lemma("a b", "a < b → a ≠ b"),
    "le_trans": _lemma("a b c", "a ≤ b → b ≤ c → a ≤ c"),
    "lt_trans": _lemma("a b c", "a < b → b < c → a < c"),
    "lt_of_le_of_lt": _lemma("a b c", "a ≤ b → b < c → a < c"),
    "lt_of_lt_of_le": _lemma("a b c", "a < b → b ≤ c → a < c"),
    "le_antisymm": _lemma("a b", "a ≤ b → b ≤ a → a = b"),
    "Nat.zero_le": _lemma("", "∀ (n : ℕ), 0 ≤ n"),
    "Nat.succ_pos": _lemma("", "∀ (n : ℕ), 0 < n + 1"),
    "Nat.pos_of_ne_zero": _lemma("n", "n ≠ 0 → 0 < n"),
    "Nat.le_of_lt_succ": _lemma("m n", "m < n + 1 → m ≤ n"),
    "Nat.lt_of_lt_of_le": _lemma("a b c", "a < b → b ≤ c → a < c"),
    "dvd_refl": _lemma("", "∀ (a : ℤ), a ∣ a"),
    "dvd_mul_right": _lemma("", "∀ (a b : ℤ), a ∣ a * b"),
    "dvd_mul_left": _lemma("", "∀ (a b : ℤ), a ∣ b * a"),
    "dvd_add": _lemma("a b c", "a ∣ b → a ∣ c → a ∣ b + c"),
    "dvd_trans": _lemma("a b c", "a ∣ b → b ∣ c → a ∣ c"),
    "trivial": _lemma("", "True"),
    "pow_succ": _lemma("", "∀ (a : ℤ) (n : ℕ), a ^ (n + 1) = a ^ n * a"),
    "pow_zero": _lemma("", "∀ (a : ℤ), a ^ 0 = 1"),
    "pow_two": _lemma("", "∀ (a : ℤ), a ^ 2 = a * a"),
    "sq": _lemma("", "∀ (a : ℤ), a ^ 2 = a * a"),
    "mul_comm": _lemma("", "∀ (a b : ℤ), a * b = b * a"),
    "add_comm": _lemma("", "∀ (a b : ℤ), a + b = b + a"),
    "mul_one": _lemma("", "∀ (a : ℤ), a * 1 = a"),
    "one_mul": _lemma("", "∀ (a : ℤ), 1 * a = a"),
    "add_zero": _lemma("", "∀ (a : ℤ), a + 0 = a"),
    "zero_add": _lemma("", "∀ (a : ℤ), 0 + a = a"),
    "mul_add": _lemma("", "∀ (a b c : ℤ), a * (b + c) = a * b + a * c"),
    "add_mul": _lemma("", "∀ (a b c : ℤ), (a + b) * c = a * c + b * c"),
    "mul_zero": _lemma("", "∀ (a : ℤ), a * 0 = 0"),
    "zero_mul": _lemma("", "∀ (a : ℤ), 0 * a = 0"),
    "two_mul": _lemma("", "∀ (a : ℤ), 2 * a = a + a"),
    "mul_assoc": _lemma("", "∀ (a b c : ℤ), a * b * c = a * (b * c)"),
    "add_assoc": _lemma("", "∀ (a b c : ℤ), a + b + c = a + (b + c)"),
    "sub_self": _lemma("", "∀ (a : ℤ), a - a = 0"),
    "add_sq": _lemma("", "∀ (a b : ℤ), (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2"),
    "sub_sq": _lemma("", "∀ (a b : ℤ), (a - b) ^ 2 = a ^ 2 - 2 * a * b + b ^ 2"),
    "lt_irrefl": _lemma("", "∀ (a : ℤ), ¬a < a"),
    "lt_add_one": _lemma("", "∀ (a : ℤ), a < a + 1"),
    "add_lt_add": _lemma("a b c d", "a < b → c < d → a + c < b + d"),
    "add_le_add": _lemma("a b c d", "a ≤ b → c ≤ d → a + c ≤ b + d"),
    "mul_le_mul_of_nonneg_left": _lemma("a b c", "b ≤ c → 0 ≤ a → a * b ≤ a * c"),
    "Nat.lt_succ_self": _lemma("", "∀ (n : ℕ), n < n + 1"),
    "Nat.le_succ": _lemma("", "∀ (n : ℕ), n ≤ n + 1"),
    "Nat.succ_le_of_lt": _lemma("n m", "n < m → n + 1 ≤ m"),
    "Nat.succ_ne_zero": _lemma("", "∀ (n : ℕ), n + 1 ≠ 0"),
    "Nat.mod_lt": _lemma("y", "∀ (x : ℕ), y > 0 → x % y < y"),
    "Nat.sub_add_cancel": _lemma("n m", "m ≤ n → n - m + m = n"),
    "Nat.add_sub_cancel": _lemma("", "∀ (n m : ℕ), n + m - m = n"),
}

# The elaborator needs to run nested `by` blocks; the tactic engine plugs itself in here.
RunBy = Callable[[Goal, str], frozenset]


@dataclass
class Elab:
    """Elaborates terms in the context of one goal."""

    goal: Goal
    theorems: dict[str, tuple[Term, frozenset]]   # earlier declarations: statement, axioms
    run_by: RunBy
    axioms: frozenset = frozenset()
    holes: list[Term] | None = None   # `refine`: the propositions its `?_` leave as new goals

    # -- proofs
    def check(self, t: Term, expected: Term) -> None:
        """Check that `t` proves `expected` (Lean's `exact`)."""
        ctx = self.goal.ctx
        if isinstance(t, ByTac):
            self.axioms |= self.run_by(self.goal.with_target(expected), t.text)
            return
        if isinstance(t, Anon):
            self._check_anon(t, expected)
            return
        if isinstance(t, Hole):
            if t.synthetic and self.holes is not None:
                self.holes.append(expected)
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
        if isinstance(t, Var) and t.name == "rfl":
            if not _is_refl(expected, ctx):
                raise TacticError(f"type mismatch\n  rfl\nhas type\n  ?a = ?a\nbut is expected to have type\n  {pp(expected)}")
            return
        got = self.infer(t, expected)
        if not defeq(got, expected, ctx):
            raise TacticError(
                f"type mismatch\n  {pp(t)}\nhas type\n  {pp(got)} : Prop\nbut is expected to have type\n  {pp(expected)} : Prop"
            )

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
        if isinstance(expected, Quant) and expected.kind == "∃":
            witness = self.value(items[0], expected.ty)
            body = subst(expected.body, expected.var, witness)
            rest = items[1] if len(items) == 2 else Anon(tuple(items[1:]))
            if len(items) < 2:
                raise TacticError("invalid constructor ⟨...⟩, insufficient number of arguments")
            self.check(rest, body)
            return
        raise TacticError(
            f"invalid constructor ⟨...⟩, expected type must be an inductive type \n  {pp(expected)}"
        )

    def infer(self, t: Term, expected: Term | None = None) -> Term:
        """The proposition a proof term proves."""
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
                if lemma.implicit:
                    raise TacticError(f"don't know how to synthesize implicit arguments of '{t.name}'")
                self.axioms |= CLASSICAL
                return lemma.statement
            raise TacticError(f"unknown identifier '{t.name}'")
        if isinstance(t, Proj):
            return self._project(self.infer(t.term), t.field, t)
        if isinstance(t, App):
            return self._apply(t, expected)
        if isinstance(t, ByTac) and expected is not None:
            self.check(t, expected)
            return expected
        if isinstance(t, Anon) and expected is not None:
            self.check(t, expected)
            return expected
        raise TacticError(f"cannot elaborate '{pp(t)}' as a proof here")

    def _project(self, p: Term, field: str, t: Term) -> Term:
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

    def _apply(self, t: App, expected: Term | None = None) -> Term:
        fn = t.fn
        if isinstance(fn, Var) and fn.name in LIBRARY and self.goal.hyp(fn.name) is None:
            lemma = LIBRARY[fn.name]
            self.axioms |= CLASSICAL
            return self._apply_args(lemma.statement, list(t.args), set(lemma.implicit), pp(t), poly=True,
                                    expected=expected)
        return self._apply_args(self.infer(fn), list(t.args), set(), pp(t))

    def partial_app(self, t: Term) -> tuple[Term, set[str]]:
        """What `apply t` starts from: the statement of `t` with the implicit variables its
        arguments did not determine still open (the goal's unification may solve them)."""
        fn, args = (t.fn, list(t.args)) if isinstance(t, App) else (t, [])
        if isinstance(fn, Var) and fn.name in LIBRARY and self.goal.hyp(fn.name) is None and fn.name not in self.theorems:
            lemma = LIBRARY[fn.name]
            self.axioms |= CLASSICAL
            metas = set(lemma.implicit)
            p = self._apply_args(lemma.statement, args, metas, pp(t), poly=True, open_metas=True)
            return p, metas & free_vars(p)
        return self.infer(t), set()

    def _apply_args(self, p: Term, args: list[Term], metas: set[str], shown: str, poly: bool = False,
                    open_metas: bool = False, expected: Term | None = None) -> Term:
        """Feed arguments to a ∀/→ statement. Library lemmas are polymorphic (`poly`): their
        variables take a value of any carrier type, as Mathlib's type classes allow. A `by` or
        `⟨..⟩` argument whose type still has implicit variables waits until the expected type
        has fixed them (Lean elaborates such arguments last, too)."""
        binding: dict[str, Term] = {}
        postponed: list[tuple[Term, Term]] = []
        for arg in args:
            p = _instantiate(p, binding)
            if isinstance(p, Quant) and p.kind == "∀":
                p = subst(p.body, p.var, self.value(arg, None if poly else p.ty))
            elif isinstance(p, Bin) and p.op in ("→", "≠") or isinstance(p, Un) and p.op == "¬":
                # `a ≠ b` unfolds to `a = b → False`, so `h hab` applies it as Lean allows
                if isinstance(p, Bin) and p.op == "≠":
                    premise, rest = Bin("=", p.lhs, p.rhs), Const(False)
                else:
                    premise, rest = (p.lhs, p.rhs) if isinstance(p, Bin) else (p.arg, Const(False))
                if metas & free_vars(premise) and isinstance(arg, (ByTac, Anon, Hole)):
                    postponed.append((arg, premise))
                elif metas & free_vars(premise):
                    got = self.infer(arg)
                    if not _match(premise, got, metas, binding, self.goal.ctx):
                        raise TacticError(f"application type mismatch\n  {shown}\nargument has type\n  {pp(got)}")
                else:
                    self.check(arg, premise)
                p = rest
            else:
                raise TacticError(f"function expected\n  {shown}")
        p = _instantiate(p, binding)
        if postponed and expected is not None and metas & free_vars(p):
            _match(p, expected, metas, binding, self.goal.ctx)
            p = _instantiate(p, binding)
        for arg, premise in postponed:
            premise = _instantiate(premise, binding)
            if metas & free_vars(premise):
                raise TacticError(f"don't know how to synthesize implicit arguments in\n  {shown}")
            self.check(arg, premise)
        if metas & free_vars(p) and not open_metas:
            raise TacticError(f"don't know how to synthesize implicit arguments in\n  {shown}")
        return p

    # -- values (witnesses, ∀ instantiation)
    def value(self, t: Term, ty: str | None) -> Term:
        """Check a value term (a witness, a ∀ instance); `ty=None` accepts ℕ and ℤ."""
        ctx = self.goal.ctx
        for v in free_vars(t):
            if v not in ctx:
                if self.goal.hyp(v) is not None:
                    raise TacticError(f"type mismatch: '{v}' is a proof, expected a term of type {ty}")
                raise TacticError(f"unknown identifier '{v}'")
        if isinstance(t, (Anon, ByTac, Proj, App)):
            raise TacticError(f"type mismatch: expected a term of type {ty}, got\n  {pp(t)}")
        got = value_type(t, ctx, ty or NAT)
        if ty is not None and got != ty:
            raise TacticError(f"type mismatch\n  {pp(t)}\nhas type\n  {got} : Type\nbut is expected to have type\n  {ty} : Type")
        return _retype_numerals(t, got)


def _retype_numerals(t: Term, ty: str) -> Term:
    if isinstance(t, Num):
        return Num(t.value, ty)  # keeps `3` an integer after it replaces `x : ℤ` (printed as `3`)
    if isinstance(t, Bin):
        return Bin(t.op, _retype_numerals(t.lhs, ty), _retype_numerals(t.rhs, ty))
    if isinstance(t, Un):
        return Un(t.op, _retype_numerals(t.arg, ty))
    return t


def _instantiate(p: Term, binding: dict[str, Term]) -> Term:
    for k, v in binding.items():
        p = subst(p, k, v)
    return p


def _match(pattern: Term, term: Term, metas: set[str], binding: dict[str, Term], ctx) -> bool:
    """First-order matching of a lemma premise against a hypothesis, binding implicit variables."""
    from lean_env.embedded.goals import canon

    pattern, term = _instantiate(pattern, binding), term
    pc, tc = canon(pattern, {**ctx, **{m: NAT for m in metas}}), canon(term, ctx)
    return _unify(pc, tc, metas, binding)


def _unify(p: Term, t: Term, metas: set[str], binding: dict[str, Term]) -> bool:
    if isinstance(p, Var) and p.name in metas:
        if p.name in binding:
            return binding[p.name] == t
        binding[p.name] = t
        return True
    if type(p) is not type(t):
        return False
    if isinstance(p, Bin):
        return p.op == t.op and _unify(p.lhs, t.lhs, metas, binding) and _unify(p.rhs, t.rhs, metas, binding)
    if isinstance(p, Un):
        return p.op == t.op and _unify(p.arg, t.arg, metas, binding)
    return p == t


def _is_refl(p: Term, ctx) -> bool:
    from lean_env.embedded.goals import canon

    c = canon(p, ctx)
    if isinstance(c, Bin) and c.op in ("=", "≤", "↔", "∣"):
        return c.lhs == c.rhs
    return False
