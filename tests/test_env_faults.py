"""Broken workers: garbage instead of JSON, megabytes of output, a missing binary."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import run, thm
from lean_env.pool import PoolConfig, ReplPool
from lean_env.repl import LeanNotFoundError, ReplCommand, ReplProtocolError, lean_repl_command, run_commands
from lean_env.types import EnvFailure, LeanError

FAKES = Path(__file__).parent / "fakes"


def fake_pool(script: str) -> ReplPool:
    return ReplPool(ReplCommand([sys.executable, str(FAKES / script)]), PoolConfig(workers=1, tactic_timeout=5, start_timeout=5))


def test_garbage_output_becomes_env_failure():
    async def go():
        pool = fake_pool("garbage_repl.py")
        try:
            out = await pool.start(thm("theorem g (a : ℕ) : a = a := by"))
            assert isinstance(out, EnvFailure) and "not a JSON reply" in out.message
        finally:
            await pool.close()
    run(go())


def test_megabytes_of_output_are_cut_off():
    async def go():
        pool = fake_pool("flood_repl.py")
        try:
            out = await pool.start(thm("theorem g (a : ℕ) : a = a := by"))
            assert isinstance(out, EnvFailure) and "bytes" in out.message
        finally:
            await pool.close()
    run(go())


def test_protocol_error_is_raised_by_the_client():
    with pytest.raises(ReplProtocolError):
        run(run_commands(ReplCommand([sys.executable, str(FAKES / "garbage_repl.py")]), [{"cmd": "x"}, {"cmd": "y"}], timeout=5))


def test_missing_binary_gives_clear_error(tmp_path):
    pool = ReplPool(ReplCommand([str(tmp_path / "no-such-repl")]), PoolConfig(workers=1))

    async def go():
        try:
            out = await pool.start(thm("theorem g (a : ℕ) : a = a := by"))
            assert isinstance(out, EnvFailure) and "no-such-repl" in out.message
        finally:
            await pool.close()
    run(go())


def test_missing_lake_or_repl_is_refused_up_front(tmp_path, monkeypatch):
    with pytest.raises(LeanNotFoundError, match="Lean project not found"):
        lean_repl_command(tmp_path / "nope", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LeanNotFoundError, match="lake"):
        lean_repl_command(tmp_path, tmp_path)


def test_toolchain_mismatch_is_refused(tmp_path, monkeypatch):
    project, repl = tmp_path / "proj", tmp_path / "repl"
    (repl / ".lake" / "build" / "bin").mkdir(parents=True)
    (repl / ".lake" / "build" / "bin" / "repl").write_text("")
    project.mkdir()
    (project / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    (repl / "lean-toolchain").write_text("leanprover/lean4:v4.15.0\n")
    fake_lake = tmp_path / "bin" / "lake"
    fake_lake.parent.mkdir()
    fake_lake.write_text("#!/bin/sh\n")
    fake_lake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_lake.parent))
    with pytest.raises(LeanNotFoundError, match="toolchain mismatch"):
        lean_repl_command(project, repl)


def test_dojo_missing_extra_names_the_extra():
    pytest.importorskip  # noqa: B018 - keep flake quiet
    try:
        import lean_dojo  # noqa: F401
        pytest.skip("lean_dojo is installed here; the missing-extra path cannot be exercised")
    except ImportError:
        pass
    from lean_env.dojo import DojoEnv

    with pytest.raises(ImportError, match=r"bfs-prover\[dojo\]"):
        DojoEnv()


def test_statement_error_is_a_lean_error_not_a_crash():
    from lean_env.factory import make_env

    async def go():
        env = make_env(workers=1)
        try:
            out = await env.start(thm("theorem broken (a : ℕ : a = 1 := by"))
            assert isinstance(out, LeanError)
        finally:
            await env.close()
    run(go())
