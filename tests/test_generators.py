"""Tactic generators: the HF sampler's log-probs, determinism, the OpenAI-compatible HTTP client, vLLM."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import torch

from search.generators.base import PromptFormat
from search.generators.hf import HFGenerator
from search.generators.openai_http import GeneratorServerError, OpenAICompletionsGenerator
from search.generators.sampling import sampling_logprobs
from search.generators.tiny import create_model, num_parameters, train_tokenizer
from search.generators.tokens import encode_prompt

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
    gen = HFGenerator(model, tok, max_new_tokens=12, seed=1, prompt=PromptFormat(stop=""))
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
    gen = HFGenerator(model, tok, max_new_tokens=10, seed=4, temperature=temperature, top_p=top_p,
                      prompt=PromptFormat(stop=""), max_batch_sequences=5)   # chunks of one state
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
    from search.generators.sampling import sample

    model, tok = tiny
    prompts = [encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES]
    assert len({len(p) for p in prompts}) > 1   # mixed lengths, so left padding is exercised
    got = sample(model, prompts, 2, tok.eos_token_id, tok.pad_token_id, temperature=0, max_new_tokens=5)
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
    gen = HFGenerator(model, tok, max_new_tokens=4, max_prompt_tokens=8)
    full = encode_prompt(tok, PromptFormat().prompt(STATES[0]))
    assert len(full) > 8
    ids = gen.encode(STATES[0])
    assert len(ids) == 8 and ids[0] == tok.bos_token_id and ids[1:] == full[-7:]
    assert gen.truncated_prompts == 1
    assert len(gen.generate([STATES[0] * 5], 2)) == 1
    with pytest.raises(ValueError, match="context"):
        HFGenerator(model, tok, max_new_tokens=48, max_prompt_tokens=1000)


def test_bad_requests_fail_clearly(tiny):
    model, tok = tiny
    gen = HFGenerator(model, tok, max_new_tokens=4)
    assert gen.generate([], 3) == []
    with pytest.raises(ValueError, match="n "):
        gen.generate(STATES, 0)
    with pytest.raises(TypeError, match="not one string"):
        gen.generate("⊢ True", 1)
    with pytest.raises(TypeError, match="goal state 1"):
        gen.generate(["⊢ True", None], 1)
    for bad in (dict(temperature=-1.0), dict(top_p=0.0), dict(top_p=1.5), dict(max_new_tokens=0)):
        with pytest.raises(ValueError):
            HFGenerator(model, tok, **bad)


def test_unfinished_samples_are_still_scored_correctly(tiny):
    from search.generators.sampling import sample

    model, tok = tiny
    prompts = [encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES]
    out = sample(model, prompts, 2, tok.eos_token_id, tok.pad_token_id, 1.0, 1.0, 6, torch.Generator().manual_seed(0))
    for state, group in zip(STATES, out):
        for s in group:
            assert sum(s.token_logprobs) == pytest.approx(direct_logprob(model, tok, state, s.token_ids), abs=1e-4)


def test_sampling_is_deterministic_with_a_seed_and_greedy_is_argmax(tiny):
    model, tok = tiny
    a = HFGenerator(model, tok, max_new_tokens=8, seed=3).generate(STATES, 3)
    b = HFGenerator(model, tok, max_new_tokens=8, seed=3).generate(STATES, 3)
    assert [[c.token_ids for c in g] for g in a] == [[c.token_ids for c in g] for g in b]
    from search.generators.sampling import sample

    prompt = encode_prompt(tok, PromptFormat().prompt(STATES[0]))
    greedy = sample(model, [prompt], 1, tok.eos_token_id, tok.pad_token_id, temperature=0, max_new_tokens=1)[0][0]
    with torch.no_grad():
        expected = int(model(torch.tensor([prompt])).logits[0, -1].argmax())
    assert greedy.token_ids[0] == expected


def test_samples_do_not_depend_on_batch_mates_and_repeat_requests_differ(tiny):
    model, tok = tiny

    from search.generators.sampling import sample

    def raw(states):
        gen = HFGenerator(model, tok, max_new_tokens=6, seed=5)
        seeds = [r for st in states for r in gen._row_seeds(st, 4)]
        groups = sample(model, [gen.encode(st) for st in states], 4, tok.eos_token_id, tok.pad_token_id,
                        max_new_tokens=6, row_seeds=seeds)
        return [[x.token_ids for x in g] for g in groups]

    assert raw(STATES[:1])[0] == raw([STATES[2], STATES[0], STATES[1]])[1]   # other batch mates: same samples
    gen = HFGenerator(model, tok, max_new_tokens=6, seed=5)

    prompt = gen.encode(STATES[0])
    first = [s.token_ids for s in sample(model, [prompt], 4, tok.eos_token_id, tok.pad_token_id, max_new_tokens=6,
                                         row_seeds=gen._row_seeds(STATES[0], 4))[0]]
    again = [s.token_ids for s in sample(model, [prompt], 4, tok.eos_token_id, tok.pad_token_id, max_new_tokens=6,
                                         row_seeds=gen._row_seeds(STATES[0], 4))[0]]
    assert first != again                            # a second visit (another attempt) samples afresh


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
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}", "m", retries=0, seed=5)
    out = gen.generate(STATES, 3)
    assert [len(g) for g in out] == [2, 2, 2]            # the length-capped choice is dropped
    assert [c.tactic for c in out[0]] == ["omega", "omega"] and out[2][0].tactic == "trivial"
    assert out[0][0].logprob == pytest.approx(-0.75) and out[0][0].mean_logprob == pytest.approx(-0.375)
    assert out[0][1].num_tokens == 2                     # a null log-prob is not counted
    body = _Completions.bodies[-1]
    assert body["n"] == 3 and body["logprobs"] == 1 and body["stop"] == ["\n\n"] and body["seed"] == 5
    assert body["prompt"][0] == PromptFormat().prompt(STATES[0])


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
    sent = _Completions.bodies[-1]["prompt"]
    assert sent == [encode_prompt(tok, PromptFormat().prompt(s)) for s in STATES]
    assert all(p[0] == tok.bos_token_id for p in sent)


def test_openai_server_errors_are_clear(server):
    gen = OpenAICompletionsGenerator(f"http://127.0.0.1:{server.server_port}/v1", "m", retries=0)
    _Completions.mode = "bad_request"
    with pytest.raises(GeneratorServerError, match="model not found"):
        gen.generate(STATES, 1)
    assert len(_Completions.bodies) == 1                 # a 4xx is not retried
    _Completions.mode = "garbage"
    with pytest.raises(GeneratorServerError, match="malformed"):
        gen.generate(STATES, 1)
    _Completions.mode = "bad_index"
    with pytest.raises(GeneratorServerError, match="malformed"):
        gen.generate(STATES, 1)
    dead = OpenAICompletionsGenerator("http://127.0.0.1:9", "m", retries=0, timeout=2)
    with pytest.raises(GeneratorServerError, match="cannot reach"):
        dead.generate(STATES, 1)
    with pytest.raises(ValueError, match="top_p"):
        OpenAICompletionsGenerator("http://127.0.0.1:9", "m", top_p=0)


def test_factory_builds_each_kind_and_rejects_bad_ones(tiny, tmp_path, server):
    from search.generators.factory import make_generator
    from search.generators.tiny import save_model

    model, tok = tiny
    save_model(model, tok, tmp_path / "m")
    for kind in ("hf", "embedded"):
        gen = make_generator(kind, str(tmp_path / "m"), max_new_tokens=3, seed=2)
        assert isinstance(gen, HFGenerator) and len(gen.generate(STATES, 2)) == len(STATES)
    http = make_generator("openai", "m", base_url=f"http://127.0.0.1:{server.server_port}")
    assert [len(g) for g in http.generate(STATES[:1], 2)] == [2]
    with pytest.raises(ValueError, match="unknown generator"):
        make_generator("gpt", "x")
    with pytest.raises(ValueError, match="base-url"):
        make_generator("openai", "m")
    with pytest.raises(ValueError, match="needs --model"):
        make_generator("hf")
    with pytest.raises(FileNotFoundError, match="init-model"):
        make_generator("embedded", str(tmp_path / "missing" / "dir"))


def test_vllm_generator():
    try:
        import vllm  # noqa: F401
    except ImportError:
        from search.generators.vllm_gen import VLLMGenerator

        with pytest.raises(ImportError, match=r"bfs-prover\[gpu\]"):
            VLLMGenerator("some/model")
        pytest.skip("vllm is not installed here (CPU machine); the missing-extra error was checked")
    if not torch.cuda.is_available():
        pytest.skip("vllm needs a CUDA device")
