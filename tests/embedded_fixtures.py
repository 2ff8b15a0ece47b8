"""Driving the embedded session one request at a time, as the kernel and tactic tests do."""
from __future__ import annotations

import asyncio

import pytest

from lean_env.benchmarks import load_benchmark
from lean_env.factory import make_env
from lean_env.types import Theorem

from lean_env.embedded.session import Session


@pytest.fixture(scope="module")
def session():
    s = Session()
    s.handle({"cmd": "import Mathlib"})
    return s


def attempt(session, statement, tactics):
    """Run tactics one request at a time; ("ok", goals) or ("error", message)."""
    r = session.handle({"cmd": statement + " := by sorry", "env": 0})
    assert "sorries" in r, r
    ps = r["sorries"][0]["proofState"]
    for t in tactics:
        r = session.handle({"tactic": t, "proofState": ps})
        errs = [m["data"] for m in r.get("messages", []) if m["severity"] == "error"]
        if "message" in r or errs:
            return "error", r.get("message") or errs[0]
        ps = r["proofState"]
    return "ok", r["goals"]


def minif2f_test(name: str) -> Theorem:
    """A miniF2F test statement by id."""
    return next(t for t in load_benchmark("minif2f", "test") if t.id == name)


def verify_proofs(jobs) -> dict[tuple[str, tuple[str, ...]], bool]:
    """Whole-proof verification (the campaign's re-check) of (theorem, tactics) jobs in one embedded
    environment: {(statement, tactics): ok}."""
    async def go():
        env = make_env("embedded", workers=1)
        try:
            return {(t.statement, tuple(tactics)): (await env.verify(t, list(tactics))).ok for t, tactics in jobs}
        finally:
            await env.close()
    return asyncio.run(go())
