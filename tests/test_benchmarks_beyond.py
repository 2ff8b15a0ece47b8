"""PutnamBench, FATE-M, FATE-H and CombiBench statements (data/benchmarks, extracted by
scripts/extract_benchmarks.py): they load, carry provenance and their toolchain, hold no proof and
no answer, and a REPL or LeanDojo project on another Lean refuses them with one clear line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig
from lean_env.lexer import code_tokens
from lean_env.toolchain import check_toolchain, toolchain_mismatch

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {"putnambench": (672, 346, "v4.27.0"), "fate-m": (150, 0, "v4.28.0"), "fate-h": (100, 0, "v4.16.0"),
            "combibench": (96, 41, "v4.24.0")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_loads_with_provenance_toolchain_and_answers(name):
    rows, answers, version = EXPECTED[name]
    theorems = load_benchmark(name)
    assert len(theorems) == rows and sum(bool(t.answer) for t in theorems) == answers
    for t in theorems:
        assert t.toolchain.endswith(version) and "@" in t.source and t.source.endswith(".lean")
        assert t.statement.endswith(":= by")
        # statements only: no proof, no answer, no comment that could hold one (PutnamBench writes
        # each answer in a comment after its `sorry`)
        assert "sorry" not in t.header and "--" not in t.header and "sorry" not in t.statement
        if t.answer:
            assert t.answer.rstrip().endswith(":= sorry") and f"{t.name}_solution" in t.statement
            assert [tok.text for tok in code_tokens(t.answer)][-2:] == [":=", "sorry"]


def test_statements_are_verbatim_from_their_source_files():
    """Spot check against the file itself (PutnamBench's putnam_1962_a5, its answer comment dropped)."""
    t = next(t for t in load_benchmark("putnambench") if t.id == "putnam_1962_a5")
    assert t.answer == "abbrev putnam_1962_a5_solution : ℕ → ℕ := sorry"
    assert t.statement == ("theorem putnam_1962_a5\n: ∀ n ≥ 2, putnam_1962_a5_solution n = "
                           "∑ k ∈ Finset.Icc 1 n, Nat.choose n k * k^2 := by")
    assert "fun n" not in t.header + t.answer + t.statement


def test_a_project_on_another_lean_refuses_the_benchmark(tmp_path):
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    putnam = load_benchmark("putnambench")
    why = toolchain_mismatch(putnam, tmp_path)
    assert "targets Lean v4.27.0" in why and "v4.9.0" in why
    with pytest.raises(ValueError, match="targets Lean v4.27.0"):
        check_toolchain(putnam, EnvConfig(kind="lean-repl", lean_project=str(tmp_path), repl_path="r"))
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.27.0\n")
    assert toolchain_mismatch(putnam, tmp_path) is None
    # rows without a toolchain (the miniF2F copies) and the embedded environment are not checked
    assert toolchain_mismatch(load_benchmark("minif2f"), tmp_path) is None
    check_toolchain(putnam, EnvConfig(kind="embedded"))


def test_prover_eval_refuses_a_mismatched_project_in_one_line(tmp_path):
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    out = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--benchmark", "fate-h", "--model", "scripted",
                          "--env", "lean-repl", "--lean-project", str(tmp_path), "--repl-path", str(tmp_path),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0 and "targets Lean v4.16.0" in out.stderr and "Traceback" not in out.stderr


def test_the_start_bench_counts_what_the_readme_reports():
    out = subprocess.run([sys.executable, "bench/minif2f_start.py", "--benchmark", "combibench", "--top", "1"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "| test | **all** | 2 | 96 | 2% |" in out.stdout
