"""The decoding settings presets need, on a real vLLM engine (the CPU build here): raw log-probs
(BFS-Prover, InternLM StepProver score with the model's own, not the tempered ones) and beam search
(InternLM StepProver). One engine for the module (start-up 60-90 s on this machine)."""
from __future__ import annotations

import os
from dataclasses import replace

import pytest

from policy.base import PromptFormat
from policy.checkpoint import save_checkpoint
from policy.params import SamplingParams
from policy.tokens import encode_prompt
from test_vllm import eos_leaning, hf_logprobs
from training_fixtures import char_tokenizer

pytestmark = [pytest.mark.vllm]

STATE = "a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from policy.vllm_gen import VLLMGenerator

    tok = char_tokenizer()
    path = save_checkpoint(eos_leaning(tok, 0), tok, tmp_path_factory.mktemp("presets-vllm") / "m")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    gen = VLLMGenerator(str(path), SamplingParams(temperature=1.3, max_tokens=16, stop=(), logprobs="raw"),
                        prompt=PromptFormat("{state}:::"), dtype="float32", max_model_len=256, enforce_eager=True)
    yield gen, path
    gen.close()


def test_raw_logprobs_score_sampled_tactics_with_the_models_own_distribution(engine):
    gen, path = engine
    assert not gen.logprobs_are_processed
    cands = gen.generate([STATE], 8)[0]
    assert cands and sum(len(c.token_ids) for c in cands)
    prompt = gen.encode(STATE)
    for c in cands:
        assert c.logprob == pytest.approx(sum(hf_logprobs(path, prompt + list(c.token_ids))[len(prompt) - 1:]), abs=2e-3)


def test_vllm_beam_search_gives_n_beams_scored_by_their_raw_logprobs(engine):
    gen, path = engine
    gen.params = replace(gen.params, temperature=0.0, beam=True, length_penalty=0.0)
    before = sum(gen.dropped.values())
    beams = gen.generate([STATE, "⊢ True"], 4)
    assert len(beams) == 2
    for group in beams:
        assert len(group) <= 4
        for c in group:
            assert c.token_ids[-1] == gen.tokenizer.eos_token_id
            prompt = encode_prompt(gen.tokenizer, gen.prompt.prompt(STATE if group is beams[0] else "⊢ True"))
            want = sum(hf_logprobs(path, prompt + list(c.token_ids))[len(prompt) - 1:])
            assert c.logprob == pytest.approx(want, abs=2e-3)
    # the beams come back best first (length_penalty 0: by the summed log-prob)
    assert [c.logprob for c in beams[0]] == sorted((c.logprob for c in beams[0]), reverse=True)
    assert sum(len(g) for g in beams) + sum(gen.dropped.values()) - before == 8
