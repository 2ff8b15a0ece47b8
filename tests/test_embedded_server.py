"""`python -m lean_env.embedded` as a real subprocess: the REPL's framing, replies, and resources."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"


class Server:
    def __init__(self, *args: str, env: dict | None = None, stderr=subprocess.DEVNULL):
        self.p = subprocess.Popen([sys.executable, "-m", "lean_env.embedded", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=stderr, text=True, encoding="utf-8", env=env)

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
    cmd = "theorem mathd_algebra_455 (x : ℕ) (h : 2 * (2 * (2 * (2 * x))) = 48) : x = 3 := by sorry"
    r = server.send({"cmd": cmd, "env": 0})
    assert r["env"] == 1
    assert r["sorries"][0]["goal"] == "x : ℕ\nh : 2 * (2 * (2 * (2 * x))) = 48\n⊢ x = 3"
    col = cmd.index("sorry")   # codepoints, as Lean counts columns
    assert r["sorries"][0]["pos"] == {"line": 1, "column": col} and r["sorries"][0]["endPos"] == {"line": 1, "column": col + 5}
    assert r["messages"] == [{"severity": "warning", "pos": {"line": 1, "column": 8},   # at the name
                              "endPos": {"line": 1, "column": 8 + len("mathd_algebra_455")},
                              "data": "declaration uses `sorry`"}]
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
    assert server.raw("{not json")["message"].startswith("Could not parse JSON:\n")
    assert "valid JSON command" in server.send({"frobnicate": 1})["message"]
    r = server.send({"cmd": "import Mathlib", "env": 0})
    assert [m["data"] for m in r["messages"]] == ["invalid 'import' command, it must be used in the beginning of the file"]
    r = server.send({"cmd": "theorem m (a : ℕ) : a = a := by sorry", "env": 0})
    ps = r["sorries"][0]["proofState"]
    r = server.send({"tactic": "exact my_fake_premise", "proofState": ps})
    # the protocol's pitfall, reproduced: no goals, but an error (tactic mode has no positions)
    assert r["goals"] == [] and r["proofStatus"] == "Incomplete: contains sorry"
    assert r["messages"][0]["severity"] == "error" and r["messages"][0]["pos"] == {"line": 0, "column": 0}
    assert "unknown tactic" in server.send({"tactic": "frobnicate", "proofState": ps})["message"]
    r = server.send({"tactic": "sorry", "proofState": ps})
    assert r["proofStatus"] == "Incomplete: contains sorry" and r["goals"] == []
    assert r["sorries"] == [{"proofState": r["sorries"][0]["proofState"], "goal": "a : ℕ\n⊢ a = a"}]


def test_framing_is_the_repls(server):
    """Lines are joined with their line ends cut (a raw newline in a JSON string joins the words,
    as in the REPL), and a request starting with `#` or `--` gets no reply at all."""
    server.p.stdin.write("-- a comment line the REPL skips\n\n# so is this\n\n")
    r = server.raw('{"cmd": "theorem j : 1 = 1 := by\nrfl"}')   # one request, two lines
    assert "`byrfl`" in r["messages"][0]["data"] or "'byrfl'" in r["messages"][0]["data"]   # Lean: Unknown identifier `byrfl`
    r = server.raw('{"cmd":\n   "theorem j2 : 1 = 1 := by rfl"}')
    assert r == {"env": r["env"]}


def test_print_axioms_from_its_own_position(server):
    server.send({"cmd": HEADER})

    def axioms_of(cmd: str, name: str) -> dict:
        r = server.send({"cmd": cmd + f"\n\n#print axioms {name}", "env": 0})
        line = cmd.count("\n") + 3
        infos = [m for m in r.get("messages", []) if m["severity"] == "info"]
        assert infos and infos[-1]["pos"] == {"line": line, "column": 0}, r
        assert infos[-1]["endPos"] == {"line": line, "column": 6}
        return infos[-1]["data"]

    assert axioms_of("theorem c1 : 2 + 2 = 4 := by\n  decide", "c1") == "'c1' does not depend on any axioms"
    assert "sorryAx" in axioms_of("theorem c2 (a : ℕ) : a = a + 0 := by\n  sorry", "c2")
    assert "Lean.ofReduceBool" in axioms_of("theorem c3 : 2 + 2 = 4 := by\n  native_decide", "c3")
    assert axioms_of("axiom cheat : False\ntheorem c4 : 1 = 2 := by\n  exact False.elim cheat", "c4") == \
        "'c4' depends on axioms: [cheat]"
    lemma_then_use = "theorem aux (a : ℕ) : a + 0 = a := by\n  sorry\ntheorem c5 (b : ℕ) : b + 0 = b := by\n  exact aux b"
    assert "sorryAx" in axioms_of(lemma_then_use, "c5")
    clean = axioms_of("theorem c6 (x : ℕ) (h : x + 1 = 3) : x = 2 := by\n  omega", "c6")
    assert clean.startswith("'c6' depends on axioms: [") and "sorryAx" not in clean
    r = server.send({"cmd": "#print axioms nope", "env": 0})
    assert r["messages"] == [{"severity": "error", "pos": {"line": 1, "column": 14}, "endPos": {"line": 1, "column": 18},
                              "data": "Unknown constant `nope`"}]


def test_tactic_messages_and_sorry_states(server):
    server.send({"cmd": HEADER})
    r = server.send({"cmd": "theorem tm (p : Prop) (hp : p) : p := by sorry", "env": 0})
    ps = r["sorries"][0]["proofState"]
    t = server.send({"tactic": 'trace "hello"', "proofState": ps})
    assert [m["data"] for m in t["messages"]] == ["hello"] and t["proofStatus"] == "Incomplete: open goals remain"
    assert server.send({"tactic": "sleep 5; exact hp", "proofState": ps})["proofStatus"] == "Completed"
    # `admit` is `exact @sorryAx _ false` in Lean: it gives up, but no `sorries` entry
    q = server.send({"tactic": "admit", "proofState": ps})
    assert q["proofStatus"] == "Incomplete: contains sorry" and q["goals"] == [] and "sorries" not in q
    s = server.send({"tactic": "sorry", "proofState": ps})
    resumed = server.send({"tactic": "exact hp", "proofState": s["sorries"][0]["proofState"]})
    assert resumed["proofStatus"] == "Completed"        # the sorry's state holds the skipped goal
    u = server.send({"cmd": "/- never closed", "env": 0})
    assert u["messages"] == [{"severity": "error", "pos": {"line": 1, "column": 15}, "endPos": {"line": 1, "column": 15},
                              "data": "unterminated comment"}]


def test_walkthrough_example_end_to_end(server):
    server.send({"cmd": HEADER})
    r = server.send({"cmd": "theorem t (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by sorry", "env": 0})
    assert r["sorries"][0]["goal"] == "a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2"
    a = server.send({"tactic": "rw [h₀]", "proofState": r["sorries"][0]["proofState"]})
    assert a["goals"] == ["a b : ℕ\nh₀ : a = 2\n⊢ 2 + b = b + 2"]
    for closer in ("ring", "omega"):
        assert server.send({"tactic": closer, "proofState": a["proofState"]})["proofStatus"] == "Completed"


def test_numerals_beyond_pythons_digit_limit_and_deep_nesting(server):
    server.send({"cmd": HEADER})
    big = "7" * 6000
    r = server.send({"cmd": f"theorem big : {big} + 1 = {big[:-1]}8 := by norm_num", "env": 0})
    assert "messages" not in r, r                       # it works, as in Lean
    r = server.send({"cmd": f"theorem big2 (x : ℕ) (h : x = {big}) : x = {big} := by sorry", "env": 0})
    assert r["sorries"][0]["goal"].endswith(f"⊢ x = {big}")
    deep = "(" * 5000 + "1" + ")" * 5000
    r = server.send({"cmd": f"theorem deep : {deep} = 1 := by rfl", "env": 0})
    errors = [m["data"] for m in r["messages"] if m["severity"] == "error"]
    assert errors and "maximum recursion depth has been reached" in errors[0]
    assert server.send({"cmd": "theorem after : 1 = 1 := by rfl", "env": 0}) == {"env": r["env"] + 1}


def test_last_request_without_blank_line_and_c_locale():
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""}
    req = json.dumps({"cmd": "theorem u (n : ℕ) : n + 0 = n := by sorry"}, ensure_ascii=False)
    out = subprocess.run([sys.executable, "-m", "lean_env.embedded"], input=req.encode("utf-8"),
                         capture_output=True, env=env, timeout=60).stdout.decode("utf-8")
    reply = json.loads(out.strip())
    assert reply["sorries"][0]["goal"] == "n : ℕ\n⊢ n + 0 = n"


def _needs_too_much_memory() -> dict:
    """A command whose positions table (one entry per line) alone needs ~200 MB."""
    return {"cmd": "theorem t : 1 = 1 := by rfl" + "\n" * 5_000_000}


def test_address_space_cap_turns_a_huge_request_into_an_error(tmp_path):
    """Under `--max-memory-mb` an allocation past the cap is a clean error, and the server lives on
    with its memory back (the cap real REPL workers get from the pool). Nothing goes to stderr:
    Kimina's server takes any stderr output for a dead REPL."""
    with open(tmp_path / "stderr", "w") as err:
        s = Server("--max-memory-mb", "220", stderr=err)
        try:
            r = s.send(_needs_too_much_memory())
            assert "out of memory" in json.dumps(r), r
            assert s.send({"cmd": "theorem u : 1 = 1 := by rfl"}) == {"env": 0}
        finally:
            s.close()
    assert (tmp_path / "stderr").read_text() == ""


def test_memory_cap_from_the_environment_variable():
    s = Server(env={**os.environ, "LEAN_EMBEDDED_MAX_MEMORY_MB": "220"})
    try:
        assert "out of memory" in json.dumps(s.send(_needs_too_much_memory()))
    finally:
        s.close()


def test_without_a_cap_the_same_request_works():
    s = Server()
    try:
        assert s.send(_needs_too_much_memory()) == {"env": 0}
    finally:
        s.close()


def test_watchdog_interrupts_a_growing_request():
    """The resident-memory watchdog stops a request that keeps growing (without waiting for the
    address-space cap), in the main thread, as an exception no kernel `except Exception` eats."""
    import psutil

    from lean_env.embedded.__main__ import MemoryCapExceeded, MemoryGuard

    rss_mb = psutil.Process().memory_info().rss // 2**20
    guard = MemoryGuard(limit_mb=10**6, watch_mb=rss_mb + 40)
    guard.watch()
    hoard = []
    try:
        guard.busy = True
        with pytest.raises(MemoryCapExceeded):
            for _ in range(2000):          # up to 2 GB, far past the 40 MB allowed
                hoard.append(bytearray(2**20))
                try:
                    sum(range(1000))       # bytecode between allocations: the signal lands here
                except Exception:          # noqa: BLE001 -- the kernel's handlers must not catch it
                    pytest.fail("caught by except Exception")
    finally:
        guard.busy = False
        guard.stop()
        hoard.clear()
    assert guard.tripped


def test_the_pools_memory_limit_reaches_embedded_workers():
    """`EnvConfig.memory_limit_gb` caps embedded workers as it caps Lean ones: the command the
    factory builds carries it, and a server started with that command refuses the huge request."""
    import asyncio

    from lean_env.factory import EnvConfig, make_env

    capped = make_env(EnvConfig(kind="embedded", workers=1, memory_limit_gb=0.22))
    uncapped = make_env(EnvConfig(kind="embedded", workers=1, memory_limit_gb=None))
    try:
        assert capped.command.env == {"LEAN_EMBEDDED_MAX_MEMORY_MB": "225"}
        assert uncapped.command.env == {}
        s = Server(env={**os.environ, **capped.command.env})
        try:
            assert "out of memory" in json.dumps(s.send(_needs_too_much_memory()))
        finally:
            s.close()
    finally:
        asyncio.run(capped.close())
        asyncio.run(uncapped.close())
