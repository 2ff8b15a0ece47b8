"""Tactics that reshape the goal and its context: introduction (`intro`, `constructor`, `left`,
`use`, `have`, ...), case analysis (`cases`, `rcases`, `obtain`, `induction`), and context edits
(`subst`, `specialize`, `clear`, `rename_i`)."""
from __future__ import annotations

import re

from lean_env.embedded import arith
from lean_env.embedded.definitions import unfold_head
from lean_env.embedded.elab import unfold_dvd
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, defeq, fresh_inaccessible
from lean_env.embedded.simp import TRUE
from lean_env.embedded.terms import NAT, App, Bin, Const, Num, Quant, Term, Un, Var, free_vars, pp, subst
from lean_env.embedded.tactics.closers import reducible_prop_eq, reducible_rfl, run_fun, t_trivial
from lean_env.embedded.tactics.engine import Engine, check_prop, elaborated, hyp_prop
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import (
    TacticSyntaxError, binder_names, is_binder_ident, matching_close, names_list, parse_alternatives, split_patterns, split_top, term,
)


# -- introduction


@tactic("intro")
def t_intro(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`intro x h ⟨a, b⟩`: names introduce; an anonymous-constructor pattern destructures the
    binder it introduces (Lean's `intro` matches on it)."""
    state = s.replace_main([s.main])
    for pat in split_patterns(rest) or [None]:
        if pat is not None and pat.startswith(("⟨", "(")):   # `⟨a, b⟩`, `(h : p)`: a pattern
            state = t_rintro(e, state, pat)
        elif pat is not None and not is_binder_ident(pat):
            raise TacticError(f"intro: `{pat}` is neither a name nor a pattern that destructures the binder")
        else:
            state = state.replace_main([_intro_one(state.main, pat)])
    return state


@tactic("rintro", argument="required")
def t_rintro(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`rintro p₁ p₂ ...`: introduce one binder per pattern and destructure it like `rcases`
    (`rintro ⟨x, hx⟩ (h | h) rfl`); alternatives multiply the goals, later patterns apply to each."""
    goals = [s.main]
    for pat_text in split_patterns(rest):
        pattern = _rcases_pattern(pat_text)
        plain = pattern[0] == "name" and pattern[1] not in ("rfl", "-")
        out: list[Goal] = []
        for g in goals:
            t = g.target
            if plain or (isinstance(t, Quant) and t.kind == "∀"):
                if not plain:
                    raise TacticError(f"rintro: the pattern `{pat_text}` does not destructure a variable\n{g.pp()}")
                out.append(_intro_one(g, pattern[1]))
                continue
            tmp = fresh_inaccessible("h", g.names())
            g1 = _intro_one(g, tmp)
            out.extend(_destruct(g1.remove(tmp), tmp, g1.hyp(tmp).type, pattern, True))
        goals = out
    return s.replace_main(goals)


@tactic("intros")
def t_intros(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if rest.strip():
        return t_intro(e, s, rest)
    while _introducible(g.target):
        g = _intro_one(g, None)
    return s.replace_main([g])


_BOUND = "·bound"     # placeholders no Lean identifier can spell
_PENDING = "·pending"
_OBTAINED = "·obtained"


def open_binder(g: Goal, name: str, ty: str, var: str, body: Term, *others: Term) -> tuple[Goal, Term, list[Term]]:
    """Introduce the variable `name : ty` for the binder `var` of `body` and return the goal,
    `body[var := name]`, and `others` (terms about the old context, e.g. a destructed
    hypothesis). An older variable called `name` becomes inaccessible (`name✝`) in the goal
    *and* in the returned terms, so nothing that meant the old variable is captured by the new."""
    terms = [subst(body, var, Var(_BOUND)), *others]
    old = g.hyp(name)
    g2 = g.add(name, ty)
    if old is not None and old.is_var:
        dead = next(h2.name for h1, h2 in zip(g.hyps, g2.hyps) if h1 is old)
        terms = [subst(t, name, Var(dead)) for t in terms]
    return g2, subst(terms[0], _BOUND, Var(name)), terms[1:]


def as_exists(p: Term, ctx: dict[str, str]) -> Term:
    """What `rcases`, `obtain`, `cases` and `use` see: `a ∣ b` unfolds to `∃ c, b = a * c`;
    other propositions are returned as they are."""
    if isinstance(p, Bin) and p.op == "∣":
        return unfold_dvd(p, ctx)
    unfolded = unfold_head(p)   # `IsLeast s a` is `a ∈ s ∧ a ∈ lowerBounds s` to `obtain ⟨h₁, h₂⟩`
    return as_exists(unfolded, ctx) if unfolded is not None else p


def _introducible(t: Term) -> bool:
    return (isinstance(t, Quant) and t.kind == "∀") or (isinstance(t, Bin) and t.op == "→") or (
        isinstance(t, Un) and t.op == "¬") or (isinstance(t, Bin) and t.op == "≠")


def _intro_one(g: Goal, name: str | None) -> Goal:
    t = g.target
    while not _introducible(t) and unfold_head(t) is not None:   # `intro` unfolds by `whnf`
        t = unfold_head(t)
    if isinstance(t, Quant) and t.kind == "∀":
        n = name if name and name != "_" else fresh_inaccessible(t.var, g.names())
        g2, body, _ = open_binder(g, n, t.ty, t.var, t.body)
        return g2.with_target(body)
    if isinstance(t, Bin) and t.op == "→":
        prem, concl = t.lhs, t.rhs
    elif isinstance(t, Un) and t.op == "¬":
        prem, concl = t.arg, Const(False)
    elif isinstance(t, Bin) and t.op == "≠":
        prem, concl = Bin("=", t.lhs, t.rhs), Const(False)
    else:
        raise TacticError(f"no additional binders or let-variables to introduce in\n{g.pp()}")
    n = name if name and name != "_" else fresh_inaccessible("a", g.names())
    return g.add(n, prem).with_target(concl)


@tactic("constructor", argument="none")
def t_constructor(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = g.target
    if isinstance(t, Bin) and t.op == "∧":
        return s.replace_main([Goal(g.hyps, t.lhs, "left"), Goal(g.hyps, t.rhs, "right")])
    if isinstance(t, Bin) and t.op == "↔":
        return s.replace_main([Goal(g.hyps, Bin("→", t.lhs, t.rhs), "mp"), Goal(g.hyps, Bin("→", t.rhs, t.lhs), "mpr")])
    if isinstance(t, Bin) and t.op == "∨":
        # Lean tries the constructors in order and `Or.inl` always applies: the goal becomes `a`
        return s.replace_main([Goal(g.hyps, t.lhs, "h")])
    if t == TRUE:
        return s.replace_main([])
    if isinstance(t, Quant) and t.kind == "∃":
        # `Exists.intro` would leave the witness as a metavariable goal, which the fragment lacks
        raise TacticError(f"tactic 'constructor' is not supported on `∃` here: give the witness with `use`\n{g.pp()}")
    unfolded = unfold_head(t)   # `IsLeast s a`: the target's `whnf` is an `∧`
    if unfolded is not None and isinstance(unfolded, Bin) and unfolded.op in ("∧", "↔"):
        return t_constructor(e, s.replace_main([g.with_target(unfolded)]), rest)
    raise TacticError(f"tactic 'constructor' failed, target is not an inductive datatype\n{g.pp()}")


def t_left_right(side: str):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        g = s.main
        t = g.target
        if not (isinstance(t, Bin) and t.op == "∨"):
            raise TacticError(f"tactic '{side}' failed, target is not an inductive datatype with 2 constructors")
        return s.replace_main([Goal(g.hyps, t.lhs if side == "left" else t.rhs, "h")])
    return run


@tactic("exfalso", argument="none")
def t_exfalso(e: Engine, s: ProofState, rest: str) -> ProofState:
    return s.replace_main([s.main.with_target(Const(False))])


@tactic("by_contra")
def t_by_contra(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    name = rest.strip() or "h"  # Mathlib's `by_contra` without a name introduces `h✝`; we mirror `this`
    if not rest.strip():
        name = fresh_inaccessible("h", g.names())
    t = g.target
    hyp = t.arg if isinstance(t, Un) and t.op == "¬" else Un("¬", t)
    return s.replace_main([g.add(name, hyp).with_target(Const(False))], CLASSICAL)


def _instantiate_witnesses(e: Engine, g: Goal, args: list[str], tactic_name: str) -> tuple[Goal, frozenset]:
    """Feed `args` to the goal's constructors in order, as `use`/`exists` do: an `∃` (or `∣`,
    which unfolds to one) takes a witness, an `∧` takes a proof of its left side; the goal left
    is what no argument reached."""
    el = e.elab(g)
    for i, w in enumerate(args):
        t = as_exists(g.target, g.ctx)
        if isinstance(t, Quant) and t.kind == "∃":
            g = g.with_target(subst(t.body, t.var, el.value(term(w), t.ty)))
        elif isinstance(t, Bin) and t.op == "∧":
            el.check(term(w), t.lhs)
            g = g.with_target(t.rhs)
        elif i > 0:
            raise TacticError(f"too many arguments supplied to `{tactic_name}`")
        else:
            raise TacticError(f"{tactic_name}: the goal is not an existential\n{g.pp()}")
    return g, el.axioms


def use_discharger(g: Goal) -> bool:
    """Mathlib's `use_discharger` under `with_reducible`: `And.intro` (both sides must close),
    `rfl` and `assumption` at reducible transparency, `True.intro`. No `decide`, no arithmetic:
    after `use 4` the goal `(4 : ℤ) + 3 = 7` stays open, as in Lean."""
    t = g.target
    if t == TRUE or reducible_rfl(g):
        return True
    if any(reducible_prop_eq(p, t, g.ctx) for p in g.props()):
        return True
    if isinstance(t, Bin) and t.op == "∧":
        return use_discharger(g.with_target(t.lhs)) and use_discharger(g.with_target(t.rhs))
    return False


@tactic("by_cases", argument="required")
def t_by_cases(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`by_cases h : p`: goals `pos` with `h : p` and `neg` with `h : ¬p` (Mathlib decides `p`
    classically). Without a name the hypothesis is called `h`."""
    g = s.main
    name, sep, prop_text = rest.partition(":")
    if not sep:
        name, prop_text = "h", rest
    name = name.strip() or "h"
    p = check_prop(term(prop_text), g)
    return s.replace_main([Goal(g.add(name, p).hyps, g.target, "pos"), Goal(g.add(name, Un("¬", p)).hyps, g.target, "neg")], CLASSICAL)


@tactic("use", argument="required")
def t_use(e: Engine, s: ProofState, rest: str) -> ProofState:
    args = [x.strip() for x in split_top(rest, ",") if x.strip()]
    g, axioms = _instantiate_witnesses(e, s.main, args, "use")
    return s.replace_main([] if use_discharger(g) else [g], axioms)


@tactic("exists", argument="required")
def t_exists(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Lean's `exists x, y`: `refine ⟨x, y, ?_⟩; try trivial` (full `trivial`, `decide` included)."""
    args = [x.strip() for x in split_top(rest, ",") if x.strip()]
    g, axioms = _instantiate_witnesses(e, s.main, args, "exists")
    state = s.replace_main([g], axioms)
    try:
        return t_trivial(e, state, "")
    except TacticError:
        return state


def _parse_have(rest: str) -> tuple[str, str | None, str | None]:
    """`h : t := proof`, `h : t`, `: t := ...`, `h := proof` -> (name, type text, proof text)."""
    proof = None
    parts = split_top(rest, ":=")
    if len(parts) > 1:
        rest, proof = parts[0], ":=".join(parts[1:]).strip()
    name, sep, ty = rest.partition(":")
    name = name.strip() or "this"
    return name, (ty.strip() if sep else None), proof


@tactic("have")
def t_have(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    name, ty_text, proof = _parse_have(rest)
    if name.startswith("⟨"):   # `have ⟨x, hx⟩ := h` destructures, like `obtain`
        return t_obtain(e, s, rest)
    el = e.elab(g)
    if ty_text is None:
        if proof is None:
            raise TacticSyntaxError("<input>:1:5: unexpected end of input; expected ':=' or ':'")
        prop = el.infer(term(proof))
        return elaborated(s, [g.add(name, prop)], el)
    prop = term(ty_text)
    prop = check_prop(prop, g)
    if proof is None:  # `have h : t` opens a goal for t first
        return s.replace_main([g.with_target(prop), g.add(name, prop)])
    done = run_fun(e, g.with_target(prop), proof, "exact")
    if done is not None:
        return ProofState((g.add(name, prop),) + s.goals[1:], s.axioms | done.axioms, s.sorries + done.sorries)
    el.check(term(proof), prop)
    return elaborated(s, [g.add(name, prop)], el)


@tactic("show", argument="required")
def t_show(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    p = check_prop(term(rest), g)
    if not defeq(p, g.target, g.ctx):
        raise TacticError(f"type mismatch\n  {pp(p)}\nis not definitionally equal to the goal\n  {pp(g.target)}")
    return s.replace_main([g.with_target(p)])


# -- context edits


@tactic("specialize", argument="required")
def t_specialize(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = term(rest)
    if not isinstance(t, App) or not isinstance(t.fn, Var):
        raise TacticError("'specialize' requires a term of the form `h x_1 .. x_n`")
    hyp_prop(g, t.fn.name)   # a local hypothesis, not a library lemma or a variable
    el = e.elab(g)
    p = el.infer(t)
    return elaborated(s, [g.replace_hyp(t.fn.name, p)], el)


@tactic("subst", argument="required")
def t_subst(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    for name in names_list(rest):
        h = g.hyp(name)
        if h is not None and h.is_var:  # `subst x`: find an equation for x
            cand = [x for x in g.hyps if not x.is_var and isinstance(x.type, Bin) and x.type.op == "="
                    and Var(name) in (x.type.lhs, x.type.rhs)]
            if not cand:
                raise TacticError(f"subst failed, no equation for '{name}'")
            h = cand[0]
        if h is None:
            raise TacticError(f"unknown identifier '{name}'")
        p = hyp_prop(g, h.name)
        if not (isinstance(p, Bin) and p.op == "="):
            raise TacticError(f"invalid equality proof, it is not of the form (x = t) or (t = x)\n  {pp(p)}")
        if isinstance(p.rhs, Var) and p.rhs.name in g.ctx and p.rhs.name not in free_vars(p.lhs):
            var, val = p.rhs.name, p.lhs
        elif isinstance(p.lhs, Var) and p.lhs.name in g.ctx and p.lhs.name not in free_vars(p.rhs):
            var, val = p.lhs.name, p.rhs
        else:
            raise TacticError(f"'subst' failed, no variable side in\n  {pp(p)}")
        g = _substitute_var(g.remove(h.name), var, val)
    return s.replace_main([g])


def _substitute_var(g: Goal, var: str, val: Term) -> Goal:
    val = arith.typed(val, g.ctx.get(var))
    hyps = tuple(
        h if h.is_var else type(h)(h.name, subst(h.type, var, val)) for h in g.hyps if h.name != var
    )
    return Goal(hyps, subst(g.target, var, val), g.case)


@tactic("clear", argument="required")
def t_clear(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    for n in names_list(rest):
        g = g.clear(n)
    return s.replace_main([g])


@tactic("rename_i", argument="required")
def t_rename_i(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Name the last inaccessible hypotheses, in order. A name that a later hypothesis already
    has stays shadowed (inaccessible), as in Lean; uses of a renamed variable follow it."""
    g = s.main
    new = binder_names(rest)
    dead = [h.name for h in g.hyps if "✝" in h.name][-len(new):]
    for old, name in zip(dead, new):
        if name == "_":
            continue
        later = [h.name for h in g.hyps[[h.name for h in g.hyps].index(old) + 1:]]
        g = g.rename(old, fresh_inaccessible(name, g.names()) if name in later else name)
    return s.replace_main([g])


# -- case analysis


def run_alternatives(e: "Engine", s: ProofState, goals: list[Goal], alts: dict, axioms: frozenset) -> ProofState:
    """Each new goal is solved by the alternative named after its case tag, as Lean requires."""
    unused = set(alts) - {g.case for g in goals}
    if unused:
        raise TacticError(f"invalid alternative name '{sorted(unused)[0]}'")
    state = s.replace_main([], axioms)
    for g in goals:
        if g.case not in alts:
            raise TacticError(f"alternative '{g.case}' has not been provided")
        _, text = alts[g.case]
        done = e.run(ProofState((g,), state.axioms, state.sorries), text)
        if done.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(done.pp_goals()))
        state = ProofState(state.goals, done.axioms, done.sorries)
    return state


@tactic("induction", argument="required")
def t_induction(e: Engine, s: ProofState, rest: str, prime: bool = False) -> ProofState:
    """`induction n (generalizing m ..) (with | zero => .. | succ k ih => ..)`, and Mathlib's
    `induction' n with k ih` (`prime`: names after `with`)."""
    g = s.main
    text = " " + rest.strip()
    m = re.search(r"\swith(?:\s|$)", text)
    head, sep, tail = (text[:m.start()], True, text[m.end():]) if m else (text, False, "")
    words = head.split()
    n, generalize = words[0], words[2:]
    if len(words) > 1 and (words[1] != "generalizing" or not generalize):
        raise TacticSyntaxError(f"<input>:1:0: unexpected token '{words[1]}'; expected 'with'")
    names: list[str] = []
    if sep:
        if not prime:
            alts = parse_alternatives(tail)
            bare = t_induction(e, s, head, prime=True)
            new = list(bare.goals[: len(bare.goals) - len(s.goals) + 1])
            if "succ" in alts:
                new = [_rename_new(g, s.main, alts[g.case][0]) if g.case in alts else g for g in new]
            return run_alternatives(e, s, new, alts, bare.axioms)
        # Mathlib's syntax (Mathlib/Tactic/Cases.lean, `induction'`): `with binderIdent+` then
        # `generalizing ident+`; a second `with` or a numeral is no binderIdent, a parse error.
        # Surplus names are no error: `ElimApp.evalNames` hands each alternative its number of
        # fields (`splitAtD`) and drops what is left, so `with k ih extra` is `with k ih`.
        if generalize:   # `generalizing` comes after the names; this `with` ends the tactic
            raise TacticSyntaxError("<input>:1:0: unexpected token 'with'; expected command")
        gm = re.search(r"\sgeneralizing(?:\s|$)", " " + tail)
        name_text, gen_text = (tail[:max(gm.start() - 1, 0)], tail[gm.end() - 1:]) if gm else (tail, "")
        names = binder_names(name_text)
        if not names:
            raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected identifier or '_'")
        if gm:
            generalize = binder_names(gen_text)
            if not generalize:
                raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected identifier")
    if g.ctx.get(n) != NAT:
        raise TacticError(f"index in target's type is not a variable or not of type ℕ: '{n}'")
    for v in generalize:
        if v not in g.ctx or v == n:
            raise TacticError(f"unknown variable '{v}' to generalize")
    given = names[:2] + ["_"] * (2 - len(names[:2]))   # `Nat.rec`'s `succ` has two fields
    k = given[0] if given[0] != "_" else fresh_inaccessible(n, g.names() - {n})
    ih = given[1] if given[1] != "_" else fresh_inaccessible("a", g.names())
    return s.replace_main(nat_split(g, n, k, ih, generalize))


def nat_split(g: Goal, n: str, k: str, ih: str | None, generalize: list[str] = ()) -> list[Goal]:
    """Split on the ℕ variable `n`: goals `zero` (n := 0) and `succ` (n := k + 1, with the
    induction hypothesis `ih` unless it is None, as for `cases`). The variables in `generalize`
    and every hypothesis mentioning `n` or them are reverted into the motive (so the induction
    hypothesis is about all their values) and reintroduced by name afterwards, as Lean does."""
    gen = [h for h in g.hyps if h.is_var and h.name in generalize]
    reverted = {n, *generalize}
    deps = [h for h in g.hyps if not h.is_var and reverted & free_vars(h.type)]
    motive = g.target
    for h in reversed(deps):
        motive = Bin("→", h.type, motive)
    for v in reversed(gen):
        motive = Quant("∀", v.name, v.type, motive)
    without_n = Goal(tuple(h for h in g.hyps if h not in deps and h.name not in reverted), motive, g.case)
    zero = Goal(without_n.hyps, subst(motive, n, Num(0, NAT)), "zero")
    # `k` may shadow a variable the motive mentions: open_binder renames that one to `k✝`
    succ, ih_type, (renamed,) = open_binder(without_n, k, NAT, n, motive, motive)
    if ih is not None:
        succ = succ.add(ih, ih_type)
    succ = Goal(succ.hyps, subst(renamed, n, Bin("+", Var(k, NAT), Num(1, NAT))), "succ")
    out = []
    for goal in (zero, succ):
        for name in [v.name for v in gen] + [h.name for h in deps]:
            goal = _intro_one(goal, name)
        out.append(goal)
    return out


def _rcases_pattern(text: str):
    """Parse an rcases pattern: name | ⟨p, q, ...⟩ | p | q (alternatives) | (p : t) | rfl | _ | -."""
    text = text.strip()
    alts = split_top(text, "|")
    if len(alts) > 1:
        return ("alt", [_rcases_pattern(a) for a in alts])
    if text.startswith("(") and matching_close(text, 0) == len(text) - 1:
        inner = text[1:-1]
        pat, *ty = split_top(inner, ":")
        if ty:   # `(h : t)`: the component, stated as `t`
            return ("typed", (_rcases_pattern(pat), ":".join(ty)))
        return _rcases_pattern(inner)
    if text.startswith("⟨"):
        if matching_close(text, 0) != len(text) - 1:
            raise TacticSyntaxError("<input>:1:0: unexpected token; expected '⟩'")
        return ("tuple", [_rcases_pattern(p) for p in split_top(text[1:-1], ",")])
    if not text:
        return ("name", "_")
    pat, *ty = split_top(text, ":")
    if ty and not text.startswith("⟨"):   # `⟨x, hx : x > 2⟩`: rcasesPatLo takes `pat : term` unbracketed
        return ("typed", (_rcases_pattern(pat), ":".join(ty)))
    if text != "-" and not is_binder_ident(text):   # `⟨x, 40⟩`: Lean's rcasesPat parser refuses it
        raise TacticSyntaxError(f"<input>:1:0: unexpected token '{text}'; expected rcases pattern")
    return ("name", text)


def _destruct(g: Goal, name: str, prop: Term, pat, tags: bool) -> list[Goal]:
    """Destructure hypothesis `name : prop` (already removed from g) along an rcases pattern."""
    kind, arg = pat
    if kind == "typed":
        inner, ty_text = arg
        stated = check_prop(term(ty_text), g)
        if not defeq(stated, prop, g.ctx):
            raise TacticError(f"type mismatch\n  {pp(prop)}\nis not definitionally equal to\n  {pp(stated)}")
        return _destruct(g, name, stated, inner, tags)
    if kind == "name":
        if arg == "-":
            return [g]
        if arg == "rfl":
            if not (isinstance(prop, Bin) and prop.op == "="):
                raise TacticError("rcases: `rfl` pattern needs an equation")
            tmp = fresh_inaccessible("h", g.names())
            return list(t_subst(None, ProofState((g.add(tmp, prop),)), tmp).goals[:1])
        n = fresh_inaccessible("h", g.names()) if arg == "_" else arg
        return [g.add(n, prop)]
    if kind == "alt":
        if not (isinstance(prop, Bin) and prop.op == "∨"):
            if len(arg) == 1:
                return _destruct(g, name, prop, arg[0], tags)
            raise TacticError(f"rcases: alternative pattern for a non-disjunction\n  {pp(prop)}")
        left = _destruct(Goal(g.hyps, g.target, "inl"), name, prop.lhs, arg[0], tags)
        rest = arg[1:]
        right_pat = rest[0] if len(rest) == 1 else ("alt", rest)
        right = _destruct(Goal(g.hyps, g.target, "inr"), name, prop.rhs, right_pat, tags)
        return left + right
    # tuple
    pats = list(arg)
    if len(pats) == 1:
        return _destruct(g, name, prop, pats[0], tags)
    prop = as_exists(prop, g.ctx)   # rcases takes the `whnfD` at every level: `rintro ⟨k, hk⟩` on `Even n`
    if isinstance(prop, Bin) and prop.op in ("∧", "↔"):
        lhs, rhs = (prop.lhs, prop.rhs) if prop.op == "∧" else (
            Bin("→", prop.lhs, prop.rhs), Bin("→", prop.rhs, prop.lhs))
        # the right side waits in the context while the left is destructed, so an `rfl` or a
        # shadowing name there updates it too (`⟨rfl, h⟩` on `x = 2 ∧ x > 1` gives `h : 2 > 1`)
        first = _destruct(g.add(_PENDING, rhs), name, lhs, pats[0], tags)
        rest_pat = pats[1] if len(pats) == 2 else ("tuple", pats[1:])
        return [r for g1 in first for r in _destruct(g1.remove(_PENDING), name, g1.hyp(_PENDING).type, rest_pat, tags)]
    if isinstance(prop, Quant) and prop.kind == "∃":
        vpat = pats[0]
        vname = vpat[1] if vpat[0] == "name" and vpat[1] not in ("_", "-", "rfl") else fresh_inaccessible(prop.var, g.names())
        g1, body, _ = open_binder(g, vname, prop.ty, prop.var, prop.body)
        rest_pat = pats[1] if len(pats) == 2 else ("tuple", pats[1:])
        return _destruct(g1, name, body, rest_pat, tags)
    if isinstance(prop, Bin) and prop.op == "∨":
        return _destruct(g, name, prop, ("alt", pats), tags)
    raise TacticError(f"rcases: cannot destructure\n  {pp(prop)}")


def _source_prop(e: Engine, g: Goal, src: str, unfold: bool = True) -> tuple[Goal, str, Term, frozenset]:
    """The hypothesis (removed from the context) or proof term that rcases/obtain destructs;
    `unfold=False` leaves the unfolding to `_destruct` (a plain name pattern keeps `Even n`)."""
    src = src.strip()
    h = g.hyp(src)
    see = (lambda p: as_exists(p, g.ctx)) if unfold else (lambda p: p)
    if h is not None and not h.is_var:
        return g.remove(src), src, see(h.type), frozenset()
    if h is not None:
        raise TacticError(f"tactic 'cases' failed: '{src}' is a variable of type {h.type}; only ℕ variables split (zero/succ)")
    el = e.elab(g)
    p = el.infer(term(src))
    return g, src, see(p), el.axioms


def _nat_var(g: Goal, src: str) -> str | None:
    """`src` names a ℕ variable of the goal (what `cases n` / `rcases n with _ | m` split)."""
    h = g.hyp(src.strip())
    return h.name if h is not None and h.is_var and h.type == NAT else None


def _nat_cases(g: Goal, n: str, succ_name: str | None) -> list[Goal]:
    k = succ_name if succ_name not in (None, "_") else fresh_inaccessible(n, g.names() - {n})
    return nat_split(g, n, k, None)


@tactic("rcases", argument="required")
def t_rcases(e: Engine, s: ProofState, rest: str) -> ProofState:
    src, sep, pat = rest.partition(" with ")
    pattern = _rcases_pattern(pat) if sep else ("name", "_")
    n = _nat_var(s.main, src)
    if n is not None:
        return s.replace_main(_nat_cases(s.main, n, _succ_name(pattern)))
    g, name, prop, ax = _source_prop(e, s.main, src, unfold=False)
    return s.replace_main(_destruct(g, name, prop, pattern, True), ax)


def _succ_name(pattern) -> str | None:
    """The name an rcases pattern gives the predecessor: `_ | m` -> m; a plain name -> None."""
    if pattern[0] != "alt":
        return None
    if len(pattern[1]) != 2 or pattern[1][1][0] != "name":
        raise TacticError("rcases: a ℕ variable splits along the pattern `_ | m`")
    return pattern[1][1][1]


@tactic("obtain", argument="required")
def t_obtain(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`obtain pat := proof`, `obtain pat : type := proof`, and `obtain pat : type` (which first
    opens a goal for `type`, as Lean does)."""
    parts = split_top(rest, ":=")
    head, src = parts[0].strip(), ":=".join(parts[1:]).strip()
    pat_text, *ty = split_top(head, ":")
    pattern = _rcases_pattern(pat_text)
    if ty:
        state = t_have(e, s, f"{_OBTAINED} : {':'.join(ty)}" + (f" := {src}" if src else ""))
        i = 0 if src else 1          # without a proof, the goal for `type` comes first
        g = state.goals[i]
        prop = g.hyp(_OBTAINED).type
        return ProofState(state.goals[:i] + tuple(_destruct(g.remove(_OBTAINED), _OBTAINED, prop, pattern, True))
                          + state.goals[i + 1:], state.axioms, state.sorries)
    if len(parts) < 2 or not src:
        raise TacticSyntaxError("<input>:1:0: obtain: expected `obtain pat := proof` or `obtain pat : type`")
    n = _nat_var(s.main, src)
    if n is not None:
        return s.replace_main(_nat_cases(s.main, n, _succ_name(pattern)))
    g, name, prop, ax = _source_prop(e, s.main, src, unfold=False)
    return s.replace_main(_destruct(g, name, prop, pattern, True), ax)


def _rename_new(g: Goal, old: Goal, names: list[str]) -> Goal:
    """Give the hypotheses a case introduced (the inaccessible ones, in order) the user's names."""
    fresh = [h for h in g.hyps if h.name not in old.names() and h.name.endswith("✝")]
    for h, name in zip(fresh, names):
        if name != "_":
            g = g.rename(h.name, name)
    return g


@tactic("cases", argument="required")
def t_cases(e: Engine, s: ProofState, rest: str) -> ProofState:
    if re.search(r"\swith\s", rest + " "):
        src, _, alt_text = rest.partition("with")
        alts = parse_alternatives(alt_text)
        bare = t_cases(e, s, src.strip())
        new = list(bare.goals[: len(bare.goals) - len(s.goals) + 1])
        new = [_rename_new(g, s.main, alts[g.case][0]) if g.case in alts else g for g in new]
        return run_alternatives(e, s, new, alts, bare.axioms)
    n = _nat_var(s.main, rest)
    if n is not None:
        return s.replace_main(_nat_cases(s.main, n, None))
    g, name, prop, ax = _source_prop(e, s.main, rest)
    if isinstance(prop, Bin) and prop.op == "∨":
        n1 = fresh_inaccessible("h", g.names())
        return s.replace_main([Goal(g.add(n1, prop.lhs).hyps, g.target, "inl"), Goal(g.add(n1, prop.rhs).hyps, g.target, "inr")], ax)
    if isinstance(prop, Bin) and prop.op == "∧":
        g1 = g.add(fresh_inaccessible("left", g.names()), prop.lhs)
        g1 = g1.add(fresh_inaccessible("right", g1.names()), prop.rhs)
        return s.replace_main([Goal(g1.hyps, g1.target, "intro")], ax)
    if isinstance(prop, Quant) and prop.kind == "∃":
        g1, body, _ = open_binder(g, fresh_inaccessible("w", g.names()), prop.ty, prop.var, prop.body)
        g1 = g1.add(fresh_inaccessible("h", g1.names()), body)
        return s.replace_main([Goal(g1.hyps, g1.target, "intro")], ax)
    if prop == Const(False):
        return s.replace_main([], ax)
    raise TacticError(f"tactic 'cases' failed, cannot destructure\n  {pp(prop)}")


@tactic("cases'", argument="required")
def t_cases_prime(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Mathlib's `cases' h with n₁ n₂ ..` (Mathlib/Tactic/Cases.lean, `ElimApp.evalNames`): the
    names are dealt out in order, each constructor taking as many as it has fields (`Or.inl` one,
    `Or.inr` one, `And.intro`/`Exists.intro`/`Iff.intro` two, `Nat.succ` one); a constructor the
    names do not reach gets inaccessible ones, and names left over are dropped. No field is
    destructured further: `cases' h with a b c` on `p ∧ q ∧ r` gives `b : q ∧ r`."""
    src, sep, names = rest.partition(" with ")
    ns = binder_names(names) if sep else []
    if sep and not ns:
        raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected identifier or '_'")
    n = _nat_var(s.main, src)
    if n is not None:   # `cases' n with m`: `zero` has no field, `succ` takes the first name
        return s.replace_main(_nat_cases(s.main, n, ns[0] if ns else None))
    g, name, prop, ax = _source_prop(e, s.main, src)
    if isinstance(prop, Bin) and prop.op == "∨":
        n1 = ns[0] if ns[:1] not in ([], ["_"]) else fresh_inaccessible("h", g.names())
        n2 = ns[1] if ns[1:2] not in ([], ["_"]) else fresh_inaccessible("h", g.names())
        return s.replace_main([Goal(g.add(n1, prop.lhs).hyps, g.target, "inl"), Goal(g.add(n2, prop.rhs).hyps, g.target, "inr")], ax)
    fields = (ns + ["_", "_"])[:2]
    return s.replace_main(_destruct(g, name, prop, ("tuple", [("name", f) for f in fields]), True), ax)


tactic("left", argument="none")(t_left_right("left"))
tactic("right", argument="none")(t_left_right("right"))
tactic("induction'", argument="required")(lambda e, s, r: t_induction(e, s, r, prime=True))
