"""`HFGenerator`: a Hugging Face causal LM from a local directory, sampled with our KV-cached loop."""
from __future__ import annotations

from typing import Sequence

import torch

from search.generators.base import PromptFormat, TacticCandidate
from search.generators.sampling import sample
from search.generators.tokens import encode_prompt


class HFGenerator:
    def __init__(self, model, tokenizer, prompt: PromptFormat | None = None, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 48, max_prompt_tokens: int = 768,
                 max_batch_sequences: int = 512, seed: int = 0):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.prompt = prompt or PromptFormat()
        self.temperature, self.top_p = temperature, top_p
        self.max_new_tokens, self.max_prompt_tokens = max_new_tokens, max_prompt_tokens
        self.max_batch_sequences = max_batch_sequences
        self.rng = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)

    @classmethod
    def from_pretrained(cls, path: str, device: str = "cpu", dtype: str | None = None, **kw) -> "HFGenerator":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_dtype = getattr(torch, dtype) if dtype else None
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(device)
        tokenizer = AutoTokenizer.from_pretrained(path)
        return cls(model, tokenizer, **kw)

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state))
        if len(ids) > self.max_prompt_tokens:
            # keep the end of the state (the ⊢ line and the separator): that is what the tactic answers
            ids = ids[:1] + ids[-(self.max_prompt_tokens - 1):]
        return ids

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        out: list[list[TacticCandidate]] = []
        per_call = max(1, self.max_batch_sequences // max(n, 1))
        for start in range(0, len(states), per_call):
            chunk = states[start:start + per_call]
            samples = sample(self.model, [self.encode(s) for s in chunk], n, self.tokenizer.eos_token_id,
                             self.tokenizer.pad_token_id, self.temperature, self.top_p, self.max_new_tokens, self.rng)
            for group in samples:
                cands = []
                for s in group:
                    body = [t for t in s.token_ids if t != self.tokenizer.eos_token_id]
                    text = self.prompt.postprocess(self.tokenizer.decode(body, skip_special_tokens=True))
                    if s.finished:  # a tactic cut off by the length cap is not a tactic
                        cands.append(TacticCandidate(text, float(sum(s.token_logprobs)), len(s.token_ids),
                                                     tuple(s.token_ids), tuple(s.token_logprobs)))
                out_group = cands
                out.append(out_group)
        return out
