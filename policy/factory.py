"""`GeneratorConfig` (the YAML `generator:` section, and what `prover eval` builds from its flags)
and `make_generator`, which turns it into a `TacticGenerator`. Every field is read by the kinds it
names; setting one that the chosen kind cannot use is an error, not a silent no-op.

    kind: hf        a local Hugging Face directory sampled in-process (no model: the embedded one)
    kind: vllm      vLLM's offline engine on a local directory or hub id
    kind: openai    an OpenAI-compatible /v1/completions server (vLLM serve, SGLang)
    kind: scripted  no model: canned tactics for smoke tests

`CampaignGenerators` keeps one vLLM engine for a whole campaign and moves it from checkpoint to
checkpoint instead of starting a new one per round.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policy.base import DEFAULT_PROMPT, PromptFormat, TacticGenerator
from policy.params import SamplingParams

class GeneratorConfig(BaseModel):
    """Which model proposes tactics, where it runs, and how it samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["hf", "vllm", "openai", "scripted"] = "hf"
    model: Optional[str] = None        # hf/vllm: a model dir (hf default: the embedded model); openai: served name
    base_url: Optional[str] = None     # openai: the server, e.g. http://host:8000/v1
    tokenizer: Optional[str] = None    # openai: a local tokenizer dir, so prompts go out as token ids (BOS included)
    batch_size: int = Field(256, ge=1)  # hf: sequences per forward; vllm: max_num_seqs; openai: requests in flight
    device: Optional[str] = None       # hf: torch device (default cpu); vLLM picks its own platform
    dtype: Optional[Literal["float32", "bfloat16", "float16"]] = None  # hf, vllm (default: the checkpoint's)
    max_prompt_tokens: Optional[int] = Field(None, ge=2)  # hf, vllm: longer prompts keep BOS and their tail
    prompt_template: str = DEFAULT_PROMPT
    sampling: SamplingParams = SamplingParams()
    # vllm: more `vllm.LLM` arguments, e.g. {gpu_memory_utilization: 0.3} so that a campaign's SFT
    # fits on the GPU beside the engine it keeps, or {enforce_eager: true} for a faster start
    engine_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> "GeneratorConfig":
        k = self.kind
        unused = {"base_url": k != "openai", "tokenizer": k != "openai", "device": k != "hf",
                  "dtype": k in ("openai", "scripted"), "max_prompt_tokens": k in ("openai", "scripted"),
                  "engine_args": k != "vllm"}
        bad = [name for name, refused in unused.items() if refused and getattr(self, name) not in (None, {})]
        if bad:
            raise ValueError(f"generator kind {k!r} does not use {', '.join(bad)}")
        if k == "openai" and not self.base_url:
            raise ValueError("generator kind 'openai' needs base_url (an OpenAI-compatible completions server)")
        PromptFormat(self.prompt_template)  # a template without {state} fails here, at load time
        return self


def make_generator(cfg: GeneratorConfig, *, model: str | None = None, seed: int | None = None) -> TacticGenerator:
    """The generator `cfg` describes. `model` and `seed` override cfg's: a campaign samples round r
    from its round-r checkpoint with a round-specific seed (so vllm/openai need a model from one of
    the two, checked here rather than in the config)."""
    model = model or cfg.model
    if cfg.kind in ("vllm", "openai") and not model:
        raise ValueError(f"generator kind {cfg.kind!r} needs a model (generator.model, or --model)")
    params = cfg.sampling if seed is None else replace(cfg.sampling, seed=seed)
    prompt = PromptFormat(cfg.prompt_template)
    if cfg.kind == "scripted":
        from policy.scripted import ScriptedGenerator

        return ScriptedGenerator()
    if cfg.kind == "hf":
        from policy.checkpoint import load_checkpoint
        from policy.hf import HFGenerator
        from policy.tiny import DEFAULT_EMBEDDED_DIR

        lm, tokenizer, _ = load_checkpoint(model or DEFAULT_EMBEDDED_DIR, device=cfg.device or "cpu", dtype=cfg.dtype)
        return HFGenerator(lm, tokenizer, params, prompt=prompt, max_prompt_tokens=cfg.max_prompt_tokens,
                           batch_size=cfg.batch_size)
    if cfg.kind == "vllm":
        from policy.vllm_gen import VLLMGenerator

        return VLLMGenerator(model, params, prompt=prompt, max_prompt_tokens=cfg.max_prompt_tokens,
                             batch_size=cfg.batch_size, dtype=cfg.dtype, **cfg.engine_args)
    from policy.openai_http import OpenAICompletionsGenerator

    tokenizer = None
    if cfg.tokenizer:
        from policy.checkpoint import load_tokenizer

        tokenizer = load_tokenizer(cfg.tokenizer)
    return OpenAICompletionsGenerator(cfg.base_url, model, params, prompt=prompt, tokenizer=tokenizer,
                                      batch_size=cfg.batch_size)


class CampaignGenerators:
    """The generators of one campaign: `use(checkpoint, seed)` gives one that samples from that
    checkpoint exactly as a freshly made one would. A vLLM engine (20-60 s to start) is made once
    and then reloaded in place (`load_checkpoint`) and reseeded; the other kinds are cheap to make
    and are made per use, as before (hf loads the checkpoint, openai asks its server for it).
    Owned by whoever runs the rounds, which calls `close()` at the end."""

    def __init__(self, cfg: GeneratorConfig):
        self.cfg = cfg
        self.engine = None   # the kept vLLM generator, once started

    @contextmanager
    def use(self, checkpoint: str | Path, seed: int) -> Iterator[TacticGenerator]:
        if self.cfg.kind != "vllm":
            generator = make_generator(self.cfg, model=str(checkpoint), seed=seed)
            try:
                yield generator
            finally:
                close = getattr(generator, "close", None)   # HTTP clients hold a connection pool
                if close is not None:
                    close()
            return
        if self.engine is None:
            self.engine = make_generator(self.cfg, model=str(checkpoint), seed=seed)
        else:   # always: a directory may have been rewritten under the same name (a resumed round)
            self.engine.load_checkpoint(checkpoint)
        self.engine.reseed(seed)
        yield self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
