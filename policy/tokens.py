"""The one tokenisation convention shared by sampling, scoring, SFT and GRPO.

A training/scoring sequence is `encode_prompt(prompt) + encode_tactic(tactic)`; sampling feeds
`encode_prompt(prompt)` and stops at EOS. Prompt and tactic are tokenised separately so the
boundary is the same whether we sample, score or train (BPE merges never straddle it).
"""
from __future__ import annotations


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """BOS (when the tokenizer has one) + the prompt's tokens. A prompt that already starts with
    the BOS text (a chat template writes `{{ bos_token }}` itself) gets no second one, which is
    what `apply_chat_template(..., tokenize=True)` gives."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos] + ids
    return ids


def encode_tactic(tokenizer, tactic: str) -> list[int]:
    """The tactic's tokens followed by EOS: the model learns where a tactic ends."""
    return tokenizer(tactic, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]


def truncate_prompt(ids: list[int], max_tokens: int, bos_id: int | None) -> list[int]:
    """At most `max_tokens` prompt ids: BOS (when `ids` starts with it) and the *tail*, because the
    end of a goal state (the ⊢ line and the separator) is what a tactic answers."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    if len(ids) <= max_tokens:
        return ids
    head = ids[:1] if bos_id is not None and ids and ids[0] == bos_id else []
    return head + ids[len(ids) - (max_tokens - len(head)):]
