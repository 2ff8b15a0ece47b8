"""Micro models and a char-level tokenizer for the training tests (store, filter, SFT, DPO, merge).

Built in-process so the tests need no downloaded weights: a `PreTrainedTokenizerFast` whose tokens
are single characters, and a 2-layer `LlamaForCausalLM` with hidden size 32 (a few thousand
parameters), fast enough for a handful of optimiser steps on one CPU core.
"""
from __future__ import annotations

import string

import pytest
import torch

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
EXTRA_CHARS = "⊢ℕℝℤ₀₁₂→←↔∀∃¬∧∨≤≥≠·⟨⟩"


def char_tokenizer():
    """One token per character; decoding concatenates tokens back into the text."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(string.printable) | set(EXTRA_CHARS))
    vocab = {tok: i for i, tok in enumerate(SPECIALS + chars)}
    # BPE with no merges splits any string into its characters and needs no pre-tokenizer.
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>")


def micro_llama(tokenizer, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 2, tied: bool = False):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                      max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                      tie_word_embeddings=tied)
    model = LlamaForCausalLM(cfg)
    model.eval()
    return model


def toy_pairs() -> list[tuple[str, str]]:
    """(goal state, tactic) pairs of varied lengths, as the search would record them."""
    return [
        ("a b : ℕ\nh₀ : a = 2\n⊢ a + b = b + 2", "subst h₀"),
        ("b : ℕ\n⊢ 2 + b = b + 2", "omega"),
        ("x : ℝ\nh : 0 ≤ x\n⊢ 0 ≤ x * x", "nlinarith [sq_nonneg x]"),
        ("n : ℕ\n⊢ n + 0 = n", "simp"),
        ("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q", "exact ⟨hp, hq⟩"),
        ("a : ℤ\n⊢ a - a = 0", "ring"),
    ]


@pytest.fixture(scope="module")
def tok():
    return char_tokenizer()


@pytest.fixture
def model(tok):
    return micro_llama(tok)
