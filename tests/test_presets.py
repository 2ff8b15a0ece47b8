"""Each released prover's preset renders the prompt its authors' own inference code builds,
character for character and token for token, and decodes as they do (beam search, raw log-probs,
encoder-decoder), on tokenizers with the model's special tokens and chat template and tiny random
models of its architecture class (tests/preset_fixtures.py).

Each `reference_*` function transcribes the cited file's prompt construction; the preset's own
rendering goes through policy/presets.py and `PromptFormat`, never through these functions.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lean_env.benchmarks import load_benchmark
from policy.base import PromptInput
from policy.factory import GeneratorConfig
from policy.params import SamplingParams
from policy.presets import PRESETS, extract_proof, get_preset
from policy.tokens import encode_prompt
from tests.preset_fixtures import FAMILY_OF, family_tokenizer, tiny_model

ROOT = Path(__file__).resolve().parent.parent
ROW = json.loads((ROOT / "data/benchmarks/minif2f.jsonl").read_text(encoding="utf-8").splitlines()[0])
THEOREM = next(t for t in load_benchmark("minif2f") if t.id == ROW["name"])
STATE = "x y : ℝ\nh₀ : x + y = 10\n⊢ x = 10 - y\n\ncase h\nz : ℕ\n⊢ z ≤ z + 1"
STEPS = ["intro x", "nlinarith [sq_nonneg (x - 1)]"]
INFORMAL = "/-- " + ROW["informal_statement"] + "-/\n"
CORPUS = [ROW["header"], ROW["formal_statement"], STATE, *STEPS, "Complete the following Lean 4 code:",
          "theorem foo : 1 + 1 = 2 := by\n  norm_num", "---\nNAME: PROOF_BEFORE: STATE_BEFORE: TACTIC:"] * 3


@pytest.fixture(scope="module")
def tokenizers():
    return {fam: family_tokenizer(fam, CORPUS) for fam in ("qwen2", "qwen3", "internlm2", "deepseek")}


def request(**extra) -> PromptInput:
    return PromptInput(STATE, name=THEOREM.name, header=THEOREM.header, statement=THEOREM.statement,
                       proof_before=STEPS, **extra)


# ------------------------------------------------------------ references, as each model's code builds them

def reference_bfs(state: str) -> str:
    # zeyu-zheng/BFS-Prover-V2 src/search/prover_manager.py, TacticGenerator.generate:
    #   self.engine.generate(tactic_state + ":::", sampling_params, ...)
    return state + ":::"


def _chat_template_to_prompt(prompt_list) -> str:
    # InternLM/InternLM-Math minif2f/proofsearch_internLM2.5-StepProver.py (and -StepProver.py)
    result = ""
    for i, message in enumerate(prompt_list):
        result += "<|im_start|>" + message["role"] + "\n" + message["content"]
        if i + 1 != len(prompt_list):
            result += "<|im_end|>\n"
        elif message["role"] == "user":
            result += "<|im_end|>\n<|im_start|>assistant\n"
    return result


def reference_internlm25(full_name: str, state: str, steps: list[str]) -> str:
    # InternLM/InternLM-Math minif2f/proofsearch_internLM2.5-StepProver.py, _prompt_function with
    # proof_before = "\n".join(steps)
    proof_before = "\n".join(steps)
    template = (f"---\nNAME: {full_name}\n\n"
                f"---\nPROOF_BEFORE: {proof_before}\n\n"
                f"---\nSTATE_BEFORE: {state}\n\n"
                f"---\nTACTIC: ")
    return _chat_template_to_prompt([{"role": "user", "content": template}])


def reference_internlm2(full_name: str, state: str) -> str:
    # InternLM/InternLM-Math minif2f/proofsearch_internLM2-StepProver.py, _prompt_function
    return _chat_template_to_prompt([{"role": "user", "content": f"DECL {full_name}\nGOAL {state}\n"}])


def reference_deepseek_v15(data: dict) -> str:
    # deepseek-ai/DeepSeek-Prover-V1.5 prover/utils.py, cot_prompt (mode 'cot' in configs/sampling.py)
    return ("Complete the following Lean 4 code with explanatory comments preceding each line of code:\n\n"
            "```lean4\n{header}{informal_prefix}{formal_statement}").format(
        header=data["header"], informal_prefix=data.get("informal_prefix", ""),
        formal_statement=data["formal_statement"])


PLAN = ("Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan "
        "outlining the main proof steps and strategies.\nThe plan should highlight key ideas, intermediate lemmas, "
        "and proof structures that will guide the construction of the final formal proof.")


def reference_deepseek_v2_chat(header: str, statement: str) -> list[dict]:
    # DeepSeek-Prover-V2-7B model card quick start: formal_statement = """...:= by\n  sorry""".strip()
    # and prompt = """Complete ...```lean4\n{}\n```\n\nBefore ...""".strip()
    formal_statement = (header + statement + "\n  sorry").strip()
    prompt = ("\nComplete the following Lean 4 code:\n\n```lean4\n{}\n```\n\n" + PLAN + "\n").strip()
    return [{"role": "user", "content": prompt.format(formal_statement)}]


def reference_goedel_v2_chat(header: str, statement: str) -> list[dict]:
    # Goedel-LM/Goedel-Prover-V2 README.md quick start: note "{}```" (no newline before the fence)
    formal_statement = (header + statement + "\n  sorry").strip()
    prompt = ("\nComplete the following Lean 4 code:\n\n```lean4\n{}```\n\n" + PLAN + "\n").strip()
    return [{"role": "user", "content": prompt.format(formal_statement)}]


def reference_kimina_chat(header: str, statement: str) -> list[dict]:
    # MoonshotAI/Kimina-Prover-Preview kimina_prover_demo/error_fix.py, main()
    system = "You are an expert programmer and mathematician who helps formalizing mathematical problems in Lean 4."
    prompt = "Think about and solve the following problems step by step in Lean 4."
    prompt += "\n\n"
    prompt += header + statement + " sorry"
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


# ------------------------------------------------------------ the prompts, character for character

def test_every_preset_is_tested_here():
    assert set(PRESETS) == {"bfs-prover-v2", "bfs-prover-v1", "internlm2.5-stepprover", "internlm2-stepprover",
                            "reprover", "deepseek-prover-v1.5", "deepseek-prover-v2", "goedel-prover-v2",
                            "kimina-prover", "tiny-whole"}
    for p in PRESETS.values():
        assert p.sources and p.architecture and p.output in ("tactic", "proof")


@pytest.mark.parametrize("name", ["bfs-prover-v2", "bfs-prover-v1"])
def test_bfs_prover_prompt_is_the_state_and_three_colons(name, tokenizers):
    tok = tokenizers["qwen2"]
    fmt = get_preset(name).prompt_format()
    assert fmt.prompt(request(), tok) == reference_bfs(STATE)
    # vLLM tokenises the text prompt with the tokenizer's own special-token rule (Qwen: no BOS)
    assert encode_prompt(tok, fmt.prompt(request(), tok)) == tok(reference_bfs(STATE))["input_ids"]


def test_internlm25_prompt_holds_name_tactics_so_far_and_state(tokenizers):
    tok = tokenizers["internlm2"]
    fmt = get_preset("internlm2.5-stepprover").prompt_format()
    ref = reference_internlm25(THEOREM.name, STATE, STEPS)
    assert fmt.prompt(request(), tok) == ref
    assert encode_prompt(tok, ref) == [tok.bos_token_id] + tok(ref, add_special_tokens=False)["input_ids"]
    # the root: no tactics yet
    root = PromptInput(STATE, name=THEOREM.name)
    assert fmt.prompt(root, tok) == reference_internlm25(THEOREM.name, STATE, [])


def test_internlm2_prompt_and_its_proofstep_prefix(tokenizers):
    fmt = get_preset("internlm2-stepprover").prompt_format()
    assert fmt.prompt(request(), tokenizers["internlm2"]) == reference_internlm2(THEOREM.name, STATE)
    # prompt_style_internlm_chat_stepprover_extractor strips "PROOFSTEP " (then the search strips)
    assert fmt.postprocess("PROOFSTEP nlinarith [h₀]<|im_end|>", ("<|im_end|>",)) == "nlinarith [h₀]"


def test_reprover_encodes_the_state_as_its_generator_does():
    from transformers import ByT5Tokenizer

    from policy.seq2seq import Seq2SeqGenerator

    tok = ByT5Tokenizer()
    model = tiny_model("T5ForConditionalGeneration", tok)
    p = get_preset("reprover")
    gen = Seq2SeqGenerator(model, tok, SamplingParams(**p.sampling), p.prompt_format(), max_prompt_tokens=2048)
    # ReProver prover/tactic_generator.py HuggingFaceGenerator.generate: template "%s",
    # tokenizer(state, max_length=max_inp_seq_len, truncation=True)
    ref = tok("%s" % STATE, max_length=2048, truncation=True, return_tensors="pt")
    assert torch.equal(gen.encode([request()])["input_ids"].cpu(), ref.input_ids)


def test_deepseek_v15_prompt_from_a_benchmark_row(tokenizers):
    fmt = get_preset("deepseek-prover-v1.5").prompt_format()
    data = {"header": ROW["header"], "informal_prefix": INFORMAL, "formal_statement": ROW["formal_statement"]}
    ours = fmt.prompt(request(informal_prefix=INFORMAL), tokenizers["deepseek"])
    assert ours == reference_deepseek_v15(data)
    tok = tokenizers["deepseek"]   # vLLM adds BOS to a text prompt, as encode_prompt does
    assert encode_prompt(tok, ours) == tok(reference_deepseek_v15(data))["input_ids"]


@pytest.mark.parametrize("name, family, reference", [
    ("deepseek-prover-v2", "deepseek", reference_deepseek_v2_chat),
    ("goedel-prover-v2", "qwen3", reference_goedel_v2_chat),
    ("kimina-prover", "qwen3", reference_kimina_chat),
])
def test_chat_presets_render_through_the_tokenizers_template(name, family, reference, tokenizers):
    tok = tokenizers[family]
    fmt = get_preset(name).prompt_format()
    messages = reference(THEOREM.header, THEOREM.statement)
    want_text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert fmt.prompt(request(), tok) == want_text
    # and token for token what `apply_chat_template(tokenize=True)` gives: one BOS, not two
    want_ids = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    want_ids = want_ids["input_ids"] if isinstance(want_ids, dict) or hasattr(want_ids, "keys") else want_ids
    assert encode_prompt(tok, fmt.prompt(request(), tok)) == list(want_ids)


def test_a_chat_preset_without_a_chat_template_is_refused(tokenizers):
    with pytest.raises(ValueError, match="chat template"):
        get_preset("deepseek-prover-v2").prompt_format().prompt(request(), tokenizers["internlm2"])


# ------------------------------------------------------------ outputs

def test_whole_proof_extraction_follows_each_authors_rule():
    out = "plan...\n```lean4\ntheorem a : True := by\n  sorry\n```\nthen\n```lean4\nimport Mathlib\ntheorem a : True := by\n  trivial\n```\n"
    assert extract_proof("deepseek-prover-v2", out) == "import Mathlib\ntheorem a : True := by\n  trivial"
    assert extract_proof("goedel-prover-v2", "no code here") is None
    # Kimina: the last block holding theorem, by, := and import
    kimina = out + "```lean4\nlemma helper := by simp\n```"
    assert extract_proof("kimina-prover", kimina) == "import Mathlib\ntheorem a : True := by\n  trivial"
    # DeepSeek-Prover-V1.5 continues the statement: everything up to the first ```
    assert extract_proof("deepseek-prover-v1.5", "\n  norm_num\n```\ntrailing", statement="S := by") == "S := by\n  norm_num\n"
    with pytest.raises(ValueError):
        extract_proof("bfs-prover-v2", out)


def test_bfs_filter_drops_and_counts_what_its_authors_drop(tokenizers):
    fmt = get_preset("bfs-prover-v2").prompt_format()
    assert fmt.rejects("rcases h with ⟨x, ?_⟩") == "filter"
    assert fmt.rejects("simpa using h _") == "filter"
    assert fmt.rejects("rcases h with ⟨x, hx⟩") is None
    assert fmt.rejects("refine ⟨?_, ?_⟩") is None


# ------------------------------------------------------------ decoding on tiny models of each class

STEP_PRESETS = ["bfs-prover-v2", "bfs-prover-v1", "internlm2.5-stepprover", "internlm2-stepprover"]


@pytest.mark.parametrize("name", STEP_PRESETS)
def test_step_presets_decode_on_a_tiny_model_of_their_class(name, tokenizers):
    from policy.hf import HFGenerator

    p = get_preset(name)
    tok = tokenizers[FAMILY_OF[p.architecture]]
    model = tiny_model(p.architecture, tok)
    params = SamplingParams(**{**p.sampling, "max_tokens": 6})
    gen = HFGenerator(model, tok, params, p.prompt_format(), batch_size=8)
    out = gen.generate([request(), request()], 4)
    assert len(out) == 2
    # every one of the n samples/beams is either a tactic or counted as dropped, with its reason
    assert sum(len(g) for g in out) + sum(gen.dropped.values()) == 8
    assert set(gen.dropped) <= {"max_tokens", "filter", "max_chars"}


def test_raw_logprobs_are_the_models_own_not_the_tempered_ones(tokenizers):
    """At temperature 1.3 a tactic's `raw` score is its log-prob under the model itself
    (teacher-forced here), the `processed` one under the tempered distribution."""
    from policy.hf import HFGenerator

    tok = tokenizers["qwen2"]
    model = tiny_model("Qwen2ForCausalLM", tok, seed=3)
    fmt = get_preset("bfs-prover-v2").prompt_format()
    for kind in ("raw", "processed"):
        params = SamplingParams(temperature=1.3, max_tokens=60, stop=(), logprobs=kind, seed=5)
        gen = HFGenerator(model, tok, params, fmt)
        with torch.no_grad():   # a random model rarely says EOS: make it likelier, so samples end
            model.lm_head.weight[tok.eos_token_id] = model.model.norm.weight * 0.5
        cands = [c for g in gen.generate([STATE], 16) for c in g]
        assert cands, "the tiny model ended no sample in 60 tokens"
        c = cands[0]
        prompt = encode_prompt(tok, fmt.prompt(STATE, tok))
        ids = torch.tensor([prompt + list(c.token_ids)])
        with torch.no_grad():
            logits = model(ids).logits[0, len(prompt) - 1:-1].float()
        temp = 1.0 if kind == "raw" else 1.3
        want = torch.log_softmax(logits / temp, -1).gather(-1, torch.tensor(c.token_ids)[:, None]).sum().item()
        assert c.logprob == pytest.approx(want, abs=1e-3)
        # the per-token log-probs kept for the learner are always the sampled distribution's
        assert sum(c.token_logprobs) == pytest.approx(
            torch.log_softmax(logits / 1.3, -1).gather(-1, torch.tensor(c.token_ids)[:, None]).sum().item(), abs=1e-3)


def test_beam_search_returns_hf_generates_beams_with_their_scores(tokenizers):
    from policy.hf import HFGenerator

    tok = tokenizers["internlm2"]
    model = tiny_model("InternLM2ForCausalLM", tok, seed=1)
    fmt = get_preset("internlm2.5-stepprover").prompt_format()
    params = SamplingParams(temperature=0.0, beam=True, length_penalty=0.0, max_tokens=5, stop=("<|im_end|>",))
    gen = HFGenerator(model, tok, params, fmt)
    prompt = encode_prompt(tok, fmt.prompt(request(), tok))
    ref = model.generate(torch.tensor([prompt]), num_beams=4, num_return_sequences=4, do_sample=False,
                         length_penalty=0.0, max_new_tokens=5, early_stopping=False, output_scores=True,
                         return_dict_in_generate=True, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    out = gen.generate([request()], 4)[0]
    finished = [j for j in range(4) if tok.eos_token_id in ref.sequences[j, len(prompt):].tolist()]
    assert len(out) == len(finished) and gen.dropped["max_tokens"] == 4 - len(finished)
    for c, j in zip(out, finished):
        assert c.logprob == pytest.approx(ref.sequences_scores[j].item(), abs=1e-4)   # length_penalty 0: the sum


def test_reprover_beam_search_on_a_tiny_t5_gives_its_sequences_scores():
    from transformers import ByT5Tokenizer

    from policy.seq2seq import Seq2SeqGenerator

    tok = ByT5Tokenizer()
    model = tiny_model("T5ForConditionalGeneration", tok, seed=2)
    p = get_preset("reprover")
    gen = Seq2SeqGenerator(model, tok, SamplingParams(**{**p.sampling, "max_tokens": 6}), p.prompt_format())
    out = gen.generate([STATE, "⊢ True"], 3)
    enc = tok([STATE], return_tensors="pt")
    ref = model.generate(**enc, num_beams=3, num_return_sequences=3, do_sample=False, length_penalty=0.0,
                         max_new_tokens=6, early_stopping=False, output_scores=True, return_dict_in_generate=True)
    finished = [j for j in range(3) if tok.eos_token_id in ref.sequences[j].tolist()]
    assert [c.logprob for c in out[0]] == pytest.approx([ref.sequences_scores[j].item() for j in finished], abs=1e-4)
    assert sum(len(g) for g in out) + gen.dropped["max_tokens"] == 6


def test_seq2seq_checkpoints_load_through_the_hf_kind(tmp_path):
    from transformers import ByT5Tokenizer

    from policy.factory import make_generator
    from policy.seq2seq import Seq2SeqGenerator

    tok = ByT5Tokenizer()
    model = tiny_model("T5ForConditionalGeneration", tok)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    gen = make_generator(GeneratorConfig(kind="hf", model=str(tmp_path), preset="reprover",
                                         sampling={"max_tokens": 4}))
    assert isinstance(gen, Seq2SeqGenerator) and gen.params.beam and gen.params.length_penalty == 0.0
    assert len(gen.generate(["⊢ True"], 2)) == 1


@pytest.mark.parametrize("name", ["deepseek-prover-v1.5", "deepseek-prover-v2", "goedel-prover-v2", "kimina-prover"])
def test_whole_proof_presets_generate_from_their_prompt_on_a_tiny_model(name, tokenizers):
    p = get_preset(name)
    tok = tokenizers[FAMILY_OF[p.architecture]]
    model = tiny_model(p.architecture, tok)
    ids = encode_prompt(tok, p.prompt_format().prompt(request(), tok))
    out = model.generate(torch.tensor([ids]), max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > len(ids)


# ------------------------------------------------------------ configs and records

def test_a_preset_fills_the_config_and_what_is_written_wins():
    cfg = GeneratorConfig(kind="hf", preset="bfs-prover-v2", sampling={"max_tokens": 64})
    assert cfg.sampling.temperature == 1.3 and cfg.sampling.logprobs == "raw" and cfg.sampling.max_tokens == 64
    assert cfg.prompt_template == "{state}:::"
    rec = cfg.record()
    assert rec["preset"] == "bfs-prover-v2" and rec["sampling"]["temperature"] == 1.3
    assert rec["preset_facts"]["sources"]
    # the record loads back to the same config
    again = GeneratorConfig(**{k: v for k, v in rec.items() if k != "preset_facts"})
    assert again == cfg
    with pytest.raises(ValueError, match="unknown generator preset"):
        GeneratorConfig(preset="gpt-prover")


def test_a_chat_preset_over_http_needs_a_local_tokenizer():
    with pytest.raises(ValueError, match="tokenizer"):
        GeneratorConfig(kind="openai", base_url="http://x/v1", model="m", preset="goedel-prover-v2")


@pytest.mark.parametrize("path, preset", [("configs/bfs-prover-v2.yaml", "bfs-prover-v2"),
                                          ("configs/internlm2.5-stepprover.yaml", "internlm2.5-stepprover")])
def test_shipped_released_prover_configs_carry_their_authors_settings(path, preset):
    from prover.config import load_config

    cfg = load_config(ROOT / path)
    p = get_preset(preset)
    assert cfg.generator.preset == preset
    for key, value in p.sampling.items():
        assert getattr(cfg.generator.sampling, key) == (tuple(value) if isinstance(value, (list, tuple)) else value)
    for key in ("tactics_per_expansion", "alpha", "wall_seconds"):
        assert getattr(cfg.search, key) == p.search[key]
    assert cfg.env.tactic_timeout == p.search.get("tactic_timeout", 12.0)


def test_eval_summary_records_the_preset_and_every_sampling_setting(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "eval"
    res = subprocess.run([sys.executable, "-m", "prover.cli", "eval", "--model", "scripted", "--preset",
                          "bfs-prover-v2", "--limit", "2", "--expansions", "2", "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator"]["preset"] == "bfs-prover-v2"
    assert summary["generator"]["sampling"] == {"temperature": 1.3, "top_p": 1.0, "max_tokens": 2048, "stop": [],
                                                "seed": 0, "logprobs": "raw", "beam": False, "length_penalty": 1.0,
                                                "presence_penalty": 0.0}
    assert summary["generator"]["preset_facts"]["template"] == "{state}:::"
    assert "dropped_samples" in summary
