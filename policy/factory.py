"""`GeneratorConfig` (the YAML `generator:` section, and what `prover eval` builds from its flags)
and `make_generator`, which turns it into a `TacticGenerator`. Every field is read by the kinds it
names; setting one that the chosen kind cannot use is an error, not a silent no-op.

    kind: hf        a local Hugging Face directory sampled in-process (no model: the embedded one)
    kind: vllm      vLLM's offline engine on a local directory or hub id
    kind: openai    an OpenAI-compatible /v1/completions server (vLLM serve, SGLang)
    kind: scripted  no model: canned tactics for smoke tests

`preset: NAME` (policy/presets.py) fills in a released prover's prompt format and decoding; what
the section sets itself wins, and the resolved settings are what a run records. An encoder-decoder
checkpoint (ReProver's byt5) is loaded by kind hf through policy/seq2seq.py.

With a `DistributedConfig` (lean_env/cluster.py), the local-weight kinds (hf, vllm) run as one
actor per GPU share of a Ray cluster (policy/ray_gen.py); without GPU nodes, or for the other
kinds, generation stays in this process. `CampaignGenerators` keeps one vLLM engine (local or on
the cluster) for a whole campaign and moves it from checkpoint to checkpoint instead of starting a
new one per round.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Literal, Optional

from pydantic import Field, model_validator
from pydantic_core import ArgsKwargs

from lean_env.config import config_record, dump_record
from policy.base import DEFAULT_PROMPT, PromptFormat, TacticGenerator
from policy.params import SamplingParams

if TYPE_CHECKING:
    from lean_env.cluster import DistributedConfig

LOCAL_WEIGHT_KINDS = ("hf", "vllm")    # generators worth placing next to GPUs (openai servers are remote already)


def _preset(name: str):
    from policy.presets import get_preset

    return get_preset(name)


@config_record(frozen=True)
class GeneratorConfig:
    """Which model proposes tactics, where it runs, and how it samples."""

    kind: Literal["hf", "vllm", "openai", "scripted"] = "hf"
    preset: Optional[str] = None       # a released prover's settings (policy/presets.py)
    model: Optional[str] = None        # hf/vllm: a model dir (hf default: the embedded model); openai: served name
    base_url: Optional[str] = None     # openai: the server, e.g. http://host:8000/v1
    tokenizer: Optional[str] = None    # openai: a local tokenizer dir, so prompts go out as token ids (BOS included)
    batch_size: int = Field(256, ge=1)  # hf: sequences per forward; vllm: max_num_seqs; openai: requests in flight
    device: Optional[str] = None       # hf: torch device (default cpu); vLLM picks its own platform
    dtype: Optional[Literal["float32", "bfloat16", "float16"]] = None  # hf, vllm (default: the checkpoint's)
    max_prompt_tokens: Optional[int] = Field(None, ge=2)  # hf, vllm: longer prompts keep BOS and their tail
    prompt_template: str = DEFAULT_PROMPT
    max_tactic_chars: Optional[int] = Field(None, ge=1)   # longer tactics are dropped (and counted), never cut
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    # vllm: more `vllm.LLM` arguments, e.g. {gpu_memory_utilization: 0.3} so that a campaign's SFT
    # fits on the GPU beside the engine it keeps, or {enforce_eager: true} for a faster start
    engine_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """A preset's prompt template and sampling settings under what the section sets itself
        (`data`: a YAML mapping, or the keyword arguments of a call or of `replace`)."""
        given = data.kwargs if isinstance(data, ArgsKwargs) and not data.args else data
        if not isinstance(given, dict) or not given.get("preset"):
            return data
        p = _preset(given["preset"])
        own = given.get("sampling") or {}
        if isinstance(own, SamplingParams):
            own = {f.name: getattr(own, f.name) for f in fields(own)}
        return {**given, "prompt_template": given.get("prompt_template", p.template), "sampling": {**p.sampling, **own}}

    def prompt_format(self) -> PromptFormat:
        base = PromptFormat() if self.preset is None else _preset(self.preset).prompt_format()
        return replace(base, template=self.prompt_template, max_chars=self.max_tactic_chars)

    def record(self) -> dict[str, Any]:
        """The resolved settings (preset facts included) that a run writes next to its results."""
        out = dump_record(self)
        if self.preset is not None:
            out["preset_facts"] = _preset(self.preset).record()
        return out

    def __post_init__(self) -> None:
        """Every field is read by the kind chosen (a template without {state} fails here, too)."""
        k = self.kind
        unused = {"base_url": k != "openai", "tokenizer": k != "openai", "device": k != "hf",
                  "dtype": k in ("openai", "scripted"), "max_prompt_tokens": k in ("openai", "scripted"),
                  "engine_args": k != "vllm"}
        bad = [name for name, refused in unused.items() if refused and getattr(self, name) not in (None, {})]
        if bad:
            raise ValueError(f"generator kind {k!r} does not use {', '.join(bad)}")
        if k == "openai" and not self.base_url:
            raise ValueError("generator kind 'openai' needs base_url (an OpenAI-compatible completions server)")
        fmt = self.prompt_format()
        if fmt.chat and k == "openai" and not self.tokenizer:
            raise ValueError(f"preset {self.preset!r} builds its prompt with the model's chat template: "
                             "the openai kind needs generator.tokenizer (a local tokenizer directory)")


def make_generator(cfg: GeneratorConfig, *, model: str | None = None, seed: int | None = None,
                   distributed: "DistributedConfig | None" = None) -> TacticGenerator:
    """The generator `cfg` describes. `model` and `seed` override cfg's: a campaign samples round r
    from its round-r checkpoint with a round-specific seed (so vllm/openai need a model from one of
    the two, checked here rather than in the config). With `distributed`, hf/vllm generators run
    on the cluster's GPU nodes when it has any."""
    model = model or cfg.model
    if cfg.kind in ("vllm", "openai") and not model:
        raise ValueError(f"generator kind {cfg.kind!r} needs a model (generator.model, or --model)")
    if distributed is not None and cfg.kind in LOCAL_WEIGHT_KINDS:
        from lean_env.cluster import cluster_placement

        slots = cluster_placement(distributed).generators
        if slots:
            from policy.ray_gen import RayGenerator

            return RayGenerator(partial(local_generator, cfg, model, seed), slots, distributed)
    return local_generator(cfg, model, seed)


def local_generator(cfg: GeneratorConfig, model: str | None, seed: int | None, on_gpu: bool = False) -> TacticGenerator:
    """The generator in this process (`on_gpu`: in a Ray actor given GPUs, where hf defaults to cuda)."""
    if on_gpu and cfg.kind == "hf" and cfg.device is None:
        cfg = replace(cfg, device="cuda")   # Ray sets CUDA_VISIBLE_DEVICES to the actor's GPUs
    params = cfg.sampling if seed is None else replace(cfg.sampling, seed=seed)
    prompt = cfg.prompt_format()
    if cfg.kind == "scripted":
        from policy.scripted import ScriptedGenerator

        return ScriptedGenerator()
    if cfg.kind == "hf":
        from policy.checkpoint import load_checkpoint
        from policy.hf import HFGenerator
        from policy.tiny import DEFAULT_EMBEDDED_DIR

        from policy.seq2seq import Seq2SeqGenerator, is_encoder_decoder

        path = model or DEFAULT_EMBEDDED_DIR
        if is_encoder_decoder(path):
            return Seq2SeqGenerator.load(path, params, prompt=prompt, max_prompt_tokens=cfg.max_prompt_tokens,
                                         batch_size=cfg.batch_size, device=cfg.device or "cpu", dtype=cfg.dtype)
        lm, tokenizer, _ = load_checkpoint(path, device=cfg.device or "cpu", dtype=cfg.dtype)
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
    checkpoint exactly as a freshly made one would, in this process or on the cluster
    (`distributed`), as `prover eval` makes them. A vLLM engine (20-60 s to start) is made once
    and then reloaded in place (`load_checkpoint`) and reseeded; the other kinds are cheap to make
    and are made per use, as before (hf loads the checkpoint, openai asks its server for it).
    Owned by whoever runs the rounds, which calls `close()` at the end."""

    def __init__(self, cfg: GeneratorConfig, distributed: "DistributedConfig | None" = None):
        self.cfg = cfg
        self.distributed = distributed
        self.engine = None   # the kept vLLM generator, once started

    @contextmanager
    def use(self, checkpoint: str | Path, seed: int) -> Iterator[TacticGenerator]:
        if self.cfg.kind != "vllm":
            generator = make_generator(self.cfg, model=str(checkpoint), seed=seed, distributed=self.distributed)
            try:
                yield generator
            finally:
                close = getattr(generator, "close", None)   # HTTP clients hold a connection pool
                if close is not None:
                    close()
            return
        if self.engine is None:
            self.engine = make_generator(self.cfg, model=str(checkpoint), seed=seed, distributed=self.distributed)
        else:   # always: a directory may have been rewritten under the same name (a resumed round)
            self.engine.load_checkpoint(checkpoint)
        self.engine.reseed(seed)
        yield self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
