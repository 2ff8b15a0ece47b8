"""The simplifier behind `simp`, `norm_num` and `push_neg`.

A bottom-up rewriter with a fixed rule set close to Lean's default simp set on this fragment:
numeral arithmetic, unit/zero laws, `≥`/`>`/`≠` to their simp normal forms, propositional
constant folding, and rewriting with the user's hypotheses. No ring normalisation (`ring_nf`
does that) and no linear arithmetic (that is `linarith`'s job).

`numerals`: norm_num evaluates closed arithmetic in every carrier; plain simp only where core's
simprocs do (ℕ, ℤ: `carriers.simp_folds`). Over ℚ/ℝ/ℂ simp keeps `2 + 2` and `2 < 3` (Mathlib's
`Nat.ofNat_lt` is not @[simp]) but decides `(4 : ℝ) = 5` (`OfNat.ofNat_eq_ofNat`, CharZero), a
numeral against 0 and 1 (`ofNat_pos`, `one_lt_ofNat`, `ofNat_ne_zero`, ...), and unit/zero laws.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import Callable

from lean_env.embedded import carriers
from lean_env.embedded.arith import ArithError, decide_relation, evaluate, is_closed_arith, relation_type, term_type, typed
from lean_env.embedded.discrete import fold_predicates, norm_num_evaluates, simp_evaluates
from lean_env.embedded.elab import _unify, instantiate_rule
from lean_env.embedded.errors import TacticError
from lean_env.embedded.functions import ALPHA, SIGNATURES, local_function
from lean_env.embedded.terms import (
    FIELDS, NAT, REAL, App, Bin, Cast, Const, Num, Quant, Term, Un, Var, REL_OPS, children, free_vars, is_function_app,
    num, rename_binder, subst, with_children,
)

TRUE, FALSE = Const(True), Const(False)
COMPLEX_I = App(Var("Complex.I"), ())


def simp_arith(t: Term, ty: str, numerals: bool = True) -> Term:
    """Simplify an arithmetic term of type `ty`; results keep their type (numerals are typed).
    `numerals`: closed arithmetic is evaluated in every carrier (norm_num), else only where simp's
    simprocs do (ℕ, ℤ)."""
    if isinstance(t, Cast):   # Nat.cast_ofNat, Nat.cast_add/mul/pow are simp lemmas
        a = simp_arith(t.arg, t.src, numerals)
        if is_closed_arith(a, _apps(numerals)) and (numerals or _literal(a)):
            try:
                return num(evaluate(a, t.src), t.ty)
            except ArithError:
                pass
        return push_cast_term(Cast(t.ty, a, t.src))
    if isinstance(t, Bin) and t.op in ("+", "-", "*", "/", "%", "^"):
        a = simp_arith(t.lhs, ty, numerals)
        b = simp_arith(t.rhs, ty if t.op != "^" else NAT, numerals)
        t = Bin(t.op, a, b)
        if is_closed_arith(t, _apps(numerals)) and (numerals or carriers.simp_folds(ty) and _literal(a) and _literal(b)):
            try:
                return num(evaluate(t, ty), ty)
            except ArithError:
                return t
        zero, one = Num(0, ty), Num(1, ty)
        if t.op == "+":
            if a == zero:
                return b
            if b == zero:
                return a
        if t.op == "-" and b == zero:
            return a
        if t.op == "-" and a == b:
            return Num(0, ty)
        if t.op == "*":
            if a == zero or b == zero:
                return Num(0, ty)
            if a == one:
                return b
            if b == one:
                return a
        if t.op == "/" and b == one:
            return a
        if t.op == "%" and b == zero:   # `Nat.mod_zero`, `Int.emod_zero`
            return a
        if t.op == "%" and b == one:    # `Nat.mod_one`, `Int.emod_one`
            return zero
        if t.op == "^":   # the exponent is a natural number
            if b == Num(0, NAT):
                return Num(1, ty)
            if b == Num(1, NAT):
                return a
            if a == COMPLEX_I and isinstance(b, Num) and b.value in (2, 3, 4):   # `Complex.I_sq` & co.
                return {2: Un("-", one), 3: Un("-", COMPLEX_I), 4: one}[b.value]
        if t.op == "*" and a == b == COMPLEX_I:   # `Complex.I_mul_I`
            return Un("-", one)
        return t
    if isinstance(t, Un) and t.op == "-":
        a = simp_arith(t.arg, ty, numerals)
        if isinstance(a, Un) and a.op == "-":
            return a.arg
        if a == Num(0, ty):
            return a
        return Un("-", a)
    if isinstance(t, App) and isinstance(t.fn, Var) and local_function(t.fn.ty) is not None:
        params, _ = local_function(t.fn.ty)   # `f (4 * 2 ^ 3 + 1)` is `f 33`: simp rewrites under `f` (congruence)
        return App(t.fn, tuple(simp_arith(a, p, numerals) for a, p in zip(t.args, params)))
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in _FIELD_FUNCTIONS:
        params = SIGNATURES[t.fn.name].params
        args = tuple(simp_arith(a, ty if p == ALPHA else p, numerals) for a, p in zip(t.args, params))
        return _simp_function(App(t.fn, args), ty, numerals)
    return t


def _apps(numerals: bool):
    """The closed applications a simplifier computes: norm_num's extensions, or simp's simprocs."""
    return norm_num_evaluates if numerals else simp_evaluates


def _literal(t: Term) -> bool:
    """A numeral or a negated one: what simp's lemmas about numerals (`Nat.cast_ofNat`,
    `abs_neg`) see without evaluating anything."""
    return isinstance(t, Num) or isinstance(t, Un) and t.op == "-" and isinstance(t.arg, Num)


_FIELD_FUNCTIONS = ("abs", "min", "max", "Inv.inv", "Real.sqrt", "Real.log", "Real.exp", "Real.cos", "Real.sin",
                    "Real.tan", "Real.logb", "Real.rpow")
# the @[simp] values of the real functions at numerals (`Real.sqrt_zero`, `Real.exp_zero`, `Real.log_one`, ...)
_REAL_VALUES = {("Real.sqrt", 0): 0, ("Real.sqrt", 1): 1, ("Real.exp", 0): 1, ("Real.log", 0): 0, ("Real.log", 1): 0,
                ("Real.cos", 0): 1, ("Real.sin", 0): 0, ("Real.tan", 0): 0}


def _simp_function(t: App, ty: str, numerals: bool = True) -> Term:
    """Simp lemmas about a function application whose arguments are simplified: `|-3| = 3`
    (`abs_neg`, `abs_ofNat`), `Real.sqrt 0 = 0`, `Real.log (Real.exp x) = x` (`Real.log_exp`)."""
    name, args = t.fn.name, t.args
    if name == "abs" and is_closed_arith(args[0], _apps(numerals)) and (numerals or _literal(args[0])):
        try:
            return num(abs(evaluate(args[0], ty)), ty)
        except ArithError:
            return t
    if name == "Real.log" and isinstance(args[0], App) and args[0].fn == Var("Real.exp"):
        return args[0].args[0]
    if len(args) == 1 and is_closed_arith(args[0], _apps(numerals)):
        try:
            value = _REAL_VALUES.get((name, evaluate(args[0], REAL)))
        except ArithError:
            value = None
        if value is not None:
            return Num(value, REAL)
    return t


MAX_DISCHARGE_DEPTH = 2   # Lean's `Simp.Config.maxDischargeDepth`
MAX_STEPS = 500           # rewrites and discharges in one simp call
MAX_VISITS = 20000        # subterms the rules are tried at in one simp call (Lean's `maxSteps` counts visits: 100000)


@dataclass(frozen=True)
class SimpRule:
    """One rewrite that `simp [h]` draws from a proof: every instance of `lhs` (an instance fixes
    the ∀-variables in `binders`) becomes `rhs`, where each premise, instantiated, is discharged.
    `origin` names the hypothesis it came from: Lean's `simpGoal` erases it from the simp set while
    simplifying that hypothesis (`Simp.SimpTheorems.eraseTheorem (.fvar h)`)."""

    lhs: Term
    rhs: Term
    binders: tuple[tuple[str, str], ...] = ()
    premises: tuple[Term, ...] = ()
    origin: str | None = None

    @property
    def rewrites_props(self) -> bool:
        return isinstance(self.lhs, Bin) and self.lhs.op in REL_OPS

    def free_vars(self) -> set[str]:
        """The variables of the context the rule mentions (its own ∀-variables are not among them)."""
        out = free_vars(self.lhs) | free_vars(self.rhs)
        for q in self.premises:
            out |= free_vars(q)
        return out - {v for v, _ in self.binders}

    def instance(self, t: Term, ctx: dict[str, str], discharge: "Discharger") -> Term | None:
        """`t` rewritten by the rule, or None where `t` is no instance of the lhs or a side
        condition is not discharged. The instance is found by first-order matching (`rw`'s
        `elab._unify`), every ∀-variable fixed by it and its value of the binder's type
        (`elab.instantiate_rule`, as for `rw`)."""
        if not self.binders:
            if t != self.lhs or not all(discharge(q, ctx) for q in self.premises):
                return None
            return self.rhs
        metas = {v for v, _ in self.binders}
        binding: dict[str, Term] = {}
        if not (_unify(self.lhs, t, metas, binding) and set(binding) == metas):
            return None
        if any(term_type(binding[v], ctx) is None for v, _ in self.binders):
            return None   # a value whose type the kernel cannot tell is never taken for the binder's
        try:
            _, rhs, *premises = instantiate_rule(list(self.binders), binding, (self.lhs, self.rhs, *self.premises), ctx)
        except TacticError:
            return None   # a value of another type (an ℝ numeral for an ℕ binder): no instance
        if not all(discharge(q, ctx) for q in premises):
            return None
        return rhs


class Discharger:
    """Lean's default discharger (`Simp.dischargeDefault?`, src/Lean/Meta/Tactic/Simp/Rewrite.lean):
    a side condition is proved when the same simplifier, simp set included, rewrites it to `True`;
    no assumption is looked up (unless `first`, a tactic's own discharger such as field_simp's,
    says so), and past `MAX_DISCHARGE_DEPTH` nested discharges it gives up. norm_num passes its own
    simplifier (the `discharge` of Mathlib/Tactic/NormNum/Core.lean).

    It also keeps the step budget of one simp call, shared with the discharges nested in it: past
    `MAX_STEPS` rewrites and discharges, or `MAX_VISITS` subterms tried, the call fails as Lean's
    does on a looping simp set (`∀ n < 1000, f n = f (f (n + 5))`), instead of growing terms for ever."""

    def __init__(self, simplify: Callable[[Term, dict, "Discharger"], Term], depth: int = 0,
                 first: Callable[[Term, dict], bool] | None = None, shared: dict | None = None):
        self.simplify, self.depth, self.first = simplify, depth, first
        self.shared = shared if shared is not None else {"steps": 0, "visits": 0, "proved": {}}

    def step(self, kind: str = "steps") -> None:
        self.shared[kind] += 1
        if self.shared[kind] > (MAX_STEPS if kind == "steps" else MAX_VISITS):
            raise TacticError("simp failed, maximum number of steps exceeded")

    def __call__(self, q: Term, ctx: dict) -> bool:
        if self.first is not None and self.first(q, ctx):
            return True
        if self.depth >= MAX_DISCHARGE_DEPTH:
            return False
        deeper = Discharger(self.simplify, self.depth + 1, self.first, self.shared)
        if self.first is not None:   # `first` may tell contexts apart that look alike: nothing cached
            self.step()
            return self.simplify(q, ctx, deeper) == TRUE
        key = (self.depth, q, tuple(sorted(ctx.items())))
        proved = self.shared["proved"]
        if key not in proved:
            self.step()
            proved[key] = self.simplify(q, ctx, deeper) == TRUE
        return proved[key]


def simp_prop(p: Term, ctx: dict[str, str], rules: list[SimpRule] = (), discharge: "Discharger | None" = None,
              numerals: bool = True) -> Term:
    """Simplify a proposition to a fixed point with the rewrites `rules` (from hypotheses); their
    side conditions go to `discharge` (by default: this simplifier, with these rules). `numerals`:
    norm_num's evaluation in every carrier (else plain simp's: see the module's docstring)."""
    if discharge is None:
        discharge = Discharger(lambda q, c, d: simp_prop(q, c, rules, d, numerals))
    return fixpoint(lambda q: _simp(q, ctx, rules, discharge, numerals), p)


def fixpoint(step, t: Term, passes: int = 20) -> Term:
    """`step` applied again and again until it changes nothing (at most `passes` times)."""
    for _ in range(passes):
        new = step(t)
        if new == t:
            return t
        t = new
    return t


def rewrite_terms(t: Term, rules: list[SimpRule], ctx: dict[str, str], discharge: "Discharger") -> Term:
    """One bottom-up pass of the term rules over an arithmetic term, as simp visits it: the
    arguments first, then the term itself. A binder (a `fun` in a sum) that shadows a variable of
    the context or of a rule is renamed before the pass goes under it (the side conditions met
    there are discharged with rules about the outer variable), and its variable is typed there."""
    discharge.step("visits")
    if isinstance(t, Quant):
        name = t.var
        taken = set().union(set(ctx), *(r.free_vars() for r in rules))
        if t.var in taken:   # see `_simp`: a bound variable never shares a name with one outside
            t = rename_binder(t, taken)
        body = rewrite_terms(t.body, rules, {**ctx, t.var: t.ty}, discharge)
        return _binder_named_back(Quant(t.kind, t.var, t.ty, body), name)
    if isinstance(t, (Bin, Un, Cast)) or is_function_app(t) or (
            isinstance(t, App) and isinstance(t.fn, Var) and local_function(t.fn.ty) is not None):
        t = with_children(t, [rewrite_terms(c, rules, ctx, discharge) for c in children(t)])
    for rule in rules:
        new = rule.instance(t, ctx, discharge)
        if new is not None:
            discharge.step()
            return typed(new, term_type(t, ctx))
    return t


def rewrite_to_fixpoint(t: Term, rules: list[SimpRule], ctx: dict[str, str], discharge: "Discharger") -> Term:
    """`rewrite_terms` again and again until no rule applies (at most 20 passes, as `simp_prop`)."""
    return fixpoint(lambda x: rewrite_terms(x, rules, ctx, discharge), t)


def _simp(p: Term, ctx: dict[str, str], rules: list[SimpRule], discharge: "Discharger", numerals: bool = True) -> Term:
    for rule in rules:
        new = rule.instance(p, ctx, discharge)
        if new is not None:
            discharge.step()
            return new
    if isinstance(p, Bin) and p.op in REL_OPS:
        ty = relation_type(p, ctx)
        term_rules = [r for r in rules if not r.rewrites_props]
        a, b = p.lhs, p.rhs
        if term_rules:
            a, b = (rewrite_terms(x, term_rules, ctx, discharge) for x in (a, b))
        a, b = simp_arith(a, ty, numerals), simp_arith(b, ty, numerals)
        op = p.op
        if op == "≥":
            op, a, b = "≤", b, a
        elif op == ">":
            op, a, b = "<", b, a
        if is_closed_arith(a, _apps(numerals)) and is_closed_arith(b, _apps(numerals)) and (
                numerals or carriers.simp_folds(ty) and _literal(a) and _literal(b) or _simp_decides(op, a, b)):
            try:
                return Const(decide_relation(op, evaluate(a, ty), evaluate(b, ty)))
            except ArithError:
                pass
        if a == b:
            return Const(op in ("=", "≤", "∣"))
        lifted = _simp_lift(op, a, b)
        if lifted is not None:
            return lifted
        if op == "=" and isinstance(b, Num) and b.value == 0 and isinstance(a, Bin) and a.op == "*":
            # mul_eq_zero (ℕ and ℤ have no zero divisors)
            return Bin("∨", Bin("=", a.lhs, Num(0, ty)), Bin("=", a.rhs, Num(0, ty)))
        if op == "≠":
            return Un("¬", Bin("=", a, b))
        if op == "≤" and a == Num(0, ty) and ty == NAT:
            return TRUE
        if ty == "ℕ" and op in ("=", "≤"):
            cancelled = _cancel_offsets(op, a, b)
            if cancelled is not None:
                return cancelled
        # default simp set: `a < a + 1`, `a ≤ a + k` (lt/le_add_iff_pos/nonneg_right), and over ℕ
        # `0 < n + 1` (Nat.zero_lt_succ)
        if op in ("<", "≤") and isinstance(b, Bin) and b.op == "+" and isinstance(b.rhs, Num):
            if b.lhs == a:
                return Const(b.rhs.value > 0 or op == "≤")
            if op == "<" and a == Num(0, ty) and ty == NAT and b.rhs.value > 0:
                return TRUE
        if op == "∣" and a == Num(1, ty):
            return TRUE
        return Bin(op, a, b)
    if isinstance(p, Un) and p.op == "¬":
        a = _simp(p.arg, ctx, rules, discharge, numerals)
        if isinstance(a, Const):
            return Const(not a.value)
        if isinstance(a, Un) and a.op == "¬":
            return a.arg
        if isinstance(a, Bin) and a.op == "<":
            return Bin("≤", a.rhs, a.lhs)
        if isinstance(a, Bin) and a.op == "≤":
            return Bin("<", a.rhs, a.lhs)
        return Un("¬", a)
    if isinstance(p, Bin) and p.op in ("∧", "∨", "→", "↔"):
        a, b = _simp(p.lhs, ctx, rules, discharge, numerals), _simp(p.rhs, ctx, rules, discharge, numerals)
        if p.op == "∧":
            if a == TRUE:
                return b
            if b == TRUE:
                return a
            if FALSE in (a, b):
                return FALSE
            if a == b:
                return a
        elif p.op == "∨":
            if TRUE in (a, b):
                return TRUE
            if a == FALSE:
                return b
            if b == FALSE:
                return a
            if a == b:
                return a
        elif p.op == "→":
            if a == TRUE:
                return b
            if a == FALSE or b == TRUE:
                return TRUE
            if b == FALSE:
                return _simp(Un("¬", a), ctx, rules, discharge, numerals)
            if a == b:
                return TRUE
        elif p.op == "↔":
            if a == b:
                return TRUE
            if a == TRUE:
                return b
            if b == TRUE:
                return a
        return Bin(p.op, a, b)
    if isinstance(p, Quant):
        name = p.var
        # rename a binder that shadows a variable of the context or of a rule: a rule (or a fact a
        # side condition is discharged with, in the simp set or not) about the outer `x` must not
        # apply to the bound one; the name comes back afterwards where nothing tells them apart
        taken = set().union(set(ctx), *(r.free_vars() for r in rules))
        if p.var in taken:
            p = rename_binder(p, taken)
        inner = dict(ctx)
        inner[p.var] = p.ty
        body = _simp(p.body, inner, rules, discharge, numerals)
        if isinstance(body, Const):
            return body if p.kind == "∀" or not body.value else TRUE
        return _binder_named_back(Quant(p.kind, p.var, p.ty, body), name)
    return p


def _simp_decides(op: str, a: Term, b: Term) -> bool:
    """Whether Mathlib's simp lemmas decide `a op b` between numerals of a carrier without simprocs
    (ℚ, ℝ, ℂ): `=`/`≠` of two numerals (`OfNat.ofNat_eq_ofNat`, `neg_inj`), and a numeral against
    0 or 1 (`ofNat_pos`, `ofNat_nonneg`, `one_lt_ofNat`, `one_le_ofNat`, `not_ofNat_le_one`,
    `not_ofNat_lt_one`, `zero_lt_one`, ...); `2 < 3` is not (`Nat.ofNat_lt` is not @[simp])."""
    nat = lambda t: isinstance(t, Num) and t.value == int(t.value) and t.value >= 0   # noqa: E731
    if op in ("=", "≠"):
        return nat(a) and nat(b) or all(isinstance(t, Un) and t.op == "-" and nat(t.arg) for t in (a, b))
    if op in ("<", "≤") and nat(a) and nat(b):
        return a.value == 0 or a.value == 1 <= b.value or b.value == 1 or a.value == b.value
    return False


def _binder_named_back(q: Quant, name: str) -> Quant:
    """A binder renamed to keep clear of a rule's variable gets its own name back where its body
    does not mention that variable: Lean's binders keep their names, so a rename alone is no
    progress (`simp made no progress`)."""
    if q.var == name or name in free_vars(q.body):
        return q
    return Quant(q.kind, name, q.ty, subst(q.body, q.var, Var(name)))


def _offset(t: Term) -> tuple[Term | None, int]:
    """`t + k` as (t, k), a numeral k as (None, k), anything else as (t, 0)."""
    if isinstance(t, Num):
        return None, t.value
    if isinstance(t, Bin) and t.op == "+" and isinstance(t.rhs, Num):
        return t.lhs, t.rhs.value
    return t, 0


def _cancel_offsets(op: str, a: Term, b: Term) -> Term | None:
    """Lean core's `Nat.reduceEqDiff`/`Nat.reduceLeDiff` simprocs: cancel numeral offsets,
    `x + 3 = 7` ↦ `x = 4`, `x + 5 ≤ y + 2` ↦ `x + 3 ≤ y`, `x + 3 = 1` ↦ False."""
    (ta, ka), (tb, kb) = _offset(a), _offset(b)
    if min(ka, kb) == 0 or (ta is None and tb is None):
        return None
    k = min(ka, kb)
    ka, kb = ka - k, kb - k
    if tb is None and kb == 0 and ka > 0:
        return FALSE      # `x + 2 = 0` and `x + 2 ≤ 0` have no solution in ℕ
    if ta is None and ka == 0 and op == "=" and kb > 0:
        return FALSE

    def side(t: Term | None, n: int) -> Term:
        if t is None:
            return Num(n, NAT)
        return Bin("+", t, Num(n, NAT)) if n else t

    return Bin(op, side(ta, ka), side(tb, kb))


def hypothesis_rules(props: list[Term], origins: list[str | None] | None = None) -> list[SimpRule]:
    """How `simp [h]` uses a hypothesis (Lean's `preprocess` in src/Lean/Meta/Tactic/Simp/SimpTheorems.lean):
    `a = b` rewrites a to b, `P ↔ Q` rewrites P to Q, `¬P` rewrites P to False, `a ≠ b` rewrites
    `a = b` to False, `P ∧ Q` gives a rule for each side, any other `P` rewrites P to True. Under
    `∀ xs,` the rewrite applies at every instance of its lhs; each premise of `hs → ...` (`∀ x ≠ 0,
    ...` too) is a side condition to discharge. A rule whose lhs is one of its own ∀-variables is
    left out (Lean's simp wants a function or constant at the head of a lemma's lhs).
    `origins[i]` names the hypothesis `props[i]` is."""
    rules: list[SimpRule] = []
    for i, h in enumerate(props):
        origin = origins[i] if origins else None
        binders: list[tuple[str, str]] = []
        premises: list[Term] = []
        while True:
            if isinstance(h, Quant) and h.kind == "∀":
                if any(h.var == v for v, _ in binders):   # an inner binder shadowing an outer one
                    h = rename_binder(h, {v for v, _ in binders})
                binders.append((h.var, h.ty))
                h = h.body
            elif isinstance(h, Bin) and h.op == "→" and not isinstance(h.rhs, Const):
                premises.append(h.lhs)
                h = h.rhs
            else:
                break
        for lhs, rhs in _rule_sides(h):
            if isinstance(lhs, Var) and any(lhs.name == v for v, _ in binders):
                continue
            rules.append(SimpRule(lhs, rhs, tuple(binders), tuple(premises), origin))
    return rules


def _rule_sides(h: Term) -> list[tuple[Term, Term]]:
    if isinstance(h, Bin) and h.op in ("=", "↔"):
        return [(h.lhs, h.rhs)]
    if isinstance(h, Bin) and h.op == "∧":
        return _rule_sides(h.lhs) + _rule_sides(h.rhs)
    if isinstance(h, Un) and h.op == "¬":
        return [(h.arg, FALSE)]
    if isinstance(h, Bin) and h.op == "≠":
        return [(Bin("=", h.lhs, h.rhs), FALSE)]
    if isinstance(h, (Quant, Const)):
        return []
    return [(h, TRUE)]


def push_neg(p: Term) -> Term:
    """Mathlib's `push_neg`: move negations inward through quantifiers and connectives."""
    if isinstance(p, Un) and p.op == "¬":
        a = p.arg
        if isinstance(a, Un) and a.op == "¬":
            return push_neg(a.arg)
        if isinstance(a, Quant):
            return Quant("∃" if a.kind == "∀" else "∀", a.var, a.ty, push_neg(Un("¬", a.body)))
        if isinstance(a, Bin):
            if a.op == "∧":
                return Bin("→", push_neg(a.lhs), push_neg(Un("¬", a.rhs)))
            if a.op == "∨":
                return Bin("∧", push_neg(Un("¬", a.lhs)), push_neg(Un("¬", a.rhs)))
            if a.op == "→":
                return Bin("∧", push_neg(a.lhs), push_neg(Un("¬", a.rhs)))
            flipped = {"<": ("≤", True), "≤": ("<", True), ">": ("≤", False), "≥": ("<", False),
                       "=": ("≠", False), "≠": ("=", False)}
            if a.op in flipped:
                op, swap = flipped[a.op]
                return Bin(op, a.rhs, a.lhs) if swap else Bin(op, a.lhs, a.rhs)
        return p
    if isinstance(p, Bin) and p.op in ("∧", "∨", "→", "↔"):
        return Bin(p.op, push_neg(p.lhs), push_neg(p.rhs))
    if isinstance(p, Quant):
        return Quant(p.kind, p.var, p.ty, push_neg(p.body))
    return p


# ---------------------------------------------------------------- casts (Nat.cast : ℕ → ℤ)

def push_cast_term(t: Term, le_facts: list[Term] = ()) -> Term:
    """Move casts to the leaves (`Nat.cast_add`, `Nat.cast_mul`, `Nat.cast_pow`, `Nat.cast_ofNat`,
    `Nat.cast_succ`): `↑(a + b * 2)` ↦ `↑a + ↑b * 2`. A truncated subtraction `↑(a - b)` moves only
    given a fact `b ≤ a` (`Nat.cast_sub h`); `↑(a / b)` and `↑(a % b)` stay."""
    if isinstance(t, Cast):
        a, ty, src = t.arg, t.ty, t.src

        def down(x: Term) -> Term:
            return push_cast_term(Cast(ty, x, src), le_facts)

        if isinstance(a, Num):
            return Num(a.value, ty)
        if isinstance(a, Cast):   # `Int.cast_natCast`, `Rat.cast_intCast`, ...: one cast from the start
            return push_cast_term(Cast(ty, a.arg, a.src), le_facts)
        if isinstance(a, Bin) and a.op in ("+", "*"):
            return Bin(a.op, down(a.lhs), down(a.rhs))
        if isinstance(a, Bin) and a.op == "^":
            return Bin("^", down(a.lhs), a.rhs)
        # `Nat.cast_sub` needs `b ≤ a`; `Int.cast_sub`/`Int.cast_neg` and `Rat.cast_div` always hold
        if isinstance(a, Bin) and a.op == "-" and (src != NAT or _proved_le(a.rhs, a.lhs, le_facts)):
            return Bin("-", down(a.lhs), down(a.rhs))
        if isinstance(a, Un) and a.op == "-" and src != NAT:
            return Un("-", down(a.arg))
        if isinstance(a, Bin) and a.op == "/" and carriers.is_field(src):
            return Bin("/", down(a.lhs), down(a.rhs))
        return t
    if isinstance(t, Bin) and t.op in ("+", "-", "*", "/", "%", "^"):
        return Bin(t.op, push_cast_term(t.lhs, le_facts), push_cast_term(t.rhs, le_facts))
    if isinstance(t, Un) and t.op == "-":
        return Un("-", push_cast_term(t.arg, le_facts))
    return t


def _proved_le(small: Term, big: Term, facts: list[Term]) -> bool:
    return any(f in (Bin("≤", small, big), Bin("≥", big, small)) for f in facts)


def _uncast(t: Term, src: str) -> Term | None:
    """The term of type `src` whose cast `t` is, when `t` is built from casts from `src` and
    numerals with `+`, `*`, `^` only (what `norm_cast` can move the cast out of); else None."""
    if isinstance(t, Cast) and t.src != src and carriers.coerces(t.src, src):
        return Cast(src, t.arg, t.src)   # `((q : ℚ) : ℂ)` is `(((q : ℚ) : ℝ) : ℂ)` (`Complex.ofReal_ratCast`)
    if isinstance(t, Cast):
        return t.arg if t.src == src else None
    if isinstance(t, Num):
        return Num(t.value, src)
    if isinstance(t, Bin) and t.op in ("+", "*"):
        a, b = _uncast(t.lhs, src), _uncast(t.rhs, src)
        return Bin(t.op, a, b) if a is not None and b is not None else None
    if isinstance(t, Bin) and t.op == "^":
        a = _uncast(t.lhs, src)
        return Bin("^", a, t.rhs) if a is not None else None
    return None


def _cast_sources(t: Term, out: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (source, target) types of the casts in `t`."""
    if isinstance(t, Cast):
        out.add((t.src, t.ty))
    elif isinstance(t, Bin):
        _cast_sources(t.lhs, out)
        _cast_sources(t.rhs, out)
    elif isinstance(t, Un):
        _cast_sources(t.arg, out)
    return out


def lift_relation(op: str, a: Term, b: Term) -> Term | None:
    """`↑x + 1 ≤ ↑y` as `x + 1 ≤ y` over ℕ (`Nat.cast_le`, `Nat.cast_inj`, `Nat.cast_lt`,
    `Int.natCast_dvd_natCast` after moving casts up; the same for casts from ℤ or ℚ), or None
    when a side is not a cast. Casts from several sources are lifted to the largest source (a
    smaller one is cast through it: Mathlib's squash lemmas `Int.cast_natCast`, `Complex.ofReal_ratCast`)."""
    sources = _cast_sources(a, _cast_sources(b, set()))
    targets = {dst for _, dst in sources}
    if len(targets) != 1:
        return None
    dst = targets.pop()
    # casts from several types meet at the largest source, each smaller one cast through it
    src = max((s for s, _ in sources), key=lambda s: carriers.CARRIERS[s].rank if carriers.carrier(s) else -1)
    if not carriers.cast_reflects(op, src, dst):   # `↑a ∣ ↑b → a ∣ b` only from ℕ into ℤ
        return None
    na, nb = _uncast(a, src), _uncast(b, src)
    if na is None or nb is None:
        return None
    return Bin(op, na, nb)


def _simp_lift(op: str, a: Term, b: Term) -> Term | None:
    """The simp lemmas `Nat.cast_inj`/`Nat.cast_le`/`Nat.cast_lt`/`Nat.cast_nonneg`/
    `Nat.cast_eq_ofNat`/...: they apply where each side is a single cast or a numeral."""
    if not all(isinstance(x, (Cast, Num)) for x in (a, b)):
        return None
    if op == "≤" and isinstance(a, Num) and a.value == 0 and isinstance(b, Cast) and b.src == NAT:
        return TRUE   # Nat.cast_nonneg
    return lift_relation(op, a, b)


def push_cast_prop(p: Term, le_facts: list[Term] = ()) -> Term:
    """Mathlib's `push_cast` on a proposition: casts moved to the leaves everywhere in it."""
    if isinstance(p, Bin) and p.op in REL_OPS:
        return Bin(p.op, push_cast_term(p.lhs, le_facts), push_cast_term(p.rhs, le_facts))
    if isinstance(p, Bin):
        return Bin(p.op, push_cast_prop(p.lhs, le_facts), push_cast_prop(p.rhs, le_facts))
    if isinstance(p, Un) and p.op == "¬":
        return Un("¬", push_cast_prop(p.arg, le_facts))
    if isinstance(p, Quant):
        return Quant(p.kind, p.var, p.ty, push_cast_prop(p.body, le_facts))
    return p


def norm_cast_prop(p: Term) -> Term:
    """Mathlib's `norm_cast` normal form: casts pushed to the leaves, then every relation whose
    two sides are casts of natural-number terms stated over ℕ instead."""
    if isinstance(p, Bin) and p.op in REL_OPS:
        a, b = push_cast_term(p.lhs), push_cast_term(p.rhs)
        lifted = lift_relation(p.op, a, b)
        return lifted if lifted is not None else Bin(p.op, a, b)
    if isinstance(p, Bin):
        return Bin(p.op, norm_cast_prop(p.lhs), norm_cast_prop(p.rhs))
    if isinstance(p, Un) and p.op == "¬":
        return Un("¬", norm_cast_prop(p.arg))
    if isinstance(p, Quant):
        return Quant(p.kind, p.var, p.ty, norm_cast_prop(p.body))
    return p


# ---------------------------------------------------------------- norm_num1: evaluation only

_ARITH_OPS = ("+", "-", "*", "/", "%", "^")
_CONNECTIVES = ("∧", "∨", "→", "↔")


def _is_prop(t: Term) -> bool:
    return (isinstance(t, Const) or isinstance(t, Un) and t.op == "¬"
            or isinstance(t, Bin) and (t.op in REL_OPS or t.op in _CONNECTIVES) or isinstance(t, Quant) and t.kind != "fun")


def sqrt_value(x: Fraction) -> Fraction | None:
    """`Mathlib.Tactic.NormNum.RealSqrt`: `√x` of a rational numeral whose root is rational (and
    `√x = 0` for `x ≤ 0`, `Real.sqrt_eq_zero'`); None when the root is irrational."""
    x = Fraction(x)
    if x <= 0:
        return Fraction(0)
    n, d = isqrt(x.numerator), isqrt(x.denominator)
    return Fraction(n, d) if n * n == x.numerator and d * d == x.denominator else None


def evaluate_numerals(t: Term, ty: str) -> Term:
    """norm_num's core evaluation on a term of type `ty`: every closed numeral subterm (`2 ^ 17 - 1`,
    `Nat.gcd 4 6`, `√(25 / 16)`) becomes its value; nothing else changes (no `x + 0 = x`: that is a
    simp lemma, which `norm_num1` does not use)."""
    if is_closed_arith(t, norm_num_evaluates):
        try:
            return num(evaluate(t, ty), ty)
        except ArithError:
            pass
    if isinstance(t, Bin) and t.op in _ARITH_OPS:
        return Bin(t.op, evaluate_numerals(t.lhs, ty), evaluate_numerals(t.rhs, NAT if t.op == "^" else ty))
    if isinstance(t, Un) and t.op == "-":
        return Un("-", evaluate_numerals(t.arg, ty))
    if isinstance(t, Cast):
        return Cast(t.ty, evaluate_numerals(t.arg, t.src), t.src)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES:
        params = SIGNATURES[t.fn.name].params
        if len(params) == len(t.args) and "fun" not in params and "Finset" not in params:
            args = tuple(evaluate_numerals(a, ty if p == ALPHA else p) for a, p in zip(t.args, params))
            t = App(t.fn, args)
            if t.fn.name == "Real.sqrt" and is_closed_arith(args[0], norm_num_evaluates):
                try:
                    root = sqrt_value(evaluate(args[0], REAL))
                except ArithError:
                    root = None
                if root is not None:
                    return num(root, REAL)
            if is_closed_arith(t, norm_num_evaluates):
                try:
                    return num(evaluate(t, ty), ty)
                except ArithError:
                    pass
    return t


def norm_num1_prop(p: Term, ctx: dict[str, str]) -> Term:
    """Mathlib's `norm_num1`: norm_num's extensions without the simp set. Numeral subterms are
    evaluated, relations between numerals and predicates on them (`Nat.Prime 7`, `2 ∣ 4`) decided,
    and `¬` of a decided proposition folded; connectives are left alone (`True ∧ True` stays)."""
    if isinstance(p, Bin) and p.op in ("=", "↔") and (_is_prop(p.lhs) or _is_prop(p.rhs)):
        a, b = norm_num1_prop(p.lhs, ctx), norm_num1_prop(p.rhs, ctx)
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(a.value == b.value)
        return TRUE if a == b else Bin(p.op, a, b)
    if isinstance(p, Bin) and p.op in REL_OPS:
        ty = relation_type(p, ctx)
        a, b = evaluate_numerals(p.lhs, ty), evaluate_numerals(p.rhs, ty)
        if is_closed_arith(a, norm_num_evaluates) and is_closed_arith(b, norm_num_evaluates):
            try:
                return Const(decide_relation(p.op, evaluate(a, ty), evaluate(b, ty)))
            except ArithError:
                pass
        return Bin(p.op, a, b)
    if isinstance(p, Un) and p.op == "¬":
        a = norm_num1_prop(p.arg, ctx)
        return Const(not a.value) if isinstance(a, Const) else Un("¬", a)
    if isinstance(p, Bin) and p.op in _CONNECTIVES:
        return Bin(p.op, norm_num1_prop(p.lhs, ctx), norm_num1_prop(p.rhs, ctx))
    if isinstance(p, Quant) and p.kind != "fun":
        return Quant(p.kind, p.var, p.ty, norm_num1_prop(p.body, {**ctx, p.var: p.ty}))
    if isinstance(p, App) and isinstance(p.fn, Var) and p.fn.name in SIGNATURES and SIGNATURES[p.fn.name].result == "Prop":
        params = SIGNATURES[p.fn.name].params
        if len(params) == len(p.args) and "Finset" not in params and "fun" not in params:
            args = tuple(evaluate_numerals(a, p_ if p_ != ALPHA else (term_type(a, ctx) or NAT)) for a, p_ in zip(p.args, params))
            p = App(p.fn, args)
        return fold_predicates(p)
    return p


def evaluate_sqrt(p: Term) -> Term:
    """norm_num's `Real.sqrt` extension inside any term: `√25` ↦ `5`, `√(-37)` ↦ `0`."""
    if isinstance(p, App) and p.fn == Var("Real.sqrt") and len(p.args) == 1 and is_closed_arith(p.args[0], norm_num_evaluates):
        try:
            root = sqrt_value(evaluate(p.args[0], REAL))
        except ArithError:
            root = None
        if root is not None:
            return num(root, REAL)
    kids = children(p)
    if not kids or isinstance(p, Quant) and p.kind == "fun":
        return p
    return with_children(p, [evaluate_sqrt(c) for c in kids])
