"""The Kimina Lean Server backend. Against the real kimina-ast-server 2.1.3 serving the embedded REPL
(tests/kimina_real.py; skipped only where Python 3.12 is missing): through `prover verify --env
kimina` it verifies every known proof and rejects every cheat class and false statement. Against a
local double of its `/verify` API that behaves like it (tests/fake_kimina_server.py): batching, the
API key, and each way a server can fail, which the real one cannot be made to do on demand."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINIF2F_HEADER, run, thm
from fake_kimina_server import FakeKiminaServer, split_snippet
from lean_env.factory import EnvConfig, make_env
from lean_env.kimina import KiminaEnv, _body_to_command, body_start, snippet_prefix
from lean_env.types import EnvFailure, Theorem
from test_verify import CHEATS, T

GOOD = ["omega"]


def verify_all(env: KiminaEnv, proofs: list[list[str]], theorem=T):
    async def go():
        try:
            return await asyncio.gather(*(env.verify(theorem, p) for p in proofs))
        finally:
            await env.close()
    return run(go())


def one(server: FakeKiminaServer, tactics=GOOD, **kw):
    return verify_all(KiminaEnv(server.url, retry_delay=0.01, **kw), [tactics])[0]


def test_verdicts_match_the_embedded_pool_and_batch_into_one_request():
    proofs = [GOOD, ["have h : x = 4 := by\n  omega", "exact h"]] + [CHEATS[k] for k in sorted(CHEATS)]
    with FakeKiminaServer() as server:
        kimina = verify_all(KiminaEnv(server.url), proofs)
    pool = make_env(workers=1)
    embedded = verify_all(pool, proofs)
    assert [v.ok for v in kimina] == [v.ok for v in embedded]
    assert kimina[0].ok and kimina[1].ok and not any(v.ok for v in kimina[2:])
    assert set(kimina[0].axioms) <= {"propext", "Classical.choice", "Quot.sound"}
    # prechecked cheats are never sent; the rest went out together, the header before each proof
    sent = [c for body, _ in server.requests for c in body["codes"]]
    assert len(server.requests) == 1 and len(sent) == 4          # 2 honest + the 2 only Lean catches
    assert all(c["proof"].startswith(T.header + T.statement) for c in sent)
    assert isinstance(server.requests[0][0]["timeout"], int)


def test_batches_are_capped():
    with FakeKiminaServer() as server:
        verdicts = verify_all(KiminaEnv(server.url, batch_size=2), [GOOD] * 5)
    assert all(v.ok for v in verdicts)
    assert sorted(len(body["codes"]) for body, _ in server.requests) == [1, 2, 2]


def test_a_server_that_says_valid_still_faces_our_rules():
    def no_messages(resp):
        return {k: v for k, v in resp.items() if k != "messages"}

    def sorry_axiom(resp):
        for m in resp.get("messages") or []:
            m["data"] = m["data"].replace("[propext", "[sorryAx, propext")
        return resp

    with FakeKiminaServer(rewrite=no_messages) as server:
        silent = one(server)
    with FakeKiminaServer(rewrite=sorry_axiom) as server:
        sorried = one(server)
    def shifted_back(resp):   # lines counted from the top of the snippet: not what Kimina reports
        for m in resp.get("messages") or []:
            m["pos"]["line"] += body_start(snippet_prefix(T.header))
        return resp

    with FakeKiminaServer(rewrite=shifted_back) as server:
        shifted = one(server)
    assert not silent.ok and any("could not read axioms" in r for r in silent.reasons)
    assert not sorried.ok and any("sorryAx" in r for r in sorried.reasons)
    assert not shifted.ok and any("could not read axioms" in r for r in shifted.reasons)


@pytest.mark.parametrize("header, start, delta", [
    (MINIF2F_HEADER, 3, -4),                          # the body starts at `set_option`, 4 lines before our command
    ("import Mathlib\nimport Aesop\n\n", 3, 0),      # imports only: the body is our command
    ("", 1, 0),                                       # no imports: `import Init` is sent first
    ("open Nat\n", 1, -1),
    ("  import Mathlib\n\nprelude\nmodule\npublic import X\nmeta import Y\n", 6, 0),   # newer servers' header lines
])
def test_lines_are_moved_from_the_body_to_our_command(header, start, delta):
    prefix = snippet_prefix(header)
    snippet = prefix + "theorem t : True := by\n  trivial\n#print axioms t"
    assert body_start(snippet) == start and _body_to_command(snippet, prefix) == delta
    assert any(line.strip().startswith("import ") for line in prefix.splitlines())
    if "module" not in header:   # 2.1.3 (and the fake) split module-system headers differently
        assert split_snippet(snippet)[1].splitlines()[0] == snippet.splitlines()[start]


def test_api_key_goes_in_the_authorization_header(monkeypatch):
    monkeypatch.delenv("LEAN_SERVER_API_KEY", raising=False)
    with FakeKiminaServer(api_key="s3cret") as server:
        missing = one(server)
        wrong = one(server, api_key="nope")
        monkeypatch.setenv("LEAN_SERVER_API_KEY", "s3cret")
        right = one(server)
    assert not missing.ok and "LEAN_SERVER_API_KEY" in missing.reasons[0] and "Missing" in missing.reasons[0]
    assert not wrong.ok and "Invalid API key" in wrong.reasons[0]
    assert right.ok and server.requests[-1][1] == "Bearer s3cret"


@pytest.mark.parametrize("fault, expected", [
    ("busy", "no free REPL"),
    ("garbage", "not JSON"),
    ("no_results", "no list of results"),
    ("timeout", "verification timed out"),
    ("header_timeout", "header command timed out"),
])
def test_server_failures_reject_with_a_reason(fault, expected):
    with FakeKiminaServer(fault=fault) as server:
        verdict = one(server)
    assert not verdict.ok and expected in verdict.reasons[0], verdict.reasons
    if fault == "busy":
        assert len(server.requests) == 3      # asked again twice before giving up
    if fault != "timeout":
        assert verdict.reasons[0].startswith("environment failure")


def test_a_busy_server_is_asked_again():
    with FakeKiminaServer(fault="busy_once") as server:
        verdict = one(server)
    assert verdict.ok and len(server.requests) == 2


def test_a_result_missing_from_the_reply_fails_only_that_proof():
    with FakeKiminaServer(fault="drop") as server:
        verdicts = verify_all(KiminaEnv(server.url), [GOOD, GOOD, GOOD])
    assert [v.ok for v in verdicts] == [True, True, False]
    assert "no result for snippet" in verdicts[2].reasons[0]


def test_no_reply_in_time_and_no_server_are_environment_failures():
    with FakeKiminaServer(fault="hang", hang_seconds=3) as server:
        hung = one(server, http_timeout=0.3)
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nowhere = verify_all(KiminaEnv(f"http://127.0.0.1:{port}", retry_delay=0.01), [GOOD])[0]
    assert not hung.ok and "no reply" in hung.reasons[0]
    assert not nowhere.ok and "cannot reach" in nowhere.reasons[0]


def test_settings_are_checked_and_tactics_are_refused():
    with pytest.raises(ValueError, match="kimina-url"):
        make_env("kimina")
    with pytest.raises(ValueError, match="http"):
        make_env("kimina", kimina_url="localhost:8000")
    with pytest.raises(ValueError, match="only read with"):
        EnvConfig(kind="embedded", kimina_url="http://x")
    env = make_env("kimina", kimina_url="http://127.0.0.1:9")
    assert isinstance(run(env.start(thm("theorem t : True := by"))), EnvFailure)


def test_a_search_on_kimina_is_refused_in_one_line(tmp_path):
    from prover.config import CampaignConfig

    out = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--env", "kimina", "--kimina-url",
                          "http://127.0.0.1:9", "--limit", "1", "--out", str(tmp_path / "eval")],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    lines = (out.stdout + out.stderr).strip().splitlines()
    assert out.returncode != 0 and len(lines) == 1 and "only verifies whole proofs" in lines[0], lines
    assert not (tmp_path / "eval").exists()
    with pytest.raises(ValueError, match="only verifies whole proofs"):
        CampaignConfig(**{"env": {"kind": "kimina", "kimina_url": "http://127.0.0.1:9"}})


def test_prover_verify_through_kimina(tmp_path, capsys):
    from prover.verify_cmd import run_verify

    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"name": T.name, "split": "test", "header": T.header,
                                 "formal_statement": T.statement}) + "\n")
    proofs = tmp_path / "proofs.jsonl"
    proofs.write_text(json.dumps({"id": T.name, "tactics": GOOD}) + "\n"
                      + json.dumps({"id": T.name, "tactics": ["norm_num"]}) + "\n")
    with FakeKiminaServer() as server:
        code = run_verify(proofs, str(bench), "kimina", None, None, 1, 30.0, kimina_url=server.url)
    out = capsys.readouterr().out
    assert code == 1 and "1/2 proofs verified" in out
    assert len(server.requests) == 1 and len(server.requests[0][0]["codes"]) == 2


def test_a_real_kimina_server():
    """Against a running Kimina Lean Server with real Lean + Mathlib (BFS_KIMINA_URL, key from
    LEAN_SERVER_API_KEY). Not run with the embedded REPL as its REPL: kimina-ast-server installs
    on Python 3.12 but runs `prisma generate` on import, which downloads engine binaries."""
    url = os.environ.get("BFS_KIMINA_URL")
    if not url:
        pytest.skip("set BFS_KIMINA_URL to a running Kimina Lean Server (real Lean with Mathlib)")
    cheats = [CHEATS["proof of another statement"], CHEATS["uses a lemma that is not in the fresh environment"]]
    verdicts = verify_all(KiminaEnv(url, verify_timeout=120), [GOOD] + cheats)
    assert verdicts[0].ok, verdicts[0].reasons
    assert set(verdicts[0].axioms) <= {"propext", "Classical.choice", "Quot.sound"}
    assert not any(v.ok for v in verdicts[1:])


# ---------------------------------------------------------------- the real kimina-ast-server

from kimina_real import RealKiminaServer, kimina_unavailable  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KEY = "kimina-test-key"


@pytest.fixture(scope="module")
def real_kimina(tmp_path_factory):
    """kimina-ast-server 2.1.3 with 2 embedded REPLs and an API key, for the whole module."""
    reason = kimina_unavailable()
    if reason:
        pytest.skip(reason)
    with RealKiminaServer(tmp_path_factory.mktemp("kimina"), max_repls=2, api_key=KEY) as url:
        yield url


def prover_verify(url: str, proofs: Path, benchmark: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prover.cli", "verify", str(proofs), "--benchmark", str(benchmark),
         "--env", "kimina", "--kimina-url", url],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400", "LEAN_SERVER_API_KEY": KEY})


def test_the_real_server_verifies_every_known_proof(real_kimina):
    known = REPO / "data" / "embedded" / "known_proofs.jsonl"
    n = sum(1 for line in known.read_text().splitlines() if line.strip())
    out = prover_verify(real_kimina, known, "embedded")
    assert n >= 600 and f"{n}/{n} proofs verified" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
    assert out.returncode == 0


def test_the_real_server_rejects_every_cheat_class(real_kimina):
    from test_adversarial import CHEATS as CLASSED, HONEST_ROWS, TAMPERING, T as ADV, _rows
    from prover.verify_cmd import verify_rows
    from lean_env.verify import STATEMENT_TAMPERING

    rows = _rows() + [{"id": "adv", "label": f"verify: {k}", "tactics": v} for k, v in sorted(CHEATS.items())]
    env = KiminaEnv(real_kimina, api_key=KEY, verify_timeout=60)
    verdicts = verify_rows(rows, {"adv": ADV}, env, "adversarial")
    wrong = []
    for row, v in zip(rows, verdicts):
        label = row["label"]
        if label in HONEST_ROWS:
            if not v.ok:
                wrong.append((label, "honest proof rejected", v.reasons))
        elif label.startswith("verify: "):
            if v.ok or any(r.startswith("environment failure") for r in v.reasons):
                wrong.append((label, "not rejected by Lean's reply", v.reasons))
        else:
            cls = STATEMENT_TAMPERING if label in TAMPERING else CLASSED[label][1]
            if v.ok or not any(r.startswith(cls) for r in v.reasons):
                wrong.append((label, f"not rejected as {cls}", v.reasons))
    assert not wrong, wrong
    assert sum(v.ok for v in verdicts) == len(HONEST_ROWS) >= 5


def test_the_real_server_rejects_false_statements(real_kimina, tmp_path):
    """Every false statement of the kernel's own tests, with every script that closes look-alikes,
    through `prover verify`; known proofs of true statements in the same run must still pass."""
    from test_discrete import FALSE_DISCRETE, _CLOSERS as DISCRETE_CLOSERS
    from test_fields import FALSE_OVER_FIELDS, _CLOSERS as FIELD_CLOSERS

    bench, proofs = [], []
    for i, (statement, scripts) in enumerate(sorted(FALSE_DISCRETE.items()) + sorted(FALSE_OVER_FIELDS.items())):
        name = f"false_{i}"
        closers = DISCRETE_CLOSERS if statement in FALSE_DISCRETE else FIELD_CLOSERS
        bench.append({"name": name, "split": "test", "header": MINIF2F_HEADER,
                      "formal_statement": statement.replace("theorem t ", f"theorem {name} ", 1) + " := by"})
        proofs += [{"id": name, "tactics": [script]}
                   for script in dict.fromkeys(closers + tuple(scripts))]
    controls = [{"id": "good", "tactics": GOOD}, {"id": "good", "tactics": ["have h : x = 4 := by\n  omega", "exact h"]}]
    bench.append({"name": "good", "split": "test", "header": MINIF2F_HEADER, "formal_statement": T.statement.replace(T.name, "good")})
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bench))
    (tmp_path / "proofs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in controls + proofs + controls))
    out = prover_verify(real_kimina, tmp_path / "proofs.jsonl", tmp_path / "bench.jsonl")
    n = len(proofs) + 2 * len(controls)
    assert f"{2 * len(controls)}/{n} proofs verified" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
    assert "environment failure" not in out.stdout and "timed out" not in out.stdout
    assert len(bench) - 1 == len(FALSE_DISCRETE) + len(FALSE_OVER_FIELDS) >= 40 and len(proofs) >= 600


def test_the_real_server_checks_the_key(real_kimina):
    wrong = verify_all(KiminaEnv(real_kimina, api_key="nope"), [GOOD])[0]
    missing = verify_all(KiminaEnv(real_kimina, api_key=""), [GOOD])[0]
    right = verify_all(KiminaEnv(real_kimina, api_key=KEY), [GOOD])[0]
    assert not wrong.ok and "Invalid API key" in wrong.reasons[0]
    assert not missing.ok and "Missing API key" in missing.reasons[0]
    assert right.ok, right.reasons


def test_a_theorem_without_imports_verifies_every_time(real_kimina, tmp_path):
    """The server runs a blank header's later snippets in the environment its REPL's first snippet
    left (`env: 0`), where the theorem is already declared, unless we send an import. One REPL, so
    every request meets the same one."""
    blank = Theorem(name=T.name, header="", statement=T.statement, split="test", source="tests")
    with RealKiminaServer(tmp_path, max_repls=1) as url:
        again = [verify_all(KiminaEnv(url), [GOOD], theorem=blank)[0] for _ in range(3)]
    assert all(v.ok for v in again), [v.reasons for v in again]
