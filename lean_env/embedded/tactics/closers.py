"""Tactics that close the main goal outright: proof terms (`exact`, `apply`, `refine`, `calc`),
reflexivity and assumption, contradiction, decision procedures (`decide`, `tauto`), and `sorry`."""
from __future__ import annotations

from lean_env.embedded import arith
from lean_env.embedded.elab import _instantiate, _is_refl, _match
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, canon, defeq
from lean_env.embedded.simp import TRUE
from lean_env.embedded.terms import ByTac, Bin, Const, Hole, Quant, Term, Un, Var, free_vars, pp, subst
from lean_env.embedded.tactics.engine import Engine, check_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, dedent_block, split_top, term


@tactic("exact", argument=True)
def t_exact(e: Engine, s: ProofState, rest: str) -> ProofState:
    el = e.elab(s.main)
    el.check(term(rest), s.main.target)
    return s.replace_main([], el.axioms)


@tactic("exact_mod_cast")
def t_exact_mod_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_exact(e, s, rest)


@tactic("refine", argument=True)
def t_refine(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`exact` whose `?_` holes become new goals, in order (plain `_` must be solved, as in Lean)."""
    g = s.main
    el = e.elab(g)
    el.holes = []
    el.check(term(rest), g.target)
    return s.replace_main([g.with_target(h) for h in el.holes], el.axioms)


@tactic("apply", argument=True)
def t_apply(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    el = e.elab(g)
    t = term(rest)
    try:
        el.check(t, g.target)
        return s.replace_main([], el.axioms)
    except TacticError:
        pass
    p, metas = el.partial_app(t)
    stated = p
    premises: list[Term] = []
    while True:
        binding: dict[str, Term] = {}
        if defeq(p, g.target, g.ctx) or (metas and _match(p, g.target, metas, binding, g.ctx)):
            break
        if isinstance(p, Quant) and p.kind == "∀":
            # a universally quantified argument becomes a metavariable solved by unification
            meta = "?" + p.var
            while meta in metas:
                meta += "'"
            metas.add(meta)
            p = subst(p.body, p.var, Var(meta))
        elif isinstance(p, Bin) and p.op == "→":
            premises.append(p.lhs)
            p = p.rhs
        elif isinstance(p, Un) and p.op == "¬" and g.target == Const(False):
            premises.append(p.arg)
            p = Const(False)
        else:
            raise TacticError(
                f"tactic 'apply' failed, could not unify the conclusion of `{pp(t)}`\n  {pp(stated)}\n"
                f"with the goal\n  {pp(g.target)}"
            )
    premises = [_instantiate(q, binding) for q in premises]
    if any(v in metas for q in premises for v in free_vars(q)):
        # Lean would leave `?x` as a new goal; the fragment has no metavariable goals
        raise TacticError(f"don't know how to synthesize placeholder in\n  apply {pp(t)}")
    return s.replace_main([g.with_target(q) for q in premises], el.axioms)


def contradiction_in(g: Goal) -> bool:
    props = g.props()
    ctx = g.ctx
    for p in props:
        if p == Const(False):
            return True
        if isinstance(p, Bin) and p.op == "≠" and defeq(p.lhs, p.rhs, ctx):
            return True
        if isinstance(p, Bin) and p.op in ("=", "≠") and arith.is_closed_arith(p.lhs) and arith.is_closed_arith(p.rhs):
            try:
                if not arith.decide(p, ctx):
                    return True
            except arith.ArithError:
                pass
        neg = Un("¬", p)
        if any(defeq(q, neg, ctx) for q in props):
            return True
    return isinstance(g.target, Bin) and False


@tactic("contradiction")
def t_contradiction(e: Engine, s: ProofState, rest: str) -> ProofState:
    if contradiction_in(s.main):
        return s.replace_main([])
    raise TacticError(f"tactic 'contradiction' failed\n{s.main.pp()}")


@tactic("assumption")
def t_assumption(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    raise TacticError(f"tactic 'assumption' failed\n{g.pp()}")


def rfl_closes(g: Goal) -> bool:
    return _is_refl(g.target, g.ctx)


@tactic("rfl")
def t_rfl(e: Engine, s: ProofState, rest: str) -> ProofState:
    if rfl_closes(s.main):
        return s.replace_main([])
    raise TacticError(f"The rfl tactic failed. Possible reasons:\n- The goal is not a reflexive relation\n{s.main.pp()}")


@tactic("trivial")
def t_trivial(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if g.target == TRUE or rfl_closes(g) or any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    try:
        if not arith.has_quantifier(g.target) and not free_vars(g.target) and arith.decide(g.target, g.ctx):
            return s.replace_main([])
    except arith.ArithError:
        pass
    if isinstance(g.target, Bin) and g.target.op == "∧":
        try:
            r = e.atomic(s, "constructor", "")
            r = t_trivial(e, r, "")
            return t_trivial(e, r, "")
        except TacticError:
            pass
    raise TacticError(f"tactic 'trivial' failed\n{g.pp()}")


@tactic("decide")
def t_decide(e: Engine, s: ProofState, rest: str, axioms: frozenset = frozenset()) -> ProofState:
    g = s.main
    if free_vars(g.target):
        raise TacticError("expected type must not contain free variables\n  " + pp(g.target))
    try:
        ok = arith.decide(g.target, g.ctx)
    except arith.ArithError as err:
        raise TacticError(f"failed to synthesize\n  Decidable ({pp(g.target)})\n{err}") from None
    if not ok:
        raise TacticError(f"tactic 'decide' proved that the proposition\n  {pp(g.target)}\nis false")
    return s.replace_main([], axioms)


@tactic("native_decide")
def t_native_decide(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_decide(e, s, rest, frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"}))


@tactic("tauto")
def t_tauto(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Mathlib's `tauto`: classical propositional logic over the hypotheses, with every
    non-propositional formula (`a < b`, `∃ x, ..`) an opaque atom. No arithmetic."""
    import z3

    g = s.main
    atoms: dict[Term, object] = {}

    def enc(p: Term):
        if isinstance(p, Const):
            return z3.BoolVal(p.value)
        if isinstance(p, Un) and p.op == "¬":
            return z3.Not(enc(p.arg))
        if isinstance(p, Bin) and p.op in ("∧", "∨", "→", "↔"):
            a, b = enc(p.lhs), enc(p.rhs)
            return {"∧": z3.And, "∨": z3.Or, "→": z3.Implies, "↔": lambda x, y: x == y}[p.op](a, b)
        key = canon(p, g.ctx)
        if isinstance(key, Un) and key.op == "¬":  # `a ≠ b` is `¬a = b`
            return z3.Not(enc(key.arg))
        if key not in atoms:
            atoms[key] = z3.Bool(f"a{len(atoms)}")
        return atoms[key]

    solver = z3.Solver()
    for p in g.props():
        solver.add(enc(p))
    solver.add(z3.Not(enc(g.target)))
    if solver.check() != z3.unsat:
        raise TacticError("tauto failed to solve some goals.")
    return s.replace_main([], CLASSICAL)


_CALC_TRANS = {
    ("≤", "≤"): "≤", ("≤", "<"): "<", ("<", "≤"): "<", ("<", "<"): "<",
    ("≥", "≥"): "≥", ("≥", ">"): ">", (">", "≥"): ">", (">", ">"): ">", ("↔", "↔"): "↔",
}


def _calc_steps(text: str) -> tuple[Term | None, list[tuple[Term, str]]]:
    """Cut `calc` text into (start term or None, [(step relation, proof text)]): a new step begins
    at each line starting with `_`."""
    chunks: list[str] = []
    for line in text.split("\n"):
        if line.strip().startswith("_") or not chunks:
            chunks.append(line.strip())
        else:
            chunks[-1] += "\n" + line
    start: Term | None = None
    steps: list[tuple[Term, str]] = []
    for i, chunk in enumerate(chunks):
        parts = split_top(chunk, ":=")
        if len(parts) < 2:
            if i == 0:
                start = term(chunk)
                continue
            raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected ':='")
        steps.append((term(parts[0]), ":=".join(parts[1:]).strip()))
    if not steps:
        raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected calc steps")
    return start, steps


@tactic("calc", argument=True)
def t_calc(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    el = e.elab(g)
    start, steps = _calc_steps(rest)
    lhs, rel, rhs = start, None, start
    for step, proof in steps:
        if not (isinstance(step, Bin) and step.op in ("=", "≤", "<", "≥", ">", "↔")):
            raise TacticError(f"invalid 'calc' step, relation expected\n  {pp(step)}")
        if isinstance(step.lhs, Hole) or step.lhs == Var("_"):
            if rhs is None:
                raise TacticError("invalid 'calc' step, the first step cannot start with '_'")
            step = Bin(step.op, rhs, step.rhs)
        elif rhs is not None and not defeq(step.lhs, rhs, g.ctx):
            raise TacticError(f"invalid 'calc' step, left-hand side is\n  {pp(step.lhs)}\nprevious right-hand side is\n  {pp(rhs)}")
        check_prop(step, g)
        el.check(_proof_term(proof), step)
        if rel is None:
            lhs, rel = step.lhs, step.op
        elif rel == "=":
            rel = step.op
        elif step.op != "=":
            rel2 = _CALC_TRANS.get((rel, step.op))
            if rel2 is None:
                raise TacticError(f"invalid 'calc' step, failed to synthesize `Trans` instance for {rel} and {step.op}")
            rel = rel2
        rhs = step.rhs
    chain = Bin(rel, lhs, rhs)
    if not defeq(chain, g.target, g.ctx):
        raise TacticError(f"type mismatch\n  calc ...\nhas type\n  {pp(chain)} : Prop\nbut is expected to have type\n  {pp(g.target)} : Prop")
    return s.replace_main([], el.axioms)


def _proof_term(text: str) -> Term:
    text = text.strip()
    if text.startswith("by") and (len(text) == 2 or not (text[2].isalnum() or text[2] == "_")):
        return ByTac(dedent_block(text[2:].strip("\n ")) if "\n" in text else text[2:].strip())
    return term(text)


@tactic("sorry", "admit", "exact?", "apply?")
def t_sorry(e: Engine, s: ProofState, rest: str) -> ProofState:
    r = s.replace_main([], frozenset({"sorryAx"}))
    return ProofState(r.goals, r.axioms, r.sorries + 1)
