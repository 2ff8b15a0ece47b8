"""Beam search through Hugging Face `generate`, for the provers whose authors decode by beam
(InternLM StepProver: n 32 with vLLM; ReProver: n 64 with HF), causal and encoder-decoder alike.

`num_beams = num_return_sequences = n`, no sampling, `early_stopping=False`, as ReProver's
`HuggingFaceGenerator`; per-token log-probs come from `compute_transition_scores`, so a beam is
scored like a sampled tactic (their sum and count) and carries its token ids. A beam that did not
reach EOS within `max_tokens` is not a tactic: it comes back `finished=False` for the caller to
drop and count.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from policy.params import SamplingParams


@dataclass
class Beam:
    token_ids: list[int]        # generated tokens, EOS included when reached
    token_logprobs: list[float]
    finished: bool


@torch.no_grad()
def beam_search(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, n: int, params: SamplingParams,
                eos_id: int, pad_id: int) -> list[list[Beam]]:
    """n beams for each row of `input_ids` (left-padded for a causal LM); result [row][beam], best first."""
    if not params.beam:
        raise ValueError("beam_search needs SamplingParams(beam=True)")
    out = model.generate(input_ids=input_ids, attention_mask=attention_mask, num_beams=n, num_return_sequences=n,
                         do_sample=False, early_stopping=False, length_penalty=params.length_penalty,
                         max_new_tokens=params.max_tokens, eos_token_id=eos_id, pad_token_id=pad_id,
                         output_scores=True, return_dict_in_generate=True)
    # a causal LM's sequences repeat the prompt; an encoder-decoder's start with the decoder start token
    skip = 1 if model.config.is_encoder_decoder else input_ids.shape[1]
    generated = out.sequences[:, skip:]
    scores = model.compute_transition_scores(out.sequences, out.scores, out.beam_indices, normalize_logits=False)
    rows: list[list[Beam]] = []
    for i in range(input_ids.shape[0]):
        beams = []
        for j in range(i * n, (i + 1) * n):
            ids, lps = [], []
            finished = False
            for t, lp in zip(generated[j].tolist(), scores[j].tolist()):
                ids.append(t)
                lps.append(lp)
                if t == eos_id:
                    finished = True
                    break
            beams.append(Beam(ids, lps, finished))
        rows.append(beams)
    return rows
