"""`ReplProcess`, one REPL client, against real subprocesses: the fake scripts and the embedded server."""
from __future__ import annotations

import asyncio
import resource
import sys
from pathlib import Path

import psutil
import pytest

from conftest import run
from lean_env.repl import (
    HeaderError, LeanNotFoundError, ReplCommand, ReplCrashedError, ReplProcess, ReplProtocolError,
    ReplTimeoutError, embedded_command, lean_repl_command, run_commands,
)

FAKES = Path(__file__).parent / "fakes"
EMBEDDED = Path(__file__).parent.parent / "lean_env" / "embedded" / "__main__.py"


def fake(**env: str) -> ReplCommand:
    return ReplCommand([sys.executable, str(FAKES / "fake_repl.py")], env=dict(env))


async def started(command: ReplCommand) -> ReplProcess:
    proc = ReplProcess(command, default_timeout=10)
    await proc.start()
    return proc


async def root_state(proc: ReplProcess, name: str = "t") -> int:
    env = await proc.header_env("import Mathlib")
    reply = await proc.run_command(f"theorem {name} : True := by sorry", env)
    return reply["sorries"][0]["proofState"]


def test_commands_tactics_and_header_env_is_paid_once():
    async def go():
        proc = await started(fake())
        try:
            env1 = await proc.header_env("import Mathlib")
            env2 = await proc.header_env("import Mathlib")
            other = await proc.header_env("import Mathlib\nopen Real")
            assert env1 == env2 and other != env1
            assert proc.requests == 2          # the repeated header was not sent again
            ps = await root_state(proc)
            a = await proc.run_tactic("step a", ps)
            b = await proc.run_tactic("step b", ps)      # branching from the same state
            assert a["goals"] == ["⊢ t / a"] and b["goals"] == ["⊢ t / b"]
            assert a["proofState"] != b["proofState"]
        finally:
            await proc.close()
    run(go())


def test_garbage_reply_raises_protocol_error_with_excerpt_and_kills():
    async def go():
        proc = await started(fake())
        try:
            ps = await root_state(proc)
            with pytest.raises(ReplProtocolError, match="not a JSON reply: 'this is not json"):
                await proc.run_tactic("garbage", ps)
            assert not proc.alive
        finally:
            await proc.close()
    run(go())


def test_oversized_reply_is_cut_off_and_process_killed():
    async def go():
        proc = await started(fake())
        try:
            ps = await root_state(proc)
            with pytest.raises(ReplProtocolError, match="bytes"):
                await proc.run_tactic("flood", ps)
            assert not proc.alive
        finally:
            await proc.close()
    run(go())


def test_eof_reports_exit_code_and_stderr_tail():
    async def go():
        proc = await started(fake())
        try:
            ps = await root_state(proc)
            with pytest.raises(ReplCrashedError) as info:
                await proc.run_tactic("crash", ps)
            assert "code 3" in str(info.value) and "deliberate crash" in str(info.value)
            with pytest.raises(ReplCrashedError, match="not running"):
                await proc.run_tactic("step x", ps)
        finally:
            await proc.close()
    run(go())


def test_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"

    async def go():
        proc = await started(fake(FAKE_CHILD_PID=str(pid_file)))
        try:
            ps = await root_state(proc)
            with pytest.raises(ReplTimeoutError):
                await proc.run_tactic("spawn_hang", ps, timeout=1.5)
            assert isinstance(ReplTimeoutError("x"), TimeoutError)
            assert not proc.alive
            child = int(pid_file.read_text())
            # the grandchild `sleep` was in the REPL's process group: it must be gone too
            for _ in range(50):
                if not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                    break
                await asyncio.sleep(0.1)
            assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
        finally:
            await proc.close()
    run(go())


def test_address_space_cap_is_applied_in_the_child():
    async def go():
        cmd = fake()
        cmd.memory_limit_bytes = 3 * 1024**3
        capped = await started(cmd)
        free = await started(fake())
        try:
            r1 = await capped.run_command("#rlimit")
            r2 = await free.run_command("#rlimit")
            assert int(r1["messages"][0]["data"]) == 3 * 1024**3
            assert int(r2["messages"][0]["data"]) == resource.getrlimit(resource.RLIMIT_AS)[0]
            assert capped.rss_bytes() > 0
        finally:
            await capped.close()
            await free.close()
    run(go())


def test_missing_binary_and_closed_process_give_clear_errors(tmp_path):
    async def go():
        proc = ReplProcess(ReplCommand([str(tmp_path / "no-such-repl")]))
        with pytest.raises(LeanNotFoundError, match="no-such-repl"):
            await proc.start()
        with pytest.raises(ReplCrashedError, match="not running"):
            await proc.run_command("x")
    run(go())


def test_bad_header_raises_header_error():
    async def go():
        proc = await started(fake())
        try:
            with pytest.raises(HeaderError, match="unexpected token"):
                await proc.header_env("bad_statement")
            assert proc.alive   # a bad header is Lean's answer, not a broken process
        finally:
            await proc.close()
    run(go())


def test_run_commands_helper_raises_on_garbage():
    with pytest.raises(ReplProtocolError):
        run(run_commands(fake(), [{"cmd": "header"}, {"cmd": "theorem g : True := by sorry", "env": 0},
                                  {"tactic": "garbage", "proofState": 0}], timeout=5))


def _fake_lean_install(tmp_path: Path, project_tc: str | None, repl_tc: str | None, binary: bool = True) -> tuple[Path, Path]:
    project, repl = tmp_path / "proj", tmp_path / "repl"
    project.mkdir(parents=True)
    (repl / ".lake" / "build" / "bin").mkdir(parents=True)
    if binary:
        (repl / ".lake" / "build" / "bin" / "repl").write_text("")
    if project_tc:
        (project / "lean-toolchain").write_text(project_tc + "\n")
    if repl_tc:
        (repl / "lean-toolchain").write_text(repl_tc + "\n")
    lake = tmp_path / "bin" / "lake"
    lake.parent.mkdir()
    lake.write_text("#!/bin/sh\n")
    lake.chmod(0o755)
    return project, repl


def test_lean_repl_command_checks(tmp_path, monkeypatch):
    with pytest.raises(LeanNotFoundError, match="Lean project not found"):
        lean_repl_command(tmp_path / "nope", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(LeanNotFoundError, match="lake"):
        lean_repl_command(tmp_path, tmp_path)

    v9, v15 = "leanprover/lean4:v4.9.0", "leanprover/lean4:v4.15.0"
    cases = {"mismatch": (v9, v15, True, "toolchain mismatch"), "no binary": (v9, v9, False, "lake build"),
             "no toolchain": (v9, None, True, "lean-toolchain is missing")}
    for name, (ptc, rtc, binary, error) in cases.items():
        project, repl = _fake_lean_install(tmp_path / name.replace(" ", "_"), ptc, rtc, binary)
        monkeypatch.setenv("PATH", str(project.parent / "bin"))
        with pytest.raises(LeanNotFoundError, match=error):
            lean_repl_command(project, repl)
    project, repl = _fake_lean_install(tmp_path / "ok", v9, v9)
    monkeypatch.setenv("PATH", str(project.parent / "bin"))
    cmd = lean_repl_command(project, repl, memory_limit_gb=8)
    assert cmd.argv[1:] == ["env", str((repl / ".lake/build/bin/repl").resolve())]
    assert cmd.cwd == str(project.resolve()) and cmd.memory_limit_bytes == 8 * 1024**3


def test_embedded_server_through_the_client():
    if not EMBEDDED.exists():
        pytest.skip("lean_env/embedded/__main__.py is absent: the embedded server is not written yet")

    async def go():
        proc = await started(embedded_command())
        try:
            env = await proc.header_env("import Mathlib\nopen Nat")
            r = await proc.run_command("theorem e (x : ℕ) (h : x + 1 = 3) : x = 2 := by sorry", env)
            ps = r["sorries"][0]["proofState"]
            done = await proc.run_tactic("omega", ps)
            assert done["goals"] == [] and done["proofStatus"] == "Completed"
            with pytest.raises(ReplTimeoutError):
                await proc.run_tactic("sleep 5000", ps, timeout=0.5)
            assert not proc.alive
        finally:
            await proc.close()
    run(go())
