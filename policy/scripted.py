"""A generator that needs no model: a fixed list of tactics tried at every state.

Useful as the baseline of a benchmark (what do the closers alone prove?), as the search's test
double, and as the first job on a machine without a model.
"""
from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Callable, Mapping, Sequence

from policy.base import TacticCandidate

DEFAULT_TACTICS = (
    "omega", "linarith", "nlinarith", "norm_num", "simp", "intro h", "constructor", "decide",
    "ring", "trivial", "positivity", "assumption",
)


NUMBER_TYPES = ("ℝ", "ℕ", "ℤ", "ℚ")


def hint_templates(state: str) -> list[str]:
    """The goal state's hint templates (the rules: `_hint_templates`), a fresh list each call."""
    return list(_hint_templates(state))


@functools.lru_cache(maxsize=4096)   # a state's templates are fixed, and every attempt meets its root again
def _hint_templates(state: str) -> tuple[str, ...]:
    """Tactics with hints, instantiated from a goal state's hypotheses and variables (fixed rules, no
    model: they show what the hint syntax alone proves, and their proofs teach it):
    - every named hypothesis handed to norm_num / simp only / field_simp / nlinarith, `rw [h]` for
      each equation, `field_simp at h` for each hypothesis with a division;
    - `nlinarith` with the squares of the pairwise differences of up to three number variables, and
      with `(x - c) ^ 2 ≥ 0` for a variable x and a numeral c of the goal (completing the square);
    - a `∀` hypothesis specialised at each argument its function is applied to elsewhere in the
      state (`have h₀_2 := h₀ 2`; named, and not offered again once that name exists);
    - the lemma hints of LEMMA_HINTS (gcd · lcm, √x ^ 2) where their pattern occurs;
    - a conjunction hypothesis taken apart (`obtain ⟨h₀_1, h₀_2⟩ := h₀`);
    - `interval_cases x <;> omega` (`norm_num at *`, `simp_all`) for an integer variable x with a small
      numeral upper bound, and for pairs of such variables; `by_contra! h` at a bound to prove;
    - `have hx : x = v := by linarith` (`nlinarith` for a nonlinear system, `omega` for a linear
      one over ℕ/ℤ) for each variable the state's equations determine (v found by z3: the kernel
      still has to check the step); `have h₂' : a = b + c := by omega` for a truncated ℕ
      subtraction `h₂ : a - b = c`, so that the equation joins the others;
    - `have h₀_den : x + 1 ≠ 0 := by intro h; apply h₀; linarith` for a denominator that a
      hypothesis `h₀ : x ≠ -1` keeps away from zero (what field_simp needs to clear it);
    - `induction' n with n ih` for a natural-number variable of the goal."""
    goal_at = state.find("⊢")
    hyps = state[: goal_at if goal_at >= 0 else 0]
    goal = state[goal_at + 1:] if goal_at >= 0 else ""
    props, numbers, functions, names, lines = [], [], [], set(), []
    for line in hyps.splitlines():
        if " : " not in line:
            continue
        line_names, typ = line.split(" : ", 1)
        typ = typ.strip()
        for name in line_names.split():
            names.add(name)
            if "✝" in name:   # inaccessible: no tactic can name it
                continue
            lines.append((name, typ))
            if typ in NUMBER_TYPES:
                numbers.append((name, typ))
            elif " → " in typ and not typ.startswith("∀") and not any(c in typ for c in "=<≤∣≠"):
                functions.append(name)
            elif "=" in typ or "<" in typ or "≤" in typ or "∣" in typ or "≠" in typ:
                props.append((name, typ))
    out = []
    if props:
        every = ", ".join(n for n, _ in props)
        out += [f"norm_num [{every}] at *", f"simp only [{every}] at *", f"field_simp [{every}] at *",
                f"nlinarith [{every}]"]
        out += [f"rw [{n}]" for n, typ in props if is_equation(typ)]
        out += [f"field_simp at {n}" for n, typ in props if "/" in typ and not typ.startswith("∀")]
    v = [n for n, _ in numbers[:3]]
    if len(v) >= 2:
        out.append("nlinarith [" + ", ".join(f"sq_nonneg ({a} - {b})" for i, a in enumerate(v) for b in v[i + 1:]) + "]")
    numerals = list(dict.fromkeys(re.findall(r"(?<![\w.])(\d+)(?![\w.])", re.sub(r"\^ \d+", "", goal))))
    if any(op in goal for op in ("≤", "<", "≥", ">")):   # an inequality: complete the square
        out += [f"nlinarith [sq_nonneg ({x} - {c})]" for x in v for c in numerals[:3] if c != "0"][:6]
    out += specialisations(props, functions, [*lines, ("⊢", goal)], names)
    for pattern, template in LEMMA_HINTS:
        for m in re.finditer(pattern, state):
            out.append(template.format(*m.groups()))
    out += [destructure(h, typ) for h, typ in lines if top_level_parts(typ, "∧") > 1]
    out += case_splits(numbers, props)
    if re.fullmatch(r"\S+ (<|≤) \S+", goal.strip()) and any(t in ("ℕ", "ℤ") for _, t in numbers):
        out.append("by_contra! h")   # a bound to prove: its negation bounds a variable for interval_cases
    out += nat_subtractions(numbers, props, names)
    out += solved_values(numbers, props, names)
    out += nonzero_denominators(props, [*lines, ("⊢", goal)], names)
    out += [f"induction' {x} with {x} ih" for x, typ in numbers
            if typ == "ℕ" and "ih" not in names and re.search(rf"(?<![\w.]){re.escape(x)}(?![\w.])", goal)]
    return (*dict.fromkeys(out), "subst_vars")


def is_equation(typ: str) -> bool:
    """An equation `rw` can use: `a = b`, or a `∀` whose conclusion is one."""
    body = typ.rsplit(", ", 1)[-1] if typ.startswith("∀") else typ
    return "=" in body and "≠" not in body and "∣" not in body


# Where a pattern of the state occurs, a lemma a human would hand over (table of facts, not rules).
LEMMA_HINTS = (
    (r"Nat\.gcd (\w+) (\w+)(?=[\s\S]*Nat\.lcm \1 \2)", "have := Nat.gcd_mul_lcm {0} {1}"),
    (r"Nat\.lcm (\w+) (\w+)(?=[\s\S]*Nat\.gcd \1 \2)", "have := Nat.gcd_mul_lcm {0} {1}"),
    (r"(\S+) : 0 ≤ ([^\n]+)(?=[\s\S]*√\(\2\)|[\s\S]*Real\.sqrt \(\2\))", "have := Real.sq_sqrt {0}"),
)


def top_level_parts(typ: str, op: str) -> int:
    """How many parts `typ` has at the top level of `op` (outside brackets and binders)."""
    if typ.startswith(("∀", "∃", "¬")):
        return 1
    depth, parts = 0, 1
    for ch in typ:
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif ch == op and depth == 0:
            parts += 1
    return parts


def destructure(h: str, typ: str) -> str:
    names = [f"{h}_{i + 1}" for i in range(top_level_parts(typ, "∧"))]
    return f"obtain ⟨{', '.join(names)}⟩ := {h}"


def case_splits(numbers, props) -> list[str]:
    """interval_cases over the integer variables with a numeral upper bound among the hypotheses
    (one variable at ≤ 30 values, two at ≤ 400 together), each case closed by one tactic."""
    bound = {}
    for x, typ in numbers:
        for _, t in props:
            m = re.fullmatch(rf"{re.escape(x)} (<|≤) (\d+)", t)
            if typ in ("ℕ", "ℤ") and m:
                bound[x] = min(bound.get(x, 10**9), int(m.group(2)) + (m.group(1) == "≤"))
    out = []
    for x, n in bound.items():
        if n <= 30:
            out += [f"interval_cases {x} <;> {close}" for close in ("omega", "norm_num at *", "simp_all")]
    pairs = [(x, y) for i, x in enumerate(bound) for y in list(bound)[i + 1:] if bound[x] * bound[y] <= 400]
    out += [f"interval_cases {x} <;> interval_cases {y} <;> {close}" for x, y in pairs[:3] for close in ("omega", "norm_num at *")]
    return out


def nat_subtractions(numbers, props, names) -> list[str]:
    """`have h' : a = b + c := by omega` for `h : a - b = c` over ℕ with c > 0 (the truncated
    subtraction as an equation the other rules can use)."""
    nats = {x for x, typ in numbers if typ == "ℕ"}
    out = []
    for h, typ in props:
        m = re.fullmatch(r"(\w+) - (\w+) = (\d+)", typ)
        if m and {m.group(1), m.group(2)} <= nats and int(m.group(3)) > 0 and f"{h}'" not in names:
            out.append(f"have {h}' : {m.group(1)} = {m.group(2)} + {m.group(3)} := by omega")
    return out


def solved_values(numbers, props, names) -> list[str]:
    """`have hx : x = v := by linarith` for each number variable x whose value v the state's
    polynomial equations determine (z3, 200 ms: a hint, never a verdict). The step's closer: linarith
    (and nlinarith where an equation is nonlinear) over ℝ/ℚ; omega, or nlinarith, over ℕ/ℤ. A cast
    `↑n` is n itself; an equation with a truncated ℕ subtraction or an integer division is not used.
    Its own z3 context: the refutation screen uses z3's default one in worker threads, and a context
    is not thread-safe."""
    import z3

    kinds = dict(numbers)
    if not kinds:
        return []
    ctx = z3.Context()
    vs = {x: (z3.Real(x, ctx) if typ in ("ℝ", "ℚ") else z3.Int(x, ctx)) for x, typ in kinds.items()}
    eqs, nonlinear = [z3.IntVal(0, ctx) <= vs[x] for x, typ in kinds.items() if typ == "ℕ"], False
    for _, typ in props:
        if typ.startswith("∀") or "≠" in typ or typ.count("=") != 1 or not re.fullmatch(r"[\w\s+\-*/^().=↑]+", typ):
            continue
        words = [w for w in re.findall(r"↑?(?:[^\W\d]\w*|\d+\w+)", typ) if not w.isdigit()]
        if any(w.lstrip("↑") not in kinds for w in words):
            continue   # a name that is not a number variable (a function, a constant): not this rule's
        integral = [w for w in words if kinds[w.lstrip("↑")] in ("ℕ", "ℤ")]
        if integral and ("/" in typ or "%" in typ):
            continue   # ℕ/ℤ division truncates
        if "-" in typ and any(kinds.get(w) == "ℕ" for w in integral):   # a bare ℕ variable: truncated `-`
            continue
        lhs, rhs = typ.replace("↑", "").replace("^", "**").split("=")
        try:
            eqs.append(eval(f"({lhs}) == ({rhs})", {"__builtins__": {}}, vs))   # names and numerals only
        except Exception:
            continue
        nonlinear |= "^" in typ or bool(re.search(r"[^\W\d]\w*\s*\*\s*↑?[^\W\d]", typ))
    if not eqs:
        return []
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", 200)
    solver.set("ctrl_c", False)   # leave SIGINT to Python (see lean_env/screen/refute.py)
    solver.add(*eqs)
    if solver.check() != z3.sat:
        return []
    model, out = solver.model(), []
    for x in sorted(kinds):
        v = model.eval(vs[x], model_completion=False)
        if not (z3.is_rational_value(v) or z3.is_int_value(v)) or f"h{x}" in names:
            continue
        solver.push()
        solver.add(vs[x] != v)
        determined = solver.check() == z3.unsat
        solver.pop()
        if not determined:
            continue
        q = v.as_fraction() if z3.is_rational_value(v) else Fraction(v.as_long())
        value = str(q.numerator) if q.denominator == 1 else f"{q.numerator} / {q.denominator}"
        if kinds[x] in ("ℝ", "ℚ"):
            closers = ["linarith", "nlinarith"] if nonlinear else ["linarith"]
        else:
            closers = ["nlinarith"] if nonlinear else ["omega"]
        out += [f"have h{x} : {x} = {value} := by {c}" for c in closers]
    return out


def nonzero_denominators(props, lines, names) -> list[str]:
    """`have h₀_den : x + 1 ≠ 0 := by intro h; apply h₀; linarith` for each denominator of the state
    (not a numeral) holding the variable of a hypothesis `h₀ : x ≠ c`: field_simp clears a
    denominator only once it is known to be nonzero."""
    dens = []
    for _, t in lines:
        for d in re.findall(r"/ (\((?:[^()]|\([^()]*\))*\)|[^\W\d][\w.]*)", t):
            d = d[1:-1] if d.startswith("(") else d
            if not re.fullmatch(r"[\d\s.]+", d) and d not in dens:
                dens.append(d)
    out = []
    for h, typ in props:
        m = re.fullmatch(r"([^\W\d]\w*) ≠ -?[\d.]+(?: / \d+)?", typ)
        if not m or f"{h}_den" in names:
            continue
        for i, d in enumerate(x for x in dens if re.search(rf"(?<![\w.]){re.escape(m.group(1))}(?![\w.])", x)):
            name = f"{h}_den" if i == 0 else f"{h}_den{i + 1}"
            out.append(f"have {name} : {d} ≠ 0 := by intro h; apply {h}; linarith")
    return out


def specialisations(props, functions, lines, names) -> list[str]:
    """`have h_c := h c` for a `∀` hypothesis h mentioning a function f, at each argument f is applied
    to in the other lines of the state (a numeral, a name, a parenthesised term)."""
    out = []
    for h, typ in props:
        if not typ.startswith("∀"):
            continue
        for f in (f for f in functions if re.search(rf"\b{re.escape(f)}\b", typ)):
            args = []
            for other, t in lines:
                if other != h:
                    # overlapping: `f (f 1)` applies f at `(f 1)` and at `1`
                    args += re.findall(rf"(?=(?<![\w.]){re.escape(f)} (\d+|\w+|\((?:[^()]|\([^()]*\))*\)))", t)
            for a in list(dict.fromkeys(args))[:4]:
                name = f"{h}_" + re.sub(r"\W", "", a.replace("-", "m"))
                if name not in names:
                    out.append(f"have {name} := {h} {a}")
    return out


def closers_and_templates(state: str) -> list[tuple[str, float]]:
    """The closers, then the state's hint templates, scored in that order (a ScriptedGenerator's
    function: `ScriptedGenerator(closers_and_templates)`)."""
    tactics = [*TEMPLATE_CLOSERS, *hint_templates(state)]
    return [(t, -0.1 * (i + 1)) for i, t in enumerate(dict.fromkeys(tactics))]


# `decide` for closed finite computations norm_num has no extension for (a sum over `Finset.Icc`, a
# filter's card, `Nat.choose`), within Lean's recursion limit
TEMPLATE_CLOSERS = ("omega", "norm_num", "linarith", "nlinarith", "constructor", "simp_all", "field_simp", "positivity",
                    "decide")


Scripted = Sequence[str] | Mapping[str, Sequence[tuple[str, float]]] | Callable[[str], Sequence[tuple[str, float]]]


class ScriptedGenerator:
    """`tactics` is a list (the same for every state, scored -0.1, -0.2, ... in order), a dict
    state -> [(tactic, logprob)] (states not in it get nothing), or a function state -> that list.
    `calls` records the batch size of every call, so tests can see batching."""

    def __init__(self, tactics: Scripted = DEFAULT_TACTICS):
        if isinstance(tactics, str):
            raise TypeError("ScriptedGenerator wants a list of tactics, not one string")
        self.tactics = tactics
        self.calls: list[int] = []

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        """The same tactics whatever the request's key: nothing here is random."""
        self.calls.append(len(states))
        out = []
        for s in states:
            if callable(self.tactics):
                pairs = list(self.tactics(s))
            elif isinstance(self.tactics, Mapping):
                pairs = list(self.tactics.get(s, ()))
            else:
                pairs = [(t, -0.1 * (i + 1)) for i, t in enumerate(self.tactics)]
            out.append([TacticCandidate(t, lp, 1) for t, lp in pairs[:n]])
        return out
