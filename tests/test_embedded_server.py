"""`python -m lean_env.embedded` as a real subprocess, speaking the Lean REPL protocol."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"


class Server:
    def __init__(self):
        self.p = subprocess.Popen([sys.executable, "-m", "lean_env.embedded"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8")

    def raw(self, text: str) -> dict:
        self.p.stdin.write(text + "\n\n")
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            assert line, "server exited"
            if not line.strip():
                if lines:
                    break
                continue
            lines.append(line)
        return json.loads("".join(lines))

    def send(self, obj: dict) -> dict:
        return self.raw(json.dumps(obj, ensure_ascii=False))

    def close(self):
        self.p.kill()
        self.p.wait()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


def test_protocol_walkthrough(server):
    assert server.send({"cmd": HEADER}) == {"env": 0}
    r = server.send({"cmd": "theorem mathd_algebra_455 (x : ℕ) (h : 2 * (2 * (2 * (2 * x))) = 48) : x = 3 := by sorry", "env": 0})
    assert r["env"] == 1
    assert r["sorries"][0]["goal"] == "x : ℕ\nh : 2 * (2 * (2 * (2 * x))) = 48\n⊢ x = 3"
    assert any(m["severity"] == "warning" and "sorry" in m["data"] for m in r["messages"])
    ps = r["sorries"][0]["proofState"]
    a = server.send({"tactic": "have h2 : x * 16 = 48 := by linarith", "proofState": ps})
    assert a["proofStatus"] == "Incomplete: open goals remain" and "h2 : x * 16 = 48" in a["goals"][0]
    b = server.send({"tactic": "omega", "proofState": ps})          # branch from the same state
    assert b["goals"] == [] and b["proofStatus"] == "Completed"
    c = server.send({"tactic": "linarith", "proofState": a["proofState"]})
    assert c["proofStatus"] == "Completed"


def test_error_replies(server):
    server.send({"cmd": HEADER})
    assert server.send({"tactic": "rfl", "proofState": 10_000}) == {"message": "Unknown proof state."}
    assert server.send({"cmd": "theorem x : 1 = 1 := by rfl", "env": 999}) == {"message": "Unknown environment."}
    assert "Could not parse JSON" in server.raw("{not json")["message"]
    r = server.send({"cmd": "import Mathlib", "env": 0})
    assert any(m["severity"] == "error" and "import" in m["data"] for m in r["messages"])
    r = server.send({"cmd": "theorem m (a : ℕ) : a = a := by sorry", "env": 0})
    ps = r["sorries"][0]["proofState"]
    r = server.send({"tactic": "exact my_fake_premise", "proofState": ps})
    # the protocol's pitfall, reproduced: no goals, but an error
    assert r["goals"] == [] and any(m["severity"] == "error" for m in r["messages"])
    assert "unknown tactic" in server.send({"tactic": "frobnicate", "proofState": ps})["message"]
    r = server.send({"tactic": "sorry", "proofState": ps})
    assert r["proofStatus"] == "Incomplete: contains sorry" and r["sorries"]


def axioms_of(server, cmd: str, name: str) -> str:
    r = server.send({"cmd": cmd + f"\n\n#print axioms {name}", "env": 0})
    infos = [m["data"] for m in r.get("messages", []) if m["severity"] == "info"]
    assert infos, r
    return infos[-1]


def test_print_axioms(server):
    server.send({"cmd": HEADER})
    assert axioms_of(server, "theorem c1 : 2 + 2 = 4 := by\n  decide", "c1") == "'c1' does not depend on any axioms"
    assert "sorryAx" in axioms_of(server, "theorem c2 (a : ℕ) : a = a + 0 := by\n  sorry", "c2")
    assert "Lean.ofReduceBool" in axioms_of(server, "theorem c3 : 2 + 2 = 4 := by\n  native_decide", "c3")
    assert "[cheat]" in axioms_of(server, "axiom cheat : False\ntheorem c4 : 1 = 2 := by\n  exact False.elim cheat", "c4")
    lemma_then_use = "theorem aux (a : ℕ) : a + 0 = a := by\n  sorry\ntheorem c5 (b : ℕ) : b + 0 = b := by\n  exact aux b"
    assert "sorryAx" in axioms_of(server, lemma_then_use, "c5")
    clean = axioms_of(server, "theorem c6 (x : ℕ) (h : x + 1 = 3) : x = 2 := by\n  omega", "c6")
    assert clean.startswith("'c6' depends on axioms: [") and "sorryAx" not in clean


def test_tactic_messages_and_sorry_states(server):
    server.send({"cmd": HEADER})
    r = server.send({"cmd": "theorem tm (p : Prop) (hp : p) : p := by sorry", "env": 0})
    ps = r["sorries"][0]["proofState"]
    t = server.send({"tactic": 'trace "hello"', "proofState": ps})
    assert [m["data"] for m in t["messages"]] == ["hello"] and t["proofStatus"] == "Incomplete: open goals remain"
    assert server.send({"tactic": "sleep 5; exact hp", "proofState": ps})["proofStatus"] == "Completed"
    q = server.send({"tactic": "exact?", "proofState": ps})
    assert q["proofStatus"] == "Incomplete: contains sorry" and q["goals"] == []
    resumed = server.send({"tactic": "exact hp", "proofState": q["sorries"][0]["proofState"]})
    assert resumed["proofStatus"] == "Completed"        # the sorry's state holds the skipped goal
    c = server.send({"cmd": "theorem tq (p : Prop) (hp : p) : p := by\n  exact?\n\n#print axioms tq", "env": 0})
    assert c["sorries"] and "sorryAx" in c["messages"][-1]["data"]
    u = server.send({"cmd": "/- never closed", "env": 0})
    assert u["messages"][0]["severity"] == "error" and "comment" in u["messages"][0]["data"]


def test_walkthrough_example_end_to_end(server):
    server.send({"cmd": HEADER})
    r = server.send({"cmd": "theorem t (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by sorry", "env": 0})
    assert r["sorries"][0]["goal"] == "a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2"
    a = server.send({"tactic": "rw [h₀]", "proofState": r["sorries"][0]["proofState"]})
    assert a["goals"] == ["a b : ℕ\nh₀ : a = 2\n⊢ 2 + b = b + 2"]
    for closer in ("ring", "omega"):
        assert server.send({"tactic": closer, "proofState": a["proofState"]})["proofStatus"] == "Completed"


def test_last_request_without_blank_line_and_c_locale():
    import os

    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""}
    req = json.dumps({"cmd": "theorem u (n : ℕ) : n + 0 = n := by sorry"}, ensure_ascii=False)
    out = subprocess.run([sys.executable, "-m", "lean_env.embedded"], input=req.encode("utf-8"),
                         capture_output=True, env=env, timeout=60).stdout.decode("utf-8")
    reply = json.loads(out.strip())
    assert reply["sorries"][0]["goal"] == "n : ℕ\n⊢ n + 0 = n"
