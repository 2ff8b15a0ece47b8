"""`HFGenerator`: a Hugging Face causal LM (a local directory, or model + tokenizer objects),
sampled with our KV-cached batched loop (search/generators/sampling.py)."""
from __future__ import annotations

import hashlib
from typing import Sequence

import torch

from search.generators.base import PromptFormat, TacticCandidate
from search.generators.checks import check_request, check_sampling_args
from search.generators.sampling import Sample, sample
from search.generators.tokens import encode_prompt


class HFGenerator:
    """Samples `n` tactics per goal state.

    temperature 0 means greedy; the reported log-probs are then the model's own (temperature 1).
    Samples cut off by `max_new_tokens` before EOS are not tactics and are dropped, so a group may
    hold fewer than `n` candidates. Prompts longer than `max_prompt_tokens` keep BOS and their *tail*
    (the ⊢ line and the separator are what the tactic answers); `truncated_prompts` counts them.
    """

    def __init__(self, model, tokenizer, prompt: PromptFormat | None = None, temperature: float = 1.0,
                 top_p: float = 1.0, max_new_tokens: int = 48, max_prompt_tokens: int | None = None,
                 max_batch_sequences: int = 512, seed: int = 0):
        check_sampling_args(temperature, top_p, max_new_tokens)
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no EOS token: sampling would never know where a tactic ends")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.prompt = prompt or PromptFormat()
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        context = getattr(model.config, "max_position_embeddings", None)
        if max_prompt_tokens is None:
            max_prompt_tokens = (context - max_new_tokens) if context else 768
        if context and max_prompt_tokens + max_new_tokens > context:
            raise ValueError(f"max_prompt_tokens ({max_prompt_tokens}) + max_new_tokens ({max_new_tokens}) "
                             f"exceed the model's context of {context} positions")
        if max_prompt_tokens < 2:
            raise ValueError(f"max_prompt_tokens must leave room for a prompt, got {max_prompt_tokens}")
        self.max_prompt_tokens = max_prompt_tokens
        self.max_batch_sequences = max(1, max_batch_sequences)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.device = next(model.parameters()).device
        self.seed = seed
        self.requests: dict[str, int] = {}   # how often each state was asked for
        self.truncated_prompts = 0

    @classmethod
    def from_pretrained(cls, path: str, device: str = "cpu", dtype: str | None = None, **kw) -> "HFGenerator":
        from search.generators.tiny import load_model

        model, tokenizer = load_model(path, device=device, dtype=dtype)
        return cls(model, tokenizer, **kw)

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state))
        if len(ids) > self.max_prompt_tokens:
            self.truncated_prompts += 1
            has_bos = self.tokenizer.bos_token_id is not None and ids[0] == self.tokenizer.bos_token_id
            head = ids[:1] if has_bos else []
            ids = head + ids[-(self.max_prompt_tokens - len(head)):]
        return ids

    def _row_seeds(self, state: str, n: int) -> list[int]:
        """Seeds from (generator seed, state, how often this state was asked for, sample index):
        a request samples the same tactics whatever batch it lands in, and a state asked for again
        (another pass@k attempt) gets fresh samples."""
        visit = self.requests.get(state, 0)
        self.requests[state] = visit + 1
        digest = hashlib.sha256(f"{self.seed}\x00{visit}\x00{state}".encode()).digest()
        return [int.from_bytes(digest[:7], "little") + j for j in range(n)]

    def generate(self, states: Sequence[str], n: int) -> list[list[TacticCandidate]]:
        check_request(states, n)
        out: list[list[TacticCandidate]] = []
        # a chunk holds whole states so each prompt is prefilled once and its cache shared by its n samples
        per_call = max(1, self.max_batch_sequences // n)
        for start in range(0, len(states), per_call):
            chunk = states[start:start + per_call]
            seeds = [seed for s in chunk for seed in self._row_seeds(s, n)]
            groups = sample(self.model, [self.encode(s) for s in chunk], n, self.tokenizer.eos_token_id,
                            self.pad_id, self.temperature, self.top_p, self.max_new_tokens, row_seeds=seeds)
            out.extend([self._candidate(s) for s in group if s.finished] for group in groups)
        return out

    def _candidate(self, s: Sample) -> TacticCandidate:
        body = [t for t in s.token_ids if t != self.tokenizer.eos_token_id]
        text = self.prompt.postprocess(self.tokenizer.decode(body, skip_special_tokens=True))
        return TacticCandidate(text, float(sum(s.token_logprobs)), len(s.token_ids),
                               tuple(s.token_ids), tuple(s.token_logprobs))
