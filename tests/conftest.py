"""Shared fixtures: theorems in the embedded fragment and an embedded-server pool."""
from __future__ import annotations

import asyncio
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
