"""The embedded default model: a byte-level BPE tokenizer trained on the benchmark's own text and a
small Llama-architecture causal LM created from scratch. No download is ever needed.

Sizes (on 2 CPU cores: "tiny" trains at several thousand tokens/s):
    tiny  ~0.7M parameters (hidden 128, 3 layers)
    small ~3.4M parameters (hidden 256, 4 layers)
"""
from __future__ import annotations

from typing import Iterable

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}

PRESETS: dict[str, dict[str, int]] = {
    "micro": dict(hidden_size=32, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2),
    "tiny": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=3, num_attention_heads=4),
    "small": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=4),
}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 600) -> PreTrainedTokenizerFast:
    """Byte-level BPE: every string round-trips exactly (ℕ ⊢ ∀ ⟨⟩ ₀ ✝ included)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL["pad_token"], SPECIAL["bos_token"], SPECIAL["eos_token"], SPECIAL["unk_token"]],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL, padding_side="left")


def create_model(tokenizer: PreTrainedTokenizerFast, preset: str = "tiny", seed: int = 0,
                 max_positions: int = 1024) -> LlamaForCausalLM:
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    p = PRESETS[preset]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        num_key_value_heads=p["num_attention_heads"],
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **p,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def num_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
