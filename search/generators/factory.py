"""Build a `TacticGenerator` by kind: hf (local HF dir), vllm, openai (HTTP server), scripted."""
from __future__ import annotations

from search.generators.base import PromptFormat, TacticGenerator

GENERATOR_KINDS = ("hf", "vllm", "openai", "scripted")


def make_generator(kind: str, model: str | None = None, *, base_url: str | None = None, temperature: float = 1.0,
                   top_p: float = 1.0, max_new_tokens: int = 48, device: str = "cpu", seed: int = 0,
                   prompt: PromptFormat | None = None) -> TacticGenerator:
    prompt = prompt or PromptFormat()
    if kind == "scripted" or model == "scripted":
        from search.scripted import ScriptedGenerator

        return ScriptedGenerator()
    if not model:
        raise ValueError(f"generator {kind!r} needs --model")
    if kind == "hf":
        from search.generators.hf import HFGenerator

        return HFGenerator.from_pretrained(model, device=device, prompt=prompt, temperature=temperature,
                                           top_p=top_p, max_new_tokens=max_new_tokens, seed=seed)
    if kind == "vllm":
        from search.generators.vllm_gen import VLLMGenerator

        return VLLMGenerator(model, prompt=prompt, temperature=temperature, top_p=top_p,
                             max_new_tokens=max_new_tokens, seed=seed)
    if kind == "openai":
        from search.generators.openai_http import OpenAICompletionsGenerator

        if not base_url:
            raise ValueError("generator 'openai' needs --base-url (an OpenAI-compatible completions server)")
        return OpenAICompletionsGenerator(base_url, model, prompt=prompt, temperature=temperature, top_p=top_p,
                                          max_new_tokens=max_new_tokens, seed=seed)
    raise ValueError(f"unknown generator {kind!r}; choose one of {', '.join(GENERATOR_KINDS)}")
