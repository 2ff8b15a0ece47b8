"""The GRPO objective: gradients per (sign of A, ratio region), token-level normalisation,
micro-batch invariance, padding safety, top-p replay and temperature-before-truncation."""
from __future__ import annotations

import math

import pytest
import torch

from grpo_fixtures import char_tokenizer, micro_model
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from training.grpo.batch import collate_turns, train_logprobs
from training.grpo.config import GRPOConfig
from training.grpo.loss import clipped_objective, group_advantages, k3_kl, replay_logprobs
from training.grpo.records import Turn
from policy.params import SamplingParams
from policy.sampling import sample, sampling_logprobs, topp_keep_mask
from training.grpo.trainer import GRPOObjective, Item, micro_batches

EPS_LOW, K, R_MAX = 0.2, 0.28, 50.0


def one_token(ratio: float, adv: float):
    """Loss and d loss / d logp_train for a single token with the given ratio and advantage."""
    lt = torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)
    li = (lt.detach() - math.log(ratio))
    loss, stats = clipped_objective(lt, li, torch.tensor([adv], dtype=torch.float64), torch.tensor([True]),
                                    K, EPS_LOW, R_MAX)
    loss.backward()
    return float(loss.detach()), float(lt.grad), stats


# (A, r, region): hand-derived value of J and dJ/dlogp (loss = -J)
@pytest.mark.parametrize("adv,ratio,expect_value,expect_grad,clipped,capped", [
    (2.0, 1.1, 1.1 * 2.0, 1.1 * 2.0, 0, 0),                 # A>0 inside the trust region: d(rA)=rA
    (2.0, 0.5, 0.5 * 2.0, 0.5 * 2.0, 0, 0),                 # A>0, r<1-eps: unclipped branch, free
    (2.0, 2.0, (1 + K) * 2.0, 0.0, 1, 0),                   # A>0, r>1+k: clipped, no gradient
    (-1.5, 0.9, 0.9 * -1.5, 0.9 * -1.5, 0, 0),              # A<0 inside
    (-1.5, 0.5, (1 - EPS_LOW) * -1.5, 0.0, 1, 0),           # A<0, r<1-eps: clipped
    (-1.5, 3.0, 3.0 * -1.5, 3.0 * -1.5, 0, 0),              # A<0, r>1+k: unclipped branch, free
    (-1.5, 60.0, R_MAX * -1.5, 0.0, 0, 1),                  # A<0, r>r_max: dual clip constant
    (2.0, 60.0, (1 + K) * 2.0, 0.0, 1, 0),                  # A>0 beyond r_max: just clipped
])
def test_gradient_per_region(adv, ratio, expect_value, expect_grad, clipped, capped):
    value, grad, stats = one_token(ratio, adv)
    assert value == pytest.approx(-expect_value, rel=1e-9)
    assert grad == pytest.approx(-expect_grad, rel=1e-9, abs=1e-12)
    assert (stats.clipped, stats.capped) == (clipped, capped)


def test_huge_ratio_stays_finite():
    for adv in (-1.0, 1.0):
        lt = torch.tensor([0.0], requires_grad=True)
        loss, _ = clipped_objective(lt, torch.tensor([-1000.0]), torch.tensor([adv]), torch.tensor([True]),
                                    K, EPS_LOW, R_MAX)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(lt.grad).all() and float(lt.grad) == 0.0


def test_every_token_weighs_the_same_across_lengths():
    # two sequences of 2 and 6 tokens, same advantage, ratio 1: every token's gradient is -A
    # (the trainer divides the sum by the step's 8 tokens: -A/8 each, whatever the lengths)
    valid = torch.zeros(2, 6, dtype=torch.bool)
    valid[0, :2] = True
    valid[1, :] = True
    lt = torch.full((2, 6), -0.7, requires_grad=True)
    adv = torch.full((2, 6), 1.3)
    loss, stats = clipped_objective(lt, lt.detach().clone(), adv, valid, K, EPS_LOW, R_MAX)
    (loss / stats.tokens).backward()
    assert stats.tokens == 8
    grads = lt.grad[valid]
    assert torch.allclose(grads, torch.full_like(grads, -1.3 / 8))
    assert (lt.grad[~valid] == 0).all()


def _random_case(seed: int, shape=(4, 7)):
    g = torch.Generator().manual_seed(seed)
    valid = torch.rand(shape, generator=g) > 0.3
    lt = -torch.rand(shape, generator=g, dtype=torch.float64) * 3
    li = lt + (torch.rand(shape, generator=g, dtype=torch.float64) - 0.5)
    adv = torch.randn(shape[0], 1, generator=g, dtype=torch.float64).expand(shape).clone()
    return lt, li, adv, valid


def test_micro_batches_accumulate_to_the_full_gradient():
    lt, li, adv, valid = _random_case(0)
    total = int(valid.sum())
    full = lt.clone().requires_grad_(True)
    (clipped_objective(full, li, adv, valid, K, EPS_LOW, R_MAX)[0] / total).backward()
    split = lt.clone().requires_grad_(True)
    for rows in (slice(0, 1), slice(1, 3), slice(3, 4)):
        (clipped_objective(split[rows], li[rows], adv[rows], valid[rows], K, EPS_LOW, R_MAX)[0] / total).backward()
    assert torch.allclose(full.grad, split.grad, atol=1e-12)
    assert full.grad.abs().sum() > 0


@pytest.mark.parametrize("poison", [float("-inf"), float("nan"), float("inf")])
def test_padding_with_poison_changes_nothing(poison):
    lt, li, adv, valid = _random_case(1)
    clean = lt.clone().requires_grad_(True)
    loss_clean, _ = clipped_objective(clean, li, adv, valid, K, EPS_LOW, R_MAX)
    loss_clean.backward()
    dirty_lt = torch.where(valid, lt, torch.full_like(lt, poison)).requires_grad_(True)
    dirty_li = torch.where(valid, li, torch.full_like(li, poison))
    dirty_adv = torch.where(valid, adv, torch.full_like(adv, poison))
    loss_dirty, _ = clipped_objective(dirty_lt, dirty_li, dirty_adv, valid, K, EPS_LOW, R_MAX)
    loss_dirty.backward()
    assert torch.isfinite(loss_dirty) and torch.isfinite(dirty_lt.grad).all()
    assert float(loss_dirty.detach()) == pytest.approx(float(loss_clean.detach()), rel=1e-12)
    assert torch.equal(dirty_lt.grad, clean.grad)


def test_bad_arguments_are_rejected():
    t = torch.zeros(3)
    with pytest.raises(ValueError):
        clipped_objective(t, t[:2], t, torch.ones(3, dtype=torch.bool), K, EPS_LOW, R_MAX)


def test_group_advantages():
    rewards = [1.0, 0.0, 0.0, 1.0, 1.0]
    a = group_advantages(rewards)
    assert sum(a) == pytest.approx(0.0, abs=1e-12)
    assert math.sqrt(sum(x * x for x in a) / len(a)) == pytest.approx(1.0, rel=1e-5)
    assert all((x > 0) == (r == 1.0) for x, r in zip(a, rewards))
    assert group_advantages(rewards, normalise_std=False) == pytest.approx([0.4, -0.6, -0.6, 0.4, 0.4])
    assert group_advantages([1.0, 1.0]) == [0.0, 0.0]


def test_temperature_is_applied_before_truncation():
    logits = torch.tensor([2.0, 1.0, 0.0])
    # tempered at 0.5 -> probs (0.867, 0.117, 0.016): the top token alone reaches 0.8
    assert topp_keep_mask(logits, 0.5, 0.8).tolist() == [True, False, False]
    # truncating the untempered probs (0.665, 0.245, 0.090) first would keep two tokens
    untempered_first = topp_keep_mask(logits, 1.0, 0.8)
    assert untempered_first.tolist() == [True, True, False]
    lp, keep = sampling_logprobs(logits, 0.5, 0.8), topp_keep_mask(logits, 0.5, 0.8)
    assert float(lp[0]) == 0.0 and torch.isinf(lp[1:]).all()
    replay = replay_logprobs(logits[None], torch.tensor([0]), keep[None], 0.5)
    assert float(replay) == 0.0


def test_replay_keeps_the_sampled_token_even_if_the_record_excludes_it():
    logits = torch.tensor([[3.0, 0.0, -1.0]], requires_grad=True)
    keep = torch.tensor([[True, False, False]])
    lp = replay_logprobs(logits, torch.tensor([1]), keep, 1.0)
    lp.backward()
    assert torch.isfinite(lp).all() and torch.isfinite(logits.grad).all()
    # kept set becomes {0, 1}: log(e^0 / (e^3 + e^0))
    assert float(lp.detach()) == pytest.approx(-3.0 - math.log1p(math.exp(-3.0)), rel=1e-6)


@pytest.fixture(scope="module")
def tiny():
    tok = char_tokenizer()
    return tok, micro_model(tok, seed=3)


@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.7, 0.9), (1.3, 0.6)])
def test_replay_reproduces_the_sampler_ratio_one(tiny, temperature, top_p):
    tok, model = tiny
    g = torch.Generator().manual_seed(11)
    turns = []
    for prompt in ("⊢ a + b = b + a:::", "⊢ 2 ≤ 3:::"):
        ids = tok(prompt, add_special_tokens=False)["input_ids"]
        ids = [tok.bos_token_id] + ids
        s = sample(model, [ids], 1, SamplingParams(temperature, top_p, 12), tok.eos_token_id, tok.pad_token_id,
                   generator=g, record_kept=True)[0][0]
        turns.append(Turn("x#0", prompt, "", ids, s.token_ids, s.token_logprobs, s.kept_ids, temperature))
        for tok_id, kept in zip(s.token_ids, s.kept_ids):
            assert (kept is None) == (top_p >= 1.0)
            assert kept is None or tok_id in kept
    batch = collate_turns(turns, [1.0, -1.0], tok.pad_token_id, len(tok))
    with torch.no_grad():
        lp = train_logprobs(model, batch)
    assert lp.shape == batch.logp_infer.shape
    assert torch.allclose(lp, batch.logp_infer, atol=1e-5, rtol=0)
    ratio = torch.exp(lp - batch.logp_infer)
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5)
    if top_p < 1.0 and any(len(k) < len(tok) for t in turns for k in t.kept_ids):
        # the mask must really be used: without it the trainer sees a different distribution
        batch.keep = None
        with torch.no_grad():
            unmasked = train_logprobs(model, batch)
        assert not torch.allclose(unmasked, batch.logp_infer, atol=1e-4)


def test_k3_kl():
    lt = torch.tensor([-1.0, -2.0], requires_grad=True)
    valid = torch.tensor([True, True])
    assert float(k3_kl(lt, lt.detach(), valid).detach()) == 0.0
    kl = k3_kl(lt, torch.tensor([-1.5, -2.0]), valid)
    x = -0.5
    assert float(kl.detach()) == pytest.approx(math.exp(x) - x - 1, rel=1e-6)
    kl.backward()
    assert float(lt.grad[0]) == pytest.approx(-(math.exp(x) - 1), rel=1e-6)  # d/dlt of e^x - x - 1, x = lr - lt


def test_micro_batch_split_on_a_model_gives_the_same_gradient(tiny):
    tok, model = tiny
    g = torch.Generator().manual_seed(5)
    items = []
    for i, prompt in enumerate(["⊢ p:::", "⊢ a long goal state here:::", "⊢ q ∧ r:::"]):
        ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
        s = sample(model, [ids], 1, SamplingParams(1.0, 0.95, 5 + 4 * i), tok.eos_token_id, tok.pad_token_id,
                   generator=g, record_kept=True)[0][0]
        # shift the recorded log-probs so ratios span every region
        infer = [x + d for x, d in zip(s.token_logprobs, [0.0, 0.5, -0.5, 4.5, -4.5] * 10)]
        items.append(Item(Turn(f"x#{i}", prompt, "", ids, s.token_ids, infer, s.kept_ids, 1.0), [1.0, -0.7, 0.4][i]))

    objective = GRPOObjective(GRPOConfig(), k=0.28)
    total = objective.weight(items)

    def grads(mb: int) -> list[torch.Tensor]:
        # what the shared trainer does with one window: each micro-batch's sum / the step's tokens
        model.zero_grad(set_to_none=True)
        for chunk in micro_batches(items, mb):
            (objective.loss(model, chunk)[0] / total).backward()
        return [p.grad.clone() for p in model.parameters()]

    whole, one_by_one = grads(8), grads(1)
    model.zero_grad(set_to_none=True)
    assert any(w.abs().sum() > 0 for w in whole)
    for a, b in zip(whole, one_by_one):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)
