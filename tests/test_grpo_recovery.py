"""Collapse detection signals, and a simulated collapse in a GRPO campaign: the next round
distils a fresh checkpoint from the healthy ones and resumes RL from it (resumably), with the
two-stage pass-rate filter on in that campaign path."""
from __future__ import annotations

import json

import pytest
import yaml

from grpo_fixtures import PRINTABLE, ScriptedEnv, char_tokenizer, micro_model
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from prover.config import load_config
from prover.run_dir import RunDir
from policy.checkpoint import save_checkpoint
from training.grpo.config import RecoveryConfig
from training.grpo.recovery import detect_collapse, healthy_rounds

ON = RecoveryConfig(enabled=True, grad_norm_spike=10.0, entropy_band=(0.05, 3.0), entropy_steps=3,
                    reward_drop=0.3, heldout_drop=0.1)


def steps(norms, entropies=None):
    entropies = entropies or [1.0] * len(norms)
    return [{"step": i, "grad_norm": g, "entropy": e, "skipped": False} for i, (g, e) in enumerate(zip(norms, entropies))]


def test_each_signal_fires_and_only_when_enabled():
    calm = steps([1.0, 1.2, 0.9, 1.1, 1.3])
    assert detect_collapse(calm, [], ON) is None
    assert "grad-norm spike at step 4" in detect_collapse(steps([1.0, 1.2, 0.9, 1.1, 30.0]), [], ON)
    assert detect_collapse(steps([30.0, 1.0, 1.0]), [], ON) is None          # too little history to judge
    low = steps([1.0] * 5, [1.0, 0.01, 0.02, 0.01, 1.0])
    assert "entropy outside" in detect_collapse(low, [], ON)
    assert detect_collapse(steps([1.0] * 5, [1.0, 0.01, 0.02, 1.0, 0.01]), [], ON) is None   # not 3 in a row
    rows = [{"round": 0, "pass_valid": 0.5}, {"round": 1, "pass_valid": 0.55, "grpo_reward_mean": 0.6},
            {"round": 2, "pass_valid": 0.52, "grpo_reward_mean": 0.2}]
    assert "rollout reward" in detect_collapse(calm, rows, ON, "valid")
    rows[2]["grpo_reward_mean"] = 0.5
    assert detect_collapse(calm, rows, ON, "valid") is None
    rows[2]["pass_valid"] = 0.4
    assert "held-out pass_valid" in detect_collapse(calm, rows, ON, "valid")
    assert detect_collapse(steps([1.0, 1.2, 0.9, 1.1, 30.0]), rows, RecoveryConfig(enabled=False)) is None
    with pytest.raises(ValueError):
        RecoveryConfig(entropy_band=(2.0, 1.0))


def test_healthy_rounds_skip_collapsed_ones():
    rows = [{"round": 0}, {"round": 1}, {"round": 2}, {"round": 3, "collapsed_round": 2}, {"round": 4}]
    assert healthy_rounds(rows, 5, 2) == [3, 4]
    assert healthy_rounds(rows, 4, 2) == [1, 3]
    assert healthy_rounds(rows, 1, 2) == [0]


def campaign_dir(tmp_path, collapse: bool):
    """A GRPO run after round 1 (fake metrics rows), whose round 1 telemetry does or does not spike."""
    tok = char_tokenizer()
    start = tmp_path / "start"
    save_checkpoint(micro_model(tok, seed=5), tok, start)
    cfg = {"name": "rec", "seed": 0, "rounds": 2, "learner": "grpo", "concurrency": 4,
           "pool": {"limit": 3}, "env": {"workers": 1}, "model": {"init": "path", "path": str(start)},
           "eval": {"splits": ["valid"], "limit": 2},
           "grpo": {"steps": 1, "G": 4, "G_early": 2, "early_bounds": [0.0, 1.0], "bounds": [0.0, 1.0],
                    "theorems_per_step": 2, "max_turns": 1, "lr": 1e-3, "epochs": 2,
                    "rollout": {"sampling": {"max_tokens": 4}},
                    "recovery": {"enabled": True, "grad_norm_spike": 5.0, "samples_per_theorem": 2,
                                 "checkpoints": 2, "sft_epochs": 1.0}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run, config = RunDir.open(tmp_path / "run", load_config(path))
    for r in (0, 1):
        save_checkpoint(micro_model(tok, seed=10 + r), tok, run.checkpoint(r))
    save_checkpoint(micro_model(tok, seed=5), tok, run.base)
    run.finish_round({"round": 0, "soft_reset": False, "pass_valid": 0.4})
    run.finish_round({"round": 1, "soft_reset": False, "pass_valid": 0.45, "grpo_reward_mean": 0.5})
    norms = [1.0, 1.1, 0.9, 1.0, 50.0 if collapse else 1.2]
    telemetry = run.round_dir(1) / "grpo" / "telemetry.jsonl"
    telemetry.parent.mkdir(parents=True)
    telemetry.write_text("".join(json.dumps(r) + "\n" for r in steps(norms)))
    return run, config


@pytest.fixture
def scripted_campaign(monkeypatch):
    """The GRPO recipe with a scripted env (every other first character proves) and an evaluation
    that only records the row (the real one runs best-first search; tested elsewhere)."""
    import prover.recipes.grpo as recipe

    monkeypatch.setattr(recipe, "make_env", lambda cfg: ScriptedEnv(finish=PRINTABLE[::2]))

    def evaluate(run, cfg, r, soft_reset, extra, **_):
        row = {"round": r, "soft_reset": soft_reset, **extra}
        run.finish_round(row)
        return row

    monkeypatch.setattr(recipe, "evaluate_round", evaluate)
    return recipe


def test_a_simulated_collapse_triggers_recovery_and_rl_resumes_from_the_distilled_checkpoint(tmp_path, scripted_campaign):
    run, cfg = campaign_dir(tmp_path, collapse=True)
    row = scripted_campaign.grpo_round(run, cfg, 2, searcher=None)
    assert row["soft_reset"] and "grad-norm spike" in row["recovery"] and row["collapsed_round"] == 1
    distilled = run.round_dir(2) / "recovery" / "distilled"
    assert (distilled / "model.safetensors").exists()
    sources = {json.loads(x)["attempt_id"].split("#")[1] for x in
               (run.round_dir(2) / "recovery" / "trajectories.jsonl").read_text().splitlines()}
    assert sources and all(json.loads(x)["verified"] for x in
                           (run.round_dir(2) / "recovery" / "trajectories.jsonl").read_text().splitlines())
    meta = json.loads((run.checkpoint(2) / "checkpoint.json").read_text())
    assert meta["from"] == str(distilled)                        # RL resumed from the distilled checkpoint
    telemetry = [json.loads(x) for x in (run.round_dir(2) / "grpo" / "telemetry.jsonl").read_text().splitlines()]
    assert telemetry[0]["k"] == cfg.grpo_config.k_init          # a fresh controller after the reset
    # the pass-rate filter is on in the campaign path: stage one ran and its bounds are reported
    assert telemetry[0]["rollout"]["early_bounds"] == [0, 2] and telemetry[0]["rollout"]["rollouts"] >= 4
    assert "distill" in run.progress(2).state["done"]
    assert "collapsed" in (run.root / "logs" / "campaign.log").read_text()
    # resumable: a rerun of the round after a kill before training reuses the verdict and the distillation
    progress = run.progress(2)
    progress.state["done"].remove("train")
    progress._save()
    (run.root / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in run.metrics()[:2]))
    stamp = (distilled / "model.safetensors").stat().st_mtime_ns
    row = scripted_campaign.grpo_round(run, cfg, 2, searcher=None)
    assert row["soft_reset"] and (distilled / "model.safetensors").stat().st_mtime_ns == stamp


def test_a_healthy_round_is_not_reset(tmp_path, scripted_campaign):
    run, cfg = campaign_dir(tmp_path, collapse=False)
    row = scripted_campaign.grpo_round(run, cfg, 2, searcher=None)
    assert not row["soft_reset"] and "recovery" not in row
    assert not (run.round_dir(2) / "recovery").exists()
    meta = json.loads((run.checkpoint(2) / "checkpoint.json").read_text())
    assert meta["from"] == str(run.checkpoint(1))


def test_the_shipped_grpo_config_runs_the_two_stage_filter():
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "embedded-grpo.yaml").grpo_config
    assert 0 < cfg.G_early < cfg.G and cfg.epochs * cfg.mini_batches >= 2
