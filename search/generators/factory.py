"""Build a `TacticGenerator` by kind: hf (local HF dir), embedded (the tiny model `prover init-model`
wrote), vllm, openai (HTTP server), scripted (no model: for smoke tests)."""
from __future__ import annotations

from search.generators.base import PromptFormat, TacticGenerator

GENERATOR_KINDS = ("hf", "embedded", "vllm", "openai", "scripted")


def make_generator(kind: str, model: str | None = None, *, base_url: str | None = None, temperature: float = 1.0,
                   top_p: float = 1.0, max_new_tokens: int = 48, device: str = "cpu", dtype: str | None = None,
                   seed: int = 0, prompt: PromptFormat | None = None, tokenizer: str | None = None,
                   max_batch_sequences: int = 512) -> TacticGenerator:
    """`model` is a local directory (hf, embedded, vllm) or the served model's name (openai).
    For openai, `tokenizer` (a local directory) makes the client send token-id prompts."""
    prompt = prompt or PromptFormat()
    sampling = dict(temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed)
    if kind == "scripted" or model == "scripted":
        from search.scripted import ScriptedGenerator

        return ScriptedGenerator()
    if kind == "embedded":
        from search.generators.hf import HFGenerator
        from search.generators.tiny import DEFAULT_EMBEDDED_DIR

        return HFGenerator.from_pretrained(str(model or DEFAULT_EMBEDDED_DIR), device=device, dtype=dtype,
                                           prompt=prompt, max_batch_sequences=max_batch_sequences, **sampling)
    if kind not in GENERATOR_KINDS:
        raise ValueError(f"unknown generator {kind!r}; choose one of {', '.join(GENERATOR_KINDS)}")
    if not model:
        raise ValueError(f"generator {kind!r} needs --model")
    if kind == "hf":
        from search.generators.hf import HFGenerator

        return HFGenerator.from_pretrained(model, device=device, dtype=dtype, prompt=prompt,
                                           max_batch_sequences=max_batch_sequences, **sampling)
    if kind == "vllm":
        from search.generators.vllm_gen import VLLMGenerator

        return VLLMGenerator(model, prompt=prompt, **sampling)
    from search.generators.openai_http import OpenAICompletionsGenerator

    if not base_url:
        raise ValueError("generator 'openai' needs --base-url (an OpenAI-compatible completions server)")
    tok = None
    if tokenizer:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
    return OpenAICompletionsGenerator(base_url, model, prompt=prompt, tokenizer=tok, **sampling)
