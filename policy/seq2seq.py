"""`Seq2SeqGenerator`: an encoder-decoder tactic generator (ReProver's byt5-small,
`AutoModelForSeq2SeqLM`) sampled in-process, behind the same `TacticGenerator` protocol.

As ReProver's `HuggingFaceGenerator` (lean-dojo/ReProver, prover/tactic_generator.py): the encoder
reads the prompt (the goal state; `tokenizer(state, max_length, truncation=True)`, so T5's EOS
ends it), and the decoder writes one tactic, by beam search (`params.beam`, n beams returned,
ReProver's way) or by sampling (one seed per request, as `HFGenerator`). Beams or samples that hit
`max_tokens` before EOS are dropped and counted in `dropped`, like every generator here.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

import torch

from policy.base import PromptFormat, TacticCandidate
from policy.checks import check_request
from policy.params import SamplingParams, request_seed


def is_encoder_decoder(path: str | Path) -> bool:
    """Whether the checkpoint at `path` is an encoder-decoder (read from its config only)."""
    from transformers import AutoConfig

    try:
        return bool(AutoConfig.from_pretrained(str(path)).is_encoder_decoder)
    except (OSError, ValueError):
        return False   # no readable config: the causal loader says what is missing


class Seq2SeqGenerator:
    def __init__(self, model, tokenizer, params: SamplingParams = SamplingParams(), prompt: PromptFormat | None = None,
                 max_prompt_tokens: int | None = None, batch_size: int = 64):
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no EOS token: decoding would never know where a tactic ends")
        if params.presence_penalty:
            raise ValueError("presence_penalty is a vLLM/OpenAI sampling setting; the in-process decoder has none")
        self.model = model.eval()
        self.tokenizer, self.params = tokenizer, params
        self.prompt = prompt or PromptFormat("{state}")
        self.max_prompt_tokens = max_prompt_tokens or 2048   # ReProver's max_inp_seq_len
        self.batch_size = batch_size
        self.dropped: Counter[str] = Counter()
        self.truncated_prompts = 0

    @classmethod
    def load(cls, path: str | Path, params: SamplingParams = SamplingParams(), *, device: str = "cpu",
             dtype: str | None = None, **kwargs) -> "Seq2SeqGenerator":
        from transformers import AutoModelForSeq2SeqLM

        from policy.checkpoint import DTYPES, load_tokenizer

        model = AutoModelForSeq2SeqLM.from_pretrained(str(path), dtype=DTYPES[dtype] if dtype else "auto").to(device)
        return cls(model, load_tokenizer(path), params, **kwargs)

    def encode(self, states: Sequence[str]) -> dict[str, torch.Tensor]:
        texts = [self.prompt.prompt(s, self.tokenizer) for s in states]
        full = self.tokenizer(texts)["input_ids"]
        self.truncated_prompts += sum(len(ids) > self.max_prompt_tokens for ids in full)
        batch = self.tokenizer(texts, max_length=self.max_prompt_tokens, truncation=True, padding=True,
                               return_tensors="pt")
        device = next(self.model.parameters()).device
        return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None) -> list[list[TacticCandidate]]:
        check_request(states, n, keys)
        keys = list(keys) if keys is not None else list(states)
        out: list[list[TacticCandidate]] = []
        per_call = max(1, self.batch_size // n)
        for start in range(0, len(states), per_call):
            chunk = states[start:start + per_call]
            chunk_keys = keys[start:start + per_call]
            if self.params.beam:
                from policy.beam import beam_search

                enc = self.encode(chunk)
                rows = beam_search(self.model, enc["input_ids"], enc["attention_mask"], n, self.params,
                                   self.tokenizer.eos_token_id, self.tokenizer.pad_token_id)
                for beams in rows:
                    out.append(self._keep([(b.token_ids, b.token_logprobs, b.token_logprobs, b.finished)
                                           for b in beams]))
            else:
                out.extend(self._sampled(s, n, k) for s, k in zip(chunk, chunk_keys))
        return out

    @torch.no_grad()
    def _sampled(self, state: str, n: int, key: str) -> list[TacticCandidate]:
        p = self.params
        enc = self.encode([state])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(request_seed(p.seed, key))
            res = self.model.generate(**enc, do_sample=not p.greedy, temperature=p.temperature or None,
                                      top_p=p.top_p if not p.greedy else None, num_return_sequences=n,
                                      max_new_tokens=p.max_tokens, output_scores=True, output_logits=True,
                                      return_dict_in_generate=True)
        processed = self.model.compute_transition_scores(res.sequences, res.scores, normalize_logits=True)
        raw = self.model.compute_transition_scores(res.sequences, res.logits, normalize_logits=True)
        rows = []
        for j in range(res.sequences.shape[0]):
            ids, lps, raws, finished = [], [], [], False
            for t, lp, r in zip(res.sequences[j, 1:].tolist(), processed[j].tolist(), raw[j].tolist()):
                ids.append(t)
                lps.append(lp)
                raws.append(r)
                if t == self.tokenizer.eos_token_id:
                    finished = True
                    break
            rows.append((ids, lps, raws, finished))
        return self._keep(rows)

    def _candidate(self, row) -> TacticCandidate:
        ids, lps, raws = row
        body = [t for t in ids if t != self.tokenizer.eos_token_id]
        tactic = self.prompt.postprocess(self.tokenizer.decode(body, skip_special_tokens=True), self.params.stop)
        score = sum(raws) if self.params.logprobs == "raw" else sum(lps)
        return TacticCandidate(tactic, float(score), len(ids), tuple(ids), tuple(lps))

    def _keep(self, rows) -> list[TacticCandidate]:
        return self.prompt.keep((((ids, lps, raws), finished) for ids, lps, raws, finished in rows), self._candidate,
                                self.dropped)
