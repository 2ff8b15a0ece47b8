"""Goal-management tactics: which goal the next tactic works on and what happens to the others
(`case`, `next`, `focus`, `swap`, `pick_goal`, `rotate_left`/`rotate_right`, `on_goal`), and
`fail_if_success`. They follow Lean's `Lean.Elab.Tactic.BuiltinTactic` and Batteries/Mathlib's
`PermuteGoals`: `case`/`next` must close the goal they select (like `·`), `focus` and `on_goal`
put the goals their tactic leaves back in place."""
from __future__ import annotations

import re
from lean_env.embedded.goals import Goal, ProofState, TacticError
from lean_env.embedded.tactics.engine import Engine
from lean_env.embedded.tactics.registry import tactic
from lean_env.embedded.tactics.text import TacticSyntaxError, dedent_block

_ARROW = re.compile(r"[ \t]*=>[ \t]*")

def _unsolved(state: ProofState) -> TacticError:
    return TacticError("unsolved goals\n" + "\n\n".join(state.pp_goals()))


def _split_arrow(rest: str, what: str) -> tuple[str, str]:
    """`tag x y => tac` -> ("tag x y", "tac"); the tactic part may span lines (its own layout)."""
    m = _ARROW.search(rest)
    if not m:
        raise TacticSyntaxError(f"<input>:1:{len(what)}: unexpected end of input; expected '=>'")
    body = rest[m.end():].rstrip()
    if not body.strip():
        raise TacticSyntaxError(f"<input>:1:{len(what)}: unexpected end of input; expected tactic")
    return rest[:m.start()].strip(), dedent_block(body.lstrip(" ")) if "\n" in body else body.strip()


def _close_on(e: Engine, s: ProofState, index: int, names: list[str], text: str) -> ProofState:
    """Run `text` on goal `index` alone (its inaccessible hypotheses renamed to `names` first, as
    `rename_i` does); it must close it. The other goals stay where they were."""
    g = s.goals[index]
    single = ProofState((g,), s.axioms, s.sorries)
    if names:
        single = e.atomic(single, "rename_i", " ".join(names))
    done = e.run(single, text)
    if done.goals:
        raise _unsolved(done)
    return ProofState(s.goals[:index] + s.goals[index + 1:], done.axioms, done.sorries)


def _tag_matches(tag: str, wanted: str) -> bool:
    """Lean's `case` selects a goal whose tag is `wanted` or ends with `.wanted` (`_` is any)."""
    return wanted == "_" or tag == wanted or tag.endswith("." + wanted)


@tactic("case", argument="required", goal=False)
def t_case(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`case tag x y => tac` (and `case tag₁ | tag₂ => tac`, each in turn)."""
    head, text = _split_arrow(rest, "case")
    for alt in (a.strip() for a in head.split("|")):
        tag, *names = alt.split()
        index = next((i for i, g in enumerate(s.goals) if _tag_matches(g.case, tag)), None)
        if index is None:
            tags = ", ".join(g.case for g in s.goals if g.case)
            raise TacticError(f"Case tag '{tag}' not found.\n\n"
                              + (f"Available tags: {tags}" if tags else "There are no cases to select."))
        s = _close_on(e, s, index, names, text)
    return s


@tactic("next", argument="optional", goal=True)
def t_next(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`next x y => tac`: `case _ x y => tac` on the main goal."""
    head, text = _split_arrow(rest, "next")
    return _close_on(e, s, 0, head.split(), text)


@tactic("focus", argument="required", goal=True)
def t_focus(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`focus tac`: tac sees the main goal alone; the goals it leaves come first, then the rest
    (unlike `·`, it need not close the goal)."""
    r = e.run(ProofState((s.main,), s.axioms, s.sorries), dedent_block(rest))
    return ProofState(r.goals + s.goals[1:], r.axioms, r.sorries)


def _goal_number(text: str, s: ProofState, what: str) -> int:
    """A goal position as `pick_goal`/`on_goal` take it: 1-based, negative counts from the end."""
    try:
        n = int(text)
    except ValueError:
        raise TacticSyntaxError(f"<input>:1:{len(what) + 1}: expected numeral") from None
    count = len(s.goals)
    if n == 0 or abs(n) > count:
        raise TacticError(f"not enough goals")
    return n - 1 if n > 0 else count + n


@tactic("pick_goal", argument="required", goal=True)
def t_pick_goal(e: Engine, s: ProofState, rest: str) -> ProofState:
    i = _goal_number(rest.strip(), s, "pick_goal")
    return ProofState((s.goals[i],) + s.goals[:i] + s.goals[i + 1:], s.axioms, s.sorries)


@tactic("swap", argument="none", goal=True)
def t_swap(e: Engine, s: ProofState, rest: str) -> ProofState:
    return t_pick_goal(e, s, "2")


def _rotate(s: ProofState, rest: str, what: str, left: bool) -> ProofState:
    n = 1
    if rest.strip():
        try:
            n = int(rest.strip())
        except ValueError:
            raise TacticSyntaxError(f"<input>:1:{len(what) + 1}: expected numeral") from None
    goals = list(s.goals)
    if goals:
        n %= len(goals)
        goals = goals[n:] + goals[:n] if left else goals[len(goals) - n:] + goals[:len(goals) - n]
    return ProofState(tuple(goals), s.axioms, s.sorries)


@tactic("rotate_left", goal=False)
def t_rotate_left(e: Engine, s: ProofState, rest: str) -> ProofState:
    return _rotate(s, rest, "rotate_left", left=True)


@tactic("rotate_right", goal=False)
def t_rotate_right(e: Engine, s: ProofState, rest: str) -> ProofState:
    return _rotate(s, rest, "rotate_right", left=False)


@tactic("on_goal", argument="required", goal=True)
def t_on_goal(e: Engine, s: ProofState, rest: str) -> ProofState:
    """`on_goal n => tac`: tac on goal n alone; the goals it leaves take its place."""
    head, text = _split_arrow(rest, "on_goal")
    i = _goal_number(head, s, "on_goal")
    r = e.run(ProofState((s.goals[i],), s.axioms, s.sorries), text)
    return ProofState(s.goals[:i] + r.goals + s.goals[i + 1:], r.axioms, r.sorries)


@tactic("fail_if_success", argument="required", goal=False)
def t_fail_if_success(e: Engine, s: ProofState, rest: str) -> ProofState:
    """Succeeds, changing nothing, exactly when `tac` fails."""
    try:
        e.run(s, dedent_block(rest))
    except TacticSyntaxError:
        raise
    except TacticError:
        return s
    raise TacticError("tactic succeeded")
