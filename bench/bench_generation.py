"""Generation benchmark: our KV-cached sampler vs HF `generate`, 256 samples x 20 tokens.

    python bench/bench_generation.py
"""
from __future__ import annotations

import time

import torch

from search.generators.hf import HFGenerator
from search.generators.tiny import create_model, num_parameters, train_tokenizer

STATE = "a b : ℕ\nh₀ : a = 2\nh₁ : b < 7\n⊢ a + b = b + 2"


def main() -> None:
    torch.set_num_threads(2)
    tok = train_tokenizer([STATE, "rw [h₀]", "omega", "nlinarith [sq_nonneg (a - b)]"] * 20)
    for preset in ("tiny", "small"):
        model = create_model(tok, preset).eval()
        gen = HFGenerator(model, tok, max_new_tokens=20)
        gen.tokenizer.eos_token_id  # noqa: B018
        model.generation_config.eos_token_id = None  # force full-length samples in both paths
        states = [STATE] * 32
        from search.generators import sampling

        t0 = time.perf_counter()
        prompts = [gen.encode(s) for s in states]
        sampling.sample(model, prompts, 8, eos_id=-1, pad_id=tok.pad_token_id, max_new_tokens=20)
        ours = time.perf_counter() - t0
        ids = torch.tensor([prompts[0]] * 256)
        t0 = time.perf_counter()
        with torch.no_grad():
            model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=20,
                           min_new_tokens=20, pad_token_id=tok.pad_token_id)
        hf = time.perf_counter() - t0
        print(f"{preset} ({num_parameters(model) / 1e6:.2f}M params): KV-cached sampler {ours:.2f}s, "
              f"HF generate {hf:.2f}s for 256 x 20 tokens ({256 * 20 / ours:.0f} vs {256 * 20 / hf:.0f} tokens/s)")


if __name__ == "__main__":
    main()
