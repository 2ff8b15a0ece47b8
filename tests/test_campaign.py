"""Campaigns: config validation, a smoke campaign killed with SIGKILL and resumed, the report."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from fake_openai_server import FakeCompletionsServer
from prover.config import ConfigError, load_config

SMOKE = {
    "name": "smoke", "seed": 0, "rounds": 2, "concurrency": 8,
    "pool": {"limit": 10},
    "env": {"workers": 1},
    "generator": {"sampling": {"max_tokens": 24}},
    "search": {"tactics_per_expansion": 4, "max_expansions": 3},
    "eval": {"splits": ["test"], "limit": 6},
    "filter": {"low_quantile": 0.1, "high_quantile": 0.1},
    "sft": {"epochs": 1, "warmup_steps": 1},
    "model": {"preset": "micro", "seed_epochs": 1},
    "resynthesis": {"every": 2},   # round 2 re-proves everything and retrains from the base
}


def write(tmp_path: Path, cfg: dict) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_bad_configs_get_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "x.yaml").write_text("rounds: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "x.yaml")
    with pytest.raises(ConfigError, match="roundz"):
        load_config(write(tmp_path, {"roundz": 3}))
    with pytest.raises(ConfigError, match="search.alpha: Input should be greater than or equal to 0"):
        load_config(write(tmp_path, {"search": {"alpha": -1}}))
    with pytest.raises(ConfigError, match="low_quantile"):
        load_config(write(tmp_path, {"filter": {"low_quantile": 0.6, "high_quantile": 0.5}}))
    with pytest.raises(ConfigError, match="grpo"):
        load_config(write(tmp_path, {"learner": "grpo", "grpo": {"not_a_field": 1}}))
    with pytest.raises(ConfigError, match="generator.sampling.seed"):       # the campaign seeds rounds itself
        load_config(write(tmp_path, {"generator": {"sampling": {"seed": 3}}}))
    with pytest.raises(ConfigError, match="does not read filter"):          # a section nothing would read
        load_config(write(tmp_path, {"learner": "grpo", "filter": {"high_quantile": 0.1}}))
    with pytest.raises(ConfigError, match="only read with init: embedded"):
        load_config(write(tmp_path, {"model": {"init": "path", "path": "x", "preset": "small"}}))
    with pytest.raises(ConfigError, match="only read with base: larger"):
        load_config(write(tmp_path, {"resynthesis": {"larger_preset": "tiny"}}))
    with pytest.raises(ConfigError, match="grpo.rollout: its preset and prompt_template"):  # one prompt, two sections
        load_config(write(tmp_path, {"learner": "grpo", "grpo": {"rollout": {"prompt_template": "[GOAL]{state}"}}}))
    with pytest.raises(ConfigError, match="only read with learner: grpo"):
        load_config(write(tmp_path, {"grpo": {"steps": 2}}))
    with pytest.raises(ConfigError, match="base_url"):                      # the generator section is GeneratorConfig
        load_config(write(tmp_path, {"generator": {"kind": "openai"}}))
    with pytest.raises(ConfigError, match="generator.model"):               # rounds sample their own checkpoints
        load_config(write(tmp_path, {"generator": {"model": "some/dir"}}))
    with pytest.raises(ConfigError, match="env"):                           # and env is EnvConfig, validated
        load_config(write(tmp_path, {"env": {"kind": "lean-repl"}}))
    assert load_config(Path(__file__).parent.parent / "configs" / "embedded.yaml").rounds >= 1


def campaign(cfg_path: Path, run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "prover.cli", "campaign", "--config", str(cfg_path), "--run-dir", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def test_smoke_campaign_survives_sigkill_and_resumes_without_duplicates(tmp_path):
    cfg, run = write(tmp_path, SMOKE), tmp_path / "run"
    p = campaign(cfg, run)
    deadline = time.time() + 240
    searching = run / "rounds" / "001" / "search" / "attempts.jsonl"
    while time.time() < deadline:   # kill once round 1's search has started (mid-round)
        if searching.exists():
            break
        if p.poll() is not None:
            pytest.fail(p.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    p = campaign(cfg, run)
    _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err.decode()[-2000:]
    metrics = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1, 2]
    for r in (1, 2):   # round 2 is a re-synthesis: one search folder per searching checkpoint
        for path in (run / "rounds" / f"{r:03d}" / "search").rglob("attempts.jsonl"):
            rows = [json.loads(l) for l in path.read_text().splitlines()]
            keys = [(x["theorem_id"], x["attempt"]) for x in rows]
            assert len(keys) == len(set(keys)) == 10
            assert {x["checkpoint"] for x in rows} == {"round_000" if r == 1 else path.parent.name}
        assert len(list((run / "rounds" / f"{r:03d}" / "search").rglob("attempts.jsonl"))) == r   # top_k = 2
        assert (run / "checkpoints" / f"round_{r:03d}" / "model.safetensors").exists()
        assert all(0.0 <= m["pass_test"] <= 1.0 for m in metrics)
    # round 2 was a re-synthesis: a soft reset, with a fresh store generation (its data + kept proofs)
    assert [m["soft_reset"] for m in metrics] == [False, False, True]
    assert (run / "rounds" / "002" / "resynthesis.json").exists() and metrics[2]["reset_steps"] > 0
    assert (run / "store" / "CURRENT").read_text().strip() == "gen_001"
    assert (run / "checkpoints" / "base" / "model.safetensors").exists()
    # the report prints the table and draws the curves
    out = subprocess.run([sys.executable, "-m", "prover.cli", "report", str(run)], capture_output=True, text=True)
    assert out.returncode == 0 and "round" in out.stdout
    assert (run / "plots" / "learning_curves.png").stat().st_size > 1000


@pytest.mark.slow
def test_scale_up_resynthesis_and_dpo(tmp_path):
    cfg = {**SMOKE, "rounds": 1, "resynthesis": {"every": 1, "base": "larger", "larger_preset": "tiny"},
           "dpo": {}}                       # a dpo section turns DPO after SFT on
    run = tmp_path / "run"
    p = campaign(write(tmp_path, cfg), run)
    _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err.decode()[-2000:]
    from policy.checkpoint import load_checkpoint

    sizes = [sum(x.numel() for x in load_checkpoint(run / "checkpoints" / f"round_{r:03d}")[0].parameters())
             for r in (0, 1)]
    assert sizes[1] > 5 * sizes[0]           # round 1 was retrained from the larger base
    log = (run / "logs" / "campaign.log").read_text()
    assert "trained from base_tiny" in log and "DPO" in log


@pytest.mark.slow
def test_campaign_with_the_http_generator(tmp_path):
    """generator.kind: openai: every search and evaluation asks the server for the round's own
    checkpoint by path, and the campaign trains on what the served model proved."""
    run = tmp_path / "run"
    with FakeCompletionsServer() as server:
        cfg = {**SMOKE, "rounds": 1, "resynthesis": {"every": 0},
               "generator": {"kind": "openai", "base_url": server.base_url,
                             "sampling": {"max_tokens": 24}}}
        p = campaign(write(tmp_path, cfg), run)
        _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err.decode()[-2000:]
    metrics = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1]
    ckpt = run / "checkpoints"
    asked = {Path(b["model"]).resolve() for b in server.requests}
    assert asked == {(ckpt / "round_000").resolve(), (ckpt / "round_001").resolve()}
    assert all(b["max_tokens"] == 24 and b["logprobs"] == 1 for b in server.requests)
    # round 1 searched its pool through the server and stored the pairs of every proof it found
    rows = [json.loads(l) for l in (run / "rounds" / "001" / "search" / "attempts.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and all(r["checkpoint"] == "round_000" for r in rows)
    proof_steps = sum(len(r["steps"]) for r in rows if r["proved"])
    assert json.loads((run / "rounds" / "001" / "filter.json").read_text())["total"] <= proof_steps
    assert (proof_steps > 0) == (json.loads((run / "rounds" / "001" / "filter.json").read_text())["total"] > 0)
    assert (ckpt / "round_001" / "model.safetensors").exists()


def test_seed_proofs_are_replayed_once_per_run(tmp_path):
    from prover.run_dir import RunDir
    from training.store import Pair

    calls = []

    def replay():
        calls.append(1)
        return [Pair(theorem_id="t", state="⊢ p", tactic="trivial", proof_length=1)]

    run = RunDir(tmp_path)
    assert run.seed_pairs(replay) == run.seed_pairs(replay) == RunDir(tmp_path).seed_pairs(replay)
    assert len(calls) == 1


def test_grpo_campaign_round(tmp_path):
    """learner: grpo: a round of GRPO steps from round 0's checkpoint, then the same evaluation."""
    cfg = {key: SMOKE[key] for key in ("name", "seed", "concurrency", "pool", "env", "generator", "search", "eval", "model")}
    cfg.update({"rounds": 1, "learner": "grpo",
                "grpo": {"steps": 2, "G": 2, "G_early": 0, "theorems_per_step": 2, "max_turns": 2, "lr": 1e-3,
                         "bounds": [0.0, 1.0], "rollout": {"sampling": {"max_tokens": 16}}}})
    run = tmp_path / "run"
    p = campaign(write(tmp_path, cfg), run)
    _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err.decode()[-2000:]
    metrics = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == [0, 1]
    telemetry = [json.loads(l) for l in (run / "rounds" / "001" / "grpo" / "telemetry.jsonl").read_text().splitlines()]
    assert [t["step"] for t in telemetry] == [0, 1] and all(t["rollout"]["rollouts"] == 4 for t in telemetry)
    assert metrics[1]["grpo_steps_taken"] == sum(not t["skipped"] for t in telemetry)
    assert (run / "checkpoints" / "round_001" / "model.safetensors").exists()
    assert not (run / "store" / "CURRENT").exists() or not list((run / "store").glob("gen_*/*.parquet"))


def test_prover_eval_takes_the_http_generator_and_a_generator_section(tmp_path):
    """`prover eval` builds the same GeneratorConfig a campaign's `generator:` section is."""
    from policy.checkpoint import save_checkpoint
    from training_fixtures import char_tokenizer, micro_llama

    tok = char_tokenizer()
    ckpt = save_checkpoint(micro_llama(tok), tok, tmp_path / "ckpt")
    common = ["--limit", "2", "--expansions", "2", "--tactics", "2", "--workers", "1"]
    with FakeCompletionsServer() as server:
        out = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--generator", "openai", "--model", str(ckpt),
                              "--base-url", server.base_url, "--out", str(tmp_path / "http"), *common],
                             capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert server.requests and {b["model"] for b in server.requests} == {str(ckpt)}
    assert len((tmp_path / "http" / "attempts.jsonl").read_text().splitlines()) == 2
    section = write(tmp_path, {**SMOKE, "generator": {"kind": "scripted"}})     # a whole campaign config works too
    out = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--generator-config", str(section),
                          "--out", str(tmp_path / "scripted"), *common], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    request = json.loads((tmp_path / "scripted" / "request.json").read_text())
    assert request["generator"]["kind"] == "scripted"
    bad = write(tmp_path, {"generator": {"kind": "openai"}})
    out = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--generator-config", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "needs base_url" in out.stderr


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    """A shipped config with a misspelt or stale field would fail only when a user runs it."""
    cfg = load_config(path)
    assert cfg.rounds >= 1 and cfg.name


def test_flags_given_beside_a_generator_section_override_it(tmp_path):
    """`prover eval --generator-config campaign.yaml --model other/checkpoint`: the campaign's
    sampling settings with another model (the flags were once dropped without a word)."""
    from prover.cli import _generator_config

    section = write(tmp_path, {"generator": {"kind": "hf", "model": "a", "batch_size": 7,
                                             "sampling": {"temperature": 0.7, "top_p": 0.9}}})
    kept = _generator_config("hf", None, None, None, None, 0, section)
    assert (kept.model, kept.batch_size, kept.sampling.temperature) == ("a", 7, 0.7)
    other = _generator_config("hf", "b", None, None, 0.3, 0, section)
    assert (other.model, other.batch_size, other.sampling.temperature, other.sampling.top_p) == ("b", 7, 0.3, 0.9)
    assert _generator_config("hf", "scripted", None, None, None, 0, section).kind == "scripted"
    with pytest.raises(ValueError, match="--preset and --generator-config"):
        _generator_config("hf", None, None, None, None, 0, section, preset="deepseek-prover-v1.5")
