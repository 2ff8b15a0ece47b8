"""The tactic engine: parse tactic text (sequences, `<;>`, `·` blocks, combinators) and run each
tactic on the main goal with Lean's names, semantics and error messages."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

from lean_env.embedded import arith
from lean_env.embedded.elab import Elab
from lean_env.embedded.goals import CLASSICAL, Goal, ProofState, TacticError, canon, defeq, fresh_inaccessible
from lean_env.embedded.parser import ParseError, parse_term
from lean_env.embedded.simp import TRUE, hypothesis_rules, push_neg, simp_prop
from lean_env.embedded.terms import (
    NAT, Anon, Bin, Const, Hole, Num, Proj, Quant, Term, Un, Var, contains, free_vars, pp, replace, subst,
)

# Tactics whose syntax requires something after the name (a bare `try` is a parse error in Lean).
_NEEDS_ARGUMENT = frozenset({
    "try", "repeat", "all_goals", "any_goals", "first", "focus", "subst", "rename_i", "clear", "trace",
    "exact", "apply", "refine", "use", "exists", "specialize", "show", "calc", "interval_cases", "obtain",
    "rcases", "cases", "cases'", "induction", "induction'", "rw", "rewrite", "rwa", "sleep",
})
MAX_STEPS = 10_000   # tactic applications per request: `repeat` and friends cannot run forever


class TacticSyntaxError(TacticError):
    """The text does not parse as tactics (reported by the REPL as a top-level `message`)."""


@dataclass
class Engine:
    """Runs tactic text against proof states; `theorems` are the environment's declarations."""

    theorems: dict[str, tuple[Term, frozenset]]
    messages: list[str]
    steps: int = 0

    # ------------------------------------------------------------ scripts
    def run(self, state: ProofState, text: str) -> ProofState:
        for block in split_tactics(text):
            state = self.run_one(state, block)
        return state

    def run_one(self, state: ProofState, text: str) -> ProofState:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TacticError("maximum recursion depth has been reached")
        text = text.strip()
        if text.startswith("·") or text.startswith(". "):
            return self._focus(state, text[1:])
        parts = split_top(text, "<;>")
        if len(parts) > 1:
            after = self.run_one(state, parts[0])
            return self._all_new(after, "<;>".join(parts[1:]), before=state)
        if text.startswith("(") and _matching_close(text, 0) == len(text) - 1:
            return self.run(state, text[1:-1])
        head, rest = (text.split(None, 1) + [""])[:2] if text else ("", "")
        rest = rest.strip()
        if not rest and head in _NEEDS_ARGUMENT:
            raise TacticSyntaxError(f"<input>:1:{len(head)}: unexpected end of input")
        if head == "try":
            try:
                return self.run(state, rest)
            except TacticError:
                return state
        if head == "repeat":
            for _ in range(200):
                try:
                    new = self.run(state, rest)
                except TacticError:
                    break
                if new == state:
                    break
                state = new
            return state
        if head == "all_goals":
            return self._each_goal(state, rest, must_all=True)
        if head == "any_goals":
            return self._each_goal(state, rest, must_all=False)
        if head == "first":
            alts = [a.strip() for a in split_top(rest.lstrip("|"), "|")]
            last = TacticError("first: no alternatives")
            for alt in alts:
                try:
                    return self.run(state, alt)
                except TacticError as e:
                    last = e
            raise last
        if head in ("focus",):
            return self._focus(state, rest)
        return self.atomic(state, head, rest)

    def _focus(self, state: ProofState, text: str) -> ProofState:
        main = ProofState((state.main,), state.axioms, state.sorries)
        done = self.run(main, text)
        if done.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(done.pp_goals()))
        return ProofState(state.goals[1:], done.axioms, done.sorries)

    def _each_goal(self, state: ProofState, text: str, must_all: bool) -> ProofState:
        out: list[Goal] = []
        axioms, sorries, progress = state.axioms, state.sorries, False
        for g in state.goals:
            try:
                r = self.run(ProofState((g,), axioms, sorries), text)
                out.extend(r.goals)
                axioms, sorries, progress = r.axioms, r.sorries, True
            except TacticError:
                if must_all:
                    raise
                out.append(g)
        if not must_all and not progress:
            raise TacticError("any_goals failed on every goal")
        return ProofState(tuple(out), axioms, sorries)

    def _all_new(self, state: ProofState, text: str, before: ProofState) -> ProofState:
        """`t <;> s`: run s on every goal t produced (the goals not inherited from before)."""
        inherited = len(before.goals) - 1 if before.goals else 0
        new_count = len(state.goals) - inherited
        head = ProofState(state.goals[:new_count], state.axioms, state.sorries)
        r = self._each_goal(head, text, must_all=True)
        return ProofState(r.goals + state.goals[new_count:], r.axioms, r.sorries)

    # ------------------------------------------------------------ atomic tactics
    def atomic(self, state: ProofState, head: str, rest: str) -> ProofState:
        fn: Callable | None = TACTICS.get(head)
        if fn is None:
            raise TacticSyntaxError(f"<input>:1:0: unknown tactic '{head}'" if head else "<input>:1:0: unknown tactic")
        if not state.goals and head not in ("skip", "done", "trace", "sleep"):
            raise TacticError("no goals to be proved")
        try:
            return fn(self, state, rest)
        except arith.ArithError as err:  # e.g. a numeral too large to evaluate: the tactic fails
            raise TacticError(f"{head} failed: {err}") from err
        except RecursionError as err:
            raise TacticError("maximum recursion depth has been reached") from err

    # helpers shared by tactics
    def elab(self, goal: Goal) -> Elab:
        return Elab(goal, self.theorems, self._run_by)

    def _run_by(self, goal: Goal, text: str) -> frozenset:
        r = self.run(ProofState((goal,)), text)
        if r.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(r.pp_goals()))
        return r.axioms | (frozenset({"sorryAx"}) if r.sorries else frozenset())


# ---------------------------------------------------------------- splitting tactic text

def _matching_close(text: str, i: int) -> int:
    pairs = {"(": ")", "[": "]", "⟨": "⟩", "{": "}"}
    depth, want = 0, []
    for j in range(i, len(text)):
        c = text[j]
        if c in pairs:
            want.append(pairs[c])
            depth += 1
        elif want and c == want[-1]:
            want.pop()
            depth -= 1
            if depth == 0:
                return j
    return -1


def split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside brackets and quotes."""
    out, depth, start, i, quote = [], 0, 0, 0, False
    while i < len(text):
        c = text[i]
        if c == '"':
            quote = not quote
        elif not quote and c in "([⟨{":
            depth += 1
        elif not quote and c in ")]⟩}":
            depth -= 1
        elif not quote and depth == 0 and text.startswith(sep, i):
            if sep == "|" and (text.startswith("|>", i) or text.startswith("||", i)):
                pass
            elif sep == ";" and text.startswith("<;>", i - 1):
                pass  # the `;` inside `<;>` is not a sequence separator
            else:
                out.append(text[start:i])
                start = i + len(sep)
                i += len(sep)
                continue
        i += 1
    out.append(text[start:])
    return out


def split_tactics(text: str) -> list[str]:
    """Top-level tactic blocks of a script: one per line (more-indented lines continue the block
    above, as Lean's layout rule says), then `;` within a line."""
    lines = [l for l in text.replace("\t", "  ").split("\n") if l.strip() and not l.strip().startswith("--")]
    if not lines:
        return []
    base = min(len(l) - len(l.lstrip()) for l in lines)
    blocks: list[str] = []
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if blocks and (indent > base or line.lstrip().startswith("| ")):  # `| alt =>` continues
            blocks[-1] += "\n" + line[base:]
        else:
            blocks.append(line[base:])
    out: list[str] = []
    for b in blocks:
        if b.lstrip().startswith("·") or b.lstrip().startswith(". ") or "\n" in b:
            out.append(b)  # a focus block or a multi-line tactic keeps its own layout
        else:
            out.extend(p for p in (s.strip() for s in split_top(b, ";")) if p)
    return out


def _dedent_block(text: str) -> str:
    lines = text.split("\n")
    first, rest = lines[0], lines[1:]
    if not rest:
        return first
    ind = min((len(l) - len(l.lstrip()) for l in rest if l.strip()), default=0)
    return "\n".join([first] + [l[ind:] for l in rest])


# ---------------------------------------------------------------- parsing arguments

def term(text: str) -> Term:
    try:
        return parse_term(text.strip())
    except ParseError as e:
        raise TacticSyntaxError(f"<input>:1:{e.pos}: {e.message}") from e


def names_list(text: str) -> list[str]:
    return [n for n in text.split() if n]


def at_clause(rest: str) -> tuple[str, list[str] | None]:
    """Split `... at h h'` (or `at *`) off a tactic's arguments."""
    m = re.search(r"(?:^|\s)at\s+(.+)$", rest)
    if not m:
        return rest, None
    return rest[: m.start()].strip(), m.group(1).split()


def bracket_list(rest: str) -> tuple[list[str], str]:
    """`[a, b, c] tail` -> (["a", "b", "c"], "tail")."""
    rest = rest.strip()
    if not rest.startswith("["):
        return [], rest
    close = _matching_close(rest, 0)
    if close < 0:
        raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected ']'")
    items = [s.strip() for s in split_top(rest[1:close], ",") if s.strip()]
    return items, rest[close + 1 :].strip()


# ---------------------------------------------------------------- the tactics

def t_intro(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    names = names_list(rest) or [None]
    for name in names:
        g = _intro_one(g, name)
    return s.replace_main([g])


def t_intros(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if rest.strip():
        return t_intro(e, s, rest)
    while _introducible(g.target):
        g = _intro_one(g, None)
    return s.replace_main([g])


def _introducible(t: Term) -> bool:
    return (isinstance(t, Quant) and t.kind == "∀") or (isinstance(t, Bin) and t.op == "→") or (
        isinstance(t, Un) and t.op == "¬") or (isinstance(t, Bin) and t.op == "≠")


def _intro_one(g: Goal, name: str | None) -> Goal:
    t = g.target
    if isinstance(t, Quant) and t.kind == "∀":
        n = name if name and name != "_" else fresh_inaccessible(t.var, g.names())
        g2 = g.add(n, t.ty)
        return g2.with_target(subst(t.body, t.var, Var(n)) if n != t.var else t.body)
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


def t_exact(e: Engine, s: ProofState, rest: str) -> ProofState:
    el = e.elab(s.main)
    el.check(term(rest), s.main.target)
    return s.replace_main([], el.axioms)


def t_refine(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`exact` whose `?_` holes become new goals, in order (plain `_` must be solved, as in Lean)."""
    g = s.main
    el = e.elab(g)
    el.holes = []
    el.check(term(rest), g.target)
    return s.replace_main([g.with_target(h) for h in el.holes], el.axioms)


def t_apply(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    el = e.elab(g)
    t = term(rest)
    try:
        el.check(t, g.target)
        return s.replace_main([], el.axioms)
    except TacticError:
        pass
    from lean_env.embedded.elab import _instantiate, _match

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


def t_constructor(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = g.target
    if isinstance(t, Bin) and t.op == "∧":
        return s.replace_main([Goal(g.hyps, t.lhs, "left"), Goal(g.hyps, t.rhs, "right")])
    if isinstance(t, Bin) and t.op == "↔":
        return s.replace_main([Goal(g.hyps, Bin("→", t.lhs, t.rhs), "mp"), Goal(g.hyps, Bin("→", t.rhs, t.lhs), "mpr")])
    if t == TRUE:
        return s.replace_main([])
    raise TacticError(f"tactic 'constructor' failed, target is not an inductive datatype\n{g.pp()}")


def t_left_right(side: str):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        g = s.main
        t = g.target
        if not (isinstance(t, Bin) and t.op == "∨"):
            raise TacticError(f"tactic '{side}' failed, target is not an inductive datatype with 2 constructors")
        return s.replace_main([Goal(g.hyps, t.lhs if side == "left" else t.rhs, "h")])
    return run


def t_exfalso(e: Engine, s: ProofState, rest: str) -> ProofState:
    return s.replace_main([s.main.with_target(Const(False))])


def _contradiction_in(g: Goal) -> bool:
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


def t_contradiction(e: Engine, s: ProofState, rest: str) -> ProofState:
    if _contradiction_in(s.main):
        return s.replace_main([])
    raise TacticError(f"tactic 'contradiction' failed\n{s.main.pp()}")


def t_assumption(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    raise TacticError(f"tactic 'assumption' failed\n{g.pp()}")


def _rfl_closes(g: Goal) -> bool:
    from lean_env.embedded.elab import _is_refl

    return _is_refl(g.target, g.ctx)


def t_rfl(e: Engine, s: ProofState, rest: str) -> ProofState:
    if _rfl_closes(s.main):
        return s.replace_main([])
    raise TacticError(f"The rfl tactic failed. Possible reasons:\n- The goal is not a reflexive relation\n{s.main.pp()}")


def t_trivial(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    if g.target == TRUE or _rfl_closes(g) or any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    try:
        if not arith.has_quantifier(g.target) and not free_vars(g.target) and arith.decide(g.target, g.ctx):
            return s.replace_main([])
    except arith.ArithError:
        pass
    if isinstance(g.target, Bin) and g.target.op == "∧":
        try:
            r = t_constructor(e, s, "")
            r = t_trivial(e, r, "")
            return t_trivial(e, r, "")
        except TacticError:
            pass
    raise TacticError(f"tactic 'trivial' failed\n{g.pp()}")


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


def t_native_decide(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_decide(e, s, rest, frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"}))


def t_by_contra(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    name = rest.strip() or "h"  # Mathlib's `by_contra` without a name introduces `h✝`; we mirror `this`
    if not rest.strip():
        name = fresh_inaccessible("h", g.names())
    t = g.target
    hyp = t.arg if isinstance(t, Un) and t.op == "¬" else Un("¬", t)
    return s.replace_main([g.add(name, hyp).with_target(Const(False))], CLASSICAL)


def t_push_neg(e: Engine, s: ProofState, rest: str) -> ProofState:
    _, where = at_clause(rest)
    g = s.main
    if where:
        for h in where:
            hyp = _hyp_prop(g, h)
            new = push_neg(hyp)
            if new == hyp:
                raise TacticError("push_neg made no progress")
            g = g.replace_hyp(h, new)
        return s.replace_main([g], CLASSICAL)
    new = push_neg(g.target)
    if new == g.target:
        raise TacticError("push_neg made no progress")
    return s.replace_main([g.with_target(new)], CLASSICAL)


def _hyp_prop(g: Goal, name: str) -> Term:
    h = g.hyp(name)
    if h is None:
        raise TacticError(f"unknown identifier '{name}'")
    if h.is_var:
        raise TacticError(f"'{name}' is a variable, not a hypothesis")
    return h.type


# -- rewriting

def _rewrite(p: Term, rule: Term, reverse: bool, g: Goal) -> Term:
    """Rewrite every instance of the rule's lhs (first instance fixes ∀-variables)."""
    lhs, rhs = _rule_sides(p, rule, reverse, g)
    return replace(p, lhs, rhs)


def _rule_sides(p: Term, rule: Term, reverse: bool, g: Goal) -> tuple[Term, Term]:
    """The instance `lhs ↦ rhs` of a rewrite rule that occurs in `p` (or a rewrite error)."""
    binders: list[tuple[str, str]] = []
    while isinstance(rule, Quant) and rule.kind == "∀":
        binders.append((rule.var, rule.ty))
        rule = rule.body
    if isinstance(rule, Bin) and rule.op in ("=", "↔"):
        lhs, rhs = (rule.rhs, rule.lhs) if reverse else (rule.lhs, rule.rhs)
    elif not reverse and not isinstance(rule, Quant):
        lhs, rhs = rule, TRUE   # rw with `h : P` rewrites P to True
    else:
        raise TacticError(f"equality or iff proof expected\n  {pp(rule)}")
    metas = {v for v, _ in binders}
    if metas:
        inst = _find_instance(p, lhs, metas)
        if inst is None:
            raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the target expression\n  {pp(lhs)}")
        for v, val in inst.items():
            lhs, rhs = subst(lhs, v, val), subst(rhs, v, val)
    if not contains(p, lhs):
        raise TacticError(
            f"tactic 'rewrite' failed, did not find instance of the pattern in the target expression\n  {pp(lhs)}\n{g.pp()}"
        )
    return lhs, arith.typed(rhs, arith.term_type(lhs, g.ctx))


def _replace_nth(t: Term, old: Term, new: Term, n: int) -> tuple[Term, int]:
    """Replace only the n-th occurrence (1-based, left to right, inner before outer as Lean's
    `kabstract` counts); returns the new term and how many occurrences were passed."""
    seen = 0

    def go(u: Term) -> Term:
        nonlocal seen
        if isinstance(u, Bin):
            u = Bin(u.op, go(u.lhs), go(u.rhs))
        elif isinstance(u, Un):
            u = Un(u.op, go(u.arg))
        elif isinstance(u, Quant) and u.var not in free_vars(old):
            u = Quant(u.kind, u.var, u.ty, go(u.body))
        if u == old:
            seen += 1
            if seen == n:
                return new
        return u

    return go(t), seen


def t_nth_rewrite(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`nth_rewrite n [rules] (at h)`: rewrite only the n-th occurrence of each rule's lhs."""
    m = re.match(r"(\d+)\s+(.*)$", rest, re.S)
    if not m:
        raise TacticSyntaxError("<input>:1:12: unexpected token; expected occurrence number")
    n = int(m.group(1))
    body, where = at_clause(m.group(2))
    rules, _ = bracket_list(body)
    if not rules:
        raise TacticSyntaxError("<input>:1:0: unexpected token; expected '['")
    g = s.main
    el = e.elab(g)
    for r in rules:
        reverse = r.startswith("←") or r.startswith("<-")
        rule = el.infer(term(r.lstrip("←").lstrip("<-").strip()))
        for name in where or ["⊢"]:
            p = g.target if name == "⊢" else _hyp_prop(g, name)
            lhs, rhs = _rule_sides(p, rule, reverse, g)
            q, seen = _replace_nth(p, lhs, rhs, n)
            if seen < n:
                raise TacticError(f"tactic 'nth_rewrite' failed, occurrence {n} of\n  {pp(lhs)}\nnot found, only {seen}")
            g = g.with_target(q) if name == "⊢" else g.replace_hyp(name, q)
    return s.replace_main([g], el.axioms | CLASSICAL)


def t_simpa(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`simpa [rules] using e`: simp the goal and the type of `e`, then close the goal with it
    (without `using`: with a hypothesis, after simp); fails as Lean's simpa does otherwise."""
    body, _, using = rest.partition("using")
    body = body.strip()
    body = body.replace("only", "", 1).strip() if body.startswith("only") else body
    items, _ = bracket_list(body)
    g = s.main
    rules, ax = _simp_rules(e, g, items)
    ax = ax | CLASSICAL
    target = simp_prop(g.target, g.ctx, rules)
    if target == TRUE:
        return s.replace_main([], ax)
    if using.strip():
        el = e.elab(g)
        given = [el.infer(term(using.strip()), target)]
        ax |= el.axioms
    else:
        given = g.props()
    for p in given:
        q = simp_prop(p, g.ctx, [r for r in rules if r[0] != p])
        if q == Const(False) or defeq(q, target, g.ctx):
            return s.replace_main([], ax)
    shown = pp(simp_prop(given[0], g.ctx, rules)) if using.strip() else "(no hypothesis matches)"
    raise TacticError(f"type mismatch\n  h\nhas type\n  {shown} : Prop\nbut is expected to have type\n  {pp(target)} : Prop")


def t_cast_noop(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`push_cast`/`norm_cast`: the fragment has no coercions, so there is nothing to move; like
    Mathlib's `push_cast` they do not fail when nothing changes (`norm_cast` closes by assumption)."""
    g = s.main
    if any(defeq(p, g.target, g.ctx) for p in g.props()):
        return s.replace_main([])
    return s


def _syntactic_refl(g: Goal) -> bool:
    """`rw` closes a goal with `rfl` at reducible transparency: both sides must be the same term
    (no arithmetic evaluation: `2 * 2 + 3 = 7` stays open after a rewrite, as in Lean)."""
    t = g.target
    if isinstance(t, Bin) and t.op in ("=", "↔", "≤"):
        return _untype(t.lhs) == _untype(t.rhs)
    return False


def _untype(t: Term) -> Term:
    if isinstance(t, Num):
        return Num(t.value)
    if isinstance(t, Bin):
        return Bin(t.op, _untype(t.lhs), _untype(t.rhs))
    if isinstance(t, Un):
        return Un(t.op, _untype(t.arg))
    return t


def _find_instance(p: Term, pattern: Term, metas: set[str]) -> dict[str, Term] | None:
    from lean_env.embedded.elab import _unify

    stack = [p]
    while stack:
        t = stack.pop(0)
        binding: dict[str, Term] = {}
        if _unify(pattern, t, metas, binding) and set(binding) == metas:
            return binding
        if isinstance(t, Bin):
            stack += [t.lhs, t.rhs]
        elif isinstance(t, Un):
            stack.append(t.arg)
    return None


def t_rw(e: Engine, s: ProofState, rest: str) -> ProofState:
    body, where = at_clause(rest)
    rules, tail = bracket_list(body)
    if not rules:
        raise TacticSyntaxError("<input>:1:3: unexpected token; expected '['")
    g = s.main
    el = e.elab(g)
    everywhere = where == ["*"]
    for r in rules:
        reverse = r.startswith("←") or r.startswith("<-")
        r = r.lstrip("←").lstrip("<-").strip()
        rule = el.infer(term(r))
        if everywhere:
            g = _rewrite_everywhere(g, r, rule, reverse)
        elif where:
            for h in where:
                g = g.replace_hyp(h, _rewrite(_hyp_prop(g, h), rule, reverse, g))
        else:
            g = g.with_target(_rewrite(g.target, rule, reverse, g))
    if everywhere:
        where = [h.name for h in g.hyps if not h.is_var]
    state = s.replace_main([g], el.axioms | CLASSICAL)
    if (not where or everywhere) and (_syntactic_refl(g) or g.target == TRUE):
        return state.replace_main([])  # `rw` tries `rfl` afterwards
    if where and any(_hyp_prop(g, h) == Const(False) for h in where):
        return state.replace_main([])
    return state


def _rewrite_everywhere(g: Goal, source: str, rule: Term, reverse: bool) -> Goal:
    """`rw [r] at *`: rewrite every hypothesis (but the rule itself) and the goal where the rule
    applies; Lean fails only when it applies nowhere."""
    changed = False
    for h in g.hyps:
        if h.is_var or h.name == source:
            continue
        try:
            g = g.replace_hyp(h.name, _rewrite(h.type, rule, reverse, g))
            changed = True
        except TacticError:
            pass
    try:
        g = g.with_target(_rewrite(g.target, rule, reverse, g))
        changed = True
    except TacticError:
        pass
    if not changed:
        raise TacticError(f"tactic 'rewrite' failed, did not find instance of the pattern in the current goal\n{g.pp()}")
    return g


# -- simp family

def _simp_rules(e: Engine, g: Goal, items: list[str]) -> tuple[list, frozenset]:
    el = e.elab(g)
    props: list[Term] = []
    for it in items:
        if it == "*":
            props.extend(g.props())
            continue
        reverse = it.startswith("←")
        t = term(it.lstrip("←").strip())
        try:
            p = el.infer(t)
        except TacticError:
            if isinstance(t, Var):
                continue  # an unknown simp lemma name: Mathlib would know it; we skip it
            raise
        if reverse and isinstance(p, Bin) and p.op == "=":
            p = Bin("=", p.rhs, p.lhs)
        props.append(p)
    return hypothesis_rules(props), el.axioms


def _simp_like(name: str, use_all_hyps: bool = False):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        body, where = at_clause(rest)
        body = body.replace("only", "", 1).strip() if body.startswith("only") else body
        items, _ = bracket_list(body)
        g = s.main
        rules, ax = _simp_rules(e, g, items)
        ax = ax | CLASSICAL
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
                new = simp_prop(g.target, g.ctx, rules)
                if _changed(new, g.target):
                    progress = True
                    g = g.with_target(new)
                continue
            old = _hyp_prop(g, tname)
            new = simp_prop(old, g.ctx, [r for r in rules if r[0] != old])
            if _changed(new, old):
                progress = True
                if new == Const(False):
                    return s.replace_main([], ax)
                g = g.remove(tname) if new == TRUE else g.replace_hyp(tname, new)
        if g.target == TRUE:
            return s.replace_main([], ax)
        if not progress:
            msg = "simp made no progress" if name.startswith("simp") else f"{name} failed to simplify"
            raise TacticError(msg)
        return s.replace_main([g], ax)
    return run


def _changed(new: Term, old: Term) -> bool:
    """Progress as Lean sees it: dropping a numeral's type ascription is no change."""
    return new != old and pp(new) != pp(old)


def _simp_all(e: Engine, s: ProofState, extra_rules, ax) -> ProofState:
    g = s.main
    changed = False
    for _ in range(5):
        for h in [h for h in g.hyps if not h.is_var]:
            others = [x.type for x in g.hyps if not x.is_var and x.name != h.name]
            new = simp_prop(h.type, g.ctx, hypothesis_rules(others) + extra_rules)
            if new == Const(False):
                return s.replace_main([], ax)
            if _changed(new, h.type):
                changed = True
                g = g.remove(h.name) if new == TRUE else g.replace_hyp(h.name, new)
        new_t = simp_prop(g.target, g.ctx, hypothesis_rules(g.props()) + extra_rules)
        if _changed(new_t, g.target):
            changed = True
            g = g.with_target(new_t)
        if g.target == TRUE:
            return s.replace_main([], ax)
    if not changed:
        raise TacticError("simp_all made no progress")
    return s.replace_main([g], ax)


# -- arithmetic closers

def _extra_facts(e: Engine, g: Goal, items: list[str]) -> tuple[list[Term], frozenset]:
    el = e.elab(g)
    facts = [el.infer(term(it)) for it in items]
    return facts, el.axioms


def _closer(name: str, decide_fn):
    def run(e: Engine, s: ProofState, rest: str) -> ProofState:
        g = s.main
        items, _ = bracket_list(rest)
        extra, ax = _extra_facts(e, g, items)
        if not decide_fn(g, extra):
            raise TacticError(CLOSER_MESSAGES[name] + "\n" + g.pp())
        return s.replace_main([], ax | CLASSICAL)
    return run


CLOSER_MESSAGES = {
    "linarith": "linarith failed to find a contradiction",
    "nlinarith": "linarith failed to find a contradiction",
    "omega": "omega could not prove the goal:\na possible counterexample may satisfy the constraints",
    "positivity": "failed to prove positivity",
}


def _linarith(g: Goal, extra: list[Term]) -> bool:
    return arith.linarith(g.props(), g.target, g.ctx, extra)


def _nlinarith(g: Goal, extra: list[Term]) -> bool:
    squares = _square_hints(g)
    return arith.linarith(g.props(), g.target, g.ctx, extra + squares, products=True)


def _square_hints(g: Goal) -> list[Term]:
    """nlinarith also knows `t ^ 2 ≥ 0` / `t * t ≥ 0` for squares appearing in the problem."""
    found: list[Term] = []

    def walk(t: Term) -> None:
        if isinstance(t, Bin):
            if t.op == "^" and t.rhs == Num(2) or t.op == "*" and t.lhs == t.rhs:
                found.append(Bin("≤", Num(0), t))
            walk(t.lhs)
            walk(t.rhs)
        elif isinstance(t, Un):
            walk(t.arg)
    for p in g.props() + [g.target]:
        walk(p)
    return found


def _omega(g: Goal, extra: list[Term]) -> bool:
    if arith.has_quantifier(g.target):
        return False
    return arith.omega(g.props() + extra, g.target, g.ctx)


def _positivity(g: Goal, extra: list[Term]) -> bool:
    t = g.target
    if not isinstance(t, Bin):
        return False
    if t.op in ("<", "≤") and t.lhs == Num(0):
        need_strict, e_ = t.op == "<", t.rhs
    elif t.op in (">", "≥") and t.rhs == Num(0):
        need_strict, e_ = t.op == ">", t.lhs
    elif t.op == "≠" and t.rhs == Num(0):
        need_strict, e_ = True, t.lhs
    else:
        return False
    sign = _sign(e_, g)
    return sign == "pos" or (sign == "nonneg" and not need_strict)


def _sign(t: Term, g: Goal) -> str:
    ctx = g.ctx
    if isinstance(t, Num):
        return "pos" if t.value > 0 else "nonneg"
    if isinstance(t, Var):
        for p in g.props():
            if p in (Bin("<", Num(0), t), Bin(">", t, Num(0)), Bin("≠", t, Num(0))) and ctx.get(t.name) == NAT:
                return "pos"
            if p in (Bin("<", Num(0), t), Bin(">", t, Num(0))):
                return "pos"
        for p in g.props():
            if p in (Bin("≤", Num(0), t), Bin("≥", t, Num(0))):
                return "nonneg"
        return "nonneg" if ctx.get(t.name) == NAT else "none"
    if isinstance(t, Bin):
        a, b = _sign(t.lhs, g), _sign(t.rhs, g)
        if t.op == "^":
            if t.rhs.__class__ is Num and t.rhs.value % 2 == 0:
                return "pos" if a == "pos" else "nonneg"
            return a if a in ("pos", "nonneg") else "none"
        if t.op in ("+", "*"):
            if a == "none" or b == "none":
                return "none"
            if t.op == "+":
                return "pos" if "pos" in (a, b) else "nonneg"
            return "pos" if a == b == "pos" else "nonneg"
        if t.op in ("/", "%") and arith.term_type(t, ctx) == NAT:
            return "nonneg"
    return "none"


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


def t_ring_nf(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Normalise ring expressions in the goal (or `at h`); closes goals that become `a = a`."""
    _, where = at_clause(rest)
    g = s.main
    try:
        if where:
            for h in where:
                old = _hyp_prop(g, h)
                g = g.replace_hyp(h, _ring_nf_prop(old, g.ctx))
            if g == s.main:
                raise TacticError("ring_nf failed")
            return s.replace_main([g], CLASSICAL)
        new = _ring_nf_prop(g.target, g.ctx)
    except arith.ArithError as err:
        raise TacticError(f"ring_nf failed: {err}") from None
    if _rfl_closes(g.with_target(new)):
        return s.replace_main([], CLASSICAL)
    if new == g.target:
        raise TacticError("ring_nf failed")
    return s.replace_main([g.with_target(new)], CLASSICAL)


def t_norm_num(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`norm_num [h] at h'`: simp with arithmetic evaluation; closes goals that become True."""
    try:
        return _simp_like("norm_num")(e, s, rest)
    except TacticError as err:
        if "failed to simplify" in str(err) or "made no progress" in str(err):
            g = s.main
            body, where = at_clause(rest)
            if not where and _contradiction_in(g):
                return s.replace_main([], CLASSICAL)
        raise


def t_use(e: Engine, s: ProofState, rest: str) -> ProofState:
    if not rest.strip():
        raise TacticSyntaxError("<input>:1:3: unexpected end of input; expected term")
    g = s.main
    el = e.elab(g)
    for w in [x.strip() for x in split_top(rest, ",") if x.strip()]:
        t = g.target
        if not (isinstance(t, Quant) and t.kind == "∃"):
            if isinstance(t, Bin) and t.op == "∧":
                break
            raise TacticError(f"use: the goal is not an existential\n{g.pp()}")
        g = g.with_target(subst(t.body, t.var, el.value(term(w), t.ty)))
    state = s.replace_main([g], el.axioms)
    # `use` discharges the remaining goal with `rfl`/`trivial` when it can
    try:
        return t_trivial(e, state, "")
    except TacticError:
        return state


def t_exists(e: Engine, s: ProofState, rest: str) -> ProofState:
    state = t_use(e, s, rest)
    if state.goals and state.goals[0] is not None and len(state.goals) >= len(s.goals):
        return t_trivial(e, state, "")
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


def t_have(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    name, ty_text, proof = _parse_have(rest)
    el = e.elab(g)
    if ty_text is None:
        if proof is None:
            raise TacticSyntaxError("<input>:1:5: unexpected end of input; expected ':=' or ':'")
        prop = el.infer(term(proof))
        return s.replace_main([g.add(name, prop)], el.axioms)
    prop = term(ty_text)
    _check_prop(prop, g)
    if proof is None:  # `have h : t` opens a goal for t first
        return s.replace_main([g.with_target(prop), g.add(name, prop)])
    el.check(term(proof), prop)
    return s.replace_main([g.add(name, prop)], el.axioms)


def _check_prop(p: Term, g: Goal) -> None:
    ctx = g.ctx
    bound: set[str] = set()

    def walk(t: Term, bound: set[str]) -> None:
        if isinstance(t, Var) and t.name not in bound and t.name not in ctx:
            raise TacticError(f"unknown identifier '{t.name}'")
        if isinstance(t, Quant):
            walk(t.body, bound | {t.var})
        elif isinstance(t, Bin):
            walk(t.lhs, bound)
            walk(t.rhs, bound)
        elif isinstance(t, Un):
            walk(t.arg, bound)
        elif isinstance(t, (Anon, Hole, Proj)) or t.__class__.__name__ in ("App", "ByTac"):
            raise TacticError(f"type expected, got\n  {pp(t)}")
    walk(p, bound)


def t_show(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    p = term(rest)
    if not defeq(p, g.target, g.ctx):
        raise TacticError(f"type mismatch\n  {pp(p)}\nis not definitionally equal to the goal\n  {pp(g.target)}")
    return s.replace_main([g.with_target(p)])


def t_specialize(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = term(rest)
    from lean_env.embedded.terms import App
    if not isinstance(t, App) or not isinstance(t.fn, Var):
        raise TacticError("'specialize' requires a term of the form `h x_1 .. x_n`")
    el = e.elab(g)
    p = el.infer(t)
    return s.replace_main([g.replace_hyp(t.fn.name, p)], el.axioms)


def t_symm(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    t = g.target
    if isinstance(t, Bin) and t.op in ("=", "≠", "↔"):
        return s.replace_main([g.with_target(Bin(t.op, t.rhs, t.lhs))])
    raise TacticError("symm failed, the goal is not a symmetric relation")


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
        p = _hyp_prop(g, h.name)
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


_ALT_RE = re.compile(r"\|\s*([\w'.]+)((?:\s+[\w'₀-₉✝]+)*)\s*=>")


def parse_alternatives(text: str) -> dict[str, tuple[list[str], str]]:
    """`| zero => tac | succ n ih => tac` (inline or one per line) as {tag: (names, tactic text)}."""
    starts = [m for m in _ALT_RE.finditer(text) if _depth_at(text, m.start()) == 0]
    if not starts or text[: starts[0].start()].strip():
        raise TacticSyntaxError("<input>:1:0: unexpected token; expected '|'")
    alts: dict[str, tuple[list[str], str]] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        alts[m.group(1)] = (m.group(2).split(), _dedent_block(text[m.end():end].strip("\n ")))
    return alts


def _depth_at(text: str, pos: int) -> int:
    depth = 0
    for c in text[:pos]:
        if c in "([⟨{":
            depth += 1
        elif c in ")]⟩}":
            depth -= 1
    return depth


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


def t_induction(e: Engine, s: ProofState, rest: str, prime: bool = False) -> ProofState:
    g = s.main
    words = rest.split()
    if not words:
        raise TacticSyntaxError("<input>:1:9: unexpected end of input")
    n = words[0]
    names: list[str] = []
    if len(words) > 1:
        if words[1] != "with":
            raise TacticSyntaxError(f"<input>:1:0: unexpected token '{words[1]}'; expected 'with'")
        if not prime:
            alts = parse_alternatives(rest.split("with", 1)[1])
            bare = t_induction(e, s, n, prime=True)
            new = list(bare.goals[: len(bare.goals) - len(s.goals) + 1])
            if "succ" in alts:
                new = [_rename_new(g, s.main, alts[g.case][0]) if g.case in alts else g for g in new]
            return run_alternatives(e, s, new, alts, bare.axioms)
        names = words[2:]
    if g.ctx.get(n) != NAT:
        raise TacticError(f"index in target's type is not a variable or not of type ℕ: '{n}'")
    deps = [h for h in g.hyps if not h.is_var and n in free_vars(h.type)]
    base = Goal(tuple(h for h in g.hyps if h not in deps), g.target, g.case)
    motive = g.target
    for h in reversed(deps):
        motive = Bin("→", h.type, motive)
    k = names[0] if names else fresh_inaccessible(n, base.names() - {n})
    ih = names[1] if len(names) > 1 else fresh_inaccessible("a", base.names())
    without_n = Goal(tuple(h for h in base.hyps if h.name != n), motive, g.case)
    zero = without_n.with_target(subst(motive, n, Num(0)))
    succ = without_n.add(k, NAT)
    succ = succ.add(ih, subst(motive, n, Var(k))).with_target(subst(motive, n, Bin("+", Var(k), Num(1))))
    zero = Goal(zero.hyps, zero.target, "zero")
    succ = Goal(succ.hyps, succ.target, "succ")
    # dependent hypotheses come back as premises, as Lean's `induction` generalises them
    out = []
    for goal in (zero, succ):
        for h in deps:
            goal = _intro_one(goal, h.name)
        out.append(goal)
    return s.replace_main(out)


def t_interval_cases(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    x = rest.strip()
    ty = g.ctx.get(x)
    if ty is None:
        raise TacticError(f"interval_cases failed: unknown variable '{x}'")
    lo = 0 if ty == NAT else None
    hi = None
    for p in g.props():
        if not isinstance(p, Bin) or p.op not in ("<", "≤", ">", "≥"):
            continue
        op, a, b = p.op, p.lhs, p.rhs
        if op in (">", "≥"):
            op, a, b = {">": "<", "≥": "≤"}[op], b, a
        if a == Var(x) and arith.is_closed_arith(b):
            v = arith.evaluate(b, ty) - (1 if op == "<" else 0)
            hi = v if hi is None else min(hi, v)
        elif b == Var(x) and arith.is_closed_arith(a):
            v = arith.evaluate(a, ty) + (1 if op == "<" else 0)
            lo = v if lo is None else max(lo, v)
    if lo is None or hi is None:
        raise TacticError(f"interval_cases failed: could not find upper and lower bounds on {x}")
    if hi - lo > 64:
        raise TacticError("interval_cases failed: too many cases")
    goals = []
    for v in range(lo, hi + 1):
        val = Num(v, ty) if v >= 0 else Un("-", Num(-v, ty))
        hyps = tuple(h if h.is_var else type(h)(h.name, subst(h.type, x, val)) for h in g.hyps)
        goals.append(Goal(hyps, subst(g.target, x, val), g.case))
    return s.replace_main(goals, CLASSICAL)


# -- cases / rcases / obtain

def _split_pattern(pat: str) -> Term | str:
    return pat.strip()


def _rcases_pattern(text: str):
    """Parse an rcases pattern: name | ⟨p, q, ...⟩ | p | q (alternatives) | rfl | _ | -."""
    text = text.strip()
    alts = split_top(text, "|")
    if len(alts) > 1:
        return ("alt", [_rcases_pattern(a) for a in alts])
    if text.startswith("(") and _matching_close(text, 0) == len(text) - 1:
        return _rcases_pattern(text[1:-1])
    if text.startswith("⟨"):
        if _matching_close(text, 0) != len(text) - 1:
            raise TacticSyntaxError("<input>:1:0: unexpected token; expected '⟩'")
        return ("tuple", [_rcases_pattern(p) for p in split_top(text[1:-1], ",")])
    if not text:
        return ("name", "_")
    return ("name", text)


def _destruct(g: Goal, name: str, prop: Term, pat, tags: bool) -> list[Goal]:
    """Destructure hypothesis `name : prop` (already removed from g) along an rcases pattern."""
    kind, arg = pat
    if kind == "name":
        if arg == "-":
            return [g]
        if arg == "rfl":
            if not (isinstance(prop, Bin) and prop.op == "="):
                raise TacticError("rcases: `rfl` pattern needs an equation")
            tmp = fresh_inaccessible("h", g.names())
            return t_subst(None, ProofState((g.add(tmp, prop),)), tmp).goals[:1]
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
    if isinstance(prop, Bin) and prop.op in ("∧", "↔"):
        lhs, rhs = (prop.lhs, prop.rhs) if prop.op == "∧" else (
            Bin("→", prop.lhs, prop.rhs), Bin("→", prop.rhs, prop.lhs))
        first = _destruct(g, name, lhs, pats[0], tags)
        rest_pat = pats[1] if len(pats) == 2 else ("tuple", pats[1:])
        return [r for g1 in first for r in _destruct(g1, name, rhs, rest_pat, tags)]
    if isinstance(prop, Quant) and prop.kind == "∃":
        vpat = pats[0]
        vname = vpat[1] if vpat[0] == "name" and vpat[1] not in ("_", "-", "rfl") else fresh_inaccessible(prop.var, g.names())
        g1 = g.add(vname, prop.ty)
        body = subst(prop.body, prop.var, Var(vname)) if vname != prop.var else prop.body
        rest_pat = pats[1] if len(pats) == 2 else ("tuple", pats[1:])
        return _destruct(g1, name, body, rest_pat, tags)
    if isinstance(prop, Bin) and prop.op == "∨":
        return _destruct(g, name, prop, ("alt", pats), tags)
    raise TacticError(f"rcases: cannot destructure\n  {pp(prop)}")


def _source_prop(e: Engine, g: Goal, src: str) -> tuple[Goal, str, Term, frozenset]:
    """The hypothesis (removed from the context) or proof term that rcases/obtain destructs."""
    src = src.strip()
    h = g.hyp(src)
    if h is not None and not h.is_var:
        return g.remove(src), src, h.type, frozenset()
    el = e.elab(g)
    p = el.infer(term(src))
    return g, src, p, el.axioms


def t_rcases(e: Engine, s: ProofState, rest: str) -> ProofState:
    src, sep, pat = rest.partition(" with ")
    g, name, prop, ax = _source_prop(e, s.main, src)
    pattern = _rcases_pattern(pat) if sep else ("name", "_")
    return s.replace_main(_destruct(g, name, prop, pattern, True), ax)


def t_obtain(e: Engine, s: ProofState, rest: str) -> ProofState:
    parts = split_top(rest, ":=")
    if len(parts) != 2:
        raise TacticSyntaxError("<input>:1:0: obtain: expected `obtain pat := proof`")
    pat_text, src = parts[0].strip(), parts[1].strip()
    ty_text = None
    if ":" in pat_text and not pat_text.startswith("⟨"):
        pat_text, ty_text = pat_text.split(":", 1)
    if ty_text is not None:
        return t_have(e, s, f"{pat_text.strip()} : {ty_text} := {src}")
    g, name, prop, ax = _source_prop(e, s.main, src)
    return s.replace_main(_destruct(g, name, prop, _rcases_pattern(pat_text), True), ax)


def _rename_new(g: Goal, old: Goal, names: list[str]) -> Goal:
    """Give the hypotheses a case introduced (the inaccessible ones, in order) the user's names."""
    fresh = [h for h in g.hyps if h.name not in old.names() and h.name.endswith("✝")]
    for h, name in zip(fresh, names):
        if name != "_":
            g = g.rename(h.name, name)
    return g


def t_cases(e: Engine, s: ProofState, rest: str) -> ProofState:
    if re.search(r"\swith\s", rest + " "):
        src, _, alt_text = rest.partition("with")
        alts = parse_alternatives(alt_text)
        bare = t_cases(e, s, src.strip())
        new = list(bare.goals[: len(bare.goals) - len(s.goals) + 1])
        new = [_rename_new(g, s.main, alts[g.case][0]) if g.case in alts else g for g in new]
        return run_alternatives(e, s, new, alts, bare.axioms)
    g, name, prop, ax = _source_prop(e, s.main, rest)
    if isinstance(prop, Bin) and prop.op == "∨":
        n1 = fresh_inaccessible("h", g.names())
        return s.replace_main([Goal(g.add(n1, prop.lhs).hyps, g.target, "inl"), Goal(g.add(n1, prop.rhs).hyps, g.target, "inr")], ax)
    if isinstance(prop, Bin) and prop.op == "∧":
        g1 = g.add(fresh_inaccessible("left", g.names()), prop.lhs)
        g1 = g1.add(fresh_inaccessible("right", g1.names()), prop.rhs)
        return s.replace_main([Goal(g1.hyps, g1.target, "intro")], ax)
    if isinstance(prop, Quant) and prop.kind == "∃":
        w = fresh_inaccessible("w", g.names())
        g1 = g.add(w, prop.ty)
        g1 = g1.add(fresh_inaccessible("h", g1.names()), subst(prop.body, prop.var, Var(w)))
        return s.replace_main([Goal(g1.hyps, g1.target, "intro")], ax)
    if prop == Const(False):
        return s.replace_main([], ax)
    raise TacticError(f"tactic 'cases' failed, cannot destructure\n  {pp(prop)}")


def t_cases_prime(e: Engine, s: ProofState, rest: str) -> ProofState:
    src, sep, names = rest.partition(" with ")
    ns = names.split()
    g, name, prop, ax = _source_prop(e, s.main, src)
    if isinstance(prop, Bin) and prop.op == "∨":
        n1 = ns[0] if ns else fresh_inaccessible("h", g.names())
        n2 = ns[1] if len(ns) > 1 else n1
        return s.replace_main([Goal(g.add(n1, prop.lhs).hyps, g.target, "inl"), Goal(g.add(n2, prop.rhs).hyps, g.target, "inr")], ax)
    pats = [("name", n) for n in ns] or [("name", "_"), ("name", "_")]
    return s.replace_main(_destruct(g, name, prop, ("tuple", pats), True), ax)


def t_sorry(e: Engine, s: ProofState, rest: str) -> ProofState:
    r = s.replace_main([], frozenset({"sorryAx"}))
    return ProofState(r.goals, r.axioms, r.sorries + 1)


def t_skip(e: Engine, s: ProofState, rest: str) -> ProofState:
    return s


def t_done(e: Engine, s: ProofState, rest: str) -> ProofState:
    if s.goals:
        raise TacticError("unsolved goals\n" + "\n\n".join(s.pp_goals()))
    return s


def t_sleep(e: Engine, s: ProofState, rest: str) -> ProofState:
    try:
        ms = int(rest.strip())
    except ValueError:
        raise TacticSyntaxError("<input>:1:6: expected numeral") from None
    time.sleep(ms / 1000)
    return s


def t_trace(e: Engine, s: ProofState, rest: str) -> ProofState:
    msg = rest.strip()
    if msg.startswith('"') and msg.endswith('"'):
        msg = msg[1:-1].encode().decode("unicode_escape") if "\\" in msg else msg[1:-1]
    e.messages.append(msg)
    return s


def t_clear(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    for n in names_list(rest):
        if g.hyp(n) is None:
            raise TacticError(f"unknown hypothesis '{n}'")
        g = g.remove(n)
    return s.replace_main([g])


def t_exact_mod_cast(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_exact(e, s, rest)


def t_rename_i(e: Engine, s: ProofState, rest: str) -> ProofState:
    g = s.main
    new = names_list(rest)
    dead = [h for h in g.hyps if "✝" in h.name][-len(new):] if new else []
    hyps = list(g.hyps)
    target = g.target
    for h, n in zip(dead, new):
        idx = hyps.index(h)
        hyps[idx] = type(h)(n, h.type)
        if h.is_var:
            hyps = [x if x.is_var else type(x)(x.name, subst(x.type, h.name, Var(n))) for x in hyps]
            target = subst(target, h.name, Var(n))
    return s.replace_main([Goal(tuple(hyps), target, g.case)])


TACTICS: dict[str, Callable[[Engine, ProofState, str], ProofState]] = {
    "intro": t_intro, "intros": t_intros, "exact": t_exact, "apply": t_apply, "refine": t_refine,
    "constructor": t_constructor, "left": t_left_right("left"), "right": t_left_right("right"),
    "exfalso": t_exfalso, "contradiction": t_contradiction, "assumption": t_assumption,
    "trivial": t_trivial, "rfl": t_rfl, "decide": t_decide, "native_decide": t_native_decide,
    "by_contra": t_by_contra, "push_neg": t_push_neg, "rw": t_rw, "rewrite": t_rw, "rwa": None,
    "simp": _simp_like("simp"), "simp_all": _simp_like("simp_all", use_all_hyps=True),
    "norm_num": t_norm_num, "linarith": _closer("linarith", _linarith),
    "nlinarith": _closer("nlinarith", _nlinarith), "omega": _closer("omega", _omega),
    "positivity": _closer("positivity", _positivity), "ring": t_ring, "ring_nf": t_ring_nf,
    "use": t_use, "exists": t_exists, "have": t_have, "show": t_show, "specialize": t_specialize,
    "symm": t_symm, "subst": t_subst, "induction": t_induction,
    "induction'": lambda e, s, r: t_induction(e, s, r, prime=True),
    "interval_cases": t_interval_cases, "rcases": t_rcases, "obtain": t_obtain, "cases": t_cases,
    "cases'": t_cases_prime, "sorry": t_sorry, "admit": t_sorry, "exact?": t_sorry, "apply?": t_sorry,
    "skip": t_skip, "done": t_done, "sleep": t_sleep, "trace": t_trace, "clear": t_clear,
    "exact_mod_cast": t_exact_mod_cast, "rename_i": t_rename_i,
}


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
        _check_prop(step, g)
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
        from lean_env.embedded.terms import ByTac
        return ByTac(_dedent_block(text[2:].strip("\n ")) if "\n" in text else text[2:].strip())
    return term(text)


TACTICS["calc"] = t_calc
TACTICS["nth_rewrite"] = t_nth_rewrite
TACTICS["nth_rw"] = lambda e, s, r: _rfl_after(t_nth_rewrite(e, s, r))
TACTICS["simpa"] = t_simpa
TACTICS["push_cast"] = lambda e, s, r: s
TACTICS["norm_cast"] = t_cast_noop


def _rfl_after(s: ProofState) -> ProofState:
    """`rw`-style tactics try `rfl` (at reducible transparency) on the goal they leave."""
    return s.replace_main([]) if s.goals and _syntactic_refl(s.main) else s


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


TACTICS["tauto"] = t_tauto


def t_rwa(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_assumption(e, t_rw(e, s, rest), "")


TACTICS["rwa"] = t_rwa
