"""The refutation screen (`lean_env.screen`): Lean's semantics and elaboration rules, false
statements refuted, shipped true statements never refuted, `verify` rejecting what a backend
accepts when the statement is refutable, and the screen's independence from the kernel."""
from __future__ import annotations

import asyncio
import re
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from lean_env.embedded.session import Session
from lean_env.screen.elaborate import INT, NAT, RAT, REAL, Outside, elaborate, intro
from lean_env.screen.evaluate import int_ediv, int_emod, truth, value
from lean_env.screen.refute import NOT_REFUTABLE, REFUTED, screen
from lean_env.types import Theorem
from lean_env.verify import verification_command, verify_proof

ROOT = Path(__file__).resolve().parent.parent
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"

# The reproducers (issue 18): each was accepted by the kernel, each is false.
REPRODUCERS = {
    "m1": ("theorem m1 : False := by",
           ["have h1 : (-1 : ℤ) = 1 - 2 := by norm_num", "have h2 : (1 - 2 : ℕ) = 0 := by norm_num",
            "have h3 := h1.trans h2", "omega"]),
    "m2": ("theorem m2 (a b : ℕ) (ha : a = 2) (hb : b = 3) : False := by",
           ["have h := dvd_mul_right (a : ℝ) (3/2)", "have e : (a:ℝ) * (3/2) = (b:ℝ) := by rw [ha, hb]; norm_num",
            "rw [e] at h", "norm_cast at h", "subst ha hb", "omega"]),
    "m3": ("theorem m3 (n : ℕ) : n - 1 + 1 = n := by",
           ["obtain ⟨y, hy⟩ : ∃ y : ℤ, (0:ℤ) = y := ⟨0, rfl⟩",
            "induction n with\n| zero => rw [hy]; omega\n| succ k ih => omega"]),
    "m4": ("theorem m4 (x : ℝ) : Int.floor (x + 1/2) = Int.floor (x + 1/3) := by", ["rfl"]),
    "m5": ("theorem m5 : ∀ x, (x : ℤ) ≥ 0 := by", ["intro x", "positivity"]),
    "m6": ("theorem m6 : (∑ i in Finset.range 3, (i - 1) : ℤ) = 1 := by", ["decide"]),
    "m7": ("theorem m7 (a b : ℕ) : (min (a - b) 5 : ℤ) ≥ 0 := by", ["omega"]),
    "m8": ("theorem m8 : ∃ n : ℕ, n - 1 < 0 := by", ["have h : (0:ℤ) - 1 < 0 := by norm_num", "use 0"]),
}

FALSE_STATEMENTS = [s for s, _ in REPRODUCERS.values()] + [
    "theorem f1 (x y : ℕ) (h : x < y) : y - x + x = y + 1 := by",
    "theorem f2 (a : ℤ) : a / 2 * 2 = a := by",
    "theorem f3 : (-7 : ℤ) / 2 = -3 := by",                 # Int.ediv: -4
    "theorem f4 : (-7 : ℤ) % 2 = -1 := by",                 # Int.emod: 1
    "theorem f5 : (7 : ℤ) / -2 = -4 := by",                 # -3
    "theorem f6 (x : ℝ) : x / x = 1 := by",                 # x = 0
    "theorem f7 (n : ℕ) : (n : ℤ) - 1 ≥ 0 := by",
    "theorem f8 (a b : ℕ) : ((a - b : ℕ) : ℤ) = (a : ℤ) - b := by",
    "theorem f9 (a b : ℕ) : (a - b : ℤ) ≥ 0 := by",         # the ascription makes it ℤ subtraction
    "theorem f10 (x : ℝ) : Int.floor x = Int.ceil x := by",
    "theorem f11 : ∀ x, x + 1 > (2 : ℤ) := by",
    "theorem f12 (x : ℚ) (h : 0 < x) : x < 1 := by",
    "theorem f13 : Nat.Prime 91 := by",
    "theorem f14 : (∑ k in Finset.range 4, k ^ 2) = 15 := by",
    "theorem f15 (f : ℕ → ℕ) (h : ∀ x, f x = 2 * x + 3) : f 2 = 8 := by",
    "theorem f16 (f : ℕ → ℕ) : f 2 = f 3 := by",
    "theorem f17 (x : ℝ) : Real.sqrt x ^ 2 = x := by",
    "theorem f18 (x : ℝ) : Real.exp x > 1 := by",
    "theorem f19 (n : ℕ) : Nat.gcd n 6 = 1 ∨ 2 ∣ n := by",
    "theorem f20 (x : ℤ) : |x| = x := by",
    "theorem f21 (a b : ℤ) (h : a ∣ b) : a ≤ b := by",
    "theorem f22 (x : ℝ) : (2 : ℝ) ^ (1 / 2) = 1 → x = 0 := by",   # the exponent is ℕ: 1 / 2 = 0, 2 ^ 0 = 1
    "theorem f23 (p q : Prop) (h : p → q) : q → p := by",
    "theorem f24 : ∃ x : ℕ, x * x = 2 := by",
    "theorem f25 (n : ℕ) (h : 3 ≤ n) : n ! < 2 ^ n := by",
    "theorem f26 (x : ℝ) : (Int.floor x : ℝ) = x := by",
    "theorem f27 (a b : ℕ) : max a b - min a b = a - b := by",
    "theorem f28 : (∏ i in Finset.Icc 1 4, i) = 4 := by",
    "theorem f29 (x : ℤ) (h₀ : x % 4 = 3) : x % 2 = 0 := by",
    "theorem f30 (x : ℕ) (h : x ∈ Finset.range 5) : x < 4 := by",
]

TRUE_STATEMENTS = [
    "theorem t1 (x : ℕ) : x - 1 + 1 ≥ x := by",
    "theorem t2 : (-7 : ℤ) / 2 = -4 := by",
    "theorem t3 : (-7 : ℤ) % 2 = 1 := by",
    "theorem t4 (x : ℝ) : x / 0 = 0 := by",
    "theorem t5 : (∑ k ∈ Finset.range 3, (k : ℝ)) = 3 := by",
    "theorem t6 (a b : ℕ) (h : b ≤ a) : ((a - b : ℕ) : ℤ) = (a : ℤ) - b := by",
    "theorem t7 (x : ℝ) (h : 0 ≤ x) : Real.sqrt x ^ 2 = x := by",
    "theorem t8 (x : ℝ) : Real.exp x > 0 := by",
    "theorem t9 : (∑ i in Finset.range 3, (i - 1 : ℤ)) = 0 := by",
    "theorem t10 : ∀ x, (x : ℕ) ≥ 0 := by",
    "theorem t11 (f : ℕ → ℕ) (h : ∀ x, f x = 2 * x + 3) : f 2 = 7 := by",
    "theorem t12 : True := by",
    "theorem t13 (x : ℤ) : Int.floor (x : ℝ) = x := by",
    "theorem t14 (a b : ℕ) : (min (a - b) 5 : ℕ) ≥ 0 := by",
    "theorem t15 : (2 : ℤ) ∣ 6 := by",
    "theorem t16 (x : ℝ) : (2 : ℝ) ^ (1 / 2) = 1 := by",
    "theorem t17 (n : ℕ) (h : 0 < n) : (n - 1 : ℕ) + 1 = n := by",
]


# ---------------------------------------------------------------- Lean's semantics

def test_integer_division_is_lean_cores_ediv_and_emod():
    table = {(7, 0): 0, (0, 7): 0, (12, 6): 2, (12, -6): -2, (-12, 6): -2, (-12, -6): 2,
             (12, 7): 1, (12, -7): -1, (-12, 7): -2, (-12, -7): 2}
    for (a, b), q in table.items():
        assert int_ediv(a, b) == q, (a, b)
    for a in range(-15, 16):
        assert int_emod(a, 0) == a
        for b in (b for b in range(-6, 7) if b):
            r = int_emod(a, b)
            assert 0 <= r < abs(b) and a == b * int_ediv(a, b) + r


@pytest.mark.parametrize("text, want", [
    ("(2 : ℕ) - 3", 0), ("(2 : ℤ) - 3", -1), ("(7 : ℕ) / 0", 0), ("(7 : ℕ) % 0", 7), ("(-7 : ℤ) % 0", -7),
    ("(7 : ℝ) / 0", 0), ("((2 - 3 : ℕ) : ℤ)", 0), ("(2 - 3 : ℤ)", -1), ("(0 : ℕ) ^ 0", 1),
    ("Int.floor ((-1 : ℝ) / 2)", -1), ("Int.ceil ((-1 : ℝ) / 2)", 0), ("Nat.floor ((-5 : ℝ) / 2)", 0),
    ("Int.toNat (-3)", 0), ("Int.natAbs (-3)", 3), ("Real.sqrt (-4)", 0), ("Real.sqrt (9 / 4)", Fraction(3, 2)),
    ("(1 : ℝ) / 3 + 1 / 6", Fraction(1, 2)), ("(0 : ℚ)⁻¹", 0), ("Nat.choose 3 5", 0), ("Nat.gcd 0 0", 0),
    ("(2 : ℝ) ^ (-2 : ℤ)", Fraction(1, 4)), ("(4 : ℕ) ^ (1 / 2)", 1),
])
def test_values_follow_lean(text, want):
    p = elaborate(f"theorem v : {text} = 0 := by")
    assert value(p.goal.args[0], {}) == want


# ---------------------------------------------------------------- elaboration by Lean's rules

def _goal_types(stmt: str) -> tuple:
    p = elaborate(stmt)
    return p.goal.args[0].ty, p.goal.args[1].ty


def test_binder_typed_by_its_ascription_and_numerals_default_to_nat():
    p = intro(elaborate("theorem t : ∀ x, (x : ℤ) ≥ 0 := by"))
    assert [v.ty for v in p.variables] == [INT]                       # m5: x is ℤ, not ℕ
    p = intro(elaborate("theorem t : ∀ x, x + 1 > 0 := by"))
    assert [v.ty for v in p.variables] == [NAT]                       # nothing constrains it: ℕ
    p = intro(elaborate("theorem t : ∀ x, x + 1 = 2 ∧ (x : ℝ) > 0 := by"))
    assert [v.ty for v in p.variables] == [REAL]                      # a later use decides


def test_expected_type_flows_into_sums_min_and_ascribed_trees():
    p = elaborate("theorem t : (∑ i in Finset.range 3, (i - 1) : ℤ) = 1 := by")
    body = p.goal.args[0].args[1]
    assert body.op == "sub" and body.ty == INT and body.args[0].op == "cast"    # ↑i - 1 at ℤ
    p = elaborate("theorem t (a b : ℕ) : (min (a - b) 5 : ℤ) ≥ 0 := by")
    m = p.goal.args[0]
    assert m.op == "call" and m.ty == INT and m.args[0].op == "sub" and m.args[0].ty == INT
    p = elaborate("theorem t (a b : ℕ) : min (a - b) 5 ≥ (0 : ℤ) := by")
    assert p.goal.args[0].op == "cast" and p.goal.args[0].args[0].ty == NAT     # a leaf: min at ℕ, then ↑
    p = elaborate("theorem t (a b : ℕ) : ((a - b : ℕ) : ℤ) = (a - b : ℤ) := by")
    lhs, rhs = p.goal.args
    assert lhs.op == "cast" and lhs.args[0].ty == NAT and rhs.op == "sub" and rhs.ty == INT


def test_binrel_lifts_the_whole_relation_to_its_largest_leaf():
    assert _goal_types("theorem t (n : ℕ) (x : ℤ) : n - 5 < x := by") == (INT, INT)
    assert _goal_types("theorem t (n : ℕ) (q : ℚ) : n / 2 = q := by") == (RAT, RAT)
    p = elaborate("theorem t (n : ℕ) (x : ℤ) : n - 5 < x := by")
    assert p.goal.args[0].op == "sub" and p.goal.args[0].args[0].op == "cast"   # ↑n - 5, not ↑(n - 5)


@pytest.mark.parametrize("stmt", [
    "theorem t : (-1 : ℕ) = 0 := by",              # failed to synthesize Neg ℕ
    "theorem t (n : ℕ) : |n| = n := by",            # no abs on ℕ
    "theorem t (x : ℝ) : x % 2 = 0 := by",          # no % on ℝ
    "theorem t (n : ℤ) (f : ℕ → ℕ) : f n = 0 := by",    # no coercion ℤ → ℕ
    "theorem t : ∀ x, x = x := by",                 # nothing types x
    "theorem t (z : ℂ) : z = z := by",
    "theorem t (S : Finset ℕ) : S.card = 0 := by",
])
def test_statements_outside_the_fragment_or_ill_typed_are_not_screened(stmt):
    with pytest.raises(Outside):
        elaborate(stmt)
    assert screen(stmt).status == "unknown"


# ---------------------------------------------------------------- refutations

@pytest.mark.parametrize("stmt", FALSE_STATEMENTS)
def test_false_statements_are_refuted(stmt):
    r = screen(stmt)
    assert r.status == REFUTED, (stmt, r)
    assert r.reason().startswith("kernel accepted a refutable statement; counterexample:")


def test_counterexamples_are_points_where_the_statement_is_false():
    r = screen("theorem t (a b : ℕ) : (min (a - b) 5 : ℤ) ≥ 0 := by")
    p = intro(elaborate("theorem t (a b : ℕ) : (min (a - b) 5 : ℤ) ≥ 0 := by"))
    point = dict(part.split(" = ") for part in r.counterexample.split(", "))
    assert truth(p.goal, {k: int(v) for k, v in point.items()}) is False


@pytest.mark.parametrize("stmt", TRUE_STATEMENTS)
def test_true_statements_are_not_refuted(stmt):
    assert screen(stmt).status != REFUTED, stmt


def test_no_shipped_statement_with_a_known_proof_is_refuted():
    """Every embedded-benchmark theorem has a known proof (and the seed proofs prove a subset):
    all of them are true, so the screen must refute none."""
    proved = {json.loads(line)["id"] for name in ("known_proofs.jsonl", "seed_proofs.jsonl", "havechain_known_proofs.jsonl")
              for line in (ROOT / "data" / "embedded" / name).read_text().splitlines() if line.strip()}
    rows = [json.loads(line) for name in ("theorems.jsonl", "havechain.jsonl")
            for line in (ROOT / "data" / "embedded" / name).read_text().splitlines() if line.strip()]
    checked = [r for r in rows if r["id"] in proved]
    assert len(checked) >= 700
    refuted = [(r["id"], res.counterexample) for r in checked if (res := screen(r["formal_statement"])).refuted]
    assert refuted == []
    decided = sum(screen(r["formal_statement"]).status == NOT_REFUTABLE for r in checked)
    assert decided >= 0.9 * len(checked)      # the screen proves most of them outright


# ---------------------------------------------------------------- through `verify`

def _kernel(theorem: Theorem):
    session = Session()
    env = session.handle({"cmd": theorem.header})["env"]

    async def run(cmd: str, timeout: float) -> dict:
        return session.handle({"cmd": cmd, "env": env})
    return run


def _verify(statement: str, tactics: list[str], screen_on: bool = True):
    theorem = Theorem("t", HEADER, statement)
    return asyncio.run(verify_proof(_kernel(theorem), theorem, tactics, 10, screen=screen_on))


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_verify_rejects_the_reproducers_whatever_the_kernel_says(name):
    statement, tactics = REPRODUCERS[name]
    verdict = _verify(statement, tactics)
    assert not verdict.ok
    if _verify(statement, tactics, screen_on=False).ok:      # the kernel accepts it: the screen is what rejects
        assert verdict.incident and verdict.reasons == (verdict.incident,)
        assert "kernel accepted a refutable statement; counterexample:" in verdict.incident


def test_verify_passes_true_statements_and_their_proofs():
    verdict = _verify("theorem v1 (x : ℕ) (h₀ : x + 3 = 7) : x = 4 := by", ["omega"])
    assert verdict.ok and not verdict.incident


def test_the_screen_rejects_behind_a_backend_that_accepts_everything():
    """Independent of every backend: a `run_command` that reports success for anything (a Lean
    with a hole) still gets each reproducer rejected."""
    for name, (statement, tactics) in REPRODUCERS.items():
        theorem = Theorem(name, HEADER, statement)
        line = verification_command(theorem, tactics)[2]

        async def accepting(cmd: str, timeout: float) -> dict:
            return {"env": 1, "messages": [{"severity": "info", "pos": {"line": line, "column": 0},
                                            "data": f"'{name}' depends on axioms: [propext]"}]}
        verdict = asyncio.run(verify_proof(accepting, theorem, tactics, 10))
        assert not verdict.ok and verdict.incident, name


def test_independence_m1_rejected_with_the_kernels_carrier_check_switched_off(monkeypatch):
    """Issue 18: with the kernel's `.trans` carrier check off, the screen alone still rejects m1.
    The typed kernel has a second line of defence (its definitional check tells ℤ `1 - 2` from
    ℕ `1 - 2`), so to take the kernel out entirely its reply is replaced by one that accepts; the
    screen, which shares no typing code with it, is then what rejects m1."""
    from lean_env.embedded import carriers

    monkeypatch.setattr(carriers, "require_same_carrier", lambda *a, **k: None)
    statement, tactics = REPRODUCERS["m1"]
    kernel_alone = _verify(statement, tactics, screen_on=False)
    assert not kernel_alone.ok and not any("carriers differ" in r for r in kernel_alone.reasons), \
        "with the carrier check off, any kernel rejection must come from elsewhere"
    theorem = Theorem("m1", HEADER, statement)
    line = verification_command(theorem, tactics)[2]
    kernel = _kernel(theorem)

    async def kernel_with_its_errors_dropped(cmd: str, timeout: float) -> dict:
        reply = await kernel(cmd, timeout)
        kept = [{**m, "data": re.sub(r"sorryAx, |, sorryAx", "", m["data"])}      # the failed step's sorry, too
                for m in reply.get("messages", []) if m.get("severity") != "error"]
        return {**reply, "messages": kept, "sorries": []}
    verdict = asyncio.run(verify_proof(kernel_with_its_errors_dropped, theorem, tactics, 10))
    assert not verdict.ok and verdict.incident.startswith("kernel accepted a refutable statement"), verdict


def test_the_screen_runs_no_kernel_typing_code():
    """Only the lexer and the parser's syntax (and the record classes it builds) run while
    screening: no line of `types`, `elab`, `arith`, `goals`, `discrete`, `simp` or the tactics."""
    from lean_env.screen import refute

    ran: set[str] = set()

    def tracer(frame, event, arg):
        if event == "call":
            ran.add(frame.f_code.co_filename)
        return None

    statements = FALSE_STATEMENTS + TRUE_STATEMENTS
    sys.settrace(tracer)
    try:
        for stmt in statements:
            refute._screen(stmt, refute.ScreenConfig())
    finally:
        sys.settrace(None)
    kernel = {Path(f).relative_to(ROOT / "lean_env").as_posix() for f in ran
              if Path(f).is_relative_to(ROOT / "lean_env" / "embedded")}
    assert kernel <= {"embedded/parser.py", "embedded/terms.py", "embedded/functions.py"}, kernel
    assert "embedded/parser.py" in kernel


def test_a_ctrl_c_during_a_z3_query_reaches_python():
    """z3 by default installs its own SIGINT handler (process-wide) while a solver checks and spends
    a Ctrl-C on cancelling the query. The screen's solver runs in a worker thread during verification,
    so such a Ctrl-C never reached asyncio's handler and an interrupted `prover eval` ran to its end.
    Here a SIGINT comes while a screen solver works on a problem it cannot finish: Python's handler
    must get it, and the query must end by its own timeout, not by the signal."""
    import os
    import signal
    import threading

    import z3

    from lean_env.screen.refute import ScreenConfig, _solver

    solver = _solver(ScreenConfig(rlimit=10**9, timeout_ms=1500))
    x, y, z = z3.Ints("x y z")
    solver.add(x > 0, y > 0, z > 0, x ** 3 + y ** 3 == z ** 3)   # beyond z3: it runs to its timeout
    started, ended = threading.Event(), []

    def check():
        started.set()
        ended.append((solver.check(), solver.reason_unknown()))

    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        worker = threading.Thread(target=check)
        worker.start()
        started.wait()
        time.sleep(0.3)   # well inside the query
        os.kill(os.getpid(), signal.SIGINT)
        worker.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert received == [signal.SIGINT]
    assert ended == [(z3.unknown, "timeout")]


def test_an_incident_is_counted_in_the_attempt_and_the_summary():
    """A verdict carrying an incident (what `verify` returns for a refuted statement) is a failed
    proof, counted in the attempt record and in pass@k's summary line."""
    from fake_env import FakeEnv, theorem
    from policy.base import TacticCandidate
    from search.best_first import SearchConfig, search
    from search.passk import summarize
    from lean_env.types import Verdict

    class IncidentEnv(FakeEnv):
        async def verify(self, t, tactics):
            reason = "kernel accepted a refutable statement; counterexample: n = 0 (screen: eval)"
            return Verdict(False, (reason,), incident=reason)

    async def propose(state: str, n: int):
        return [TacticCandidate("cheat", -0.1, 1)]

    rec, _ = asyncio.run(search(theorem(3), IncidentEnv(), propose, SearchConfig(max_expansions=2)))
    assert not rec.proved and rec.soundness_incidents >= 1
    summary = summarize([rec.theorem_id], [rec], 1)
    assert summary.soundness_incidents == rec.soundness_incidents
    assert f"soundness incidents {rec.soundness_incidents}" in summary.line()
