"""The tactic engine: runs tactic text on a proof state. Structure (`·` focus blocks, `<;>`,
parentheses) is handled here, the combinators (`try`, `repeat`, `first`, `all_goals`, `set_option
.. in`, ...) and control tactics (`skip`, `done`, `trace`, `sleep`) are registered here, and every other tactic is
looked up in the registry and run on the main goal with Lean's names, semantics and messages
(named options such as `(config := ..)` taken off first; goal selection lives in `structure`)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from lean_env.embedded import arith
from lean_env.embedded.elab import Elab
from lean_env.embedded.goals import Goal, ProofState, TacticError
from lean_env.embedded.terms import Term
from lean_env.embedded.types import elab_prop
from lean_env.embedded.tactics.registry import TACTICS, Tactic, tactic
from lean_env.embedded.tactics.text import (
    TacticSyntaxError, dedent_block, goal_locations, matching_close, refused_option, split_options, split_tactics,
    split_top,
)

MAX_STEPS = 10_000   # tactic applications per request: `repeat` and friends cannot run forever


@dataclass
class Engine:
    """Runs tactic text against proof states; `theorems` are the environment's declarations."""

    theorems: dict[str, tuple[Term, frozenset]]
    messages: list[str]
    steps: int = 0
    options: tuple[tuple[str, str], ...] = ()   # the named options of the tactic now running

    def option(self, key: str) -> str | None:
        """The value of a config field the running tactic was given (`splitNe := true`), or None."""
        return dict(self.options).get(key)

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
            return self.focus(state, _focus_body(text))
        parts = split_top(text, "<;>")
        if len(parts) > 1:
            after = self.run_one(state, parts[0])
            return self._all_new(after, "<;>".join(parts[1:]), before=state)
        if text.startswith("(") and matching_close(text, 0) == len(text) - 1:
            return self.run(state, text[1:-1])
        if text.startswith("{") and matching_close(text, 0) == len(text) - 1:
            return self.focus(state, text[1:-1])   # `{ tacs }` must close the main goal, as `·`
        head, rest = (text.split(None, 1) + [""])[:2] if text else ("", "")
        return self.atomic(state, head, rest.strip())

    def atomic(self, state: ProofState, head: str, rest: str) -> ProofState:
        tac = TACTICS.get(head)
        if tac is None:
            raise TacticSyntaxError(f"<input>:1:0: unknown tactic '{head}'" if head else "<input>:1:0: unknown tactic")
        rest, options = split_options(rest)
        refused = refused_option(options)
        if refused:
            raise TacticError(f"the embedded kernel does not support the option `{refused}` of `{head}`: "
                              "ignoring it could accept what Lean rejects")
        if tac.argument == "required" and not rest:
            raise TacticSyntaxError(f"<input>:1:{len(head)}: unexpected end of input")
        if tac.argument == "none" and rest:
            raise TacticSyntaxError(f"<input>:1:{len(head) + 1}: unexpected token '{rest.split()[0]}'; expected command")
        if tac.goal and not state.goals:
            raise TacticError("no goals to be proved")
        outer, self.options = self.options, tuple(options)
        try:
            if head in ONE_LOCATION:
                done = with_locations(self, state, tac, rest)
                if done is not None:
                    return done
            return tac.run(self, state, rest)
        except arith.ArithError as err:  # e.g. a numeral too large to evaluate: the tactic fails
            raise TacticError(f"{head} failed: {err}") from err
        except RecursionError as err:
            raise TacticError("maximum recursion depth has been reached") from err
        finally:
            self.options = outer

    def focus(self, state: ProofState, text: str) -> ProofState:
        """Run `text` on the main goal alone; it must close it."""
        main = ProofState((state.main,), state.axioms, state.sorries)
        done = self.run(main, text)
        if done.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(done.pp_goals()))
        return ProofState(state.goals[1:], done.axioms, done.sorries)

    def each_goal(self, state: ProofState, text: str, must_all: bool) -> ProofState:
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
        r = self.each_goal(head, text, must_all=True)
        return ProofState(r.goals + state.goals[new_count:], r.axioms, r.sorries)

    # helpers shared by tactics
    def elab(self, goal: Goal) -> Elab:
        return Elab(goal, self.theorems, self._run_by)

    def _run_by(self, goal: Goal, text: str) -> frozenset:
        """Run a nested `by` block; it must close its goal. The parser keeps the continuation
        lines' original indentation (`by\n    rw [h]\n    simp`), so they are dedented to the
        block's own column first."""
        r = self.run(ProofState((goal,)), dedent_block(text))
        if r.goals:
            raise TacticError("unsolved goals\n" + "\n\n".join(r.pp_goals()))
        return r.axioms | (frozenset({"sorryAx"}) if r.sorries else frozenset())


def _focus_body(text: str) -> str:
    """The tactics of a `· tac` block, laid out from column 0: the block's column is that of its
    first tactic (after `· `), which its other lines share (`· rw [h] at h₀\n  linarith`)."""
    body = text[1:]
    col = 1 + len(body) - len(body.lstrip(" "))
    first, *rest = body.lstrip(" ").split("\n")
    return "\n".join([first] + [l[col:] if l[:col].strip() == "" else l.lstrip() for l in rest])


def elaborated(s: ProofState, goals: list[Goal], el: Elab) -> ProofState:
    """`s` with its main goal replaced by `goals` after elaborating a term with `el`: the axioms
    the term used and the term-mode `sorry`s in it (`exact sorry`) go into the proof state."""
    r = s.replace_main(goals, el.axioms)
    return ProofState(r.goals, r.axioms, r.sorries + el.sorries)


def hyp_prop(g: Goal, name: str) -> Term:
    """The proposition of hypothesis `name` (a variable or an unknown name is an error)."""
    h = g.hyp(name)
    if h is None:
        raise TacticError(f"unknown identifier '{name}'")
    if h.is_var:
        raise TacticError(f"'{name}' is a variable, not a hypothesis")
    return h.type


def check_prop(p: Term, g: Goal) -> Term:
    """`p` (a type written in a tactic, e.g. `have h : p`) elaborated over the context: typed,
    with its casts (`types.elab_prop`); unknown names and non-propositions are errors."""
    return elab_prop(p, g.ctx)


# ---------------------------------------------------------------- combinators and control

@tactic("try", argument="required", goal=False)
def t_try(e: Engine, s: ProofState, rest: str) -> ProofState:
    try:
        return e.run(s, rest)
    except TacticError:
        return s


@tactic("repeat", argument="required", goal=False)
def t_repeat(e: Engine, s: ProofState, rest: str) -> ProofState:
    for _ in range(200):
        try:
            new = e.run(s, rest)
        except TacticError:
            break
        if new == s:
            break
        s = new
    return s


@tactic("all_goals", argument="required", goal=False)
def t_all_goals(e: Engine, s: ProofState, rest: str) -> ProofState:
    return e.each_goal(s, rest, must_all=True)


@tactic("any_goals", argument="required", goal=False)
def t_any_goals(e: Engine, s: ProofState, rest: str) -> ProofState:
    return e.each_goal(s, rest, must_all=False)


@tactic("first", argument="required", goal=False)
def t_first(e: Engine, s: ProofState, rest: str) -> ProofState:
    last = TacticError("first: no alternatives")
    for alt in (a.strip() for a in split_top(rest.lstrip("|"), "|")):
        try:
            return e.run(s, alt)
        except TacticError as err:
            last = err
    raise last


@tactic("set_option", argument="required", goal=False)
def t_set_option(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`set_option NAME VAL in tac`: the options change nothing the kernel computes, so `tac` runs."""
    m = re.match(r"([A-Za-z_][\w.]*)\s+(true|false|\d+|\"[^\"]*\")\s+in\s+(.+)$", rest, re.S)
    if not m:
        raise TacticSyntaxError("<input>:1:0: expected `set_option NAME VALUE in TACTIC`")
    return e.run(s, dedent_block(m.group(3)))


@tactic("open", argument="required", goal=False)
def t_open(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`open Ns in tac`: names are resolved in full by the kernel anyway, so `tac` runs."""
    m = re.match(r"((?:[A-Za-z_][\w.]*\s+)+?)in\s+(.+)$", rest, re.S)
    if not m:
        raise TacticSyntaxError("<input>:1:0: expected `open NAMESPACE in TACTIC`")
    return e.run(s, dedent_block(m.group(2)))


@tactic("skip", argument="none", goal=False)
def t_skip(e: Engine, s: ProofState, rest: str) -> ProofState:
    return s


@tactic("done", argument="none", goal=False)
def t_done(e: Engine, s: ProofState, rest: str) -> ProofState:
    if s.goals:
        raise TacticError("unsolved goals\n" + "\n\n".join(s.pp_goals()))
    return s


@tactic("sleep", argument="required", goal=False)
def t_sleep(e: Engine, s: ProofState, rest: str) -> ProofState:
    try:
        ms = int(rest.strip())
    except ValueError:
        raise TacticSyntaxError("<input>:1:6: expected numeral") from None
    time.sleep(ms / 1000)
    return s


@tactic("trace", argument="required", goal=False)
def t_trace(e: Engine, s: ProofState, rest: str) -> ProofState:
    msg = rest.strip()
    if msg.startswith('"') and msg.endswith('"'):
        msg = msg[1:-1].encode().decode("unicode_escape") if "\\" in msg else msg[1:-1]
    e.messages.append(msg)
    return s


# The tactics whose implementation rewrites one place, named by `at h` (hypotheses) or by nothing
# (the goal): the engine runs their `at h ⊢` and `at *` with `with_locations`. (`simp`, `norm_num`,
# `rw` and friends read the whole `at` clause themselves.)
ONE_LOCATION = frozenset({"ring_nf", "field_simp", "push_neg", "norm_cast", "push_cast"})


def with_locations(e: Engine, s: ProofState, tac: Tactic, rest: str) -> ProofState | None:
    """`tac args at h ⊢` / `tac args at *` for a tactic that rewrites one hypothesis or the goal
    (`at h` or nothing), as Lean's `withLocation` runs it: the named hypotheses, then the goal,
    each must succeed; with `*`, the goal then every hypothesis (newest first), and it fails only
    if all fail. None when `rest` names neither the goal nor `*` (the tactic runs as it is)."""
    loc = goal_locations(rest)
    if loc is None:
        return None
    body, hyps, _, star = loc
    at = (lambda names: f"{body} at {' '.join(names)}".strip())
    if not star:
        if hyps:
            s = tac.run(e, s, at(hyps))
        return tac.run(e, s, body) if s.goals else s
    worked = False
    try:
        s, worked = tac.run(e, s, body), True
    except TacticSyntaxError:
        raise
    except TacticError:
        pass
    if s.goals:
        for h in reversed([h.name for h in s.main.hyps if not h.is_var and "✝" not in h.name]):
            if not s.goals:
                break
            try:
                s, worked = tac.run(e, s, at([h])), True
            except TacticSyntaxError:
                raise
            except TacticError:
                pass
    if not worked:
        raise TacticError(f"{tac.name} failed")
    return s
