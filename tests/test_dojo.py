"""The LeanDojo adapter: the missing-extra message, and result/exception mapping against a stand-in
`lean_dojo` module (the real one is not installed here and needs a traced repository)."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import types
from dataclasses import dataclass

import pytest

from conftest import run
from lean_env.factory import load_dojo_locations, make_env
from lean_env.types import EnvFailure, LeanError, ProofFinished, ProofGivenUp, TacticState, TacticTimeout, Theorem

HAVE_LEAN_DOJO = importlib.util.find_spec("lean_dojo") is not None
T = Theorem(name="foo", header="", statement="theorem foo (n : ℕ) : n + 0 = n := by")
LOC = {"foo": ("https://github.com/x/y", "abc123", "Y/Foo.lean", "foo")}


def test_missing_extra_names_the_extra():
    if HAVE_LEAN_DOJO:
        pytest.skip("lean_dojo is installed here; the missing-extra path cannot be exercised")
    from lean_env.dojo import DojoEnv

    with pytest.raises(ImportError, match=r"pip install 'bfs-prover\[dojo\]'"):
        DojoEnv()
    with pytest.raises(ImportError, match=r"bfs-prover\[dojo\]"):
        make_env("dojo")


def test_real_lean_dojo():
    if not HAVE_LEAN_DOJO:
        pytest.skip("lean_dojo is not installed (pip install 'bfs-prover[dojo]')")
    path = os.environ.get("BFS_DOJO_LOCATIONS")
    if not path:
        pytest.skip("set BFS_DOJO_LOCATIONS to a JSON file {id: [repo, commit, path, name]} of traced theorems")
    tid = next(iter(load_dojo_locations(path)))

    async def go():
        env = make_env("dojo", dojo_locations=path, tactic_timeout=600)
        try:
            s0 = await env.start(Theorem(name=tid, header="", statement=""))
            assert isinstance(s0, TacticState) and s0.goals
            assert isinstance(await env.run_tactic(s0, "exact not_a_real_lemma_xyz"), LeanError)
        finally:
            await env.close()
    run(go())


def fake_lean_dojo() -> types.ModuleType:
    """Just enough of lean_dojo's API: TacticState(pp, id), run_tac results and exceptions."""
    m = types.ModuleType("lean_dojo")

    @dataclass(frozen=True)
    class TacticState:
        pp: str
        id: int

    @dataclass(frozen=True)
    class ProofFinished:
        tactic_state_id: int

    @dataclass(frozen=True)
    class LeanError:
        error: str

    @dataclass(frozen=True)
    class ProofGivenUp:
        pass

    class DojoTacticTimeoutError(Exception):
        pass

    class DojoCrashError(Exception):
        pass

    class DojoInitError(Exception):
        pass

    class LeanGitRepo:
        def __init__(self, url, commit):
            self.url, self.commit = url, commit

    class Theorem:
        def __init__(self, repo, path, name):
            self.repo, self.path, self.name = repo, path, name

    class Dojo:
        entered = 0
        exited = 0

        def __init__(self, theorem, timeout):
            if theorem.name == "broken":
                raise DojoInitError("could not trace")
            self.theorem = theorem

        def __enter__(self):
            Dojo.entered += 1
            return self, TacticState("n : ℕ\n⊢ n + 0 = n", 0)

        def __exit__(self, *exc):
            Dojo.exited += 1

        def run_tac(self, state, tactic):
            if tactic == "loop":
                raise DojoTacticTimeoutError("too slow")
            if tactic == "boom":
                raise DojoCrashError("exit 137")
            if tactic == "simp":
                return ProofFinished(state.id + 1)
            if tactic == "induction n":
                return TacticState("case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn : ℕ\n⊢ n + 1 + 0 = n + 1", state.id + 1)
            if tactic == "skip_with_sorry":
                return ProofGivenUp()
            return LeanError(f"unknown tactic {tactic}")

    for obj in (TacticState, ProofFinished, LeanError, ProofGivenUp, DojoTacticTimeoutError, DojoCrashError,
                DojoInitError, LeanGitRepo, Theorem, Dojo):
        setattr(m, obj.__name__, obj)
    return m


def test_results_and_exceptions_are_mapped(monkeypatch):
    fake = fake_lean_dojo()
    monkeypatch.setitem(sys.modules, "lean_dojo", fake)
    from lean_env.dojo import DojoEnv

    async def go():
        env = DojoEnv(locations={**LOC, "bad": ("u", "c", "p", "broken")}, timeout=5)
        try:
            s0 = await env.start(T)
            assert isinstance(s0, TacticState) and s0.goals == ("n : ℕ\n⊢ n + 0 = n",)
            split = await env.run_tactic(s0, "induction n")
            assert isinstance(split, TacticState) and len(split.goals) == 2
            assert isinstance(await env.run_tactic(s0, "simp"), ProofFinished)
            assert isinstance(await env.run_tactic(s0, "skip_with_sorry"), ProofGivenUp)
            err = await env.run_tactic(s0, "frob")
            assert isinstance(err, LeanError) and "frob" in err.message
            assert isinstance(await env.run_tactic(s0, "loop"), TacticTimeout)
            crash = await env.run_tactic(s0, "boom")
            assert isinstance(crash, EnvFailure) and "DojoCrashError" in crash.message
            assert isinstance(await env.run_tactic(s0, "sorry"), LeanError)          # refused before LeanDojo
            assert isinstance(await env.start(T), TacticState) and fake.Dojo.entered == 1   # one Dojo per theorem
            init = await env.start(Theorem(name="bad", header="", statement="theorem bad : True := by"))
            assert isinstance(init, EnvFailure) and "DojoInitError" in init.message
            nowhere = await env.start(Theorem(name="zzz", header="", statement="theorem zzz : True := by"))
            assert isinstance(nowhere, EnvFailure) and "no LeanDojo location" in nowhere.message
            verdict = await env.verify(T, ["simp"])
            assert not verdict.ok and "no authoritative verifier" in verdict.reasons[-1]
        finally:
            await env.close()
        assert fake.Dojo.exited == 1
    run(go())


def test_locations_file_is_validated(tmp_path):
    good = tmp_path / "loc.json"
    good.write_text(json.dumps({k: list(v) for k, v in LOC.items()}))
    assert load_dojo_locations(good) == LOC
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"foo": ["only", "three", "fields"]}))
    with pytest.raises(ValueError, match="'foo'"):
        load_dojo_locations(bad)
    with pytest.raises(FileNotFoundError):
        load_dojo_locations(tmp_path / "missing.json")
