"""Tactics that close the main goal outright: proof terms (`exact`, `apply`, `refine`, `calc`),
reflexivity and assumption, contradiction, decision procedures (`decide`, `tauto`), and `sorry`."""
from __future__ import annotations

from lean_env.embedded import arith, carriers, discrete
from lean_env.embedded.elab import _instantiate, _is_refl, _match
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, canon, defeq
from lean_env.embedded.simp import TRUE
from lean_env.embedded.terms import NAT, ByTac, Bin, Const, Hole, Num, Quant, Term, Un, Var, free_vars, pp, subst
from lean_env.embedded.tactics.engine import Engine, check_prop, elaborated
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, dedent_block, matching_close, parse_fun, split_top, term


@tactic("exact", argument="required")
def t_exact(e: Engine, s: ProofState, rest: str) -> ProofState:
    done = run_fun(e, s.main, rest, "exact")
    if done is not None:
        return _merge(s, done)
    el = e.elab(s.main)
    el.check(term(rest), s.main.target)
    return elaborated(s, [], el)


def run_fun(e: Engine, g: Goal, text: str, final: str) -> ProofState | None:
    """A `fun` proof with an anonymous-constructor binder (`fun ⟨x, hx⟩ h => ..`, which the term
    parser does not read) the way Lean elaborates it against a `∀`/`→`/`¬` goal: each binder
    introduces one, a pattern destructures it, then `final` (`exact`/`refine`) takes the body.
    None for any other text (plain `fun` terms are the elaborator's)."""
    parsed = parse_fun(text)
    if parsed is None or not any(b.startswith("⟨") for b in parsed[0]):
        return None   # plain binders: the elaborator checks `fun` terms (Elab._check_fun)
    binders, body = parsed
    state = ProofState((g,))
    for b in binders:
        if b.startswith("⟨"):
            state = e.atomic(state, "rintro", b)
        elif b.startswith("(") and matching_close(b, 0) == len(b) - 1 and ":" in b:
            names, _, ty = b[1:-1].partition(":")
            for name in names.split():
                state = e.atomic(state, "intro", name)
                _check_binder_type(state.main, name, ty.strip())
        else:
            state = e.atomic(state, "intro", b)
    return e.atomic(state, final, body)


def _check_binder_type(g: Goal, name: str, ty: str) -> None:
    """`fun (x : T) => ..`: the binder's stated type must be the goal's."""
    h = g.hyps[-1]
    if h.is_var:
        ok = {"Nat": NAT, "Int": "ℤ"}.get(ty, ty) == h.type
    else:
        ok = defeq(check_prop(term(ty), g), h.type, g.ctx)
    if not ok:
        shown = h.type if h.is_var else pp(h.type)
        raise TacticError(f"type mismatch\n  {name}\nhas type\n  {ty}\nbut is expected to have type\n  {shown}")


def _merge(s: ProofState, done: ProofState) -> ProofState:
    """The main goal of `s` replaced by the goals a nested run on it left."""
    return ProofState(done.goals + s.goals[1:], s.axioms | done.axioms, s.sorries + done.sorries)


@tactic("exact_mod_cast", argument="required")
def t_exact_mod_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`exact` up to casts: the term's type and the goal agree in `norm_cast` normal form."""
    from lean_env.embedded.simp import norm_cast_prop

    g = s.main
    el = e.elab(g)
    try:
        el.check(term(rest), g.target)
        return elaborated(s, [], el)
    except TacticError as err:
        t = term(rest)
        try:
            got = el.infer(t)
        except TacticError:
            raise err from None
        if not defeq(norm_cast_prop(got), norm_cast_prop(g.target), g.ctx):
            raise err from None
    return elaborated(s, [], el)


@tactic("refine", argument="required")
def t_refine(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`exact` whose `?_` holes become new goals, in order (plain `_` must be solved, as in Lean)."""
    g = s.main
    done = run_fun(e, g, rest, "refine")
    if done is not None:
        return _merge(s, done)
    el = e.elab(g)
    el.holes = []
    el.check(term(rest), g.target)
    return elaborated(s, list(el.holes), el)


@tactic("apply", argument="required")
def t_apply(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    el = e.elab(g)
    t = term(rest)
    try:
        el.check(t, g.target)
        return elaborated(s, [], el)
    except TacticError:
        pass
    p, metas = el.partial_app(t)
    stated = p
    premises: list[Term] = []
    while True:
        binding: dict[str, Term] = {}
        if defeq(p, g.target, g.ctx) or (metas and _match(p, g.target, metas, binding, g.ctx, el.meta_types)):
            break
        if isinstance(p, Quant) and p.kind == "∀":
            # a universally quantified argument becomes a metavariable solved by unification
            meta = "?" + p.var
            while meta in metas:
                meta += "'"
            metas.add(meta)
            el.meta_types[meta] = p.ty
            p = subst(p.body, p.var, Var(meta))
        elif isinstance(p, Bin) and p.op == "→":
            premises.append(p.lhs)
            p = p.rhs
        elif isinstance(p, Un) and p.op == "¬" and g.target == Const(False):
            premises.append(p.arg)
            p = Const(False)
        elif isinstance(p, Bin) and p.op == "≠" and g.target == Const(False):   # `a ≠ b` is `a = b → False`
            premises.append(Bin("=", p.lhs, p.rhs))
            p = Const(False)
        else:
            raise TacticError(
                f"tactic 'apply' failed, could not unify the conclusion of `{pp(t)}`\n  {pp(stated)}\n"
                f"with the goal\n  {pp(g.target)}"
            )
    premises = [_instantiate(q, binding, g.ctx) for q in premises]
    if any(v in metas for q in premises for v in free_vars(q)):
        # Lean would leave `?x` as a new goal; the fragment has no metavariable goals
        raise TacticError(f"don't know how to synthesize placeholder in\n  apply {pp(t)}")
    return elaborated(s, [g.with_target(q) for q in premises], el)


def contradiction_in(g: Goal) -> bool:
    """Lean's `contradiction`: a hypothesis `False`, `a ≠ a` (up to defeq), an equation between
    distinct natural-number literals (different constructors), or both `p` and `¬p`. It does no
    arithmetic beyond that: `h : 2 + 2 = 5` is not a contradiction to it."""
    props = g.props()
    ctx = g.ctx
    for p in props:
        if p == Const(False):
            return True
        diseq = p if isinstance(p, Bin) and p.op == "≠" else (
            p.arg if isinstance(p, Un) and p.op == "¬" and isinstance(p.arg, Bin) and p.arg.op == "=" else None)
        if diseq is not None and (defeq(diseq.lhs, diseq.rhs, ctx) or _closed_equal(diseq, ctx)):
            return True
        if (isinstance(p, Bin) and p.op == "=" and isinstance(p.lhs, Num) and isinstance(p.rhs, Num)
                and p.lhs.value != p.rhs.value and arith.relation_type(p, ctx) == NAT):
            return True
        neg = Un("¬", p)
        if any(defeq(q, neg, ctx) for q in props):
            return True
    return False


def _closed_equal(p: Bin, ctx: dict[str, str]) -> bool:
    """Both sides are closed arithmetic with the same value: defeq at default transparency,
    where ℕ and ℤ operations on literals compute (`2 + 2 ≠ 4` is `a ≠ a`)."""
    if not (arith.is_closed_arith(p.lhs) and arith.is_closed_arith(p.rhs)):
        return False
    try:
        return arith.decide(Bin("=", p.lhs, p.rhs), ctx)
    except arith.ArithError:
        return False


@tactic("contradiction", argument="none")
def t_contradiction(e: Engine, s: ProofState, rest: str) -> ProofState:
    if contradiction_in(s.main):
        return s.replace_main([])
    raise TacticError(f"tactic 'contradiction' failed\n{s.main.pp()}")


@tactic("assumption", argument="none")
def t_assumption(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    raise TacticError(f"tactic 'assumption' failed\n{g.pp()}")


def rfl_closes(g: Goal) -> bool:
    return _is_refl(g.target, g.ctx)


# -- reflexivity at reducible transparency (`with_reducible rfl`, run by `rw` and `use`)
#
# At reducible transparency `Int.add` does not unfold, so `(4 : ℤ) + 3 = 7` is not closed; but
# ℕ literal arithmetic is evaluated by the defeq check itself (instances are reducible, and
# `Nat.add`/`Nat.pow`/... on literals reduce natively; `isDefEqOffsetNat` handles `x + 2 + 1 =
# x + 3`), so `(4 : ℕ) + 3 = 7` and `25 ^ 3 = 15625` are.

_NAT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: max(a - b, 0), "*": lambda a, b: a * b,
            "/": lambda a, b: a // b if b else 0, "%": lambda a, b: a % b if b else a}


def _eval_nat(t: Term) -> int | None:
    if isinstance(t, Num):
        return t.value
    if isinstance(t, Bin) and (t.op in _NAT_OPS or t.op == "^"):
        a, b = _eval_nat(t.lhs), _eval_nat(t.rhs)
        if a is None or b is None or (t.op == "^" and b > 4096):
            return None
        return a ** b if t.op == "^" else _NAT_OPS[t.op](a, b)
    return None


def _nat_offset(t: Term) -> tuple[Term, int]:
    """`s + k₁ + k₂` -> (s, k₁ + k₂) for literals kᵢ, as Lean's `isOffset?` reads it."""
    if isinstance(t, Bin) and t.op == "+":
        k = _eval_nat(t.rhs)
        if k is not None:
            base, k0 = _nat_offset(t.lhs)
            return base, k0 + k
    return t, 0


def reducible_eq(a: Term, b: Term, nat: bool) -> bool:
    """`a =?= b` at reducible transparency: the same term (numerals at the same type), with ℕ
    literal arithmetic evaluated when `nat` (the terms are natural numbers)."""
    if nat:
        va, vb = _eval_nat(a), _eval_nat(b)
        if va is not None and vb is not None:
            return va == vb
        (sa, ka), (sb, kb) = _nat_offset(a), _nat_offset(b)
        if (ka or kb) and ka == kb:
            return reducible_eq(sa, sb, nat)
    if isinstance(a, Num) and isinstance(b, Num):
        return a == b
    if isinstance(a, Bin) and isinstance(b, Bin):
        return a.op == b.op and reducible_eq(a.lhs, b.lhs, nat) and reducible_eq(a.rhs, b.rhs, nat)
    if isinstance(a, Un) and isinstance(b, Un):
        return a.op == b.op and reducible_eq(a.arg, b.arg, nat)
    return a == b


def reducible_rfl(g: Goal) -> bool:
    """`with_reducible rfl`: `Eq.refl`, `Iff.refl` and the `@[refl]` lemmas `le_refl`/`dvd_refl`,
    each needing its two sides equal at reducible transparency."""
    t = g.target
    if not (isinstance(t, Bin) and t.op in ("=", "↔", "≤", "≥", "∣")):
        return False
    if t.op == "↔":
        return reducible_eq(t.lhs, t.rhs, False)
    return reducible_eq(t.lhs, t.rhs, arith.relation_type(t, g.ctx) == NAT)


def reducible_prop_eq(p: Term, q: Term, ctx: dict[str, str]) -> bool:
    """Two propositions equal at reducible transparency (what `with_reducible assumption` needs)."""
    if isinstance(p, Bin) and isinstance(q, Bin) and p.op == q.op:
        if p.op in ("∧", "∨", "→", "↔"):
            return reducible_prop_eq(p.lhs, q.lhs, ctx) and reducible_prop_eq(p.rhs, q.rhs, ctx)
        pty, qty = arith.relation_type(p, ctx), arith.relation_type(q, ctx)
        if pty != qty:   # an ℤ fact never closes the ℕ goal that prints the same
            return False
        nat = pty == NAT
        return reducible_eq(p.lhs, q.lhs, nat) and reducible_eq(p.rhs, q.rhs, nat)
    if isinstance(p, Un) and isinstance(q, Un) and p.op == q.op == "¬":
        return reducible_prop_eq(p.arg, q.arg, ctx)
    return p == q


@tactic("rfl", argument="none")
def t_rfl(e: Engine, s: ProofState, rest: str) -> ProofState:
    if rfl_closes(s.main):
        return s.replace_main([])
    raise TacticError(f"The rfl tactic failed. Possible reasons:\n- The goal is not a reflexive relation\n{s.main.pp()}")


@tactic("trivial", argument="none")
def t_trivial(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if g.target == TRUE or rfl_closes(g) or any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    try:
        if (not arith.has_quantifier(g.target) and not free_vars(g.target)
                and discrete.largest_set(g.target) <= arith.MAX_DECIDE_RANGE and arith.decide(g.target, g.ctx)):
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


@tactic("decide", argument="none")
def t_decide(e: Engine, s: ProofState, rest: str, axioms: frozenset = frozenset()) -> ProofState:
    g = s.main
    if free_vars(g.target):
        raise TacticError("expected type must not contain free variables\n  " + pp(g.target))
    if not axioms and discrete.largest_set(g.target) > arith.MAX_DECIDE_RANGE:
        # the kernel unfolds `Finset.range 2003` one element at a time (native_decide does not)
        raise TacticError("maximum recursion depth has been reached\nuse `set_option maxRecDepth <num>` to increase limit")
    try:
        ok = arith.decide(g.target, g.ctx)
    except arith.ArithError as err:
        raise TacticError(f"failed to synthesize\n  Decidable ({pp(g.target)})\n{err}") from None
    if not ok:
        raise TacticError(f"tactic 'decide' proved that the proposition\n  {pp(g.target)}\nis false")
    return s.replace_main([], axioms)


@tactic("native_decide", argument="none")
def t_native_decide(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_decide(e, s, rest, frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"}))


@tactic("tauto", argument="none")
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


@tactic("calc", argument="required")
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
        step = check_prop(step, g)   # elaborated first: the links are compared with their types
        if rel is not None and rel != "↔" and step.op != "↔":   # every link over one type, as `Trans` needs
            carriers.require_same_carrier(arith.relation_type(Bin(rel, lhs, rhs), g.ctx),
                                          arith.relation_type(step, g.ctx), "calc")
        if rhs is not None and not defeq(step.lhs, rhs, g.ctx):
            raise TacticError(f"invalid 'calc' step, left-hand side is\n  {pp(step.lhs)}\nprevious right-hand side is\n  {pp(rhs)}")
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
    return elaborated(s, [], el)


def _proof_term(text: str) -> Term:
    text = text.strip()
    if text.startswith("by") and (len(text) == 2 or not (text[2].isalnum() or text[2] == "_")):
        return ByTac(dedent_block(text[2:].strip("\n ")) if "\n" in text else text[2:].strip())
    return term(text)


@tactic("sorry", "admit", "exact?", "apply?", argument="none")
def t_sorry(e: Engine, s: ProofState, rest: str) -> ProofState:
    r = s.replace_main([], frozenset({"sorryAx"}))
    return ProofState(r.goals, r.axioms, r.sorries + 1)
