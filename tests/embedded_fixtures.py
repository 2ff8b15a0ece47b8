"""Driving the embedded session one request at a time, as the kernel and tactic tests do."""
from __future__ import annotations

import pytest

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
