"""`norm_num1`: norm_num's evaluation without the simp set (`simp.norm_num1_prop`): numerals
computed, relations and predicates on numerals decided; the goal closes when it becomes `True`,
a hypothesis that becomes `False` closes it too."""
from __future__ import annotations

from lean_env.embedded.goals import CLASSICAL, ProofState, TacticError
from lean_env.embedded.simp import FALSE, TRUE, norm_num1_prop
from lean_env.embedded.terms import pp
from lean_env.embedded.tactics.engine import Engine, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, at_clause


@tactic("norm_num1")
def t_norm_num1(e: Engine, s: ProofState, rest: str) -> ProofState:
    body, where = at_clause(rest)
    if body.strip():   # `norm_num1` takes no simp lemmas: `norm_num1 [h]` does not parse in Lean
        raise TacticSyntaxError(f"<input>:1:10: unexpected token '{body.strip()[:1]}'; expected command")
    g = s.main
    targets = where or ["⊢"]
    if targets == ["*"]:
        targets = [h.name for h in g.hyps if not h.is_var] + ["⊢"]
    progress = False
    for name in targets:
        old = g.target if name == "⊢" else hyp_prop(g, name)
        if old == (TRUE if name == "⊢" else FALSE):   # simp closes these without rewriting
            return s.replace_main([], CLASSICAL)
        new = norm_num1_prop(old, g.ctx)
        if new == old or pp(new) == pp(old):
            continue
        progress = True
        if name == "⊢":
            if new == TRUE:
                return s.replace_main([], CLASSICAL)
            g = g.with_target(new)
        elif new == FALSE:
            return s.replace_main([], CLASSICAL)
        else:
            g = g.remove(name) if new == TRUE else g.replace_hyp(name, new)
    if not progress:
        raise TacticError("norm_num1 failed to simplify" if targets == ["⊢"] else "norm_num1 made no progress")
    return s.replace_main([g], CLASSICAL)
