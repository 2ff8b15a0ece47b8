"""Tactics that rewrite the goal or hypotheses: `rw` and its variants, `symm`, the `simp` family,
`push_neg` and the cast tactics (`push_cast`, `norm_cast`)."""
from __future__ import annotations

import re

from lean_env.embedded import arith, definitions, discrete
from lean_env.embedded.elab import _unify, instantiate_rule
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, defeq
from lean_env.embedded.simp import (
    TRUE, Discharger, SimpRule, evaluate_sqrt, hypothesis_rules, norm_cast_prop, push_cast_prop, push_neg, simp_prop,
)
from lean_env.embedded.terms import Bin, Const, Quant, Term, Un, Var, children, free_vars, pp, replace, type_of, with_children
from lean_env.embedded.terms import rename_binder
from lean_env.embedded.tactics.closers import reducible_rfl, t_assumption
from lean_env.embedded.tactics.engine import Engine, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, at_clause, bracket_list, term


# -- rw family


def _rewrite(p: Term, rule: Term, reverse: bool, g: Goal, side: list[Goal]) -> Term:
    """Rewrite every instance of the rule's lhs (the first instance fixes ∀-variables). The
    rule's premises, instantiated, are appended to `side` as goals in `g`'s context: the
    context *before* this rewrite, so a hypothesis rewritten with the rule cannot prove them."""
    lhs, rhs, premises, _ = _rule_sides(p, rule, reverse, g)
    side.extend(g.with_target(q) for q in premises)
    return replace(p, lhs, rhs)


def _rule_sides(p: Term, rule: Term, reverse: bool, g: Goal, occurrence: int | None = None
                ) -> tuple[Term, Term, list[Term], tuple[int, ...] | None]:
    """The instance `lhs ↦ rhs` of a rewrite rule in `p`, with the rule's premises (`h : m ≤ n →
    n - m + m = n` rewrites and leaves `m ≤ n` to prove, as Lean's `rw` does). Instances are
    tried in Lean's `kabstract` order (pre-order, left to right); one at the wrong type for the
    rule (a `Nat.*` lemma at an integer `+`) is no instance. With `occurrence` n, the n-th instance
    is chosen and its position returned (`nth_rewrite`); otherwise the first fixes the rule's
    variables and every occurrence of it is rewritten."""
    binders: list[tuple[str, str]] = []
    premises: list[Term] = []
    while True:
        if isinstance(rule, Quant) and rule.kind == "∀" and not premises:
            binders.append((rule.var, rule.ty))
            rule = rule.body
        elif isinstance(rule, Bin) and rule.op == "→":
            premises.append(rule.lhs)
            rule = rule.rhs
        else:
            break
    if not (isinstance(rule, Bin) and rule.op in ("=", "↔")):
        # Lean's `rewrite` takes equations and iffs only (`h : p` is no rewrite rule)
        shown = Const(False) if isinstance(rule, Un) and rule.op == "¬" or isinstance(rule, Bin) and rule.op == "≠" else rule
        raise TacticError(f"equality or iff proof expected\n  {pp(shown)}")
    lhs, rhs = (rule.rhs, rule.lhs) if reverse else (rule.lhs, rule.rhs)
    metas = {v for v, _ in binders}
    found, seen = None, 0
    for path, binding in _instances(p, lhs, metas):
        try:
            inst = instantiate_rule(binders, binding, (lhs, rhs, *premises), g.ctx) if metas else (lhs, rhs, *premises)
        except TacticError:
            continue   # ill-typed for this rule: Lean's defeq check fails here, try the next one
        seen += 1
        if occurrence is None or seen == occurrence:
            found = (path, inst)
            break
    if found is None:
        if occurrence is not None and seen:
            raise TacticError(f"tactic 'nth_rewrite' failed, occurrence {occurrence} of\n  {pp(lhs)}\nnot found, only {seen}")
        raise TacticError(
            f"tactic 'rewrite' failed, did not find instance of the pattern in the target expression\n  {pp(lhs)}\n{g.pp()}"
            + _other_carrier(p, lhs))
    path, (lhs, rhs, *premises) = found
    lhs = _subterm(p, path)   # the instance as it stands (`a (1 + 1)` for the pattern `a 2`)
    if any(metas & free_vars(q) for q in premises):
        raise TacticError(f"tactic 'rewrite' failed, the premises of the rule mention variables the pattern does not fix\n  {pp(lhs)}")
    return lhs, arith.typed(rhs, arith.term_type(lhs, g.ctx)), premises, (path if occurrence is not None else None)


def _other_carrier(p: Term, pattern: Term) -> str:
    """A note when the target has the pattern's text at another type (an ℤ `0` is no ℕ `0`)."""
    want = type_of(pattern)
    stack = [p]
    while stack:
        t = stack.pop()
        if pp(t) == pp(pattern) and want is not None and type_of(t) not in (None, want):
            return f"\n(the pattern has type {want}; the target's `{pp(t)}` has type {type_of(t)})"
        stack.extend(children(t))
    return ""


def _instances(p: Term, pattern: Term, metas: set[str], bound: frozenset = frozenset(), path: tuple = ()):
    """(position, binding) of each subterm of `p` matching `pattern`, in pre-order, left to
    right. A subterm mentioning a variable bound inside `p` is skipped (Lean cannot abstract
    it: `rw` does not rewrite under a binder its instance depends on)."""
    binding: dict[str, Term] = {}
    if not (bound & free_vars(p)) and _unify(pattern, p, metas, binding) and set(binding) == metas:
        yield path, binding
    inner = bound | {p.var} if isinstance(p, Quant) else bound
    for i, c in enumerate(children(p)):
        yield from _instances(c, pattern, metas, inner, path + (i,))


def _subterm(t: Term, path: tuple[int, ...]) -> Term:
    for i in path:
        t = children(t)[i]
    return t


def _replace_at(t: Term, path: tuple[int, ...], new: Term) -> Term:
    if not path:
        return new
    if isinstance(t, Quant) and t.var in free_vars(new):   # rename the binder, never capture
        t = rename_binder(t, free_vars(new))
    kids = list(children(t))
    kids[path[0]] = _replace_at(kids[path[0]], path[1:], new)
    return with_children(t, kids)


@tactic("nth_rewrite", argument="required")
def t_nth_rewrite(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`nth_rewrite n [rules] (at h)`: rewrite only the n-th occurrence of each rule's lhs."""
    m = re.match(r"(\d+)\s+(.*)$", rest, re.S)
    if not m:
        raise TacticSyntaxError("<input>:1:12: unexpected token; expected occurrence number")
    n = int(m.group(1))
    body, where = at_clause(m.group(2))
    rules = bracket_list(body)
    if not rules:
        raise TacticSyntaxError("<input>:1:0: unexpected token; expected '['")
    g = s.main
    el = e.elab(g)
    side: list[Goal] = []
    for r in rules:
        reverse = r.startswith("←") or r.startswith("<-")
        rule = el.infer(term(r.lstrip("←").lstrip("<-").strip()))
        for name in where or ["⊢"]:
            p = g.target if name == "⊢" else hyp_prop(g, name)
            lhs, rhs, premises, path = _rule_sides(p, rule, reverse, g, occurrence=n)
            side.extend(g.with_target(q) for q in premises)
            q = _replace_at(p, path, rhs)
            g = g.with_target(q) if name == "⊢" else g.replace_hyp(name, q)
    return s.replace_main([g] + side, el.axioms | CLASSICAL)


@tactic("rw", "rewrite", argument="required")
def t_rw(e: Engine, s: ProofState, rest: str) -> ProofState:
    body, where = at_clause(rest)
    rules = bracket_list(body)
    if not rules:
        raise TacticSyntaxError("<input>:1:3: unexpected token; expected '['")
    g = s.main
    el = e.elab(g)
    everywhere = where == ["*"]
    side: list[Goal] = []   # premises of conditional rules: new goals after the main one
    for r in rules:
        reverse = r.startswith("←") or r.startswith("<-")
        r = r.lstrip("←").lstrip("<-").strip()
        if r in discrete.REWRITES:   # `Finset.sum_range_succ`: a lemma about a function `f`
            g = _rewrite_discrete(g, r, reverse, ["⊢"] if where is None else where)
            continue
        rule = el.infer(term(r))
        if everywhere:
            g = _rewrite_everywhere(g, r, rule, reverse, side)
        else:
            for h in where or ["⊢"]:
                if h == "⊢":
                    g = g.with_target(_rewrite(g.target, rule, reverse, g, side))
                else:
                    g = g.replace_hyp(h, _rewrite(hyp_prop(g, h), rule, reverse, g, side))
    state = s.replace_main([g] + side, el.axioms | CLASSICAL)
    # `rw` is `rewrite` then `with_reducible rfl` on the main goal, wherever it rewrote; a
    # hypothesis rewritten to `False` does not close the goal (Lean's `rw` never looks at it)
    if reducible_rfl(g):   # not `True`: `rfl` does not prove it
        return state.replace_main([])
    return state


def _rewrite_discrete(g: Goal, name: str, reverse: bool, where: list[str]) -> Goal:
    """`rw [Finset.sum_range_succ]`: the first instance fixes the rule's variables, and every
    occurrence of that instance is rewritten, as `rw` abstracts it."""
    if reverse:
        raise TacticError(f"the embedded fragment rewrites with {name} left to right only")
    names = [h.name for h in g.hyps if not h.is_var] + ["⊢"] if where == ["*"] else where
    changed = False
    for h in names:
        p = g.target if h == "⊢" else hyp_prop(g, h)
        found = discrete.first_instance(p, discrete.REWRITES[name])
        if found is None:
            if where == ["*"]:
                continue
            raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the target "
                              f"expression ({name})\n{g.pp()}")
        q = replace(p, *found)
        g = g.with_target(q) if h == "⊢" else g.replace_hyp(h, q)
        changed = True
    if not changed:
        raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the current goal\n{g.pp()}")
    return g


@tactic("rwa", argument="required")
def t_rwa(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_assumption(e, t_rw(e, s, rest), "")


def _rewrite_everywhere(g: Goal, source: str, rule: Term, reverse: bool, side: list[Goal]) -> Goal:
    """`rw [r] at *`: rewrite every hypothesis (but the rule itself) and the goal where the rule
    applies; Lean fails only when it applies nowhere."""
    changed = False
    for h in g.hyps:
        if h.is_var or h.name == source:
            continue
        try:
            g = g.replace_hyp(h.name, _rewrite(h.type, rule, reverse, g, side))
            changed = True
        except TacticError:
            pass
    try:
        g = g.with_target(_rewrite(g.target, rule, reverse, g, side))
        changed = True
    except TacticError:
        pass
    if not changed:
        raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the current goal\n{g.pp()}")
    return g


def _rfl_after(s: ProofState) -> ProofState:
    """`rw`-style tactics try `rfl` (at reducible transparency) on the goal they leave."""
    return s.replace_main([]) if s.goals and reducible_rfl(s.main) else s


@tactic("symm")
def t_symm(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = g.target
    if isinstance(t, Bin) and t.op in ("=", "≠", "↔"):
        return s.replace_main([g.with_target(Bin(t.op, t.rhs, t.lhs))])
    raise TacticError("symm failed, the goal is not a symmetric relation")


@tactic("push_neg")
def t_push_neg(e: Engine, s: ProofState, rest: str) -> ProofState:
    _, where = at_clause(rest)
    g = s.main
    if where:
        for h in where:
            hyp = hyp_prop(g, h)
            new = push_neg(hyp)
            if new == hyp:
                raise TacticError("push_neg made no progress")
            g = g.replace_hyp(h, new)
        return s.replace_main([g], CLASSICAL)
    new = push_neg(g.target)
    if new == g.target:
        raise TacticError("push_neg made no progress")
    return s.replace_main([g.with_target(new)], CLASSICAL)


# -- simp family


def simp_rules(e: Engine, g: Goal, items: list[str]) -> tuple[list[SimpRule], frozenset]:
    """The rewrites `simp [items]` adds to its simp set. A hypothesis named on its own (or by `*`)
    is their origin, which `simpGoal` leaves out while simplifying that very hypothesis, and only a
    hypothesis gives ∀-rules: a library lemma's `∀` stays out as before (permutation lemmas such as
    `mul_comm` need Lean's term order, which the kernel does not model)."""
    el = e.elab(g)
    rules: list[SimpRule] = []
    for it in items:
        if it == "*":
            named = [h for h in g.hyps if not h.is_var]
            rules += hypothesis_rules([h.type for h in named], [h.name for h in named])
            continue
        if it in discrete.REWRITES:   # used by `_simp_discrete`, not as a hypothesis rule
            continue
        reverse = it.startswith("←")
        text = it.lstrip("←").strip()
        p = el.infer(term(text))   # an unknown name is Lean's error too ("unknown identifier"), never skipped
        if reverse:
            p = _reversed(p)
        hyp = g.hyp(text)
        origin = text if hyp is not None and not hyp.is_var else None
        rules += [r for r in hypothesis_rules([p], [origin]) if origin is not None or not r.binders]
    return rules, el.axioms


def _reversed(p: Term) -> Term:
    """`← h`: the equation (or iff) at the end of `h`'s ∀s and premises read right to left."""
    if isinstance(p, Quant) and p.kind == "∀":
        return Quant(p.kind, p.var, p.ty, _reversed(p.body))
    if isinstance(p, Bin) and p.op == "→":
        return Bin("→", p.lhs, _reversed(p.rhs))
    if isinstance(p, Bin) and p.op in ("=", "↔"):
        return Bin(p.op, p.rhs, p.lhs)
    return p


def simp_like(name: str, use_all_hyps: bool = False):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        body, where = at_clause(rest)
        only = body.startswith("only")
        body = body.replace("only", "", 1).strip() if only else body
        items = bracket_list(body)
        g = s.main
        rules, ax = simp_rules(e, g, items)
        ax = ax | CLASSICAL
        # `simp only [..]` leaves out the default simp set, so `Finset.sum_range_zero` too
        lemmas = [] if only else list(discrete.SIMP_LEMMAS)
        lemmas += [it for it in items if it in discrete.REWRITES]

        def simplify(p: Term, rules) -> Term:   # with the sums' lemmas and norm_num's `Nat.Prime`
            return _simp_discrete(p, g.ctx, rules, lemmas, name == "norm_num")

        if use_all_hyps:
            return _simp_all(e, s, rules, ax)
        targets = where or []
        if targets == ["*"]:
            targets = [h.name for h in g.hyps if not h.is_var] + ["⊢"]
        if not targets:
            targets = ["⊢"]
        progress = False
        for tname in targets:
            if tname == "⊢":
                new = simplify(g.target, rules)
                if _changed(new, g.target):
                    progress = True
                    g = g.with_target(new)
                continue
            old = hyp_prop(g, tname)
            # Lean's simpGoal erases the hypothesis being simplified from the simp set
            # (src/Lean/Meta/Tactic/Simp/Main.lean): `simp [h] at h` never rewrites h into True
            new = simplify(old, [r for r in rules if r.origin != tname])
            if _changed(new, old):
                progress = True
                if new == Const(False):
                    return s.replace_main([], ax)
                g = g.remove(tname) if new == TRUE else g.replace_hyp(tname, new)
        if "⊢" in targets and g.target == TRUE:   # `simp at h` leaves the goal alone
            return s.replace_main([], ax)
        if not progress:
            msg = "simp made no progress" if name.startswith("simp") else f"{name} failed to simplify"
            raise TacticError(msg)
        return s.replace_main([g], ax)
    return run


def _simp_discrete(p: Term, ctx: dict, rules, lemmas: list[str], norm_num: bool, discharge=None) -> Term:
    """`simp_prop` with the function lemmas given (`simp [Finset.sum_range_succ]` unrolls a sum
    over `range 3`) and, for `norm_num`, predicates on numerals decided (`Nat.Prime 7`). The side
    conditions of conditional rules are discharged by this same simplifier (for norm_num that is
    Mathlib's norm_num discharger, which evaluates numerals: `(3 : ℝ) ≠ 0`). Rules that keep
    rewriting (`h₀ : s = 9 - 2 * t`, `h₁ : t = 3 * s + 1`) fail as Lean's looping simp does,
    instead of leaving a term Lean never reaches."""
    if discharge is None:
        discharge = Discharger(lambda q, c, d: _simp_discrete(q, c, rules, lemmas, norm_num, d))
    for _ in range(50 if rules else 5):   # with rules, the step budget is what bounds the work
        q = discrete.rewrite_all(p, lemmas) if lemmas else p
        q = simp_prop(discrete.evaluate_closed(q, ctx, norm_num), ctx, rules, discharge, numerals=norm_num)
        if norm_num:
            q = evaluate_sqrt(discrete.fold_predicates(q))
        if q == p:
            return q
        p = q
    if rules:
        raise TacticError("simp failed, maximum number of steps exceeded")
    return p


def _changed(new: Term, old: Term) -> bool:
    """Progress as Lean sees it: dropping a numeral's type ascription is no change."""
    return new != old and pp(new) != pp(old)


def _simp_all(e: Engine, s: ProofState, extra_rules: list[SimpRule], ax) -> ProofState:
    """Each hypothesis simplified with the others (∀-hypotheses as conditional rewrites) and the
    extra rules, never with itself (Lean's SimpAll disables the entry it simplifies); then the goal
    with all of them."""
    g = s.main
    changed = False
    for _ in range(5):
        for h in [h for h in g.hyps if not h.is_var]:
            others = [x for x in g.hyps if not x.is_var and x.name != h.name]
            rules = hypothesis_rules([x.type for x in others], [x.name for x in others])
            new = simp_prop(h.type, g.ctx, rules + [r for r in extra_rules if r.origin != h.name], numerals=False)
            if new == Const(False):
                return s.replace_main([], ax)
            if _changed(new, h.type):
                changed = True
                g = g.remove(h.name) if new == TRUE else g.replace_hyp(h.name, new)
        named = [x for x in g.hyps if not x.is_var]
        new_t = simp_prop(g.target, g.ctx, hypothesis_rules([x.type for x in named], [x.name for x in named]) + extra_rules,
                          numerals=False)
        if _changed(new_t, g.target):
            changed = True
            g = g.with_target(new_t)
        if g.target == TRUE:
            return s.replace_main([], ax)
    if not changed:
        raise TacticError("simp_all made no progress")
    return s.replace_main([g], ax)


@tactic("simpa")
def t_simpa(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`simpa [rules] using e`: simp the goal and the type of `e`, then close the goal with it
    (without `using`: with a hypothesis, after simp); fails as Lean's simpa does otherwise."""
    body, _, using = rest.partition("using")
    body = body.strip()
    body = body.replace("only", "", 1).strip() if body.startswith("only") else body
    items = bracket_list(body)
    g = s.main
    rules, ax = simp_rules(e, g, items)
    ax = ax | CLASSICAL
    target = simp_prop(g.target, g.ctx, rules, numerals=False)
    if target == TRUE:
        return s.replace_main([], ax)
    if using.strip():
        el = e.elab(g)
        given = el.infer(term(using.strip()), target)
        ax |= el.axioms
    elif g.hyp("this") is not None and not g.hyp("this").is_var:
        given = g.hyp("this").type   # Mathlib's simpa simplifies `this`, then `assumption`
    else:                            # otherwise the simplified goal must be a hypothesis as it is
        if any(defeq(p, target, g.ctx) for p in g.props()):
            return s.replace_main([], ax)
        raise TacticError(f"simpa failed: no hypothesis matches the simplified goal\n  {pp(target)}")
    q = simp_prop(given, g.ctx, [r for r in rules if r.lhs != given], numerals=False)
    others = [p for p in g.props() if p is not given] if not using.strip() else []
    if q == Const(False) or defeq(q, target, g.ctx) or any(defeq(p, target, g.ctx) for p in others):
        return s.replace_main([], ax)
    raise TacticError(f"type mismatch\n  h\nhas type\n  {pp(q)} : Prop\nbut is expected to have type\n  {pp(target)} : Prop")


@tactic("norm_cast")
def t_norm_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`norm_cast (at h)`: casts moved up and relations between casts stated over ℕ
    (`simp.norm_cast_prop`); closes the goal by `rfl` or a hypothesis in the same normal form."""
    _, where = at_clause(rest)
    g = s.main
    if where:
        for h in where:
            g = g.replace_hyp(h, norm_cast_prop(hyp_prop(g, h)))
        return s.replace_main([g])
    target = norm_cast_prop(g.target)
    if any(defeq(norm_cast_prop(p), target, g.ctx) for p in g.props()) or reducible_rfl(g.with_target(target)):
        return s.replace_main([])
    return s.replace_main([g.with_target(target)])


@tactic("push_cast")
def t_push_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`push_cast [h] (at h')`: casts moved to the leaves (`simp.push_cast_prop`); a fact `b ≤ a`
    among the given terms lets `↑(a - b)` move too (`Nat.cast_sub`). Never fails, like Mathlib's."""
    body, where = at_clause(rest)
    items = bracket_list(body)
    g = s.main
    el = e.elab(g)
    facts = [el.infer(term(it)) for it in items]
    if where:
        for h in where:
            g = g.replace_hyp(h, push_cast_prop(hyp_prop(g, h), facts))
        return s.replace_main([g], el.axioms)
    g = g.with_target(push_cast_prop(g.target, facts))
    return s.replace_main([] if reducible_rfl(g) else [g], el.axioms)


tactic("nth_rw", argument="required")(lambda e, s, r: _rfl_after(t_nth_rewrite(e, s, r)))
tactic("simp")(simp_like("simp"))
tactic("simp_all")(simp_like("simp_all", use_all_hyps=True))


@tactic("unfold", "delta", argument="required")
def t_unfold(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`unfold Nat.ModEq IsLeast at h ⊢`: each named definition (`definitions.py`) unfolded
    wherever it stands; Lean's `unfold` fails when a location has nothing to unfold."""
    body, where = at_clause(rest)
    names = body.split()
    unknown = [n for n in names if n not in definitions.REWRITES]
    if unknown:
        raise TacticError(f"unknown constant '{unknown[0]}' (the embedded fragment unfolds "
                          f"{', '.join(sorted(definitions.REWRITES))})")
    g = s.main
    targets = where or ["⊢"]
    if targets == ["*"]:
        targets = [h.name for h in g.hyps if not h.is_var] + ["⊢"]
    for h in targets:
        p = g.target if h == "⊢" else hyp_prop(g, h)
        q = discrete.rewrite_all(p, names)
        if q == p:
            if where == ["*"]:
                continue
            raise TacticError(f"unfold failed to unfold {', '.join(names)} at\n  {pp(p)}")
        g = g.with_target(q) if h == "⊢" else g.replace_hyp(h, q)
    return s.replace_main([g])
