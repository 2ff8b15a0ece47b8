"""Cast tactics beyond `norm_cast`/`push_cast`: `zify` (state ℕ facts over ℤ) and
`assumption_mod_cast` (a hypothesis equal to the goal up to casts)."""
from __future__ import annotations

from lean_env.embedded.arith import relation_type
from lean_env.embedded.goals import ProofState, TacticError, defeq
from lean_env.embedded.simp import norm_cast_prop, push_cast_term
from lean_env.embedded.terms import INT, NAT, Bin, Cast, Quant, Term, Un
from lean_env.embedded.tactics.engine import Engine, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import at_clause, bracket_list, term

# `Nat.cast_inj`, `Nat.cast_le`, `Nat.cast_lt`, `Int.natCast_dvd_natCast`: each an ↔, so a relation
# over ℕ and its cast to ℤ say the same thing
_ZIFY_OPS = ("=", "≠", "<", "≤", ">", "≥", "∣")


def zify_prop(p: Term, ctx: dict[str, str], facts: list[Term]) -> Term:
    """Mathlib's `zify`: every relation between natural numbers restated between their casts to ℤ,
    casts pushed to the leaves (`↑(a - b)` only given `b ≤ a` among `facts`, `Nat.cast_sub`)."""
    if isinstance(p, Bin) and p.op in _ZIFY_OPS and relation_type(p, ctx) == NAT:
        def up(t: Term) -> Term:
            return push_cast_term(Cast(INT, t, NAT), facts)
        return Bin(p.op, up(p.lhs), up(p.rhs))
    if isinstance(p, Un) and p.op == "¬":
        return Un("¬", zify_prop(p.arg, ctx, facts))
    if isinstance(p, Bin) and p.op in ("∧", "∨", "→", "↔"):
        return Bin(p.op, zify_prop(p.lhs, ctx, facts), zify_prop(p.rhs, ctx, facts))
    return p   # under a binder the bound variable's type decides; Mathlib's simp set leaves most alone


@tactic("zify")
def t_zify(e: Engine, s: ProofState, rest: str) -> ProofState:
    body, where = at_clause(rest)
    g = s.main
    el = e.elab(g)
    facts = [el.infer(term(it)) for it in bracket_list(body)]
    for name in where or ["⊢"]:
        if name == "⊢":
            g = g.with_target(zify_prop(g.target, g.ctx, facts))
        else:
            g = g.replace_hyp(name, zify_prop(hyp_prop(g, name), g.ctx, facts))
    return s.replace_main([g], el.axioms)


@tactic("assumption_mod_cast", argument="none")
def t_assumption_mod_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    target = norm_cast_prop(g.target)
    if any(not isinstance(p, Quant) and defeq(norm_cast_prop(p), target, g.ctx) for p in g.props()):
        return s.replace_main([])
    raise TacticError("assumption_mod_cast failed to find a hypothesis matching the goal up to casts\n" + g.pp())
