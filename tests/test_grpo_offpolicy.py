"""Off-policy GRPO on a micro Llama and a scripted env: several optimiser steps per rollout batch
make the ratios depart from 1 (so k matters), the sampler's weights are synced through
`load_weights`, a bf16 sampler gives a real mismatch, the controller's k survives a resume, and
truncated IS weights the tokens."""
from __future__ import annotations

import asyncio
import copy
import json

import pytest
import torch

from grpo_fixtures import PRINTABLE, ScriptedEnv, char_tokenizer, micro_model, theorem
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from policy.checkpoint import save_checkpoint
from policy.hf import HFGenerator
from policy.params import SamplingParams
from training.grpo.batch import collate_turns, train_logprobs
from policy.factory import GeneratorConfig
from training.grpo.config import GRPOConfig
from training.grpo.engine import RolloutEngine
from training.grpo.loss import clipped_objective
from training.grpo.rollout import Policy, make_turn, rollout_batch, row_seed
from training.grpo.trainer import (grpo_batch, grpo_from_checkpoint, make_controller, make_trainer, run_grpo,
                                   saved_controller)

REWARDED = PRINTABLE[::2]


def cfg_for(dtype=None, **kw) -> GRPOConfig:
    base = dict(G=8, G_early=0, bounds=(0.0, 1.0), rollout=GeneratorConfig(dtype=dtype, sampling=SamplingParams(max_tokens=5)),
                max_turns=1, lr=3e-2, delta=0.0, micro_batch_size=16)
    return GRPOConfig(**{**base, **kw})


def rollouts(policy: Policy, cfg: GRPOConfig, names=("a", "b")):
    env = ScriptedEnv(finish=REWARDED)
    groups = asyncio.run(rollout_batch(policy, env, [(theorem(n), cfg.G, 0) for n in names], cfg,
                                       torch.Generator().manual_seed(0)))
    return [t for g in groups for t in g]


def train_copy(model, trajs, cfg):
    policy_model = copy.deepcopy(model)
    stats = grpo_batch(make_trainer(policy_model, cfg), trajs, cfg, make_controller(cfg))
    return policy_model, stats


def test_two_steps_per_batch_move_the_ratio_and_make_k_matter():
    tok = char_tokenizer()
    model = micro_model(tok, seed=4)
    one = cfg_for()
    trajs = rollouts(Policy(model, tok), one)
    assert {t.reward for t in trajs} == {0.0, 1.0}
    # one step per batch: the ratio is 1, so k cannot change anything (the measurement)
    a, sa = train_copy(model, trajs, cfg_for(k_init=0.01))
    b, sb = train_copy(model, trajs, cfg_for(k_init=1.0))
    assert len(sa) == 1 and sa[0].logp_diff_max < 1e-4 and sa[0].frac_clipped == 0.0
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    # two epochs: the second step sees ratios != 1, the clip acts, and k changes the update
    a, sa = train_copy(model, trajs, cfg_for(k_init=0.01, epochs=2))
    b, sb = train_copy(model, trajs, cfg_for(k_init=1.0, epochs=2))
    assert [s.epoch for s in sa] == [0, 1] and [s.step for s in sa] == [0, 0]   # step is set by the loop
    assert sa[1].logp_diff_max > 1e-2 and sa[1].frac_clipped > 0.0
    assert sb[1].frac_clipped < sa[1].frac_clipped
    assert sa[0].eps_max < 1e-4 and sa[1].eps_max == sa[0].eps_max   # mismatch is against pi_old, per batch
    assert any(not torch.allclose(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_mini_batches_split_the_batch_into_optimiser_steps():
    tok = char_tokenizer()
    model = micro_model(tok, seed=4)
    trajs = rollouts(Policy(model, tok), cfg_for())
    _, stats = train_copy(model, trajs, cfg_for(epochs=2, mini_batches=2))
    assert [(s.epoch, s.mini_batch) for s in stats] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    total = sum(t.num_tokens for t in trajs)
    assert stats[0].tokens + stats[1].tokens == total == stats[2].tokens + stats[3].tokens
    assert max(s.logp_diff_max for s in stats[1:]) > 1e-2


def sampler_logprobs(gen: HFGenerator, policy_model, tok, n: int = 6):
    """Sample n completions with `gen`; return (recorded log-probs, the fp32 trainer's on the same tokens)."""
    ids = [tok.bos_token_id] + tok("⊢ goal0:::", add_special_tokens=False)["input_ids"]
    samples = gen.sample_ids([ids] * n, [row_seed(7, f"x#{i}", 0) for i in range(n)])
    turns = [make_turn(gen, f"x#{i}", "p", ids, s) for i, s in enumerate(samples)]
    batch = collate_turns(turns, [0.0] * n, tok.pad_token_id, len(tok))
    with torch.no_grad():
        return batch.logp_infer, train_logprobs(policy_model, batch)


def test_weight_sync_makes_the_sampler_agree_with_the_trainer(tmp_path):
    tok = char_tokenizer()
    policy_model = micro_model(tok, seed=1)
    params = SamplingParams(max_tokens=6, top_p=0.9)
    gen = HFGenerator(micro_model(tok, seed=2), tok, params, max_prompt_tokens=64)
    before, train = sampler_logprobs(gen, policy_model, tok)
    assert (before - train).abs().max() > 1e-2            # different weights: the sampler disagrees
    gen.load_weights(policy_model.state_dict().items())
    after, train = sampler_logprobs(gen, policy_model, tok)
    assert torch.allclose(after, train, atol=1e-5, rtol=0)
    # a bf16 sampler synced from the fp32 trainer: close, but a real mismatch
    bf16 = HFGenerator(micro_model(tok, seed=2).to(torch.bfloat16), tok, params, max_prompt_tokens=64)
    bf16.load_weights(policy_model.state_dict().items())
    low, train = sampler_logprobs(bf16, policy_model, tok)
    eps = (low - train).abs()
    assert 0 < float(eps.max()) < 0.5
    # from a saved checkpoint, and a bad tensor changes nothing
    other = micro_model(tok, seed=3)
    save_checkpoint(other, tok, tmp_path / "ckpt")
    gen.load_checkpoint(tmp_path / "ckpt")
    assert all(torch.equal(x, y) for x, y in zip(gen.model.parameters(), other.parameters()))
    snapshot = [p.clone() for p in gen.model.parameters()]
    good = next(iter(policy_model.state_dict().items()))
    with pytest.raises(KeyError, match="no tensor named"):
        gen.load_weights([good, ("not.a.weight", torch.zeros(1))])
    with pytest.raises(ValueError, match="shape"):
        gen.load_weights([(good[0], torch.zeros(3))])
    assert all(torch.equal(x, y) for x, y in zip(gen.model.parameters(), snapshot))


def test_rollout_engine_syncs_a_bf16_copy_and_lags_when_asked():
    tok = char_tokenizer()
    policy = Policy(micro_model(tok, seed=1), tok)
    shared = RolloutEngine(policy, cfg_for())
    assert shared.sampler.model is policy.model
    engine = RolloutEngine(policy, cfg_for(dtype="bfloat16", policy_lag=1))
    assert engine.sampler.model is not policy.model and next(engine.sampler.model.parameters()).dtype == torch.bfloat16
    first = [p.detach().clone() for p in policy.model.parameters()]
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(0.5)
    engine.record(policy.model, 1)
    assert engine.sync(policy.model, 1) == 0       # one step of lag: still the initial weights
    assert all(torch.allclose(s.float(), f, atol=1e-2) for s, f in zip(engine.sampler.model.parameters(), first))
    engine.record(policy.model, 2)
    assert engine.sync(policy.model, 2) == 1
    assert all(torch.allclose(s.float(), p, atol=2e-2) for s, p in zip(engine.sampler.model.parameters(),
                                                                       policy.model.parameters()))


def test_bf16_sampler_run_reports_mismatch_and_k_survives_a_resume(tmp_path):
    tok = char_tokenizer()
    save_checkpoint(micro_model(tok, seed=5), tok, tmp_path / "base")
    env = ScriptedEnv(finish=REWARDED)
    theorems = [theorem("a"), theorem("b")]
    # the estimated entropy of the micro model is far above the target: k falls by delta per step
    cfg = cfg_for(steps=2, epochs=2, delta=0.05, k_init=0.5, target_entropy=0.01, dtype="bfloat16",
                  lr=1e-2, G_early=4, early_bounds=(0.0, 1.0))
    final = run_grpo(tmp_path / "base", env, theorems, cfg, tmp_path / "r1")
    rows = [json.loads(x) for x in (tmp_path / "r1" / "telemetry.jsonl").read_text().splitlines()]
    taken = [r for r in rows if not r["skipped"]]
    assert [r["step"] for r in rows] == list(range(len(rows))) and taken
    assert all(r["eps_max"] > 0 and r["eps_p99"] <= r["eps_max"] for r in taken)   # bf16 vs fp32: real eps
    assert rows[0]["rollout"]["early_bounds"] == [0, 4] and rows[0]["rollout"]["final_bounds"] == [0, 8]
    k_end = rows[-1]["k_next"]
    assert k_end == pytest.approx(0.5 - 0.05 * len(taken))
    assert saved_controller(final)["k"] == pytest.approx(k_end) and len(saved_controller(final)["history"]) == len(taken)
    # the next round (or a resume) continues from the checkpoint's k, not from k_init
    asyncio.run(grpo_from_checkpoint(final, env, theorems, cfg, tmp_path / "r2"))
    again = [json.loads(x) for x in (tmp_path / "r2" / "telemetry.jsonl").read_text().splitlines()]
    assert again[0]["k"] == pytest.approx(k_end)
    assert saved_controller(tmp_path / "base") is None


def test_truncated_is_weights_tokens_and_caps_them():
    lt = torch.tensor([-1.0, -1.0], requires_grad=True)
    old, adv, valid = torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]), torch.tensor([True, True])
    grads = []
    for w in (torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.5])):
        lt.grad = None
        clipped_objective(lt, old, adv, valid, 0.28, 0.2, 50.0, is_weight=w)[0].backward()
        grads.append(lt.grad.clone())
    assert torch.allclose(grads[1], grads[0] * torch.tensor([2.0, 0.5]))
    tok = char_tokenizer()
    model = micro_model(tok, seed=4)
    trajs = rollouts(Policy(model, tok), cfg_for())
    for t in trajs:   # pretend the sampler was far more confident on every other token: pi_old/pi_infer small or big
        for turn in t.turns:
            turn.infer_logprobs = [x + (3.0 if i % 2 else -3.0) for i, x in enumerate(turn.infer_logprobs)]
    _, plain = train_copy(model, trajs, cfg_for())
    _, tis = train_copy(model, trajs, cfg_for(tis_cap=2.0))
    assert plain[0].logp_diff_max > 2.9 and tis[0].logp_diff_max < 1e-4   # TIS: ratio against pi_old
    assert tis[0].frac_is_capped == pytest.approx(0.5, abs=0.1) and tis[0].eps_max > 2.9
    assert plain[0].frac_is_capped == 0.0 and plain[0].is_weight_mean == 1.0
    with pytest.raises(ValueError, match="tis_cap"):
        GRPOConfig(tis_cap=0.5)
    with pytest.raises(ValueError, match="top-p"):
        GRPOConfig(rollout=GeneratorConfig(kind="vllm", sampling=SamplingParams(top_p=0.9)))
