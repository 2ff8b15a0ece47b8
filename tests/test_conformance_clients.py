"""Third-party Lean REPL clients drive `python -m lean_env.embedded` through their public APIs,
pointed at it with path settings only (tests/repl_shim.py): LeanInteract and lean-repl-py.

Each client runs the same session a prover needs: a header once, a `sorry` command, tactics on
the proof states, branching, a bad tactic, environment reuse, `#print axioms`, and a timeout.
"""
from __future__ import annotations

import pytest

from repl_shim import make_repl_shim

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat"
THEOREM = "theorem two_step (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by sorry"


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    return make_repl_shim(tmp_path_factory.mktemp("repl-shim"))


# ---------------------------------------------------------------- LeanInteract

@pytest.fixture(scope="module")
def lean_interact(shim):
    li = pytest.importorskip("lean_interact", reason="LeanInteract is not installed (pip install lean-interact==0.11.6)")
    config = li.LeanREPLConfig(local_repl_path=shim.repl_dir, lake_path=shim.lake,
                               project=li.LocalProject(directory=shim.project, lake_path=shim.lake), verbose=False)
    server = li.LeanServer(config)
    yield li, config, server
    server.kill()


def test_lean_interact_sorry_command_and_positions(lean_interact):
    li, _, server = lean_interact
    header = server.run(li.Command(cmd=HEADER))
    r = server.run(li.Command(cmd=THEOREM, env=header.env))
    assert isinstance(r, li.interface.CommandResponse)
    (sorry,) = r.sorries
    col = THEOREM.index("sorry")
    assert (sorry.start_pos.line, sorry.start_pos.column, sorry.end_pos.column) == (1, col, col + 5)
    assert sorry.goal == "a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2"
    (warning,) = r.get_warnings()
    assert warning.data == "declaration uses `sorry`" and warning.start_pos.column == 8
    assert r.lean_code_is_valid() and not r.lean_code_is_valid(allow_sorry=False)


def test_lean_interact_tactics_branching_and_errors(lean_interact):
    li, _, server = lean_interact
    header = server.run(li.Command(cmd=HEADER))
    ps = server.run(li.Command(cmd=THEOREM, env=header.env)).sorries[0].proof_state
    step = server.run(li.ProofStep(proof_state=ps, tactic="rw [h₀]"))
    assert step.goals == ["a b : ℕ\nh₀ : a = 2\n⊢ 2 + b = b + 2"] and step.proof_status.startswith("Incomplete")
    done = server.run(li.ProofStep(proof_state=step.proof_state, tactic="omega"))
    assert done.proof_status == "Completed" and done.goals == []
    other = server.run(li.ProofStep(proof_state=ps, tactic="omega"))   # a branch from ps itself
    assert other.proof_status == "Completed"
    unknown = server.run(li.ProofStep(proof_state=ps, tactic="frobnicate"))
    assert isinstance(unknown, li.interface.LeanError) and "unknown tactic" in unknown.message
    failed = server.run(li.ProofStep(proof_state=ps, tactic="exact my_fake_premise"))
    assert failed.goals == [] and failed.has_errors() and failed.proof_status == "Incomplete: contains sorry"


def test_lean_interact_env_reuse_and_print_axioms(lean_interact):
    li, _, server = lean_interact
    header = server.run(li.Command(cmd=HEADER))
    lemma = server.run(li.Command(cmd="theorem l1 (n : ℕ) : n + 0 = n := by simp", env=header.env))
    assert lemma.lean_code_is_valid(allow_sorry=False)
    r = server.run(li.Command(cmd="theorem l2 (m : ℕ) : m + 0 = m := by\n  exact l1 m\n\n#print axioms l2", env=lemma.env))
    (info,) = [m for m in r.messages if m.severity == "info"]
    assert info.start_pos.line == 4 and info.data.startswith("'l2' ")
    assert "sorryAx" not in info.data
    fresh = server.run(li.Command(cmd="#print axioms l1", env=header.env))   # l1 lives only in lemma.env
    assert fresh.has_errors()


def test_lean_interact_refuses_what_it_cannot_serve(lean_interact):
    li, _, server = lean_interact
    r = server.run(li.Command(cmd="theorem q : 1 = 1 := by rfl", all_tactics=True))
    assert isinstance(r, li.interface.LeanError) and "allTactics" in r.message
    r = server.run(li.Command(cmd="theorem q : 1 = 1 := by rfl", infotree="original"))
    assert isinstance(r, li.interface.LeanError) and "infotree" in r.message


def test_lean_interact_timeout_then_auto_restart(lean_interact):
    li, config, _ = lean_interact
    server = li.AutoLeanServer(config)
    try:
        with pytest.raises(TimeoutError):
            server.run(li.Command(cmd="theorem slow : True := by\n  sleep 20000\n  trivial"), timeout=1)
        r = server.run(li.Command(cmd="theorem quick : True := by trivial"))   # a fresh process
        assert isinstance(r, li.interface.CommandResponse) and r.lean_code_is_valid(allow_sorry=False)
    finally:
        server.kill()


# ---------------------------------------------------------------- lean-repl-py

@pytest.fixture
def lean_repl_py(shim, monkeypatch):
    lrp = pytest.importorskip("lean_repl_py", reason="lean-repl-py is not installed (pip install lean-repl-py==0.1.13)")
    for key, value in shim.environ().items():   # it runs plain `lake` from PATH
        monkeypatch.setenv(key, value)
    handler = lrp.LeanREPLHandler(project_path=shim.project)
    yield lrp, handler
    handler.close()


def test_lean_repl_py_session(lean_repl_py):
    lrp, h = lean_repl_py
    h.send_command(HEADER)
    _, env = h.receive_json()
    h.env = env
    h.send_command(THEOREM)
    response, env2 = h.receive_json()
    (sorry,) = response["sorries"]                 # lean-repl-py requires pos and endPos here
    assert isinstance(sorry, lrp.LeanREPLProofState) and sorry.end_pos.column == sorry.pos.column + 5
    assert response["messages"][0].data == "declaration uses `sorry`"
    h.send_tactic("rw [h₀]", sorry.proof_state)
    step, _ = h.receive_json()
    assert isinstance(step, lrp.LeanREPLNextProofState) and step.goals == ["a b : ℕ\nh₀ : a = 2\n⊢ 2 + b = b + 2"]
    h.send_tactic("omega", step.proof_state)
    done, _ = h.receive_json()
    assert done.goals == [] and done.messages == []
    h.send_tactic("ring_nf\nomega", sorry.proof_state)    # branch from the first state
    assert h.receive_json()[0].goals == []
    h.send_tactic("frobnicate", sorry.proof_state)
    bad, _ = h.receive_json()
    assert "unknown tactic" in bad["message"]
    h.send_tactic("exact nope", sorry.proof_state)
    failed, _ = h.receive_json()
    assert failed.goals == [] and failed.messages[0].severity == "error"
    h.env = env2                                    # the env holding two_step
    h.send_command("#print axioms two_step")
    axioms, _ = h.receive_json()
    assert axioms["messages"][0].data == "'two_step' depends on axioms: [sorryAx]"


def test_lean_repl_py_file_without_and_with_all_tactics(lean_repl_py, tmp_path):
    _, h = lean_repl_py
    f = tmp_path / "proof.lean"
    f.write_text("theorem w : 1 + 1 = 2 := by\n  norm_num\n\n#print axioms w\n", encoding="utf-8")
    h.send_file(f, all_tactics=False)
    r, env = h.receive_json()
    assert env is not None and r["messages"][0].pos.line == 4
    h.send_file(f)                                  # allTactics: true by default -> explicit refusal
    r, _ = h.receive_json()
    assert "allTactics" in r["message"]
