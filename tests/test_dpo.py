"""DPO on (state, proof tactic, erroring sibling) triples."""
from __future__ import annotations

import pytest

from policy.base import PromptFormat
from training.dpo import DPOConfig, prepare_triples, train_dpo, triples_from_store
from training.scoring import tactic_logprobs
from training_fixtures import micro_llama, model, tok, toy_pairs  # noqa: F401  (fixtures)

PROMPT = PromptFormat()


def triples() -> list[tuple[str, str, str]]:
    errors = [{"state": s, "chosen": t, "rejected": t[::-1] + " foo"} for s, t in toy_pairs()]
    return triples_from_store(errors, PROMPT)


def margins(model, tok, ex) -> list[float]:
    c = tactic_logprobs(model, tok, [p for p, _, _ in ex], [x for _, x, _ in ex])
    r = tactic_logprobs(model, tok, [p for p, _, _ in ex], [x for _, _, x in ex])
    return [a - b for (a, _), (b, _) in zip(c, r)]


def test_reference_logprobs_are_the_start_model(model, tok):
    ex = triples()
    prepared = prepare_triples(model, tok, ex, max_len=512)
    chosen = tactic_logprobs(model, tok, [p for p, _, _ in ex], [c for _, c, _ in ex])
    assert [t.ref_chosen for t in prepared] == pytest.approx([lp for lp, _ in chosen])


def test_dpo_raises_the_chosen_minus_rejected_margin(tok, tmp_path):
    m = micro_llama(tok)
    ex = triples()
    before = margins(m, tok, ex)
    res = train_dpo(m, tok, ex, DPOConfig(lr=5e-3, beta=0.5, max_steps=12, batch_pairs=3, grad_accum=2,
                                          warmup_steps=2), tmp_path / "dpo")
    after = margins(m, tok, ex)
    assert res.steps == 12 and res.pairs == len(ex)
    assert sum(after) / len(after) > sum(before) / len(before) + 1.0
    assert res.margins[-1] > res.margins[0] and res.losses[-1] < res.losses[0]
    assert (tmp_path / "dpo" / "model.safetensors").exists()


def test_dpo_bad_input(model, tok):
    with pytest.raises(ValueError, match="no usable"):
        train_dpo(model, tok, [("p", "same", "same")], DPOConfig())
    with pytest.raises(ValueError, match="prompt, chosen, rejected"):
        train_dpo(model, tok, [("p", "only two")], DPOConfig())
    with pytest.raises(ValueError, match="validation error for DPOConfig"):
        train_dpo(model, tok, triples(), DPOConfig(beta=0))
