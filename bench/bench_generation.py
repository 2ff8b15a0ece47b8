"""Generation benchmark on CPU: our KV-cached sampler vs HF `generate`, 256 samples x 20 tokens,
and one best-first search's worth of calls (100 expansions x 8 tactics) through `HFGenerator`.

    python bench/bench_generation.py [--presets tiny small] [--threads 2]

Untrained models are used with EOS disabled, so every sample runs the full 20 tokens in both paths.
"""
from __future__ import annotations

import argparse
import time

import torch

from search.generators.hf import HFGenerator
from search.generators.sampling import sample
from search.generators.tiny import create_model, num_parameters, train_tokenizer

STATE = "a b : ℕ\nh₀ : a = 2\nh₁ : b < 7\n⊢ a + b = b + 2"
NEW_TOKENS = 20


def time_ours(model, prompts: list[list[int]], n: int, pad_id: int) -> float:
    t0 = time.perf_counter()
    sample(model, prompts, n, eos_id=-1, pad_id=pad_id, max_new_tokens=NEW_TOKENS,
           generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - t0


def time_hf_generate(model, prompt: list[int], batch: int, pad_id: int) -> float:
    ids = torch.tensor([prompt] * batch)
    t0 = time.perf_counter()
    with torch.no_grad():
        model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=NEW_TOKENS,
                       min_new_tokens=NEW_TOKENS, pad_token_id=pad_id, eos_token_id=None)
    return time.perf_counter() - t0


def time_search_calls(model, tok, expansions: int = 100, tactics: int = 8) -> float:
    """One search expands one node at a time: `expansions` calls of 1 state x `tactics` samples."""
    gen = HFGenerator(model, tok, max_new_tokens=NEW_TOKENS, seed=0)
    t0 = time.perf_counter()
    for _ in range(expansions):
        gen.generate([STATE], tactics)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tok = train_tokenizer([STATE, "rw [h₀]", "omega", "nlinarith [sq_nonneg (a - b)]"] * 20)
    total = 256 * NEW_TOKENS
    for preset in args.presets:
        model = create_model(tok, preset).eval()
        model.generation_config.eos_token_id = None
        prompt = HFGenerator(model, tok).encode(STATE)
        time_ours(model, [prompt], 2, tok.pad_token_id)  # warm-up
        ours_shared = time_ours(model, [prompt] * 32, 8, tok.pad_token_id)     # 32 states x 8 samples
        ours_flat = time_ours(model, [prompt] * 256, 1, tok.pad_token_id)      # 256 prompts x 1 sample
        hf = time_hf_generate(model, prompt, 256, tok.pad_token_id)
        print(f"{preset} ({num_parameters(model) / 1e6:.2f}M params), 256 x {NEW_TOKENS} tokens:")
        print(f"  KV-cached sampler, 32 states x 8: {ours_shared:6.2f}s  ({total / ours_shared:7.0f} tok/s)")
        print(f"  KV-cached sampler, 256 x 1:       {ours_flat:6.2f}s  ({total / ours_flat:7.0f} tok/s)")
        print(f"  HF generate, 256 x 1:             {hf:6.2f}s  ({total / hf:7.0f} tok/s)")
        # EOS stays enabled here, so untrained models may stop early: an upper bound of real cost
        model.generation_config.eos_token_id = tok.eos_token_id
        print(f"  best-first budget, 100 calls x 8 tactics via HFGenerator: {time_search_calls(model, tok):.2f}s")


if __name__ == "__main__":
    main()
