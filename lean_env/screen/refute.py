"""Screen one statement: try to refute it, by exact evaluation on a box of points and then by z3.

A refutation is a certificate, never a guess: a point where exact evaluation makes every
hypothesis true and the goal false, or a z3 model of an encoding in which every model is a Lean
counterexample (`Encoder.exact`), or, where the encoding is only sound (uninterpreted functions),
a point at which z3 proves the statement false for every function that satisfies the facts.
An unsat answer proves the statement (`not_refutable`). All budgets are counts (points, z3's
resource limit), not clocks, so a verdict does not depend on the machine's load.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import z3
from pydantic import Field

from lean_env.config import config_record

from lean_env.screen.elaborate import FIELDS, INT, NAT, PROP, Outside, Problem, T, Var, elaborate, intro
from lean_env.screen.evaluate import FIELD_SEARCH, Opaque, truth, value
from lean_env.screen.smt import Encoder, NoZ3, describe_function, model_point, z3_value

REFUTED, NOT_REFUTABLE, UNKNOWN = "refuted", "not_refutable", "unknown"


@config_record(frozen=True)
class ScreenConfig:
    points: int = Field(300, ge=0)            # exact evaluations on the box before z3
    rlimit: int = Field(2_000_000, ge=1)      # z3's deterministic resource limit per query (~0.1-0.3 s)
    timeout_ms: int = Field(1000, ge=1)       # a wall-clock backstop only (quantifier instantiation can outrun rlimit)


@dataclass(frozen=True)
class ScreenResult:
    status: str                  # refuted | not_refutable | unknown
    counterexample: str = ""     # "x = 0, y = 3" when refuted
    how: str = ""                # eval | z3 | z3 at a point | z3 unsat | outside: why | ...
    seconds: float = 0.0

    @property
    def refuted(self) -> bool:
        return self.status == REFUTED

    def reason(self) -> str:
        shown = self.counterexample or "none needed, the statement has no variables"
        return f"kernel accepted a refutable statement; counterexample: {shown} (screen: {self.how})"


def screen(statement: str, config: ScreenConfig = ScreenConfig()) -> ScreenResult:
    """Screen a statement (`theorem NAME binders : goal := by`). Memoized: the verdict depends
    only on the text and the budgets, and a campaign verifies the same statement many times."""
    return _screen_cached(statement, config)


# z3's Python API works in one global context, which is not thread-safe: `verify` screens in
# worker threads, so one screening runs at a time (a second one waits; it never crashes z3)
_Z3_LOCK = threading.Lock()


@lru_cache(maxsize=4096)
def _screen_cached(statement: str, config: ScreenConfig) -> ScreenResult:
    t0 = time.perf_counter()
    try:
        with _Z3_LOCK:
            result = _screen(statement, config)
    except Exception as e:   # a bug of the screen's own never rejects a proof; it shows in `how`
        result = ScreenResult(UNKNOWN, how=f"screen error: {type(e).__name__}: {e}"[:300])
    return ScreenResult(result.status, result.counterexample, result.how, time.perf_counter() - t0)


def _screen(statement: str, config: ScreenConfig) -> ScreenResult:
    try:
        problem = intro(elaborate(statement))
    except Outside as e:
        return ScreenResult(UNKNOWN, how=f"outside: {e}")
    except RecursionError:
        return ScreenResult(UNKNOWN, how="outside: nested too deeply")
    problem, defs = split_definitions(problem)
    found = search_box(problem, defs, config.points)
    if found is not None:
        return ScreenResult(REFUTED, describe(problem, found, _defined(defs)), "eval")
    try:
        return solve(problem, defs, config)
    except RecursionError:
        return ScreenResult(UNKNOWN, how="z3: nested too deeply")


def statement_truth(p: Problem, point: dict) -> object:
    """`hyps → goal` at a point: False only when every hypothesis is surely true and the goal false."""
    try:
        hyps = [truth(h, point) for _, h in p.hyps]
        if False in hyps:
            return True
        goal = truth(p.goal, point)
        if goal is True:
            return True
        return False if goal is False and all(h is True for h in hyps) else None
    except (Opaque, ZeroDivisionError, RecursionError):
        return None


# ---------------------------------------------------------------- the box

def _constants(t: T, out: set) -> None:
    if t.op == "num" and isinstance(t.data, int) and t.data < 10 ** 6:
        out.add(t.data)
    for a in t.args:
        _constants(a, out)


def candidates(p: Problem, v: Var, budget_per_var: int) -> list:
    if v.ty == PROP:
        return [False, True]
    consts: set[int] = set()
    for _, h in p.hyps:
        _constants(h, consts)
    _constants(p.goal, consts)
    near = sorted({c + d for c in consts for d in (-1, 0, 1)}, key=abs)
    if v.ty == NAT:
        base = list(range(0, 8)) + [c for c in near if c >= 0]
    elif v.ty == INT:
        base = [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5] + [c for c in near] + [-c for c in near]
    elif v.ty in FIELDS:
        base = list(FIELD_SEARCH) + [Fraction(c) for c in near] + [Fraction(-c) for c in near] + [
            Fraction(c, 2) for c in near if c] + [Fraction(2 * c + 1, 2) for c in near]
    else:
        return []
    return list(dict.fromkeys(base))[:budget_per_var]


def search_box(p: Problem, defs: dict, budget: int) -> dict | None:
    """A point where the statement is surely false, tried on at most `budget` points."""
    numeric = [v for v in p.variables if not isinstance(v.ty, tuple)]
    if len(numeric) + len(defs) < len(p.variables):      # a free local function: z3 chooses it
        return None
    if not numeric:
        point = with_definitions({}, defs)
        return point if statement_truth(p, point) is False else None
    per_var = max(2, int(budget ** (1 / len(numeric))) + 1)
    domains = [candidates(p, v, per_var) for v in numeric]
    for combo in itertools.islice(itertools.product(*domains), budget):
        point = with_definitions({v.key: x for v, x in zip(numeric, combo)}, defs)
        if statement_truth(p, point) is False:
            return point
    return None


# ---------------------------------------------------------------- functions defined by a hypothesis

def split_definitions(p: Problem) -> tuple[Problem, dict]:
    """Hypotheses `∀ x y, f x y = e` with `e` free of `f` and of functions not defined before:
    they define `f` (any counterexample must use that `f`), so the screen uses `e` for `f` and
    drops the hypothesis, which then holds by construction."""
    functions = {v.key for v in p.variables if isinstance(v.ty, tuple)}
    defs: dict[str, tuple[tuple[str, ...], T, str]] = {}
    kept = []
    for name, h in p.hyps:
        d = _definition(h, functions, defs)
        if d is None:
            kept.append((name, h))
        else:
            key, bound, body = d
            defs[key] = (bound, body, name)
    return Problem(p.name, p.variables, tuple(kept), p.goal), defs


def _definition(h: T, functions: set, defs: dict):
    bound: list[str] = []
    while h.op == "forall":
        bound.append(h.data[0])
        h = h.args[0]
    if h.op != "rel" or h.data != "=":
        return None
    for lhs, rhs in (h.args, h.args[::-1]):
        if (lhs.op == "app" and lhs.data in functions and lhs.data not in defs
                and [a.data if a.op == "var" else None for a in lhs.args] == bound
                and len(set(bound)) == len(bound)
                and not (_apps(rhs) - set(defs))):
            return lhs.data, tuple(bound), rhs
    return None


def _apps(t: T) -> set:
    out = {t.data} if t.op == "app" else set()
    for a in t.args:
        out |= _apps(a)
    return out


def with_definitions(point: dict, defs: dict) -> dict:
    for key, (bound, body, _) in defs.items():
        point[key] = (lambda *xs, bound=bound, body=body: value(body, {**point, **dict(zip(bound, xs))}))
    return point


def _defined(defs: dict) -> dict:
    return {key: f"the function {name} defines" for key, (_, _, name) in defs.items()}


def describe(p: Problem, point: dict, functions: dict | None = None) -> str:
    parts = []
    for v in p.variables:
        if isinstance(v.ty, tuple):
            parts.append(f"{v.name} = {(functions or {}).get(v.key, '?')}")
        else:
            x = point[v.key]
            parts.append(f"{v.name} = {x}" if not isinstance(x, bool) else f"{v.name} = {x}")
    return ", ".join(parts)


# ---------------------------------------------------------------- z3

def solve(p: Problem, defs: dict, config: ScreenConfig) -> ScreenResult:
    enc = Encoder(p.variables, {k: (bound, body) for k, (bound, body, _) in defs.items()})
    try:
        env = {**enc.consts}
        hyps = [enc.prop(h, env) for _, h in p.hyps]
        negated_goal = z3.Not(enc.prop(p.goal, env))
    except NoZ3 as e:
        return ScreenResult(UNKNOWN, how=f"z3: {e}")
    except (Opaque, ZeroDivisionError, z3.Z3Exception) as e:
        return ScreenResult(UNKNOWN, how=f"z3: {type(e).__name__}")
    solver = _solver(config)
    solver.add(*enc.side, *hyps, negated_goal)
    verdict = solver.check()
    if verdict == z3.unsat:
        return ScreenResult(NOT_REFUTABLE, how="z3 unsat")
    if verdict != z3.sat:
        return ScreenResult(UNKNOWN, how=f"z3 {solver.reason_unknown()}")
    model = solver.model()
    point = model_point(enc, model, [v for v in p.variables if v.key not in defs])
    functions = {v.key: describe_function(enc, model, v) for v in p.variables
                 if isinstance(v.ty, tuple) and v.key not in defs} | _defined(defs)
    if point is not None:
        point = with_definitions(point, defs)
        v = statement_truth(p, point)
        if v is False:
            return ScreenResult(REFUTED, describe(p, point, functions), "z3 model, checked by evaluation")
        if v is True and enc.exact:   # the encoding and the evaluator disagree: trust neither
            return ScreenResult(UNKNOWN, how="z3 model not confirmed by evaluation (exact encoding)")
        if v is True:
            return ScreenResult(UNKNOWN, how="z3 model of uninterpreted functions")
        if enc.exact:
            return ScreenResult(REFUTED, describe(p, point, functions), "z3 model")
        if not any(isinstance(v.ty, tuple) and v.key not in defs for v in p.variables) and _false_at(p, defs, point, config):
            return ScreenResult(REFUTED, describe(p, point, functions), "z3 proof at the point")
        return ScreenResult(UNKNOWN, how="z3 model of uninterpreted functions")
    if enc.exact:
        shown = ", ".join(f"{v.name} = {model.eval(enc.consts[v.key], model_completion=True)}"
                          for v in p.variables if not isinstance(v.ty, tuple))
        return ScreenResult(REFUTED, shown, "z3 model (irrational values)")
    return ScreenResult(UNKNOWN, how="z3 model with irrational values")


def _solver(config: ScreenConfig) -> z3.Solver:
    s = z3.Solver()
    s.set("rlimit", config.rlimit)
    s.set("timeout", config.timeout_ms)
    # By default z3 swaps in its own SIGINT handler (process-wide) for each check and spends a
    # Ctrl-C on cancelling that query: Python, asyncio's handler included, never sees it. The screen
    # runs in a worker thread during verification, so a Ctrl-C of `prover eval` would be lost.
    s.set("ctrl_c", False)
    return s


def _false_at(p: Problem, defs: dict, point: dict, config: ScreenConfig) -> bool:
    """Whether z3 proves `hyps ∧ ¬goal` at this point for every interpretation of the
    uninterpreted functions that satisfies their facts."""
    enc = Encoder(p.variables, {k: (bound, body) for k, (bound, body, _) in defs.items()})
    env = {key: z3_value(x) for key, x in point.items() if key not in defs}
    enc.consts.update({k: v for k, v in env.items() if k in enc.consts})
    try:
        claim = z3.And(*[enc.prop(h, env) for _, h in p.hyps], z3.Not(enc.prop(p.goal, env)))
    except (NoZ3, Opaque, ZeroDivisionError, z3.Z3Exception):
        return False
    solver = _solver(config)
    solver.add(*[s for s in enc.side if not _mentions_variables(s, enc)], z3.Not(claim))
    return solver.check() == z3.unsat


def _mentions_variables(formula: z3.ExprRef, enc: Encoder) -> bool:
    names = {str(c) for c in enc.consts.values()}
    todo, seen = [formula], set()
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and str(e) in names:
            return True
        todo.extend(e.children())
    return False
