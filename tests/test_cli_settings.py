"""Settings are checked before work starts (issue 21): every bad input of the issue's list gets one
clear line and exit code 2 (a usage error), no traceback, and nothing written that blocks the fix;
a resumed campaign with other settings is refused with the diff, safe changes are recorded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prover.config import ConfigError, load_config
from prover.run_dir import ConfigMismatch, RunDir

REPO = Path(__file__).resolve().parent.parent
SMALL = {"name": "small", "rounds": 1, "pool": {"limit": 4}, "eval": {"splits": ["test"], "limit": 2},
         "model": {"preset": "micro", "seed_epochs": 1}}


def prover(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-m", "prover.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def refused(out: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2, the message on stderr, and no traceback."""
    assert out.returncode == 2, (out.returncode, out.stdout[-1500:], out.stderr[-1500:])
    assert "Traceback" not in out.stderr + out.stdout, out.stderr[-1500:]
    for needle in needles:
        assert needle in out.stderr, out.stderr[-1500:]


def write(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_misspelled_pool_benchmark_is_refused_before_round_zero(tmp_path):
    cfg = write(tmp_path / "c.yaml", {**SMALL, "pool": {"benchmark": "embeded"}, "eval": {"splits": ["tset"]}})
    out = prover("campaign", "--config", cfg, "--run-dir", tmp_path / "run")
    refused(out, "pool: unknown benchmark 'embeded'", "eval: benchmark 'embedded' has no split 'tset'")
    assert not (tmp_path / "run").exists()            # nothing started, nothing saved


def test_missing_model_is_refused_and_does_not_block_the_fixed_yaml(tmp_path):
    cfg = write(tmp_path / "c.yaml", {**SMALL, "model": {"init": "path", "path": str(tmp_path / "nope")}})
    out = prover("campaign", "--config", cfg, "--run-dir", tmp_path / "run")
    refused(out, f"model.path: no model directory at {tmp_path / 'nope'}")
    assert not (tmp_path / "run" / "config.yaml").exists()
    # a run dir whose start failed under an older version (its config saved, no work done) takes the fixed YAML
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text((tmp_path / "c.yaml").read_text())
    fixed = load_config(write(tmp_path / "fixed.yaml", SMALL))
    run, used = RunDir.open(tmp_path / "run", fixed)
    assert used == fixed and load_config(tmp_path / "run" / "config.yaml") == fixed


def test_empty_config_is_refused(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    refused(prover("campaign", "--config", tmp_path / "empty.yaml", "--run-dir", tmp_path / "run"), "config is empty")
    with pytest.raises(ConfigError, match="empty"):
        load_config(tmp_path / "empty.yaml")


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_eval_limit_must_be_positive(tmp_path, limit):
    out = prover("eval", "--model", "scripted", "--limit", limit, "--out", tmp_path / "eval")
    refused(out, "--limit")
    assert not (tmp_path / "eval").exists()


def test_verify_refuses_an_empty_proofs_file(tmp_path):
    (tmp_path / "proofs.jsonl").write_text("")
    out = prover("verify", tmp_path / "proofs.jsonl")
    refused(out, "no proofs")
    assert len(out.stderr.strip().splitlines()) == 1


def test_statement_that_does_not_parse_did_not_start(tmp_path):
    """Counted as a theorem that did not start, not as a failed search (and not as an env failure)."""
    rows = [json.loads(line) for line in (REPO / "data" / "embedded" / "theorems.jsonl").read_text().splitlines()]
    good = next(r for r in rows if r["split"] == "test")
    broken = {**good, "name": "broken", "id": "broken",
              "formal_statement": "theorem broken (x : ℕ) : x + = ) x := by"}
    bench = tmp_path / "bench.jsonl"
    bench.write_text("\n".join(json.dumps(r) for r in (good, broken)) + "\n")
    out = prover("eval", "--benchmark", bench, "--model", "scripted", "--expansions", "2", "--workers", "1",
                 "--out", tmp_path / "eval")
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["not_started"] == 1 and summary["env_failures"] == 0 and summary["theorems"] == 2
    assert "did not start 1" in out.stdout


def started_run(tmp_path: Path, cfg: dict) -> Path:
    """A run dir with the config saved and round 0's checkpoint written: work has been done."""
    root = tmp_path / "run"
    RunDir.open(root, load_config(write(tmp_path / "first.yaml", cfg)))
    (root / "checkpoints" / "round_000").mkdir(parents=True)
    (root / "checkpoints" / "round_000" / "config.json").write_text("{}")
    return root


def test_resumed_campaign_with_other_settings_is_refused_with_the_diff(tmp_path):
    root = started_run(tmp_path, SMALL)
    changed = write(tmp_path / "c.yaml", {**SMALL, "search": {"max_expansions": 7}, "seed": 3})
    out = prover("campaign", "--config", changed, "--run-dir", root)
    refused(out, "search.max_expansions: 32 -> 7", "seed: 0 -> 3", "--keep-saved-config", "fresh --run-dir")
    assert load_config(root / "config.yaml") == load_config(tmp_path / "first.yaml")   # the saved config stays
    # --keep-saved-config goes on with the saved settings
    run, used = RunDir.open(root, load_config(changed), keep_saved=True)
    assert used == load_config(tmp_path / "first.yaml")


def test_more_rounds_is_a_safe_change_and_is_recorded(tmp_path):
    root = started_run(tmp_path, SMALL)
    more = load_config(write(tmp_path / "c.yaml", {**SMALL, "rounds": 4}))
    run, used = RunDir.open(root, more)
    assert used.rounds == 4 and load_config(root / "config.yaml").rounds == 4
    change = json.loads((root / "config_changes.jsonl").read_text().splitlines()[0])
    assert change["changes"] == {"rounds": [1, 4]} and change["before_round"] == 0
    with pytest.raises(ConfigMismatch, match="search.max_expansions"):
        RunDir.open(root, load_config(write(tmp_path / "d.yaml", {**SMALL, "rounds": 4, "search": {"max_expansions": 7}})))
