"""The LeanDojo adapter: against a stand-in `lean_dojo` with LeanDojo's API (Dojo context manager,
TacticState/ProofFinished/LeanError/ProofGivenUp, Theorem in a LeanGitRepo, a Dojo whose late reply
stays in its pipe after a tactic timeout), against the real package's classes and signatures where
it is installed, and reachable from `make_env` and `prover eval`."""
from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import inspect
import json
import os
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Optional

import pytest

from conftest import MINIF2F_HEADER, run
from lean_env.factory import EnvConfig, load_dojo_locations, make_env
from lean_env.types import EnvFailure, LeanError, ProofFinished, ProofGivenUp, TacticState, TacticTimeout, Theorem
from search.best_first import SearchConfig, search
from policy.base import TacticCandidate

HAVE_LEAN_DOJO = importlib.util.find_spec("lean_dojo") is not None
T = Theorem(name="foo", header="", statement="theorem foo (n : ℕ) : n + 0 = n := by")
LOC = {"foo": ("https://github.com/x/y", "abc123", "Y/Foo.lean", "foo")}


def fake_lean_dojo() -> types.ModuleType:
    """LeanDojo's interaction API (lean_dojo/interaction/dojo.py, 4.x) over a scripted Lean.

    Like the real Dojo, one process answers requests in order through one pipe: a tactic that
    times out (`loop`) leaves its late reply in the pipe, and the next request reads that reply
    instead of its own. `Dojo.alive` counts entered, not yet exited Dojos (Lean processes)."""
    m = types.ModuleType("lean_dojo")

    @dataclass(frozen=True)
    class TacticState:
        pp: str
        id: int = field(compare=False)
        message: Optional[str] = field(default=None, compare=False)

    @dataclass(frozen=True)
    class ProofFinished:
        tactic_state_id: int
        message: Optional[str] = field(default=None, compare=False)

    @dataclass(frozen=True)
    class ProofGivenUp:
        pass

    @dataclass(frozen=True)
    class LeanError:
        error: str

    class DojoCrashError(Exception):
        pass

    class DojoTacticTimeoutError(Exception):
        pass

    class DojoInitError(Exception):
        pass

    @dataclass(frozen=True)
    class LeanGitRepo:
        url: str
        commit: str

    @dataclass(frozen=True)
    class Theorem:
        repo: LeanGitRepo
        file_path: str
        full_name: str

    class Dojo:
        alive: set = set()
        entered: list = []          # the Theorem of every Dojo entered, in order
        gate: threading.Event | None = None    # set: __enter__ waits for it (a slow trace)
        renamed = False             # set: `induction n` names its cases differently (a changed Lean)

        def __init__(self, entry, timeout: int = 600, additional_imports: list = [], build_deps: bool = True):
            self.entry, self.timeout = entry, timeout
            self.pipe: list = []    # replies the process has written that nobody read yet
            self.sid = 0

        def __enter__(self):
            if self.entry.full_name == "broken":
                raise DojoInitError("Cannot find the *.ast.json file")
            if Dojo.gate is not None:
                Dojo.gate.wait(10)
            Dojo.entered.append(self.entry)
            Dojo.alive.add(self)
            return self, TacticState("n : ℕ\n⊢ n + 0 = n", 0)

        def __exit__(self, exc_type, exc_val, exc_tb):
            Dojo.alive.discard(self)

        def run_tac(self, state, tactic):
            assert self in Dojo.alive, "run_tac on an exited Dojo"
            self.sid += 1
            self.pipe.append(self._answer(state, tactic))
            if tactic == "loop":   # Lean is still working; the reply comes later, into the pipe
                raise DojoTacticTimeoutError()
            if tactic == "boom":
                Dojo.alive.discard(self)
                raise DojoCrashError("OOM")
            return self.pipe.pop(0)

        def _answer(self, state, tactic):
            if tactic == "loop":
                return ProofFinished(self.sid, "")    # the late reply: wrong for whoever reads it next
            if tactic in ("simp", "rfl"):
                return ProofFinished(self.sid, "")
            if tactic == "induction n" and state.id == 0:
                names = ("zero", "succ") if not Dojo.renamed else ("nil", "cons")
                return TacticState(f"case {names[0]}\n⊢ 0 + 0 = 0\n\ncase {names[1]}\nn : ℕ\n⊢ n + 1 + 0 = n + 1",
                                   self.sid)
            if tactic == "trace_it":
                return TacticState(state.pp, self.sid, "hello from trace")
            if tactic == "skip_with_sorry":
                return ProofGivenUp()
            return LeanError(f"unknown tactic {tactic}")

    for obj in (TacticState, ProofFinished, ProofGivenUp, LeanError, DojoCrashError, DojoTacticTimeoutError,
                DojoInitError, LeanGitRepo, Theorem, Dojo):
        setattr(m, obj.__name__, obj)
    return m


@pytest.fixture
def fake(monkeypatch):
    module = fake_lean_dojo()
    monkeypatch.setitem(sys.modules, "lean_dojo", module)
    return module


def dojo_env(**kw):
    from lean_env.dojo import DojoEnv

    return DojoEnv({**LOC, "bad": ("u", "c", "p.lean", "broken")}, **{"tactic_timeout": 5, **kw})


def test_results_and_exceptions_are_mapped(fake):
    async def go():
        env = dojo_env()
        try:
            s0 = await env.start(T)
            assert isinstance(s0, TacticState) and s0.goals == ("n : ℕ\n⊢ n + 0 = n",)
            split = await env.run_tactic(s0, "induction n")
            assert isinstance(split, TacticState) and len(split.goals) == 2
            assert isinstance(await env.run_tactic(s0, "simp"), ProofFinished)
            assert isinstance(await env.run_tactic(s0, "skip_with_sorry"), ProofGivenUp)
            traced = await env.run_tactic(s0, "trace_it")
            assert traced.messages == ("hello from trace",)
            err = await env.run_tactic(s0, "frob")
            assert isinstance(err, LeanError) and "frob" in err.message
            batch = await env.run_tactics(s0, ["simp", "sorry", "frob"])
            assert [type(r) for r in batch] == [ProofFinished, LeanError, LeanError]
            assert "forbidden" in batch[1].message                        # refused before LeanDojo
            init = await env.start(Theorem(name="bad", header="", statement="theorem bad : True := by"))
            assert isinstance(init, EnvFailure) and "DojoInitError" in init.message
            nowhere = await env.start(Theorem(name="zzz", header="", statement="theorem zzz : True := by"))
            assert isinstance(nowhere, EnvFailure) and "no LeanDojo location" in nowhere.message
            verdict = await env.verify(T, ["simp"])
            assert not verdict.ok and "no authoritative verifier" in verdict.reasons[-1]
            assert fake.Dojo.entered[0] == fake.Theorem(fake.LeanGitRepo("https://github.com/x/y", "abc123"),
                                                        "Y/Foo.lean", "foo")
        finally:
            await env.close()
        assert not fake.Dojo.alive
    run(go())


def test_a_timed_out_dojo_is_never_reused(fake):
    async def go():
        env = dojo_env()
        try:
            s0 = await env.start(T)
            split = await env.run_tactic(s0, "induction n")
            first = next(iter(fake.Dojo.alive))
            assert isinstance(await env.run_tactic(split, "loop"), TacticTimeout)
            assert first not in fake.Dojo.alive                           # exited at once
            # the late ProofFinished of `loop` sits in the old pipe; a fresh Dojo replays the path
            again = await env.run_tactic(split, "frob")
            assert isinstance(again, LeanError), again
            assert len(fake.Dojo.entered) == 2 and len(fake.Dojo.alive) == 1
            assert isinstance(await env.run_tactic(split, "trace_it"), TacticState)
            crash = await env.run_tactic(s0, "boom")
            assert isinstance(crash, EnvFailure) and "DojoCrashError" in crash.message
            assert isinstance(await env.run_tactic(s0, "simp"), ProofFinished)     # restarted again
            assert len(fake.Dojo.entered) == 3
        finally:
            await env.close()
    run(go())


def test_a_replay_that_gives_other_goals_fails_instead_of_lying(fake):
    async def go():
        env = dojo_env()
        try:
            s0 = await env.start(T)
            split = await env.run_tactic(s0, "induction n")
            assert isinstance(await env.run_tactic(split, "loop"), TacticTimeout)
            fake.Dojo.renamed = True
            diverged = await env.run_tactic(split, "frob")
            assert isinstance(diverged, EnvFailure) and "did not give the state it gave before" in diverged.message
        finally:
            await env.close()
    run(go())


def test_restarts_are_bounded(fake):
    async def go():
        env = dojo_env(max_restarts=1)
        try:
            s0 = await env.start(T)
            assert isinstance(await env.run_tactic(s0, "loop"), TacticTimeout)
            assert isinstance(await env.run_tactic(s0, "loop"), TacticTimeout)      # the one restart
            spent = await env.run_tactic(s0, "simp")
            assert isinstance(spent, EnvFailure) and "restarted 1 times" in spent.message
            assert not fake.Dojo.alive
        finally:
            await env.close()
    run(go())


def test_start_up_has_its_own_timeout_and_a_late_dojo_is_exited(fake):
    fake.Dojo.gate = threading.Event()

    async def go():
        env = dojo_env(start_timeout=0.2)
        try:
            late = await env.start(T)
            assert isinstance(late, EnvFailure) and "start-up took longer than 0.2s" in late.message
            assert env.open_sessions == 0
        finally:
            await env.close()
    run(go())
    exited = threading.Event()
    original = fake.Dojo.__exit__

    def exit_and_note(self, *exc):
        original(self, *exc)
        exited.set()
    fake.Dojo.__exit__ = exit_and_note
    fake.Dojo.gate.set()                     # the trace finishes after we gave up...
    assert exited.wait(10)                   # ...and its Dojo is exited on arrival
    assert len(fake.Dojo.entered) == 1 and not fake.Dojo.alive


def test_each_attempt_has_its_own_dojo_released_when_it_ends(fake):
    alive_during = []

    async def propose(state: str, n: int):
        alive_during.append(len(fake.Dojo.alive))
        return [TacticCandidate("frob", -1.0, 1), TacticCandidate("induction n", -0.5, 2)]

    async def go():
        env = dojo_env()
        try:
            records = []
            for attempt in range(2):
                rec, _ = await search(T, env, propose, SearchConfig(tactics_per_expansion=2, max_expansions=3),
                                      attempt)
                records.append(rec)
                assert not fake.Dojo.alive and env.open_sessions == 0   # released before close()
            both = await asyncio.gather(env.start(T), env.start(T))      # concurrent attempts: one Dojo each
            assert len(fake.Dojo.alive) == 2 and both[0].id != both[1].id
            await env.release(both[0])
            assert len(fake.Dojo.alive) == 1
            assert isinstance(await env.run_tactic(both[0], "simp"), EnvFailure)   # released handle
            return records
        finally:
            await env.close()
    records = run(go())
    assert all(not r.proved and r.expansions >= 1 for r in records)
    assert set(alive_during) == {1}
    assert not fake.Dojo.alive


def test_make_env_places_theorems_in_the_repo_file(fake, tmp_path):
    env = make_env("dojo", dojo_repo="https://github.com/yangky11/miniF2F-lean4", dojo_commit="c0ffee",
                   dojo_file="MiniF2F/Test.lean", tactic_timeout=30, start_timeout=99, kimina_url="http://127.0.0.1:9")
    stmt = "theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 := by"
    assert env.locate(Theorem(name="x", id="x-1", header="", statement=stmt)) == (
        "https://github.com/yangky11/miniF2F-lean4", "c0ffee", "MiniF2F/Test.lean", "mathd_algebra_10")
    assert (env.tactic_timeout, env.start_timeout) == (30, 99)
    locs = tmp_path / "loc.json"
    locs.write_text(json.dumps({"a": ["Other.lean", "Ns.a"], "b": ["https://elsewhere", "1", "B.lean", "b"]}))
    env2 = make_env("dojo", dojo_repo="R", dojo_commit="C", dojo_locations=str(locs), kimina_url="http://127.0.0.1:9")
    assert env2.locations == {"a": ("R", "C", "Other.lean", "Ns.a"), "b": ("https://elsewhere", "1", "B.lean", "b")}
    for bad, match in [({}, "--dojo-file"), ({"dojo_repo": "R", "dojo_file": "F.lean"}, "together"),
                       ({"dojo_locations": str(locs)}, "names no repository")]:
        with pytest.raises(ValueError, match=match):
            make_env("dojo", **bad, kimina_url="http://127.0.0.1:9")
    where = {"dojo_repo": "R", "dojo_commit": "C", "dojo_file": "F.lean"}
    with pytest.raises(ValueError, match="needs a verifier"):
        make_env("dojo", **where)
    with pytest.raises(ValueError, match="one verifier"):
        make_env("dojo", **where, kimina_url="http://127.0.0.1:9", lean_project="P")
    with pytest.raises(ValueError, match="only read with the dojo"):
        EnvConfig(kind="embedded", dojo_repo="R")


def test_locations_file_is_validated(tmp_path):
    good = tmp_path / "loc.json"
    good.write_text(json.dumps({k: list(v) for k, v in LOC.items()}))
    assert load_dojo_locations(good) == LOC
    for entry in (["only", "three", "fields"], ["Foo.txt", "foo"], ["", "foo"]):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"foo": entry}))
        with pytest.raises(ValueError, match="'foo'"):
            load_dojo_locations(bad, "R", "C")
    with pytest.raises(FileNotFoundError):
        load_dojo_locations(tmp_path / "missing.json")


def test_prover_eval_reaches_lean_dojo_and_verifies_on_kimina(fake, tmp_path):
    """`prover eval --env dojo`: tactics through LeanDojo's API (the stand-in); a `ProofFinished`
    counts only once a verifier accepts the whole proof (here the fake Kimina server, whose REPL
    is the embedded kernel)."""
    from typer.testing import CliRunner

    from fake_kimina_server import FakeKiminaServer
    from prover.cli import app

    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"name": "foo", "split": "test", "header": MINIF2F_HEADER,
                                 "formal_statement": T.statement}) + "\n")
    args = ["eval", "--benchmark", str(bench), "--env", "dojo", "--dojo-repo", "https://github.com/x/y",
            "--dojo-commit", "abc123", "--dojo-file", "Y/Foo.lean", "--generator", "scripted",
            "--expansions", "2", "--concurrency", "1"]
    alone = CliRunner().invoke(app, args + ["--out", str(tmp_path / "alone")])
    assert alone.exit_code == 2 and "needs a verifier" in alone.output and not fake.Dojo.entered
    with FakeKiminaServer() as server:
        result = CliRunner().invoke(app, args + ["--out", str(tmp_path / "kimina"), "--kimina-url", server.url])
    assert result.exit_code == 0, result.output
    verified = json.loads((tmp_path / "kimina" / "attempts.jsonl").read_text().splitlines()[0])
    assert fake.Dojo.entered[0].full_name == "foo"
    assert verified["theorem_id"] == "foo" and verified["proved"] and verified["proof"] == ["simp"]
    assert any("n + 0 = n := by\n  simp" in c["proof"] for body, _ in server.requests for c in body["codes"])
    assert not fake.Dojo.alive
    missing = CliRunner().invoke(app, ["eval", "--benchmark", str(bench), "--env", "dojo", "--dojo-repo", "R"])
    assert missing.exit_code == 2 and "--dojo-commit" in missing.output


def test_missing_extra_names_the_extra():
    if HAVE_LEAN_DOJO:
        pytest.skip("lean_dojo is installed here; the missing-extra path cannot be exercised")
    from lean_env.dojo import DojoEnv

    with pytest.raises(ImportError, match=r"pip install 'bfs-prover\[dojo\]'"):
        DojoEnv()
    with pytest.raises(ImportError, match=r"bfs-prover\[dojo\]"):
        make_env("dojo", dojo_repo="R", dojo_commit="C", dojo_file="F.lean", kimina_url="http://127.0.0.1:9")


# ---------------------------------------------------------------- the real package
needs_lean_dojo = pytest.mark.skipif(not HAVE_LEAN_DOJO, reason="lean_dojo is not installed (pip install lean-dojo)")


def _fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


@needs_lean_dojo
def test_the_stand_in_has_the_real_api():
    import lean_dojo as real

    stand_in = fake_lean_dojo()
    for name in ("TacticState", "ProofFinished", "ProofGivenUp", "LeanError", "LeanGitRepo", "Theorem"):
        assert _fields(getattr(stand_in, name)) == _fields(getattr(real, name)), name
    for name in ("DojoCrashError", "DojoTacticTimeoutError", "DojoInitError"):
        assert issubclass(getattr(real, name), Exception), name
    for method in ("__init__", "__enter__", "__exit__", "run_tac"):
        real_params = list(inspect.signature(getattr(real.Dojo, method)).parameters)
        assert list(inspect.signature(getattr(stand_in.Dojo, method)).parameters) == real_params, method
    assert "timeout" in inspect.signature(real.Dojo.__init__).parameters


@needs_lean_dojo
def test_the_adapter_on_real_lean_dojo_classes(monkeypatch):
    """The real module, with only the Lean process (Dojo) and the GitHub lookup (LeanGitRepo)
    replaced: results are real TacticState/ProofFinished/LeanError objects, timeouts real
    DojoTacticTimeoutErrors, and the Theorem is LeanDojo's own (it checks the .lean suffix)."""
    import lean_dojo as real

    stand_in = fake_lean_dojo()
    made = []

    class Dojo(stand_in.Dojo):
        def __init__(self, entry, timeout=600, additional_imports=[], build_deps=True):
            assert isinstance(entry, real.Theorem) and isinstance(timeout, int)
            made.append(entry)
            super().__init__(entry, timeout)

        def __enter__(self):
            _, s0 = super().__enter__()
            return self, real.TacticState(s0.pp, s0.id)

        def run_tac(self, state, tactic):
            assert isinstance(state, real.TacticState)
            try:
                out = super().run_tac(state, tactic)
            except stand_in.DojoTacticTimeoutError:
                raise real.DojoTacticTimeoutError() from None
            converted = {stand_in.TacticState: lambda r: real.TacticState(r.pp, r.id, r.message),
                         stand_in.ProofFinished: lambda r: real.ProofFinished(r.tactic_state_id, r.message),
                         stand_in.LeanError: lambda r: real.LeanError(r.error),
                         stand_in.ProofGivenUp: lambda r: real.ProofGivenUp()}
            return converted[type(out)](out)

    monkeypatch.setattr(real, "Dojo", Dojo)
    monkeypatch.setattr(real, "LeanGitRepo", lambda url, commit: stand_in.LeanGitRepo(url, commit))

    async def go():
        env = dojo_env(tactic_timeout=2.5)
        try:
            s0 = await env.start(T)
            split = await env.run_tactic(s0, "induction n")
            assert isinstance(split, TacticState) and split.goals[0].startswith("case zero")
            assert isinstance(await env.run_tactic(s0, "simp"), ProofFinished)
            assert isinstance(await env.run_tactic(s0, "frob"), LeanError)
            assert isinstance(await env.run_tactic(s0, "skip_with_sorry"), ProofGivenUp)
            assert isinstance(await env.run_tactic(split, "loop"), TacticTimeout)
            assert isinstance(await env.run_tactic(split, "frob"), LeanError)      # fresh Dojo, replayed
        finally:
            await env.close()
    run(go())
    assert [str(e.file_path) for e in made] == ["Y/Foo.lean", "Y/Foo.lean"]


@needs_lean_dojo
def test_real_lean_dojo():
    path = os.environ.get("BFS_DOJO_LOCATIONS")
    if not path:
        pytest.skip("set BFS_DOJO_LOCATIONS to a JSON file {id: [repo, commit, path, name]} of traced theorems")
    tid = next(iter(load_dojo_locations(path)))

    async def go():
        from lean_env.dojo import DojoEnv

        env = DojoEnv(load_dojo_locations(path), tactic_timeout=600, start_timeout=3600)   # tactics only
        try:
            s0 = await env.start(Theorem(name=tid, header="", statement=""))
            assert isinstance(s0, TacticState) and s0.goals
            assert isinstance(await env.run_tactic(s0, "exact not_a_real_lemma_xyz"), LeanError)
            await env.release(s0)
            assert env.open_sessions == 0
        finally:
            await env.close()
    run(go())


def test_a_campaign_env_section_reaches_lean_dojo(fake, tmp_path):
    from prover.config import ConfigError, load_config

    good = tmp_path / "dojo.yaml"
    good.write_text("env:\n  kind: dojo\n  dojo_repo: https://github.com/x/y\n  dojo_commit: abc123\n"
                    "  dojo_file: Y/Foo.lean\n  kimina_url: http://127.0.0.1:8000\n  start_timeout: 900\n")
    cfg = load_config(good)
    env = make_env(cfg.env)
    assert env.locate(T) == LOC["foo"] and env.start_timeout == 900
    assert type(env.verifier).__name__ == "KiminaEnv"
    bad = tmp_path / "bad.yaml"
    bad.write_text("env:\n  kind: dojo\n  dojo_repo: https://github.com/x/y\n")
    with pytest.raises(ConfigError, match="dojo-commit"):
        load_config(bad)
