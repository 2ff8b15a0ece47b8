"""End to end on a micro Llama and a scripted env: one GRPO step raises the probability of the
rewarded tactics; the full loop writes telemetry and loadable checkpoints; self-distillation."""
from __future__ import annotations

import asyncio
import json
import math

import pytest
import torch

from grpo_fixtures import PRINTABLE, ScriptedEnv, char_tokenizer, micro_model, theorem
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from policy.base import PromptFormat
from policy.checkpoint import save_checkpoint
from policy.tokens import encode_prompt
from policy.params import SamplingParams
from policy.factory import GeneratorConfig
from training.grpo.config import GRPOConfig
from training.grpo.distill import collect_successful, distill_examples, self_distill
from training.grpo.rollout import Policy, rollout_group
from training.grpo.trainer import grpo_step, load_policy, make_controller, make_trainer, run_grpo

REWARDED = PRINTABLE[::2]   # a tactic proves the theorem iff its first character is one of these


def rewarded_first_token_mass(policy: Policy, temperature: float) -> float:
    """Probability that the first non-space token at the root prompt starts a rewarded tactic."""
    tok = policy.tokenizer
    ids = encode_prompt(tok, PromptFormat().prompt("⊢ goal0"))
    with torch.no_grad():
        logits = policy.model(input_ids=torch.tensor([ids])).logits[0, -1].float() / temperature
    probs = torch.softmax(logits, -1)
    good = [tok.convert_tokens_to_ids(c) for c in set(REWARDED) if c != " "]
    return float(probs[good].sum())


def mean_logprob(policy: Policy, trajs) -> float:
    from training.grpo.batch import collate_turns, train_logprobs

    turns = [turn for t in trajs for turn in t.turns]
    batch = collate_turns(turns, [0.0] * len(turns), policy.tokenizer.pad_token_id, len(policy.tokenizer))
    with torch.no_grad():
        return float(train_logprobs(policy.model, batch).mean())


def test_one_step_raises_the_rewarded_tactics():
    tok = char_tokenizer()
    policy = Policy(micro_model(tok, seed=4), tok)
    cfg = GRPOConfig(G=16, G_early=0, rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=6, top_p=0.95)), max_turns=1, lr=3e-3,
                     micro_batch_size=4)
    env = ScriptedEnv(finish=REWARDED)
    trajs = asyncio.run(rollout_group(policy, env, theorem(), cfg.G, cfg, torch.Generator().manual_seed(0)))
    good, bad = [t for t in trajs if t.reward == 1.0], [t for t in trajs if t.reward == 0.0]
    assert good and bad
    before = (rewarded_first_token_mass(policy, cfg.rollout.sampling.temperature), mean_logprob(policy, good), mean_logprob(policy, bad))
    stats = grpo_step(make_trainer(policy.model, cfg), trajs, cfg, make_controller(cfg))
    after = (rewarded_first_token_mass(policy, cfg.rollout.sampling.temperature), mean_logprob(policy, good), mean_logprob(policy, bad))
    assert not stats.skipped and stats.kept_theorems == 1 and stats.tokens == sum(t.num_tokens for t in trajs)
    # fresh samples: the recorded and replayed log-probs agree, so nothing was clipped or capped
    assert stats.logp_diff_max < 1e-4 and stats.frac_clipped == 0.0 and stats.frac_outer_capped == 0.0
    assert after[0] > before[0]          # more mass on first characters that prove
    assert after[1] > before[1]          # rewarded completions more likely
    assert after[2] < before[2]          # unrewarded ones less likely


def test_run_grpo_writes_telemetry_and_checkpoints(tmp_path):
    tok = char_tokenizer()
    model_dir = tmp_path / "base"
    save_checkpoint(micro_model(tok, seed=5), tok, model_dir)
    cfg = GRPOConfig(G=6, G_early=3, early_bounds=(0.0, 1.0), bounds=(0.0, 1.0), steps=2, theorems_per_step=2,
                     rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=2, lr=1e-2, save_every=1)
    env = ScriptedEnv(finish=REWARDED, step="ABCDEFGH")
    final = run_grpo(model_dir, env, [theorem("a"), theorem("b"), theorem("c")], cfg, tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "telemetry.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1]
    for r in rows:
        for key in ("loss", "logp_diff_mean", "k3_mismatch", "entropy", "k", "grad_norm", "reward_mean"):
            assert math.isfinite(r[key])
        assert r["rollout"]["rollouts"] == 2 * cfg.G and 0 <= r["kept_theorems"] <= 2
    assert rows[1]["k"] == rows[0]["k_next"]             # the controller's k carries across steps
    assert (tmp_path / "run" / "step-00001" / "config.json").exists()
    trained, base = load_policy(final).model, load_policy(model_dir).model
    changed = any(not torch.equal(a, b) for a, b in zip(trained.parameters(), base.parameters()))
    assert changed == any(not r["skipped"] for r in rows)


def test_run_grpo_rejects_a_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_grpo(tmp_path / "nope", ScriptedEnv(), [theorem()], GRPOConfig(), tmp_path / "out")


def test_self_distillation_on_successful_traces(tmp_path):
    tok = char_tokenizer()
    late = Policy(micro_model(tok, seed=6), tok)
    env = ScriptedEnv(finish=REWARDED, step="ABCDEFGH")
    cfg = GRPOConfig(rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=2)
    wins = collect_successful([late, late], env, [theorem("a"), theorem("b")], 4, cfg)
    assert wins and all(t.verified and t.reward == 1.0 for t in wins)
    examples = distill_examples(wins)
    assert len(examples) == sum(len(t.turns) for t in wins)
    assert all(p.startswith("⊢ goal") and p.endswith(":::") and tac for p, tac in examples)
    from training.sft import SFTConfig

    clean = Policy(micro_model(tok, seed=7), tok)
    result = self_distill(clean, wins, tmp_path / "distilled", SFTConfig(epochs=1, warmup_steps=0))
    assert result.steps >= 1 and math.isfinite(result.final_loss)
    assert (tmp_path / "distilled" / "config.json").exists()
    with pytest.raises(ValueError):
        self_distill(clean, [], tmp_path / "empty")


def test_kl_to_reference_is_zero_for_an_identical_reference_and_required_when_enabled():
    import copy

    tok = char_tokenizer()
    policy = Policy(micro_model(tok, seed=8), tok)
    cfg = GRPOConfig(G=8, G_early=0, rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=1, lr=1e-2, kl_coef=0.5)
    trajs = asyncio.run(rollout_group(policy, ScriptedEnv(finish=REWARDED), theorem(), cfg.G, cfg,
                                      torch.Generator().manual_seed(1)))
    assert len({t.reward for t in trajs}) == 2
    trainer = make_trainer(policy.model, cfg)
    with pytest.raises(ValueError):
        grpo_step(trainer, trajs, cfg, make_controller(cfg))
    ref = copy.deepcopy(policy.model)
    first = grpo_step(trainer, trajs, cfg, make_controller(cfg), ref_model=ref)
    second = grpo_step(trainer, trajs, cfg, make_controller(cfg), ref_model=ref)
    assert first.kl == pytest.approx(0.0, abs=1e-9) and second.kl > 0.0
