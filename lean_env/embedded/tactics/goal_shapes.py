"""Tactics that restate or check the goal's shape without proving anything: `change`, `suffices`,
`by_contra!`, `let`, and the test-file checks `guard_target`/`guard_hyp`. Each either leaves a goal
that implies the old one or fails; none closes a goal by itself."""
from __future__ import annotations

from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, defeq, fresh_inaccessible
from lean_env.embedded.simp import push_neg
from lean_env.embedded.terms import Bin, Const, Un, Var, pp
from lean_env.embedded.tactics.engine import Engine, check_prop, elaborated, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, at_clause, split_top, term

# `guard_target =ₛ t` (syntactic), `=ₐ` (up to bound names), `=~` (defeq), `=` (reducible defeq)
_GUARD_OPS = ("=ₛ", "=ₐ", "=~", "=")


def _same(p, q, op: str, g: Goal) -> bool:
    if p == q or pp(p) == pp(q):
        return True
    return op not in ("=ₛ", "=ₐ", ":ₛ", ":ₐ") and defeq(p, q, g.ctx)


@tactic("guard_target", argument="required")
def t_guard_target(e: Engine, s: ProofState, rest: str) -> ProofState:
    op = next((o for o in _GUARD_OPS if rest.startswith(o)), None)
    if op is None:
        raise TacticSyntaxError("<input>:1:13: unexpected token; expected '='")
    g = s.main
    want = check_prop(term(rest[len(op):]), g)
    if not _same(g.target, want, op, g):
        raise TacticError(f"target of main goal is\n  {pp(g.target)}\nnot\n  {pp(want)}")
    return s


@tactic("guard_hyp", argument="required")
def t_guard_hyp(e: Engine, s: ProofState, rest: str) -> ProofState:
    name, sep, ty = rest.partition(" ")
    ty = ty.strip()
    op = next((o for o in (":ₛ", ":ₐ", ":~", ":") if ty.startswith(o)), None)
    if op is None:   # `guard_hyp h := v` checks a let value: not in the kernel's contexts
        raise TacticError(f"guard_hyp failed: '{rest}' is not of the form `h : t`")
    g = s.main
    h = g.hyp(name)
    if h is None:
        raise TacticError(f"unknown identifier '{name}'")
    if h.is_var:
        if pp(term(ty[len(op):])) != str(h.type):
            raise TacticError(f"hypothesis {name} has type\n  {h.type}")
        return s
    want = check_prop(term(ty[len(op):]), g)
    if not _same(h.type, want, op, g):
        raise TacticError(f"hypothesis {name} has type\n  {pp(h.type)}\nnot\n  {pp(want)}")
    return s


@tactic("change", argument="required")
def t_change(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`change t (at h)`: restate the goal (or `h`) as a definitionally equal `t`."""
    body, where = at_clause(rest)
    g = s.main
    new = check_prop(term(body), g)
    for name in where or ["⊢"]:
        old = g.target if name == "⊢" else hyp_prop(g, name)
        if not defeq(new, old, g.ctx):
            raise TacticError(f"type mismatch\n  {pp(new)}\nis not definitionally equal to\n  {pp(old)}")
        g = g.with_target(new) if name == "⊢" else g.replace_hyp(name, new)
    return s.replace_main([g])


@tactic("suffices", argument="required")
def t_suffices(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`suffices h : t by tac` / `from e`: prove the goal from `h : t` now, then prove `t`; without
    `by`/`from` both are left as goals, the old goal (with `h`) first, as in Lean."""
    g = s.main
    parts = split_top(rest, " from ")
    proof_kind, proof = None, None
    if len(parts) > 1:
        head, proof_kind, proof = parts[0], "from", " from ".join(parts[1:])
    else:
        parts = split_top(rest, " by")
        head = parts[0]
        if len(parts) > 1:
            proof_kind, proof = "by", " by".join(parts[1:])
    name, sep, ty = head.partition(":")
    if not sep:
        name, ty = "this", head
    name = name.strip() or "this"
    prop = check_prop(term(ty), g)
    with_h, remaining = g.add(name, prop), g.with_target(prop)
    if proof_kind is None:
        return s.replace_main([with_h, remaining])
    if proof_kind == "by":
        done = e.run(ProofState((with_h,)), proof)
        if done.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(done.pp_goals()))
        return ProofState((remaining,) + s.goals[1:], s.axioms | done.axioms, s.sorries + done.sorries)
    el = e.elab(with_h)
    el.check(term(proof), g.target)
    return elaborated(s, [remaining], el)


@tactic("by_contra!")
def t_by_contra_bang(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Mathlib's `by_contra! h (: t)`: assume the negated goal with `push_neg` applied; goal `False`."""
    g = s.main
    name, sep, ty = rest.partition(":")
    name = name.strip() or "this"
    hyp = push_neg(Un("¬", g.target))
    if sep:
        stated = check_prop(term(ty), g)
        if not (defeq(stated, hyp, g.ctx) or defeq(stated, Un("¬", g.target), g.ctx)):
            raise TacticError(f"type mismatch\n  {pp(stated)}\nis not definitionally equal to\n  {pp(hyp)}")
        hyp = stated
    return s.replace_main([g.add(name, hyp).with_target(Const(False))], CLASSICAL)


@tactic("let", argument="required")
def t_let(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`let x (: T) := v`: a local definition. The kernel has no let-bound variables: `x` becomes
    a variable with an anonymous hypothesis `x = v` (what unfolding `x` may use in Lean)."""
    parts = split_top(rest, ":=")
    if len(parts) != 2:
        raise TacticSyntaxError("<input>:1:4: unexpected end of input; expected ':='")
    head, value = parts[0].strip(), parts[1].strip()
    name, sep, ty = head.partition(":")
    name = name.strip()
    if not name.isidentifier():
        raise TacticError(f"let: cannot define '{head}'")
    g = s.main
    if name in g.names():
        raise TacticError(f"let: '{name}' already names a variable (shadowing is not supported)")
    el = e.elab(g)
    v, own = el.value_typed(term(value), ty.strip() or None)
    ty = ty.strip() or own
    if ty not in ("ℕ", "ℤ", "ℚ", "ℝ"):
        raise TacticError(f"let: only number-valued definitions are supported, not {ty}")
    g2 = g.add(name, ty)
    g2 = g2.add(fresh_inaccessible(name, g2.names()), Bin("=", Var(name), v))
    return elaborated(s, [g2], el)
