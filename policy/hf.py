"""`HFGenerator`: a Hugging Face causal LM sampled in-process with the one sampler
(policy/sampling.py).

Besides tactics for the search (`generate`), it serves the GRPO rollouts (`sample_ids`: token
ids in, per-token log-probs and top-p kept sets out) and takes new weights in place
(`load_weights` / `load_checkpoint`, the contract every local-weights generator implements), so
the learner can keep a separate sampler, e.g. a bf16 copy of an fp32 policy, in sync.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import torch

from policy.base import PromptFormat, TacticCandidate
from policy.checks import check_request
from policy.params import SamplingParams, request_seed
from policy.sampling import Sample, sample
from policy.tokens import encode_prompt, truncate_prompt


class HFGenerator:
    """Samples `n` tactics per goal state.

    Samples cut off by `params.max_tokens` before EOS are not tactics and are dropped, so a group
    may hold fewer than `n` candidates; `dropped` counts every dropped sample by reason
    ("max_tokens", and the prompt format's "max_chars" / "filter"). Prompts longer than
    `max_prompt_tokens` keep BOS and their tail (`truncate_prompt`); `truncated_prompts` counts
    them. `batch_size` bounds the sequences (states x n) sampled together. With `params.beam` the
    n tactics are the n best beams (policy/beam.py) instead of n samples.
    """

    def __init__(self, model, tokenizer, params: SamplingParams = SamplingParams(), prompt: PromptFormat | None = None,
                 max_prompt_tokens: int | None = None, batch_size: int = 256):
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no EOS token: sampling would never know where a tactic ends")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if params.presence_penalty:
            raise ValueError("presence_penalty is a vLLM/OpenAI sampling setting; the in-process sampler has none")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.params = params
        self.prompt = prompt or PromptFormat()
        context = getattr(model.config, "max_position_embeddings", None)
        if max_prompt_tokens is None:
            max_prompt_tokens = (context - params.max_tokens) if context else 768
        if context and max_prompt_tokens + params.max_tokens > context:
            raise ValueError(f"max_prompt_tokens ({max_prompt_tokens}) + max_tokens ({params.max_tokens}) "
                             f"exceed the model's context of {context} positions")
        if max_prompt_tokens < 2:
            raise ValueError(f"max_prompt_tokens must leave room for a prompt, got {max_prompt_tokens}")
        self.max_prompt_tokens = max_prompt_tokens
        self.batch_size = batch_size
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.truncated_prompts = 0
        self.dropped: Counter[str] = Counter()   # samples that gave no tactic, by reason

    def encode(self, state: str) -> list[int]:
        ids = encode_prompt(self.tokenizer, self.prompt.prompt(state, self.tokenizer))
        if len(ids) > self.max_prompt_tokens:
            self.truncated_prompts += 1
        return truncate_prompt(ids, self.max_prompt_tokens, self.tokenizer.bos_token_id)

    def _row_seeds(self, key: str, n: int) -> list[int]:
        """The seeds of the n samples of the request named `key` (`request_seed`): a request
        samples the same tactics whatever batch it lands in and whatever ran before it."""
        first = request_seed(self.params.seed, key)
        return [first + j for j in range(n)]

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        check_request(states, n, keys)
        prompts = [self.encode(s) for s in states]
        seeds = [self._row_seeds(k, n) for k in (keys if keys is not None else states)]
        out: list[list[TacticCandidate]] = [[] for _ in states]
        # chunks of similar prompt lengths waste little cache on left padding (per-row seeds make the
        # samples independent of the grouping); a chunk holds whole states so each prompt is
        # prefilled once and its cache shared by its n samples
        order = sorted(range(len(states)), key=lambda i: len(prompts[i]))
        per_call = max(1, self.batch_size // n)
        raw = self.params.logprobs == "raw"
        for start in range(0, len(order), per_call):
            chunk = order[start:start + per_call]
            if self.params.beam:
                groups = self._beams([prompts[i] for i in chunk], n)
            else:
                groups = sample(self.model, [prompts[i] for i in chunk], n, self.params, self.tokenizer.eos_token_id,
                                self.pad_id, row_seeds=[seed for i in chunk for seed in seeds[i]], raw=raw)
            for i, group in zip(chunk, groups):
                out[i] = self.prompt.keep(((x, x.finished) for x in group), self._candidate, self.dropped)
        return out

    def _beams(self, prompts: list[list[int]], n: int) -> list[list[Sample]]:
        from policy.beam import beam_search
        from policy.sampling import left_pad

        ids, mask = left_pad(prompts, self.pad_id)
        device = next(self.model.parameters()).device
        rows = beam_search(self.model, ids.to(device), mask.to(device), n, self.params, self.tokenizer.eos_token_id,
                           self.pad_id)
        return [[Sample(b.token_ids, b.token_logprobs, b.finished) for b in beams] for beams in rows]

    def sample_ids(self, prompts: Sequence[list[int]], row_seeds: Sequence[int]) -> list[Sample]:
        """One sample per prompt (token ids, already truncated by the caller) with the given
        per-row seeds; each Sample records its top-p kept sets. Chunks of at most `batch_size`
        rows, by prompt length (the per-row seeds make the samples independent of the grouping)."""
        if len(row_seeds) != len(prompts):
            raise ValueError(f"need one seed per prompt, got {len(row_seeds)} for {len(prompts)}")
        out: list[Sample | None] = [None] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            groups = sample(self.model, [list(prompts[i]) for i in chunk], 1, self.params, self.tokenizer.eos_token_id,
                            self.pad_id, row_seeds=[row_seeds[i] for i in chunk], record_kept=True)
            for i, group in zip(chunk, groups):
                out[i] = group[0]
        return out  # type: ignore[return-value]

    @torch.no_grad()
    def load_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        """Copy tensors into the running model in place (cast to its dtype and device). Names are
        the model's own state-dict keys; an unknown name or a wrong shape is an error, and the
        model is left unchanged when any name or shape is wrong (checked before copying)."""
        own = self.model.state_dict(keep_vars=True)
        pairs = list(named_tensors)
        for name, tensor in pairs:
            if name not in own:
                raise KeyError(f"load_weights: the model has no tensor named {name!r}")
            if tuple(own[name].shape) != tuple(tensor.shape):
                raise ValueError(f"load_weights: {name} has shape {tuple(own[name].shape)}, got {tuple(tensor.shape)}")
        for name, tensor in pairs:
            own[name].copy_(tensor)

    def load_checkpoint(self, path: str | Path) -> None:
        """`load_weights` from a saved checkpoint directory (policy/checkpoint.py)."""
        from policy.checkpoint import load_checkpoint

        model, _, _ = load_checkpoint(path)
        self.load_weights(model.state_dict().items())

    def _candidate(self, s: Sample) -> TacticCandidate:
        body = [t for t in s.token_ids if t != self.tokenizer.eos_token_id]
        text = self.prompt.postprocess(self.tokenizer.decode(body, skip_special_tokens=True), self.params.stop)
        # the search scores by `logprob`; the per-token log-probs stay the sampled distribution's (GRPO)
        score = sum(s.raw_logprobs) if s.raw_logprobs is not None else sum(s.token_logprobs)
        return TacticCandidate(text, float(score), len(s.token_ids), tuple(s.token_ids), tuple(s.token_logprobs))
