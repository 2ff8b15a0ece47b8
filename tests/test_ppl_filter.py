"""Tactic scoring, the perplexity filter and the entropy probe on a micro Llama."""
from __future__ import annotations

import math
import random

import pytest
import torch

from policy.base import PromptFormat
from policy.tokens import encode_prompt, encode_tactic
from training.entropy import policy_entropy
from training.ppl_filter import FilterConfig, cap_pairs, filter_pairs
from training.store import Pair
from training.scoring import perplexity, tactic_logprobs
from training_fixtures import micro_llama, model, tok, toy_pairs  # noqa: F401  (fixtures)

PROMPT = PromptFormat()


def direct_logprob(model, tok, prompt: str, tactic: str) -> tuple[float, int]:
    """One unbatched forward pass, scored by hand: the reference the batched scorer must match."""
    p, t = encode_prompt(tok, prompt), encode_tactic(tok, tactic)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([p + t])).logits[0]
    logp = torch.log_softmax(logits.float(), -1)
    return sum(float(logp[len(p) - 1 + k, t[k]]) for k in range(len(t))), len(t)


def test_scores_equal_direct_forward_pass_and_ignore_batching(model, tok):
    prompts = [PROMPT.prompt(s) for s, _ in toy_pairs()]
    tactics = [t for _, t in toy_pairs()]
    direct = [direct_logprob(model, tok, p, t) for p, t in zip(prompts, tactics)]
    batched = tactic_logprobs(model, tok, prompts, tactics, batch_tokens=10_000)
    one_by_one = tactic_logprobs(model, tok, prompts, tactics, batch_tokens=1)
    for (a, n), (b, m), (c, k) in zip(direct, batched, one_by_one):
        assert n == m == k
        assert a == pytest.approx(b, abs=1e-4) and a == pytest.approx(c, abs=1e-4)
    # shuffling the input shuffles the output the same way
    order = list(range(len(prompts)))
    random.Random(1).shuffle(order)
    shuffled = tactic_logprobs(model, tok, [prompts[i] for i in order], [tactics[i] for i in order], batch_tokens=200)
    for j, i in enumerate(order):
        assert shuffled[j][0] == pytest.approx(batched[i][0], abs=1e-4)
    assert perplexity(-2.0, 2) == pytest.approx(math.e)


def many_pairs(n: int) -> list[Pair]:
    base = toy_pairs()
    return [Pair(state=f"{base[i % len(base)][0]}\nh{i} : {i} = {i}", tactic=base[i % len(base)][1] + " " * (i % 3),
                 theorem_id=f"t{i}") for i in range(n)]


@pytest.mark.parametrize("low_q,high_q", [(0.1, 0.05), (0.0, 0.2), (0.25, 0.0)])
def test_filter_drops_exact_quantiles(model, tok, tmp_path, low_q, high_q):
    pairs = many_pairs(40)
    kept, kept_ppl, report = filter_pairs(model, tok, pairs, PROMPT, low_q, high_q, tmp_path / "ppl.png")
    assert report.dropped_low == round(40 * low_q) and report.dropped_high == round(40 * high_q)
    assert report.kept == len(kept) == 40 - report.dropped_low - report.dropped_high
    assert (tmp_path / "ppl.png").stat().st_size > 1000
    easy = [d for d in report.dropped if d["reason"].startswith("too easy")]
    noisy = [d for d in report.dropped if d["reason"].startswith("noisy")]
    assert len(easy) == report.dropped_low and len(noisy) == report.dropped_high
    if easy:
        assert max(d["ppl"] for d in easy) <= report.low_cut <= min(kept_ppl)
    if noisy:
        assert min(d["ppl"] for d in noisy) >= report.high_cut >= max(kept_ppl)
    assert len(kept_ppl) == len(kept) and all(k in pairs for k in kept)   # the pairs themselves, whole


def test_default_filter_drops_both_tails_and_lists_the_extremes_first(model, tok):
    cfg = FilterConfig()
    assert cfg.low_quantile > 0 and cfg.high_quantile > 0
    kept, _, report = filter_pairs(model, tok, many_pairs(60), PROMPT, cfg.low_quantile, cfg.high_quantile)
    assert report.dropped_low == round(60 * cfg.low_quantile) > 0 and report.dropped_high == round(60 * cfg.high_quantile) > 0
    easy = [d["ppl"] for d in report.dropped if d["reason"].startswith("too easy")]
    noisy = [d["ppl"] for d in report.dropped if d["reason"].startswith("noisy")]
    # the report shows what each tail looks like: the easiest dropped first, then the noisiest
    assert easy == sorted(easy) and noisy == sorted(noisy, reverse=True)
    assert report.dropped[0]["ppl"] == min(easy) and report.dropped[len(easy)]["ppl"] == max(noisy)


def test_pair_caps_hold_and_prefer_the_newest_rounds():
    pairs = [Pair(theorem_id=f"t{i % 3}", state=f"s{i % 5}", tactic=f"tac{i}", round=i // 6) for i in range(30)]
    capped = cap_pairs(pairs, per_theorem=4, per_state=2)
    per_t, per_s = {}, {}
    for p in capped:
        per_t[p.theorem_id] = per_t.get(p.theorem_id, 0) + 1
        per_s[p.state] = per_s.get(p.state, 0) + 1
    assert max(per_t.values()) <= 4 and max(per_s.values()) <= 2
    assert len(capped) == 10                                  # 5 states x 2: the state cap binds here
    assert min(p.round for p in capped) >= 3               # the newest rounds were kept
    assert capped == [p for p in pairs if p in capped]        # input order kept
    assert cap_pairs(pairs, None, None) == pairs
    assert len(cap_pairs(pairs, per_theorem=1, per_state=None)) == 3
    with pytest.raises(ValueError, match="theorem_id"):
        cap_pairs([Pair(state="s", tactic="t")], per_theorem=1, per_state=None)
    with pytest.raises(ValueError, match="max_pairs_per_state"):
        FilterConfig(max_pairs_per_state=0)


def test_filter_rejects_bad_input(model, tok):
    with pytest.raises(ValueError):
        filter_pairs(model, tok, many_pairs(4), PROMPT, 0.6, 0.5)
    with pytest.raises(TypeError):
        Pair(state="s")                                             # a pair without a tactic is not a pair
    kept, _, report = filter_pairs(model, tok, many_pairs(5), PROMPT)      # no tails: keep all
    assert report.kept == 5 and report.low_cut is None and report.high_cut is None


def test_entropy_of_uniform_model_is_log_vocab(tok):
    m = micro_llama(tok)
    with torch.no_grad():
        m.lm_head.weight.zero_()          # all logits 0: the uniform distribution everywhere
    prompts = [PROMPT.prompt(s) for s, _ in toy_pairs()]
    tactics = [t for _, t in toy_pairs()]
    assert policy_entropy(m, tok, prompts, tactics) == pytest.approx(math.log(m.config.vocab_size), rel=1e-5)
    trained = micro_llama(tok)
    with torch.no_grad():
        trained.lm_head.weight.mul_(50.0)   # sharper distributions: lower entropy
    assert policy_entropy(trained, tok, prompts, tactics) < math.log(m.config.vocab_size) - 0.1
