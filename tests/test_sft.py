"""Expert-iteration SFT: tactic-only loss, packing, gradient accumulation, training and saving."""
from __future__ import annotations

import json

import pytest
import torch

from policy.base import PromptFormat
from training.batching import (IGNORE, collate_packed, collate_padded, forward_logits, label_logprobs,
                               segment_sums, tokenize_pair, tokenize_pairs)
from training.scoring import tactic_logprobs
from training.sft import SFTConfig, SFTObjective, token_nll, train_sft
from training_fixtures import micro_llama, model, tok, toy_pairs  # noqa: F401  (fixtures)

PROMPT = PromptFormat()


def examples() -> list[tuple[str, str]]:
    return [(PROMPT.prompt(s), t) for s, t in toy_pairs()]


def test_loss_covers_tactic_tokens_only(model, tok):
    prompt, tactic = examples()[0]
    seq = tokenize_pair(tok, prompt, tactic, max_len=512)
    n_prompt = len(tok(prompt, add_special_tokens=False)["input_ids"]) + 1          # + BOS
    assert seq.labels[:n_prompt] == [IGNORE] * n_prompt and IGNORE not in seq.labels[n_prompt:]
    batch = collate_padded([seq], tok.pad_token_id)
    (score, _), = tactic_logprobs(model, tok, [prompt], [tactic])
    with torch.no_grad():
        assert float(token_nll(model, batch)) == pytest.approx(-score, abs=1e-4)
    # no gradient reaches the logits that predict prompt tokens
    logits = forward_logits(model, batch).detach().requires_grad_(True)
    logp, _ = label_logprobs(logits, batch["labels"])
    (-logp.sum()).backward()
    assert logits.grad[0, : n_prompt - 1].abs().max() == 0
    assert logits.grad[0, n_prompt - 1:].abs().max() > 0


def test_packed_rows_do_not_attend_across_examples(model, tok):
    seqs = tokenize_pairs(tok, examples(), max_len=512)
    batch = collate_packed([seqs[:3], seqs[3:]], row_len=sum(len(s) for s in seqs[:3]) + 5, pad_id=tok.pad_token_id)
    with torch.no_grad():
        logp, _ = label_logprobs(forward_logits(model, batch), batch["labels"])
    packed = [float(x) for x in segment_sums(logp, batch)]
    separate = [lp for lp, _ in tactic_logprobs(model, tok, [p for p, _ in examples()], [t for _, t in examples()])]
    assert packed == pytest.approx(separate, abs=1e-4)


def test_grad_accumulation_matches_one_big_batch(tok):
    """The shared loop: a window of two micro-batches is the same optimiser step as one batch
    holding both (same loss, same gradient norm before clipping), and it is applied."""
    from training.trainer import Trainer, TrainerConfig

    seqs = tokenize_pairs(tok, examples(), max_len=512)
    small = [collate_padded(seqs[:2], tok.pad_token_id), collate_padded(seqs[2:], tok.pad_token_id)]
    big = [collate_padded(seqs, tok.pad_token_id)]

    def one_step(window):
        m = micro_llama(tok, seed=3)
        trainer = Trainer(m, TrainerConfig(lr=1e-2, warmup_steps=0, clip=0.0), total_steps=1)
        return trainer.step(window, SFTObjective()), torch.cat([p.detach().flatten() for p in m.parameters()])

    (sa, pa), (sb, pb) = one_step(small), one_step(big)
    assert sa.weight == sb.weight and sa.loss == pytest.approx(sb.loss, rel=1e-5)
    assert sa.grad_norm == pytest.approx(sb.grad_norm, rel=1e-4) and sa.grad_norm > 0
    assert not torch.equal(pa, torch.cat([p.detach().flatten() for p in micro_llama(tok, seed=3).parameters()]))


def test_a_step_with_a_non_finite_gradient_is_not_applied(tok):
    from training.trainer import Trainer, TrainerConfig

    class Poisoned(SFTObjective):
        def loss(self, model, batch):
            loss, n = super().loss(model, batch)
            return loss * float("nan"), n

    m = micro_llama(tok, seed=3)
    before = [p.detach().clone() for p in m.parameters()]
    batch = collate_padded(tokenize_pairs(tok, examples(), max_len=512), tok.pad_token_id)
    trainer = Trainer(m, TrainerConfig(lr=1e-2, warmup_steps=0), total_steps=2)
    assert trainer.step([batch], Poisoned()).skipped
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))
    assert not trainer.step([batch], SFTObjective()).skipped          # the next good step still trains
    assert any(not torch.equal(a, b) for a, b in zip(before, m.parameters()))


@pytest.mark.parametrize("packing", [False, True])
def test_sft_learns_and_saves_a_reloadable_model(tok, tmp_path, packing):
    from policy.checkpoint import load_checkpoint

    m = micro_llama(tok)
    ex = examples()
    before = tactic_logprobs(m, tok, [p for p, _ in ex], [t for _, t in ex])
    cfg = SFTConfig(lr=2e-2, max_steps=15, batch_tokens=256, warmup_steps=3, max_len=128, packing=packing)
    res = train_sft(m, tok, ex, cfg, tmp_path / "ckpt")
    after = tactic_logprobs(m, tok, [p for p, _ in ex], [t for _, t in ex])
    assert res.steps == 15 and len(res.losses) == 15 and res.tokens > 0
    assert res.final_loss < res.losses[0] - 1.0
    assert all(a > b for (a, _), (b, _) in zip(after, before))       # every trained tactic got likelier

    state = json.loads((tmp_path / "ckpt" / "checkpoint.json").read_text())
    assert state["steps"] == 15 and state["losses"] == pytest.approx(res.losses)
    m2, tok2, _ = load_checkpoint(tmp_path / "ckpt")
    ids = torch.tensor([tok2(ex[0][0] + ex[0][1])["input_ids"]])
    assert ids.tolist() == [tok(ex[0][0] + ex[0][1])["input_ids"]]
    with torch.no_grad():
        assert torch.equal(m2(input_ids=ids).logits, m(input_ids=ids).logits)


def test_sft_is_seeded_and_accepts_a_path(tok, tmp_path):
    from policy.checkpoint import save_checkpoint

    save_checkpoint(micro_llama(tok), tok, tmp_path / "base")
    cfg = SFTConfig(lr=5e-3, max_steps=4, batch_tokens=128, warmup_steps=1, max_len=128, seed=7)
    a = train_sft(str(tmp_path / "base"), None, examples(), cfg)
    b = train_sft(tmp_path / "base", None, examples(), cfg)
    assert a.losses == b.losses


def test_sft_bad_input_is_a_clear_error(model, tok):
    with pytest.raises(ValueError, match="no training examples"):
        train_sft(model, tok, [], SFTConfig())
    with pytest.raises(ValueError, match="no training examples"):
        train_sft(model, tok, [("p", "x" * 50)], SFTConfig(max_len=10))
    with pytest.raises(ValueError, match="schedule"):
        train_sft(model, tok, examples(), SFTConfig(schedule="step"))
    with pytest.raises(TypeError):
        train_sft(model, tok, [("p", None)], SFTConfig())
    with pytest.raises(FileNotFoundError):
        train_sft("/nonexistent/model", None, examples(), SFTConfig())


@pytest.mark.gpu
def test_sft_on_gpu_with_bf16_autocast(tok):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (bf16 autocast path)")
    m = micro_llama(tok)
    ex = examples()
    res = train_sft(m, tok, ex, SFTConfig(lr=2e-2, max_steps=15, batch_tokens=256, warmup_steps=3, max_len=128))
    assert next(m.parameters()).is_cuda and res.final_loss < res.losses[0]
    scores = tactic_logprobs(m, tok, [p for p, _ in ex], [t for _, t in ex])
    assert all(lp < 0 for lp, _ in scores)
