"""Arithmetic tactics: the decision procedures (`linarith`, `nlinarith`, `omega`, `positivity`),
ring normalisation (`ring`, `ring_nf`), clearing denominators (`field_simp`), `norm_num`, and
`interval_cases` (ℕ and ℤ only: a real variable between two bounds has no finite case list)."""
from __future__ import annotations

import re

from lean_env.embedded import arith, carriers
from lean_env.embedded.carriers import is_field, is_integral, is_ordered
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError
from lean_env.embedded.terms import INT, NAT, App, Bin, Cast, Num, Proj, Term, Un, Var, is_numeral, pp, replace, subst, type_of
from lean_env.embedded.types import elab_value, has_class
from lean_env.embedded.tactics.closers import reducible_rfl
from lean_env.embedded.tactics.engine import Engine, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.simp import Discharger, rewrite_to_fixpoint, simp_prop
from lean_env.embedded.tactics.rewriting import simp_like, simp_rules
from lean_env.embedded.tactics.text import TacticSyntaxError, at_clause, bracket_list, term


def _extra_facts(e: Engine, g: Goal, items: list[str]) -> tuple[list[Term], frozenset]:
    el = e.elab(g)
    facts = [el.infer(term(it)) for it in items]
    return facts, el.axioms


def _closer(name: str, decide_fn):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        g = s.main
        only = name in ("linarith", "nlinarith") and rest.startswith("only") and rest[4:5] in ("", " ", "[")
        if only:   # `linarith only [h₁, h₂]`: those facts and the goal, no other hypothesis
            rest = rest[4:].strip()
        items = bracket_list(rest)
        extra, ax = _extra_facts(e, g, items)
        if only:
            g = Goal(tuple(h for h in g.hyps if h.is_var), g.target, g.case)
        if not decide_fn(g, extra, e):
            raise TacticError(CLOSER_MESSAGES[name] + "\n" + g.pp())
        return s.replace_main([], ax | CLASSICAL)
    return run


CLOSER_MESSAGES = {
    "linarith": "linarith failed to find a contradiction",
    "nlinarith": "linarith failed to find a contradiction",
    "omega": "omega could not prove the goal:\na possible counterexample may satisfy the constraints",
    "positivity": "failed to prove positivity",
}


def _linarith(g: Goal, extra: list[Term], e: Engine) -> bool:
    return arith.linarith(g.props(), g.target, g.ctx, extra, split_ne=e.option("splitNe") == "true")


def _nlinarith(g: Goal, extra: list[Term], e: Engine) -> bool:
    squares = _square_hints(g, extra)
    return arith.linarith(g.props(), g.target, g.ctx, extra + squares, products=True,
                          split_ne=e.option("splitNe") == "true")


def _square_hints(g: Goal, extra: list[Term]) -> list[Term]:
    """nlinarith also knows `t ^ 2 ≥ 0` / `t * t ≥ 0` for squares appearing in the problem."""
    found: list[Term] = []

    def walk(t: Term) -> None:
        if isinstance(t, Bin):
            if t.op == "^" and t.rhs == Num(2, NAT) or t.op == "*" and t.lhs == t.rhs:
                found.append(Bin("≤", zero_of(t, g.ctx), t))
            walk(t.lhs)
            walk(t.rhs)
        elif isinstance(t, Un):
            walk(t.arg)
    for p in g.props() + list(extra) + [g.target]:
        walk(p)
    return found


def zero_of(t: Term, ctx: dict) -> Term:
    """The numeral 0 at the type of `t` (to look for the facts `0 < t`, `t ≠ 0` about it)."""
    return Num(0, type_of(t) or arith.term_type(t, ctx))


def _omega(g: Goal, extra: list[Term], e: Engine) -> bool:
    if arith.has_quantifier(g.target):
        return False
    return arith.omega(g.props() + extra, g.target, g.ctx)


# ---------------------------------------------------------------- positivity
# Mathlib's `positivity` (Mathlib/Tactic/Positivity/Core.lean), rule for rule: `core e` gives one
# of four strictnesses: "pos" (0 < e), "nonneg" (0 ≤ e), "nonzero" (e ≠ 0) or "none" (Mathlib's
# `core` throws). It runs the extension for e's head, then norm_num on a closed numeral, then
# `zero_le` at ℕ, then compares each hypothesis with e (`lo ≤ e`, `lo < e`, `e = x`, `e ≠ 0`),
# combining all of them with `orElse`. Nothing else is consulted: no linear arithmetic, no ∧
# splitting, so the tactic fails where Mathlib's fails.
POS, NONNEG, NONZERO, NONE = "pos", "nonneg", "nonzero", "none"


def _or_else(a: str, b: str) -> str:
    """Mathlib's `orElse`: the better of two results; `0 ≤ e` and `e ≠ 0` together give `0 < e`."""
    if POS in (a, b) or {a, b} == {NONNEG, NONZERO}:
        return POS
    for s in (NONNEG, NONZERO):
        if s in (a, b):
            return s
    return NONE


def _positivity(g: Goal, extra: list[Term], e: Engine) -> bool:
    t = g.target
    if not isinstance(t, Bin):
        return False
    if t.op in ("<", "≤") and is_numeral(t.lhs, 0):
        want, e_ = t.op, t.rhs
    elif t.op in (">", "≥") and is_numeral(t.rhs, 0):
        want, e_ = {">": "<", "≥": "≤"}[t.op], t.lhs
    elif t.op == "≠" and is_numeral(t.rhs, 0):
        want, e_ = "≠", t.lhs
    elif t.op == "≠" and is_numeral(t.lhs, 0):
        want, e_ = "≠", t.rhs
    else:
        return False
    if not is_ordered(_type(e_, g.ctx)):   # Mathlib's `Positivity.solve` needs `PartialOrder α`
        return False
    sign = _sign(e_, g)
    return sign == POS or {"≤": NONNEG, "≠": NONZERO, "<": POS}[want] == sign


def _type(t: Term, ctx: dict) -> str | None:
    return type_of(t) or arith.term_type(t, ctx)


def _sign(t: Term, g: Goal) -> str:
    """Mathlib's `Positivity.core`."""
    ctx = g.ctx
    ty = _type(t, ctx)
    result = _extension_sign(t, g, ty)
    result = _or_else(result, _norm_num_sign(t, ty))
    if ty == NAT:   # `positivityCanon`: `zero_le` in a canonically ordered semiring
        result = _or_else(result, NONNEG)
    if result == POS:
        return result
    for p in g.props():
        result = _or_else(result, _compare_hyp(p, t, ty))
    return result


def _norm_num_sign(t: Term, ty: str | None) -> str:
    """`normNumPositivity`: a closed numeral expression's value decides."""
    if ty is None or not arith.is_closed_arith(t, functions=False):
        return NONE
    try:
        v = arith.evaluate(t, ty)
    except arith.ArithError:
        return NONE
    return POS if v > 0 else NONNEG if v == 0 else NONZERO


def _compare_hyp(p: Term, e: Term, ty: str | None) -> str:
    """`compareHyp`: `lo ≤ e` / `lo < e` with `lo` a numeral norm_num signs, `e = x` / `x = e`
    likewise, `e ≠ 0` / `0 ≠ e`. `e` must be the hypothesis's side as it stands."""
    if not isinstance(p, Bin):
        return NONE
    op, a, b = p.op, p.lhs, p.rhs
    if op in (">", "≥"):
        op, a, b = {">": "<", "≥": "≤"}[op], b, a
    if op in ("≤", "<") and b == e:
        lo = _norm_num_sign(a, ty)
        if op == "≤":
            return lo if lo in (POS, NONNEG) else NONE
        return POS if lo in (POS, NONNEG) else NONE
    if op == "=" and e in (a, b):
        other = b if a == e else a
        return _norm_num_sign(other, ty)
    if op == "≠" and (a == e and is_numeral(b, 0) or b == e and is_numeral(a, 0)):
        return NONZERO
    return NONE


def _table(a: str, b: str) -> str:
    """`evalMul` / `evalDiv` (fields): positive from two positives, nonnegative from two signs
    that are at least nonnegative, nonzero from two that are at least nonzero."""
    if a == b == POS:
        return POS
    if a in (POS, NONNEG) and b in (POS, NONNEG):
        return NONNEG
    if a in (POS, NONZERO) and b in (POS, NONZERO):
        return NONZERO
    return NONE


def _extension_sign(t: Term, g: Goal, ty: str | None) -> str:
    """The `@[positivity]` extensions for the fragment's term heads."""
    if isinstance(t, Cast):
        inner = _sign(t.arg, g)
        if t.src == NAT:   # `Nat.cast_pos`, `Nat.cast_nonneg`
            return POS if inner == POS else NONNEG
        return inner       # `Int.cast_pos`/`_nonneg`/`_ne_zero`, and the same for `Rat.cast`
    if isinstance(t, App) and isinstance(t.fn, Var):
        return _function_sign(t.fn.name, t.args, g)
    if not isinstance(t, Bin):
        return NONE
    if t.op == "^":
        return _pow_sign(t, g)
    a, b = _sign(t.lhs, g), _sign(t.rhs, g)
    if t.op == "+":   # `add_pos`, `add_pos_of_pos_of_nonneg`, `add_nonneg`; nothing for ≠ 0
        if POS in (a, b) and {a, b} <= {POS, NONNEG}:
            return POS
        return NONNEG if a == b == NONNEG else NONE
    if t.op == "*":
        return _table(a, b)
    if t.op == "/" and is_field(ty):
        return _table(a, b)
    if t.op == "/" and ty == INT:   # `evalIntDiv`: only `a / a` is positive
        if a == b == POS and t.lhs == t.rhs:
            return POS
        return NONNEG if a in (POS, NONNEG) and b in (POS, NONNEG) else NONE
    return NONE


def _pow_sign(t: Bin, g: Goal) -> str:
    """`evalPow` (ℕ exponents): `a ^ 0` is positive; an even numeral exponent gives `0 ≤ a ^ n`
    (`Even.pow_nonneg`), which `orElse` combines with what the base gives (`pow_pos`,
    `pow_nonneg`, `pow_ne_zero`)."""
    result = NONE
    if isinstance(t.rhs, Num):
        if t.rhs.value == 0:
            return POS
        if t.rhs.value % 2 == 0:
            result = NONNEG
    return _or_else(result, _sign(t.lhs, g))


def _function_sign(name: str, args: tuple[Term, ...], g: Goal) -> str:
    """Mathlib's positivity extensions for the fragment's functions."""
    if name in ("Real.exp", "Real.pi", "π", "Nat.factorial"):   # `Real.exp_pos`, `Real.pi_pos`, `Nat.factorial_pos`
        return POS
    if name == "Real.sqrt":   # `Real.sqrt_pos_of_pos`, else `Real.sqrt_nonneg`
        return POS if _sign(args[0], g) == POS else NONNEG
    if name == "Real.rpow":   # `Real.rpow_zero`-based, `Real.rpow_pos_of_pos`, `Real.rpow_nonneg`
        if is_numeral(args[1], 0):
            return POS
        base = _sign(args[0], g)
        return base if base in (POS, NONNEG) else NONE
    if name == "abs":   # `abs_pos_of_pos`, `abs_pos_of_ne_zero`; `abs_nonneg` only when core fails
        inner = _sign(args[0], g)
        return POS if inner in (POS, NONZERO) else NONNEG if inner == NONE else NONE
    if name == "Inv.inv":   # `inv_pos`, `inv_nonneg`, `inv_ne_zero`
        return _sign(args[0], g)
    if name == "Int.natAbs":   # `Int.natAbs_pos`; `0 ≤` comes from ℕ being canonically ordered
        return POS if _sign(args[0], g) in (POS, NONZERO) else NONE
    if name == "min":
        return _table(_sign(args[0], g), _sign(args[1], g))
    if name == "max":
        a = _sign(args[0], g)
        first = a if a in (POS, NONNEG) else NONE
        b = _sign(args[1], g)
        second = b if b in (POS, NONNEG) else NONZERO if b == NONZERO and a == NONZERO else NONE
        return _or_else(first, second)
    if name == "Real.log":
        return _log_sign(args[0])
    return NONE


def _log_sign(x: Term) -> str:
    """`evalLogNatCast`, `evalLogIntCast`, `evalLogNatLit`, `evalLogIntLit`: `Real.log ↑n ≥ 0`
    for n : ℕ or ℤ; on an integer literal, positive past ±1, else 0."""
    if isinstance(x, Cast) and x.src in (NAT, INT):
        return NONNEG
    lit = x.arg if isinstance(x, Un) and x.op == "-" else x
    if isinstance(lit, Num):
        return POS if lit.value > 1 else NONNEG
    return NONE


@tactic("ring", argument="none")
def t_ring(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = g.target
    if isinstance(t, Bin) and t.op == "=":
        ty = arith.relation_type(t, g.ctx)
        if arith.ring_equal(t.lhs, t.rhs, ty):
            return s.replace_main([], CLASSICAL)
    raise TacticError(f"ring failed, ring_nf subsidiary goal\n{g.pp()}")


def _ring_nf_prop(p: Term, ctx: dict[str, str]) -> Term:
    if isinstance(p, Bin) and p.op in ("=", "≠", "<", "≤", ">", "≥", "∣"):
        ty = arith.relation_type(p, ctx)
        if ty == NAT and (_has_op(p, "-") or _has_op(p, "/")):
            return p  # truncated ℕ subtraction is not a ring operation: leave it alone
        return Bin(p.op, arith.ring_normalize(p.lhs, ty), arith.ring_normalize(p.rhs, ty))
    if isinstance(p, Bin) and p.op in ("∧", "∨", "→", "↔"):
        return Bin(p.op, _ring_nf_prop(p.lhs, ctx), _ring_nf_prop(p.rhs, ctx))
    if isinstance(p, Un) and p.op == "¬":
        return Un("¬", _ring_nf_prop(p.arg, ctx))
    return p


def _has_op(t: Term, op: str) -> bool:
    if isinstance(t, Bin):
        return t.op == op or _has_op(t.lhs, op) or _has_op(t.rhs, op)
    if isinstance(t, Un):
        return _has_op(t.arg, op)
    return False


@tactic("ring_nf")
def t_ring_nf(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Normalise ring expressions in the goal (or `at h`); closes goals that become `a = a`."""
    _, where = at_clause(rest)
    g = s.main
    try:
        if where:
            for h in where:
                old = hyp_prop(g, h)
                g = g.replace_hyp(h, _ring_nf_prop(old, g.ctx))
            if g == s.main:
                raise TacticError("ring_nf failed")
            return s.replace_main([g], CLASSICAL)
        new = _ring_nf_prop(g.target, g.ctx)
    except arith.ArithError as err:
        raise TacticError(f"ring_nf failed: {err}") from None
    if reducible_rfl(g.with_target(new)):   # its normal forms agree; `rfl` would evaluate a closed sum
        return s.replace_main([], CLASSICAL)
    if new == g.target:
        raise TacticError("ring_nf failed")
    return s.replace_main([g.with_target(new)], CLASSICAL)


def _denominator_sign(g: Goal, extra: list[Term]):
    """What `field_simp`'s discharger knows of a denominator: positive (a hypothesis `0 < d`, or
    `positivity`), nonzero (`d ≠ 0`, `d < 0`), or nothing."""
    facts = g.props() + list(extra)

    def sign_of(d: Term) -> str:
        zero = zero_of(d, g.ctx)
        if Bin("<", zero, d) in facts or Bin(">", d, zero) in facts or _sign(d, g) == "pos":
            return "pos"
        if any(f in facts for f in (Bin("≠", d, zero), Bin("≠", zero, d), Un("¬", Bin("=", d, zero)),
                                    Bin("<", d, zero), Bin(">", zero, d))):
            return "nonzero"
        if isinstance(d, Bin) and d.op == "*":   # `mul_ne_zero`, `mul_pos`
            signs = {sign_of(d.lhs), sign_of(d.rhs)}
            return "pos" if signs == {"pos"} else "nonzero" if "none" not in signs else "none"
        if isinstance(d, Bin) and d.op == "^" and sign_of(d.lhs) != "none":   # `pow_ne_zero`
            return sign_of(d.lhs)
        return "none"
    return sign_of


def _cancel(t: Term, sign_of, ty: str) -> Term:
    """The cancellations in field_simp's simp set, bottom up, each with its denominator known
    nonzero: `a * a⁻¹` and `a⁻¹ * a` (`mul_inv_cancel₀`, `inv_mul_cancel₀`), `a / a` (`div_self`),
    `a / b * b` (`div_mul_cancel₀`), `a * b / b` (`mul_div_cancel_right₀`), `1 / a` as `a⁻¹`
    (`one_div`), and `x * 1`, `1 * x`, `x / 1`. What is left is what simp's `eq_self` compares."""
    if isinstance(t, Bin):
        t = Bin(t.op, _cancel(t.lhs, sign_of, ty), _cancel(t.rhs, sign_of, ty))
    elif isinstance(t, Un):
        t = Un(t.op, _cancel(t.arg, sign_of, ty))
    if not isinstance(t, Bin) or t.op not in ("*", "/"):
        return t
    a, b = t.lhs, t.rhs

    def inv_of(x: Term) -> Term | None:
        return x.args[0] if isinstance(x, App) and x.fn == Var("Inv.inv") and len(x.args) == 1 else None

    if t.op == "/" and is_numeral(a, 1) and sign_of(b) != "none":
        return App(Var("Inv.inv"), (b,))
    if t.op == "*" and inv_of(b) is not None and inv_of(b) == a and sign_of(a) != "none":
        return Num(1, ty)
    if t.op == "*" and inv_of(a) is not None and inv_of(a) == b and sign_of(b) != "none":
        return Num(1, ty)
    if t.op == "/" and a == b and sign_of(b) != "none":
        return Num(1, ty)
    if isinstance(a, Bin) and a.rhs == b and sign_of(b) != "none" and (t.op, a.op) in (("*", "/"), ("/", "*")):
        return a.lhs
    if is_numeral(b, 1):
        return a
    if t.op == "*" and is_numeral(a, 1):
        return b
    return t


def _field_simp_prop(p: Term, g: Goal, sign_of) -> Term | None:
    if not (isinstance(p, Bin) and p.op in ("=", "≠", "<", "≤", ">", "≥")):
        return None
    ty = arith.relation_type(p, g.ctx)
    if not is_field(ty):
        return None
    op, a, b = p.op, p.lhs, p.rhs
    if op in (">", "≥"):
        op, a, b = {">": "<", "≥": "≤"}[op], b, a
    sides = arith.clear_denominators(op, a, b, ty, sign_of)
    return None if sides is None else Bin(op, *sides)


@tactic("field_simp")
def t_field_simp(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`field_simp [h] (at h')`: first the given hypotheses' rewrites (a `∀ x, f x = ...` at every
    instance, side conditions discharged as by Mathlib's `FieldSimp.discharge`), then the
    denominators known nonzero cleared (`arith.clear_denominators`); closes a goal that becomes
    `a = a`. Unlike Mathlib's it does not simp-normalise otherwise."""
    body, where = at_clause(rest)
    g = s.main
    items = bracket_list(body)
    extra, ax = _extra_facts(e, g, items)
    sign_of = _denominator_sign(g, extra)
    rules = [r for r in simp_rules(e, g, items)[0] if not r.rewrites_props]

    def rewrite(p: Term, name: str) -> Term:
        own = [r for r in rules if r.origin != name]   # as simpGoal: never h rewriting h itself
        if not (own and isinstance(p, Bin) and p.op in ("=", "≠", "<", "≤", ">", "≥")):
            return p
        ctx = g.ctx   # one dict: the discharger tells the top level from a binder by identity
        discharge = _field_simp_discharger(g, ctx, own, sign_of)
        return Bin(p.op, *(rewrite_to_fixpoint(x, own, ctx, discharge) for x in (p.lhs, p.rhs)))

    def step(p: Term, rewritten: Term) -> Term | None:
        new = _field_simp_prop(rewritten, g, sign_of)
        return rewritten if new is None and rewritten != p else new

    try:
        if where:
            for h in where:
                new = step(hyp_prop(g, h), rewrite(hyp_prop(g, h), h))
                if new is None:
                    raise TacticError("field_simp made no progress")
                g = g.replace_hyp(h, new)
            return s.replace_main([g], ax | CLASSICAL)
        rewritten = rewrite(g.target, "⊢")
        new = step(g.target, rewritten)
    except arith.ArithError as err:
        raise TacticError(f"field_simp failed: {err}") from None
    if new is None:
        raise TacticError("field_simp made no progress")
    # simp's own close (`eq_self`: the sides unify at reducible transparency) of the goal its rewrites
    # and cancellations leave, not `rfl`'s evaluation (a closed sum over `Finset.Icc` stays) and not
    # this kernel's ring normal form after clearing denominators: Lean's field_simp leaves
    # `12 * x ^ 4 * 35 = 10 * (...)` for `ring` (the `field_simp; ring` idiom)
    if isinstance(rewritten, Bin) and rewritten.op == "=":
        ty = arith.relation_type(rewritten, g.ctx)
        cancelled = Bin("=", *(_cancel(x, sign_of, ty) for x in (rewritten.lhs, rewritten.rhs)))
        if reducible_rfl(g.with_target(cancelled)):
            return s.replace_main([], ax | CLASSICAL)
    return s.replace_main([g.with_target(new)], ax | CLASSICAL)


def _field_simp_discharger(g: Goal, top: dict, rules, sign_of) -> Discharger:
    """Mathlib's `FieldSimp.discharge` on a side condition: a hypothesis as it stands, `d ≠ 0` or
    `0 < d` for a denominator the sign facts know, else simp with the same rules to True. The
    first two only outside any binder (`ctx is top`, the goal's context the rewriting started
    from): under a binder a bound variable may share a local's name."""
    def known(q: Term, ctx: dict) -> bool:
        if ctx is not top:
            return False
        if q in g.props():
            return True
        if isinstance(q, Bin) and q.op == "≠" and is_numeral(q.rhs, 0) and sign_of(q.lhs) != "none":
            return True
        return isinstance(q, Bin) and q.op == "<" and is_numeral(q.lhs, 0) and sign_of(q.rhs) == "pos"
    return Discharger(lambda q, c, d: simp_prop(q, c, rules, d), first=known)


@tactic("norm_num")
def t_norm_num(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`norm_num [h] at h'`: simp with arithmetic evaluation; closes goals that become True. Like
    Mathlib's, it never looks at other hypotheses: contradictory ones do not close the goal."""
    return simp_like("norm_num")(e, s, rest)


MAX_CASES = 5000   # Mathlib has no limit; past this the kernel declines rather than run for minutes
_CASE_NAME = re.compile(r"^([^\s:()\[\]⟨⟩,]+)\s*:(?!=)\s*")


def _numeral_bound(p: Term, x: Term, ty: str) -> tuple[str, int] | None:
    """A hypothesis bounding `x` by a numeral: ("lo", v) for `v ≤ x`, ("hi", v) for `x ≤ v`
    (strict bounds moved by one), None otherwise."""
    if not isinstance(p, Bin) or p.op not in ("<", "≤", ">", "≥"):
        return None
    op, a, b = p.op, p.lhs, p.rhs
    if op in (">", "≥"):
        op, a, b = {">": "<", "≥": "≤"}[op], b, a
    try:
        if a == x and arith.is_closed_arith(b):
            return "hi", arith.evaluate(b, ty) - (1 if op == "<" else 0)
        if b == x and arith.is_closed_arith(a):
            return "lo", arith.evaluate(a, ty) + (1 if op == "<" else 0)
    except arith.ArithError:
        return None
    return None


def _interval_subject(g: Goal, bounds: list[Term]) -> Term:
    """`interval_cases using h₁, h₂`: the term the two hypotheses bound."""
    for p in bounds:
        if isinstance(p, Bin) and p.op in ("<", "≤", ">", "≥"):
            for side, other in ((p.lhs, p.rhs), (p.rhs, p.lhs)):
                if arith.is_closed_arith(other) and not arith.is_closed_arith(side):
                    return side
    raise TacticError("interval_cases failed: provided bounds do not bound a term")


@tactic("interval_cases", argument="required")
def t_interval_cases(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Mathlib's forms: `interval_cases x`, `interval_cases e` (a term such as `n % 3`, replaced
    by each value in the goal), `interval_cases h : e` (also `h : e = v` in each case),
    `interval_cases using h₁, h₂` (only these bounds)."""
    g = s.main
    text, using = rest.strip(), None
    parts = re.split(r"(?:^|\s)using\s", text, maxsplit=1)
    if len(parts) == 2:
        text, using = parts[0].strip(), [n.strip() for n in parts[1].split(",")]
        if len(using) != 2:
            raise TacticSyntaxError("<input>:1:0: expected two bounds after `using`")
    name = None
    m = _CASE_NAME.match(text)
    if m:
        name, text = m.group(1), text[m.end():]
    bounds = [hyp_prop(g, h) for h in using] if using else g.props()
    if text:
        x, ty = elab_value(term(text), g.ctx)
    else:
        if using is None:
            raise TacticError("interval_cases failed: no term to split on")
        x = _interval_subject(g, bounds)
        ty = arith.term_type(x, g.ctx)
    if not is_integral(ty):   # finitely many cases only for integers: `0 < x < 2` over ℝ is not `x = 1`
        raise TacticError(f"interval_cases failed: {pp(x)} : {ty} is not ℕ or ℤ")
    lo = 0 if ty == NAT else None
    hi = None
    for p in bounds:
        found = _numeral_bound(p, x, ty)
        if found and found[0] == "hi":
            hi = found[1] if hi is None else min(hi, found[1])
        elif found:
            lo = found[1] if lo is None else max(lo, found[1])
    if lo is None or hi is None:
        raise TacticError(f"interval_cases failed: could not find upper and lower bounds on {pp(x)}")
    if hi - lo + 1 > MAX_CASES:
        raise TacticError("interval_cases failed: too many cases")
    goals = []
    for v in range(lo, hi + 1):
        val = Num(v, ty) if v >= 0 else Un("-", Num(-v, ty))
        if isinstance(x, Var):   # `subst`: the variable goes everywhere
            hyps = tuple(h if h.is_var else type(h)(h.name, subst(h.type, x.name, val)) for h in g.hyps)
            goal = Goal(hyps, subst(g.target, x.name, val), g.case)
        else:                    # `generalize`: the term goes in the goal only
            goal = g.with_target(replace(g.target, x, val))
        if name is not None:
            goal = goal.add(name, Bin("=", x, val))
        goals.append(goal)
    return s.replace_main(goals, CLASSICAL)


tactic("linarith")(_closer("linarith", _linarith))
tactic("nlinarith")(_closer("nlinarith", _nlinarith))
tactic("omega")(_closer("omega", _omega))
tactic("positivity")(_closer("positivity", _positivity))


@tactic("linear_combination", argument="optional")
def t_linear_combination(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Mathlib's `linear_combination e`: `e` combines equations (hypotheses, lemma instances) with
    `+`, `-`, `*`, `/` by values and products of equations into `l = r`; the goal `a = b` closes
    when `ring1` proves `a - b - (l - r) = 0`. Over a commutative ring (ℤ, ℚ, ℝ, ℂ)."""
    g = s.main
    t = g.target
    if not (isinstance(t, Bin) and t.op == "="):
        raise TacticError(f"linear_combination: the goal is not an equality\n{g.pp()}")
    ty = arith.relation_type(t, g.ctx)
    if not has_class(ty, "CommRing"):
        raise TacticError(f"failed to synthesize\n  CommRing {ty}")
    el = e.elab(g)
    text = rest.strip()
    lhs, rhs = _combination(term(text), el, ty, g) if text else (Num(0, ty), Num(0, ty))
    if not arith.ring_equal(Bin("-", t.lhs, t.rhs), Bin("-", lhs, rhs), ty):
        raise TacticError(f"ring failed, ring_nf subsidiary goal\n{g.with_target(Bin('=', Bin('-', Bin('-', t.lhs, t.rhs), Bin('-', lhs, rhs)), Num(0, ty))).pp()}")
    return s.replace_main([], el.axioms | CLASSICAL)


def _combination(c: Term, el, ty: str, g: Goal) -> tuple[Term, Term]:
    """The equation `l = r` the linear-combination expression `c` proves."""
    proof = _equation_proof(c, el, ty, g)
    if proof is not None:
        return proof
    if isinstance(c, Un) and c.op == "-":
        a, b = _combination(c.arg, el, ty, g)
        return Un("-", a), Un("-", b)
    if isinstance(c, Bin) and c.op in ("+", "-", "*", "/"):
        left_is_proof, right_is_proof = _mentions_proof(c.lhs, g, el), _mentions_proof(c.rhs, g, el)
        if c.op in ("+", "-") or (c.op == "*" and left_is_proof and right_is_proof):
            (a1, b1), (a2, b2) = _combination(c.lhs, el, ty, g), _combination(c.rhs, el, ty, g)
            return Bin(c.op, a1, a2), Bin(c.op, b1, b2)
        if c.op == "*" and right_is_proof:     # `2 * h`
            k = el.value(c.lhs, ty)
            a, b = _combination(c.rhs, el, ty, g)
            return Bin("*", k, a), Bin("*", k, b)
        if c.op in ("*", "/") and left_is_proof and not right_is_proof:   # `h * x`, `h / 3`
            k = el.value(c.rhs, ty)
            a, b = _combination(c.lhs, el, ty, g)
            return Bin(c.op, a, k), Bin(c.op, b, k)
        if c.op == "/" and right_is_proof:
            raise TacticError("linear_combination: cannot divide by a proof")
    v = el.value(c, ty)   # a value: the equation `v = v`
    return v, v


def _equation_proof(c: Term, el, ty: str, g: Goal) -> tuple[Term, Term] | None:
    """(l, r) when `c` is a proof of `l = r` at the goal's type; None when it is no proof."""
    if not _is_proof_head(c, g, el):
        return None
    p = el.infer(c)
    if not (isinstance(p, Bin) and p.op == "="):
        raise TacticError(f"linear_combination: {pp(c)} is not a proof of an equality\n  {pp(p)}")
    carriers.require_same_carrier(arith.relation_type(p, g.ctx), ty, "linear_combination")
    return p.lhs, p.rhs


def _is_proof_head(c: Term, g: Goal, el) -> bool:
    """A hypothesis, a declaration or a library lemma (applied or not), not a value."""
    head = c
    while isinstance(head, (App, Proj)):
        head = head.fn if isinstance(head, App) else head.term
    if not isinstance(head, Var):
        return False
    h = g.hyp(head.name)
    if h is not None:
        return not h.is_var
    return el._known(head.name) or el.resolve(head) != head


def _mentions_proof(c: Term, g: Goal, el) -> bool:
    if _is_proof_head(c, g, el):
        return True
    if isinstance(c, Bin):
        return _mentions_proof(c.lhs, g, el) or _mentions_proof(c.rhs, g, el)
    if isinstance(c, Un):
        return _mentions_proof(c.arg, g, el)
    return False
