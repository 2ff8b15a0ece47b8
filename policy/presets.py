"""Released provers, as their authors run them: one row of facts per model (`PRESETS`).

A preset fixes how a goal state (or a statement) becomes the model's prompt, what the model's
output is (one tactic, or a whole proof in the last ```lean4 block), and the decoding its authors
use (sampling or beam search, temperature, top-p, tokens, which log-probs score a tactic), plus
the search budget and engine settings they report. `generator.preset: NAME` in a config applies a
row (policy/factory.py); any setting written next to it wins, and every resolved setting is
recorded with the results. Each row names the files its facts were read from; the tests in
tests/test_presets.py rebuild each prompt the way that code builds it and compare character for
character.

Template fields: {state} (the goal state as LeanDojo's `TacticState.pp` prints it), {name} (the
theorem's declared name), {proof_before} (the tactics so far, one per line), {header} (imports,
options, opens), {statement} (the declaration up to `:= by`), {informal_prefix}.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from policy.base import PromptFormat

# BFS-Prover-V2's filter (src/search/prover_manager.py, `TacticGenerator.generate`): besides
# sorry/admit/native_decide (refused everywhere, lean_env.rules), tactics that combine
# rcases/cases'/simpa with `?_`, and `simpa` with a `_` placeholder, are dropped before Lean sees them.
BFS_DROP = (r"^(?=[\s\S]*\?_)[\s\S]*(rcases|cases'|simpa)", r"^(?=[\s\S]*simpa)[\s\S]*( _|_ |_,|,_)")

DEEPSEEK_V2_PLAN = ("Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof "
                    "plan outlining the main proof steps and strategies.\nThe plan should highlight key ideas, "
                    "intermediate lemmas, and proof structures that will guide the construction of the final "
                    "formal proof.")


@dataclass(frozen=True)
class Preset:
    """One released prover. `sampling` holds `SamplingParams` fields; `search` the authors'
    per-attempt budget in `SearchConfig` terms plus what it has no field for (attempts, per-tactic
    timeout); `engine` the vLLM engine settings of their scripts."""

    name: str
    model: str                                   # the Hugging Face id these facts describe
    architecture: str                            # its transformers class (the tests build a tiny one)
    output: Literal["tactic", "proof"]
    template: str
    sampling: dict[str, Any]
    chat: bool = False
    system: str | None = None
    output_prefix: str = ""
    drop_patterns: tuple[str, ...] = ()
    search: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    notes: str = ""

    def prompt_format(self) -> PromptFormat:
        return PromptFormat(self.template, chat=self.chat, system=self.system, output_prefix=self.output_prefix,
                            drop_patterns=self.drop_patterns)

    def record(self) -> dict[str, Any]:
        """Every setting of the row, for a run's config and summary."""
        return asdict(self)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        name="bfs-prover-v2", model="ByteDance-Seed/BFS-Prover-V2-7B", architecture="Qwen2ForCausalLM",
        output="tactic", template="{state}:::", drop_patterns=BFS_DROP,
        # the released script: n 4, T 1.3, top_p 1.0, max_tokens 2048; score = vLLM's
        # cumulative_logprob / len(token_ids), raw model log-probs (vLLM's default)
        sampling=dict(temperature=1.3, top_p=1.0, max_tokens=2048, stop=(), logprobs="raw"),
        search=dict(tactics_per_expansion=4, alpha=2.0, wall_seconds=600.0, attempts=512, tactic_timeout=12.0),
        engine=dict(max_model_len=16384),
        sources=("zeyu-zheng/BFS-Prover-V2@6118f5f4:src/search/prover_manager.py",
                 "zeyu-zheng/BFS-Prover-V2@74eeb2e7:src/search/run_local_search.sh"),
        notes="code defaults (not the released script): n 16, T 0.7; planner mode prompts the first goal only "
              "with `case` and `this : True` lines removed (search/planner/plan.py prompt_state)"),
    Preset(
        name="bfs-prover-v1", model="ByteDance-Seed/BFS-Prover-V1-7B", architecture="Qwen2ForCausalLM",
        output="tactic", template="{state}:::", drop_patterns=BFS_DROP,
        sampling=dict(temperature=1.3, top_p=1.0, max_tokens=2048, stop=(), logprobs="raw"),
        search=dict(tactics_per_expansion=2, max_expansions=600, alpha=2.0, attempts=2048),
        sources=("BFS-Prover-V1-7B model card (Hugging Face): same `{state}:::` format, budget 2048x2x600",),
        notes="V1 published no decoding script: temperature/top_p/max_tokens are V2's released values "
              "(unverified for V1); the model card's HF example decodes only the new tokens"),
    Preset(
        name="internlm2.5-stepprover", model="internlm/internlm2_5-step-prover", architecture="InternLM2ForCausalLM",
        output="tactic",
        # ChatML built by hand (`chat_template_to_prompt`), not the tokenizer's template; vLLM adds BOS
        template=("<|im_start|>user\n---\nNAME: {name}\n\n---\nPROOF_BEFORE: {proof_before}\n\n"
                  "---\nSTATE_BEFORE: {state}\n\n---\nTACTIC: <|im_end|>\n<|im_start|>assistant\n"),
        # temperature 0 = vLLM beam search, n 32, length_penalty 0, max_tokens 256, stop <|im_end|>;
        # score = cumulative_logprob / len(token_ids)
        sampling=dict(temperature=0.0, beam=True, length_penalty=0.0, max_tokens=256, stop=("<|im_end|>",),
                      logprobs="raw"),
        search=dict(tactics_per_expansion=32, max_expansions=100, alpha=0.0, wall_seconds=1200.0),
        engine=dict(dtype="float16", max_num_batched_tokens=32768, enforce_eager=True, trust_remote_code=True),
        sources=("InternLM/InternLM-Math@a4196fa0:minif2f/proofsearch_internLM2.5-StepProver.py",),
        notes="its search: best-first on the sum of mean log-probs (alpha 0), max-iters 100, timeout 1200 s; "
              "paper budget 256x32x600; an optional 1.8B critic is not modelled"),
    Preset(
        name="internlm2-stepprover", model="internlm/internlm2-step-prover", architecture="InternLM2ForCausalLM",
        output="tactic", template="<|im_start|>user\nDECL {name}\nGOAL {state}\n<|im_end|>\n<|im_start|>assistant\n",
        output_prefix="PROOFSTEP ",
        sampling=dict(temperature=0.0, beam=True, length_penalty=0.0, max_tokens=256, stop=("<|im_end|>",),
                      logprobs="raw"),
        search=dict(tactics_per_expansion=32, max_expansions=4000, alpha=0.0, wall_seconds=1500.0),
        engine=dict(dtype="float16", max_num_batched_tokens=32768, enforce_eager=True, trust_remote_code=True),
        sources=("InternLM/InternLM-Math@66c887b5:minif2f/proofsearch_internLM2-StepProver.py",
                 "InternLM/InternLM-Math@51cbee66:minif2f/scripts/eval_internLM2-step-prover.sh"),
        notes="the prompt is ChatML around `DECL {name}\\nGOAL {state}\\n`; the model answers `PROOFSTEP {tactic}`"),
    Preset(
        name="reprover", model="kaiyuy/leandojo-lean4-tacgen-byt5-small", architecture="T5ForConditionalGeneration",
        output="tactic", template="{state}",
        # HuggingFaceGenerator: beam search, num_beams = num_return_sequences = tactics wanted,
        # length_penalty from its config (0), max_length 512; score = sequences_scores
        sampling=dict(temperature=0.0, beam=True, length_penalty=0.0, max_tokens=512, stop=(), logprobs="raw"),
        search=dict(tactics_per_expansion=64, wall_seconds=600.0),
        engine=dict(max_prompt_tokens=2048),
        sources=("lean-dojo/ReProver@4263cfbb:prover/tactic_generator.py",
                 "lean-dojo/ReProver@0b75b480:prover/evaluate.py"),
        notes="ReProver's search ranks by the summed score (sequences_scores), this search by the mean; "
              "the retrieval variant prepends premises, not modelled"),
    Preset(
        name="deepseek-prover-v1.5", model="deepseek-ai/DeepSeek-Prover-V1.5-RL", architecture="LlamaForCausalLM",
        output="proof",
        template=("Complete the following Lean 4 code with explanatory comments preceding each line of code:\n\n"
                  "```lean4\n{header}{informal_prefix}{statement}\n"),
        sampling=dict(temperature=1.0, top_p=0.95, max_tokens=2048, stop=(), logprobs="processed"),
        search=dict(attempts=128),
        sources=("deepseek-ai/DeepSeek-Prover-V1.5@da2a54b4:prover/utils.py",
                 "deepseek-ai/DeepSeek-Prover-V1.5@2c4ba911:configs/sampling.py",
                 "deepseek-ai/DeepSeek-Prover-V1.5@2c4ba911:prover/workers/generator.py"),
        notes="raw completion (mode cot); its statements end in ':= by\\n' (here the loader strips the newline, "
              "the template puts it back); the output is cut at the first ``` and appended to the statement; "
              "RMaxTS is not modelled"),
    Preset(
        name="deepseek-prover-v2", model="deepseek-ai/DeepSeek-Prover-V2-7B", architecture="LlamaForCausalLM",
        output="proof", chat=True,
        template="Complete the following Lean 4 code:\n\n```lean4\n{header}{statement}\n  sorry\n```\n\n" + DEEPSEEK_V2_PLAN,
        sampling=dict(temperature=1.0, top_p=0.95, max_tokens=8192, stop=(), logprobs="processed"),
        search=dict(attempts=32),
        sources=("DeepSeek-Prover-V2-7B model card quick start (as copied in shun-dong/Robust_Prover:Scripts/test.py)",
                 "Goedel-LM/Goedel-Prover-V2 src/utils.py DeepSeekCoTHandler (T 1, top_p 0.95)"),
        notes="output: a proof plan, then the proof in the last ```lean4 block"),
    Preset(
        name="goedel-prover-v2", model="Goedel-LM/Goedel-Prover-V2-8B", architecture="Qwen3ForCausalLM",
        output="proof", chat=True,
        # note the closing fence right after `sorry` (no newline), as in the README
        template="Complete the following Lean 4 code:\n\n```lean4\n{header}{statement}\n  sorry```\n\n" + DEEPSEEK_V2_PLAN,
        sampling=dict(temperature=1.0, top_p=0.95, max_tokens=32768, stop=(), logprobs="processed"),
        search=dict(attempts=32, correction_rounds=2, max_errors=8),
        engine=dict(max_model_len=40960),
        sources=("Goedel-LM/Goedel-Prover-V2@357c1fa4:README.md",
                 "sean-lamont/Goedel-Prover-V2@12afbba9:src/inference.py", "sean-lamont/Goedel-Prover-V2:src/utils.py"),
        notes="standard mode 32K tokens, self-correction 40K over 2 rounds (later issue)"),
    Preset(
        # this project's tiny whole-proof model (bench/whole_proof.py trains it): the statement, then
        # the proof's tactic lines; a repair resumes as DeepSeek-Prover-V1.5 does (search/whole_proof.py)
        name="tiny-whole", model="(trained here)", architecture="LlamaForCausalLM", output="proof",
        template="{statement}\n",
        sampling=dict(temperature=1.0, top_p=1.0, max_tokens=160, stop=(), logprobs="processed"),
        sources=("bench/whole_proof.py",),
        notes="raw continuation; the model learned to end a proof with EOS"),
    Preset(
        name="kimina-prover", model="AI-MO/Kimina-Prover-Distill-1.7B", architecture="Qwen3ForCausalLM",
        output="proof", chat=True,
        system="You are an expert programmer and mathematician who helps formalizing mathematical problems in Lean 4.",
        template="Think about and solve the following problems step by step in Lean 4.\n\n{header}{statement} sorry",
        sampling=dict(temperature=0.8, top_p=1.0, presence_penalty=0.2, max_tokens=16000, stop=(),
                      logprobs="processed"),
        search=dict(attempts=32),
        sources=("MoonshotAI/Kimina-Prover-Preview@d31a49e4:kimina_prover_demo/error_fix.py",
                 "MoonshotAI/Kimina-Prover-Preview@3c46bc0a:kimina_prover_demo/utils.py (extract_proof_from_text)"),
        notes="the Preview distill's model card uses system 'You are an expert in mathematics and Lean 4.' and a "
              "'# Problem: / # Formal statement:' user prompt; error-fix turns are a later issue"),
)}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown generator preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


_LEAN4_BLOCK = re.compile(r"```lean4\n(.*?)\n```", re.S)
_LEAN4_LOOSE = re.compile(r"```lean4\n(.*?)```", re.S)


def extract_proof(preset: Preset | str, output: str, statement: str = "") -> str | None:
    """The proof in a whole-proof model's output, as its authors extract it; None when there is
    none. DeepSeek-Prover-V1.5 continues the statement: its output up to the first ``` is the proof
    (returned after `statement`). The chat models write the proof in the last ```lean4 block
    (Goedel: `extrac_code`; Kimina: the last block holding theorem, by, := and import)."""
    p = get_preset(preset) if isinstance(preset, str) else preset
    if p.output != "proof":
        raise ValueError(f"preset {p.name!r} emits one tactic, not a whole proof")
    if not p.chat:
        cut = output.find("```")
        return statement + (output[:cut] if cut >= 0 else output)
    if p.name == "kimina-prover":
        for block in reversed(_LEAN4_BLOCK.findall(output)):
            if all(w in block for w in ("theorem", "by", ":=", "import")):
                return block
        return None
    blocks = _LEAN4_BLOCK.findall(output) or _LEAN4_LOOSE.findall(output)
    return blocks[-1] if blocks else None
