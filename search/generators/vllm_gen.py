"""`VLLMGenerator`: vLLM's offline engine (optional extra `[gpu]`), imported lazily.

Per sampled completion vLLM returns the token ids and, with `logprobs=0`, one dict per position
holding at least the sampled token's log-probability; we index it by the sampled token id.
vLLM V1 reports raw-model log-probs unless the engine is built with
`logprobs_mode="processed_logprobs"` (temperature and top-p applied), which is what our contract
asks for, so we request it and fall back (with `logprobs_are_processed = False`) on versions
that predate the option.
"""
from __future__ import annotations

from typing import Any, Sequence

from search.generators.base import PromptFormat, TacticCandidate
from search.generators.checks import check_request, check_sampling_args
from search.generators.tokens import encode_prompt

INSTALL_HINT = "vLLM is not installed: pip install 'bfs-prover[gpu]' (needs a CUDA machine)"


def import_vllm():
    try:
        import vllm
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return vllm


class VLLMGenerator:
    """Prompts go in as token ids from `encode_prompt` so BOS handling matches training exactly."""

    def __init__(self, model: str, prompt: PromptFormat | None = None, temperature: float = 1.0, top_p: float = 1.0,
                 max_new_tokens: int = 48, seed: int = 0, **engine_kwargs: Any):
        check_sampling_args(temperature, top_p, max_new_tokens)
        self.vllm = import_vllm()
        self.logprobs_are_processed = True
        try:
            self.llm = self.vllm.LLM(model=model, seed=seed, logprobs_mode="processed_logprobs", **engine_kwargs)
        except TypeError:  # an engine without the option: V0 already reported tempered log-probs
            self.logprobs_are_processed = False
            self.llm = self.vllm.LLM(model=model, seed=seed, **engine_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        model_config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        self.context = int(getattr(model_config, "max_model_len", 0) or 0)  # 0: unknown, no truncation
        self.prompt = prompt or PromptFormat()
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state))
        limit = self.context - self.max_new_tokens if self.context else 0
        if limit > 1 and len(ids) > limit:
            ids = ids[:1] + ids[-(limit - 1):]  # keep BOS and the tail (the ⊢ line), as HFGenerator does
        return ids

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        check_request(states, n)
        if not states:
            return []
        params = self.vllm.SamplingParams(n=n, temperature=self.temperature, top_p=self.top_p,
                                          max_tokens=self.max_new_tokens, logprobs=0,
                                          stop=[self.prompt.stop] if self.prompt.stop else None)
        prompts = [{"prompt_token_ids": self.encode(s)} for s in states]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[self._candidate(c) for c in out.outputs if c.finish_reason != "length"] for out in outputs]

    def _candidate(self, c) -> TacticCandidate:
        ids = list(c.token_ids)
        lps = [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
        return TacticCandidate(self.prompt.postprocess(c.text), sum(lps), max(len(lps), 1), tuple(ids), tuple(lps))
