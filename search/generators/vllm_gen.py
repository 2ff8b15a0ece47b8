"""`VLLMGenerator`: vLLM's offline engine (optional extra `[gpu]`), imported lazily.

Per sampled completion vLLM returns the token ids and, with `logprobs=0`, a dict per position
holding at least the sampled token's log-probability; we index it by the sampled token id.
"""
from __future__ import annotations

from typing import Sequence

from search.generators.base import PromptFormat, TacticCandidate

INSTALL_HINT = "vLLM is not installed: pip install 'bfs-prover[gpu]' (needs a CUDA machine)"


class VLLMGenerator:
    def __init__(self, model: str, prompt: PromptFormat | None = None, temperature: float = 1.0, top_p: float = 1.0,
                 max_new_tokens: int = 48, seed: int = 0, **engine_kwargs):
        try:
            import vllm
        except ImportError as e:
            raise ImportError(INSTALL_HINT) from e
        self.vllm = vllm
        self.llm = vllm.LLM(model=model, seed=seed, **engine_kwargs)
        self.prompt = prompt or PromptFormat()
        self.temperature, self.top_p, self.max_new_tokens, self.seed = temperature, top_p, max_new_tokens, seed

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        params = self.vllm.SamplingParams(n=n, temperature=self.temperature, top_p=self.top_p,
                                          max_tokens=self.max_new_tokens, logprobs=0,
                                          stop=[self.prompt.stop] if self.prompt.stop else None)
        outputs = self.llm.generate([self.prompt.prompt(s) for s in states], params, use_tqdm=False)
        result = []
        for out in outputs:
            cands = []
            for c in out.outputs:
                if c.finish_reason == "length":
                    continue
                ids = list(c.token_ids)
                lps = [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
                cands.append(TacticCandidate(self.prompt.postprocess(c.text), sum(lps), max(len(lps), 1), tuple(ids), tuple(lps)))
            result.append(cands)
        return result
