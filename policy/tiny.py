"""The embedded default model: a byte-level BPE tokenizer trained on the benchmark's own text and a
small Llama-architecture causal LM created from scratch. No download is ever needed.

Sizes (on 2 CPU cores: "tiny" trains at several thousand tokens/s):
    micro ~0.04M parameters (tests only)
    tiny  ~0.7M parameters (hidden 128, 3 layers)
    small ~3.4M parameters (hidden 256, 4 layers)

Saved with `policy.checkpoint.save_checkpoint`, a model is an ordinary Hugging Face
directory (config.json, model.safetensors, tokenizer.json) that any HF or vLLM loader reads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
# byte-level BPE starts from all 256 bytes, so a smaller vocabulary could hold no merges at all
MIN_VOCAB = 256 + len(SPECIAL)
DEFAULT_MAX_POSITIONS = 1024
# where `prover init-model` writes the embedded model, and where the "embedded" generator looks
DEFAULT_EMBEDDED_DIR = Path("runs/models/embedded-tiny")

PRESETS: dict[str, dict[str, int]] = {
    "micro": dict(hidden_size=32, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2),
    "tiny": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=3, num_attention_heads=4),
    "small": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=4),
}


def _checked_texts(texts: Iterable[str]) -> Iterator[str]:
    """Pass texts through, refusing non-strings with their position (a silent skip would hide a data bug)."""
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"tokenizer corpus item {i} is {type(t).__name__}, expected str")
        yield t


def train_tokenizer(texts: Iterable[str], vocab_size: int = 600,
                    model_max_length: int = DEFAULT_MAX_POSITIONS) -> PreTrainedTokenizerFast:
    """Byte-level BPE: every string round-trips exactly (ℕ ⊢ ∀ ⟨⟩ ₀ ✝ · included), even characters
    the corpus never showed, because the base alphabet is all 256 bytes. Padding is on the left,
    which is what batched sampling wants."""
    if vocab_size < MIN_VOCAB:
        raise ValueError(f"vocab_size must be at least {MIN_VOCAB} (256 bytes + special tokens), got {vocab_size}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL["pad_token"], SPECIAL["bos_token"], SPECIAL["eos_token"], SPECIAL["unk_token"]],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    seen = [0]

    def counting(it: Iterator[str]) -> Iterator[str]:
        for t in it:
            seen[0] += 1
            yield t

    tok.train_from_iterator(counting(_checked_texts(texts)), trainer)
    if seen[0] == 0:
        raise ValueError("cannot train a tokenizer on an empty corpus")
    # no whitespace clean-up on decode: Lean text like `⟨a , b⟩` must come back byte for byte
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL, padding_side="left",
                                   model_max_length=model_max_length, clean_up_tokenization_spaces=False)


def benchmark_corpus(benchmark: str = "embedded", split: str | None = "train") -> list[str]:
    """Statements of a benchmark plus the tactics of its seed proofs: text for a tokenizer when no
    environment is at hand to replay goal states (prover/model_init.py adds those when it can)."""
    from lean_env.benchmarks import DATA_DIR, load_benchmark
    from lean_env.jsonl import read_jsonl

    theorems = load_benchmark(benchmark, split)
    texts = [t.statement for t in theorems]
    seeds = DATA_DIR / benchmark / "seed_proofs.jsonl"
    ids = {t.id for t in theorems}
    for row in read_jsonl(seeds, torn_tail_ok=False):  # no seed file: statements only
        if row.get("id") in ids:
            texts.extend(row.get("tactics", []))
    return texts


def create_model(tokenizer: PreTrainedTokenizerFast, preset: str = "tiny", seed: int = 0,
                 max_positions: int = DEFAULT_MAX_POSITIONS) -> LlamaForCausalLM:
    """A freshly initialised Llama sized by `preset`; the same seed gives the same weights."""
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    if tokenizer.eos_token_id is None or tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer needs eos and pad tokens (train it with train_tokenizer)")
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
    # fork the RNG so creating a model does not disturb the caller's random stream
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LlamaForCausalLM(config)


def num_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
