"""The embedded session answers as leanprover-community/repl does: the cases of the REPL's own
test suite (positions, sorries, root goals, layout), Lean's sorry accounting, and explicit
refusals of what the kernel cannot serve. Expected values follow the REPL's rules
(`REPL/Main.lean`, `REPL/JSON.lean`, `REPL/Lean/InfoTree.lean`), computed from the sent text."""
from __future__ import annotations

import pytest

from lean_env.embedded.session import Session

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n"


@pytest.fixture
def s() -> Session:
    session = Session()
    assert session.handle({"cmd": HEADER}) == {"env": 0}
    return session


def at(text: str, needle: str, nth: int = 0) -> dict:
    """The REPL position of the nth occurrence of `needle` (line from 1, column from 0)."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    return {"line": line, "column": i - (text.rfind("\n", 0, i) + 1)}


def end(text: str, needle: str, nth: int = 0) -> dict:
    p = at(text, needle, nth)
    return {"line": p["line"], "column": p["column"] + len(needle)}


def cmd(s: Session, text: str, **extra) -> dict:
    return s.handle({"cmd": text, "env": 0, **extra})


# ---------------------------------------------------------------- positions, as in the REPL's tests

def test_have_by_sorry_with_unsolved_goals(s):
    text = "theorem foo (x : ℤ) : x = x := by\n  have h : x = 1 := by sorry"
    r = cmd(s, text)
    assert r["sorries"] == [{"proofState": r["sorries"][0]["proofState"], "pos": at(text, "sorry"),
                             "goal": "x : ℤ\n⊢ x = 1", "endPos": end(text, "sorry")}]
    # the error spans the whole `by` block; an erring declaration gets no sorry warning
    assert r["messages"] == [{"severity": "error", "pos": at(text, "by"), "endPos": end(text, "sorry"),
                              "data": "unsolved goals\nx : ℤ\nh : x = 1\n⊢ x = x"}]


def test_sorry_warning_sits_on_the_name_and_example_keyword(s):
    text = "theorem foo (x : ℤ) : x = x := by sorry"
    r = cmd(s, text)
    assert r["messages"] == [{"severity": "warning", "pos": at(text, "foo"), "endPos": end(text, "foo"),
                              "data": "declaration uses `sorry`"}]
    text = "example : 1 = 0 := sorry"           # a term sorry is reported too
    r = cmd(s, text)
    assert r["messages"][0]["pos"] == at(text, "example") and r["messages"][0]["endPos"] == end(text, "example")
    assert r["sorries"][0]["pos"] == at(text, "sorry") and r["sorries"][0]["goal"] == "⊢ 1 = 0"


def test_tactic_mode_sorries_have_no_positions(s):
    ps = cmd(s, "theorem foo (x : ℤ) : x = x := by sorry")["sorries"][0]["proofState"]
    r = s.handle({"proofState": ps, "tactic": "have h : x = 1 := by sorry"})
    assert r["sorries"] == [{"proofState": r["sorries"][0]["proofState"], "goal": "x : ℤ\n⊢ x = 1"}]
    assert r["proofStatus"] == "Incomplete: open goals remain" and r["goals"] == ["x : ℤ\nh : x = 1\n⊢ x = x"]
    r = s.handle({"proofState": ps, "tactic": "exact my_fake_premise"})
    assert r["messages"][0]["pos"] == {"line": 0, "column": 0} == r["messages"][0]["endPos"]


def test_by_then_column_zero_line_is_not_in_the_proof(s):
    """`by` at a line end followed by a tactic at column 0: the block is empty (REPL line_breaks)."""
    text = "theorem foo : 1 = 1 := by\n\nsorry"
    r = cmd(s, text)
    assert r["messages"] == [
        {"severity": "error", "pos": at(text, "by"), "endPos": end(text, "by"), "data": "unsolved goals\n⊢ 1 = 1"},
        {"severity": "error", "pos": at(text, "sorry"), "endPos": end(text, "sorry"),
         "data": "unexpected token 'sorry'; expected command"}]
    assert "sorries" not in r
    text = "theorem foo : 1 = 1 := by\n\n  sorry"
    assert cmd(s, text)["sorries"][0]["pos"] == {"line": 3, "column": 2}
    assert set(cmd(s, "theorem bar : 1 = 1 := by\n\n/- Some long comment here -/\n\n  rfl")) == {"env"}


def test_unfinished_tactic_block(s):
    text = "theorem f : 1 = 1 := by"
    r = cmd(s, text)
    assert r["messages"] == [{"severity": "error", "pos": at(text, "by"), "endPos": end(text, "by"),
                              "data": "unsolved goals\n⊢ 1 = 1"}]


def test_root_goals(s):
    text = "example : 1 = 1 := by\n  skip\n  rfl\n\ntheorem bb : 1 + 1 = 2 := by rfl"
    r = cmd(s, text, rootGoals=True)
    assert [(e["goal"], e["pos"], e["endPos"]) for e in r["sorries"]] == [
        ("⊢ 1 = 1", at(text, "by"), at(text, "by")), ("⊢ 1 + 1 = 2", at(text, "by", 1), at(text, "by", 1))]
    assert s.handle({"proofState": r["sorries"][1]["proofState"], "tactic": "rfl"})["proofStatus"] == "Completed"
    assert "sorries" not in cmd(s, text)


def test_failing_tactic_is_blamed_with_its_range(s):
    text = "theorem c5 (a b : ℕ) (h : a < b) : b < a := by\n  intro\n  linarith"
    r = cmd(s, text)
    errors = [m for m in r["messages"] if m["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["pos"] == at(text, "intro") and errors[0]["endPos"] == end(text, "intro")
    text = "theorem c6 (a b : ℕ) (h : a < b) : b < a := by\n  nlinarith [h,\n    h]"
    (err,) = cmd(s, text)["messages"]
    assert err["pos"] == at(text, "nlinarith") and err["endPos"] == end(text, "h]")   # a multi-line tactic


def test_sorry_proof_states_live_in_the_env_before_the_command(s):
    """As in the REPL: a theorem cannot use itself (or a sibling in the same command) from its sorry."""
    r = cmd(s, "theorem self_ref (n : ℕ) : n = n := by sorry")
    t = s.handle({"proofState": r["sorries"][0]["proofState"], "tactic": "exact self_ref n"})
    assert any(m["severity"] == "error" for m in t["messages"])


# ---------------------------------------------------------------- sorry accounting

# (proof, number of `sorries` entries, the token(s) they sit at)
SORRY_CASES = {
    "top level": ("  sorry", 1),
    "nested by": ("  have h : p := by sorry\n  exact ⟨h, hq⟩", 1),
    "bullet": ("  constructor\n  · sorry\n  · exact hq", 1),
    "<;> on two goals": ("  constructor <;> sorry", 2),
    "all_goals": ("  constructor\n  all_goals sorry", 2),
    "first": ("  first | sorry | exact hp", 1),
    "refine with by sorry": ("  refine ⟨?_, by sorry⟩\n  exact hp", 1),
    "try": ("  constructor\n  · try sorry\n  · exact hq", 1),
    "term sorry": ("  exact sorry", 1),
    "term sorry in a constructor": ("  exact ⟨sorry, hq⟩", 1),
    "have := sorry": ("  have h : p := sorry\n  exact ⟨h, hq⟩", 1),
}


@pytest.mark.parametrize("name", SORRY_CASES)
def test_every_sorry_is_reported(s, name):
    proof, count = SORRY_CASES[name]
    text = f"theorem sc (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n{proof}\n\n#print axioms sc"
    r = cmd(s, text)
    entries = r.get("sorries", [])
    assert len(entries) == count, r
    assert all(e["pos"] == at(text, "sorry") and e["endPos"] == end(text, "sorry") for e in entries)
    assert [m["data"] for m in r["messages"] if m["severity"] == "warning"] == ["declaration uses `sorry`"]
    assert "sorryAx" in r["messages"][-1]["data"]
    # each entry resumes from the goal it skipped
    for e in entries:
        goal = e["goal"].split("⊢ ")[1]
        closer = "exact hp" if goal == "p" else "exact hq" if goal == "q" else "exact ⟨hp, hq⟩"
        assert s.handle({"proofState": e["proofState"], "tactic": closer})["proofStatus"] == "Completed"


def test_induction_alternatives_belong_to_their_tactic(s):
    text = ("theorem w (n : ℕ) : n * (n + 1) % 2 = 0 := by\n  induction n with\n  | zero => rfl\n"
            "  | succ k ih =>\n    sorry")
    r = cmd(s, text)
    assert [m["severity"] for m in r["messages"]] == ["warning"], r
    assert r["sorries"][0]["pos"] == at(text, "sorry") and "ih :" in r["sorries"][0]["goal"]


def test_admit_gives_up_without_a_sorries_entry(s):
    """`admit` is `exact @sorryAx _ false`: the REPL reports only `sorry` syntax as an entry."""
    r = cmd(s, "theorem ad (p : Prop) (hp : p) : p := by\n  admit\n\n#print axioms ad")
    assert "sorries" not in r
    assert r["messages"][0]["data"] == "declaration uses `sorry`" and "sorryAx" in r["messages"][1]["data"]


def test_tactic_mode_reports_contains_sorry(s):
    ps = cmd(s, "theorem tm (p q : Prop) (hp : p) (hq : q) : p ∧ q := by sorry")["sorries"][0]["proofState"]
    r = s.handle({"proofState": ps, "tactic": "constructor <;> sorry"})
    assert r["proofStatus"] == "Incomplete: contains sorry" and len(r["sorries"]) == 2
    r = s.handle({"proofState": ps, "tactic": "refine ⟨hp, by sorry⟩"})
    assert r["proofStatus"] == "Incomplete: contains sorry" and r["goals"] == [] and len(r["sorries"]) == 1
    assert s.handle({"proofState": ps, "tactic": "admit"})["proofStatus"] == "Incomplete: contains sorry"
    h = s.handle({"proofState": ps, "tactic": "have h : p := by sorry"})
    assert s.handle({"proofState": h["proofState"], "tactic": "exact ⟨h, hq⟩"})["proofStatus"] == \
        "Incomplete: contains sorry"        # the sorry is still in the proof


@pytest.mark.parametrize("proof", ["/- sorry -/ exact hp", "-- sorry\n  exact hp", "trace \"sorry\"\n  exact hp"])
def test_comments_and_strings_never_make_a_sorry(s, proof):
    r = cmd(s, f"theorem nc (p : Prop) (hp : p) : p := by\n  {proof}\n\n#print axioms nc")
    assert "sorries" not in r
    assert r["messages"][-1]["data"] == "'nc' does not depend on any axioms"


@pytest.mark.parametrize("proof", ["so/- -/rry", "so--x\n  rry"])
def test_a_comment_never_joins_two_words_into_sorry(s, proof):
    r = cmd(s, f"theorem nj (p : Prop) (hp : p) : p := by\n  {proof}")
    assert "sorries" not in r
    assert [m["severity"] for m in r["messages"]] == ["error"] and "'so'" in r["messages"][0]["data"]


# ---------------------------------------------------------------- commands

def test_commands_are_read_with_lean_tokens(s):
    text = ("/-- doc -/\ntheorem d1 : 1 = 1 := by rfl\nopen Nat in\ntheorem d2 : 2 = 2 := by rfl\n"
            "set_option maxRecDepth 100 in\nprivate theorem d3 : 3 = 3 := by\n  -- theorem fake : False := sorry\n"
            "  rfl\n/- theorem fake2 : False := sorry -/\nlemma d4 : 4 = 4 := by rfl\n#print axioms d4")
    r = cmd(s, text)
    assert r["messages"] == [{"severity": "info", "pos": at(text, "#print"), "endPos": end(text, "#print"),
                              "data": "'d4' does not depend on any axioms"}]
    assert cmd(s, "#print axioms d3", env=r["env"]) != cmd(s, "#print axioms fake", env=r["env"])
    assert "Unknown constant" in cmd(s, "#print axioms fake", env=r["env"])["messages"][0]["data"]


def test_print_axioms_sorts_like_lean(s):
    r = cmd(s, "axiom zeta : True\ntheorem ax (p : Prop) : p ∨ ¬p ∧ True := by\n  sorry\n#print axioms ax")
    assert r["messages"][-1]["data"] == "'ax' depends on axioms: [sorryAx]"
    r = cmd(s, "axiom cheat : False\ntheorem ax2 : 2 + 2 = 4 := by\n  have := cheat\n  native_decide\n#print axioms ax2")
    assert r["messages"][-1]["data"] == "'ax2' depends on axioms: [cheat, Lean.ofReduceBool, Lean.trustCompiler]"


def test_eval_prints_what_lean_prints(s):
    text = "#eval 1\n#eval (2 : ℤ) - 5\n#eval 7 - 9\n#eval 2 ^ 10 < 1000\n#eval 10 / 0"
    r = cmd(s, text)
    assert [(m["severity"], m["data"], m["pos"]["line"]) for m in r["messages"]] == [
        ("info", "1", 1), ("info", "-3", 2), ("info", "0", 3), ("info", "false", 4), ("info", "0", 5)]
    assert r["messages"][0]["endPos"] == {"line": 1, "column": 5}
    (err,) = cmd(s, "#eval fun x => x")["messages"]
    assert err["severity"] == "error"


def test_imports_only_at_the_start_of_a_fresh_env(s):
    assert set(s.handle({"cmd": "import Mathlib\nimport Aesop\ntheorem i : 1 = 1 := by rfl"})) == {"env"}
    r = s.handle({"cmd": "theorem i : 1 = 1 := by rfl\nimport Mathlib"})
    assert [m["data"] for m in r["messages"]] == ["invalid 'import' command, it must be used in the beginning of the file"]
    assert r["messages"][0]["pos"] == {"line": 2, "column": 0}


def test_unsupported_commands_are_errors_at_their_keyword(s):
    text = "def f : ℕ := 1\ntheorem ok : 1 = 1 := by rfl\nnamespace Foo"
    r = cmd(s, text)
    assert [(m["severity"], m["pos"]) for m in r["messages"]] == [("error", at(text, "def")), ("error", at(text, "namespace"))]
    assert cmd(s, "#print axioms ok", env=r["env"])["messages"][0]["severity"] == "info"


def test_lex_errors_are_lean_errors_and_reading_resumes(s):
    text = "theorem t1 : 1 = 1 := by\n\trfl\ntheorem t2 : 2 = 2 := by rfl\n#print axioms t2"
    r = cmd(s, text)
    assert r["messages"][0] == {"severity": "error", "pos": at(text, "\t"), "endPos": at(text, "\t"),
                                "data": "tabs are not allowed; please configure your editor to expand them"}
    assert r["messages"][-1]["data"] == "'t2' does not depend on any axioms"
    text = 'theorem t3 : 1 = 1 := by\n  trace "open string\ntheorem t4 : 4 = 4 := by rfl\n#print axioms t4'
    r = cmd(s, text)
    assert r["messages"][0]["data"] == "unterminated string literal" and r["messages"][0]["pos"] == at(text, '"')
    assert r["messages"][-1]["data"] == "'t4' does not depend on any axioms"


# ---------------------------------------------------------------- requests

def test_file_requests(s, tmp_path):
    f = tmp_path / "proof.lean"
    f.write_text("theorem fl (n : ℕ) : n + 0 = n := by\n  simp\n\n#print axioms fl\n", encoding="utf-8")
    r = s.handle({"path": str(f), "env": 0})
    assert r["messages"][0]["pos"] == {"line": 4, "column": 0} and r["messages"][0]["data"].startswith("'fl' ")
    assert s.handle({"path": str(tmp_path / "missing.lean")})["message"].startswith("no such file or directory")


@pytest.mark.parametrize("extra, word", [
    ({"allTactics": True}, "allTactics"), ({"infotree": "original"}, "infotree"),
    ({"declarations": True}, "declarations"), ({"setOptions": [[["pp", "all"], True]]}, "pp.all"),
])
def test_what_the_kernel_cannot_serve_is_refused_explicitly(s, extra, word):
    r = cmd(s, "theorem q : 1 = 1 := by rfl", **extra)
    assert set(r) == {"message"} and word in r["message"]


def test_options_that_would_change_the_answer_are_refused_in_the_text_too(s):
    text = "set_option pp.all true\nset_option maxHeartbeats 0\nset_option linter.unusedVariables false\n" \
           "set_option autoImplicit true in\ntheorem ai : 1 = 1 := by rfl"
    r = cmd(s, text)
    assert [(m["pos"], m["data"]) for m in r["messages"]] == [
        (at(text, "pp.all"), "the embedded environment does not support the option 'pp.all'"),
        (at(text, "autoImplicit"), "the embedded environment does not support the option 'autoImplicit'")]


def test_inert_options_are_accepted(s):
    """LeanInteract adds `incrementality` and `Elab.async`: neither changes a result."""
    r = cmd(s, "theorem q : 1 = 1 := by rfl", incrementality=True, setOptions=[[["Elab", "async"], True]],
            allTactics=False, rootGoals=False)
    assert set(r) == {"env"}


def test_pickling_is_refused(s):
    assert "pickling" in s.handle({"pickleTo": "x.olean", "env": 0})["message"]
    assert "pickling" in s.handle({"unpickleEnvFrom": "x.olean"})["message"]


def test_python_exceptions_become_lean_errors(s, monkeypatch):
    from lean_env.embedded import session as session_module

    def boom(self, state, text):
        raise ZeroDivisionError("kernel bug")

    monkeypatch.setattr(session_module.Engine, "run", boom)
    text = "theorem b1 : 1 = 1 := by rfl\ntheorem b2 : 2 = 2 := by\n  rfl\n#print axioms b2"
    r = cmd(s, text)
    assert [m["severity"] for m in r["messages"]] == ["error", "error", "info"]   # each command, and on
    assert "ZeroDivisionError" in r["messages"][0]["data"]
    assert r["messages"][1]["pos"] == at(text, "rfl", 1)                          # at the tactic
    assert r["messages"][2]["data"] == "'b2' depends on axioms: [sorryAx]"        # added, as Lean does
    ps = cmd(s, "theorem b3 : 1 = 1 := sorry")["sorries"][0]["proofState"]
    t = s.handle({"proofState": ps, "tactic": "rfl"})
    assert t["proofStatus"] == "Incomplete: contains sorry" and "ZeroDivisionError" in t["messages"][0]["data"]
