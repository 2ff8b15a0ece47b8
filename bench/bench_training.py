"""Training throughput on CPU: SFT tokens/s with packed rows vs length-bucketed padded batches,
and perplexity-scoring throughput (pairs/s and tokens/s), on the embedded benchmark's theorem
statements paired with seed-proof tactics and the project's "tiny" Llama.

    python bench/bench_training.py [--steps 20] [--preset tiny]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from lean_env.benchmarks import load_benchmark
from lean_env.jsonl import read_jsonl
from policy.base import PromptFormat
from policy.tiny import create_model, num_parameters, train_tokenizer
from training.scoring import tactic_logprobs
from training.sft import SFTConfig, train_sft

SEEDS = Path(__file__).resolve().parent.parent / "data" / "embedded" / "seed_proofs.jsonl"


def bench_pairs() -> list[tuple[str, str]]:
    """(prompt, tactic) pairs of realistic, varied lengths: goal-like text from statements."""
    prompt = PromptFormat()
    statements = {t.id: t.statement for t in load_benchmark("embedded")}
    pairs = []
    for row in read_jsonl(SEEDS, torn_tail_ok=False):
        state = statements[row["id"]].split(" ", 2)[-1].removesuffix(" := by")
        pairs += [(prompt.prompt(state), tac) for tac in row["tactics"]]
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batch-tokens", type=int, default=4096)
    args = ap.parse_args()
    torch.set_num_threads(2)
    pairs = bench_pairs()
    tok = train_tokenizer([p for p, _ in pairs] + [t for _, t in pairs])
    print(f"{len(pairs)} pairs, preset {args.preset}")

    for packing in (False, True):
        model = create_model(tok, args.preset, seed=0)
        cfg = SFTConfig(lr=1e-3, max_steps=args.steps, batch_tokens=args.batch_tokens, warmup_steps=2,
                        max_len=256, packing=packing)
        res = train_sft(model, tok, pairs, cfg)
        print(f"SFT {'packed' if packing else 'padded'} ({num_parameters(model) / 1e6:.2f}M params): "
              f"{res.steps} steps, {res.tokens} real tokens in {res.seconds:.1f}s = {res.tokens_per_s:.0f} tokens/s, "
              f"loss {res.losses[0]:.2f} -> {res.final_loss:.2f}")

    model = create_model(tok, args.preset, seed=0).eval()
    prompts, tactics = [p for p, _ in pairs], [t for _, t in pairs]
    t0 = time.perf_counter()
    scores = tactic_logprobs(model, tok, prompts, tactics, batch_tokens=16384)
    dt = time.perf_counter() - t0
    ntok = sum(len(tok(p + t)["input_ids"]) for p, t in pairs)
    print(f"scoring: {len(scores)} pairs in {dt:.2f}s = {len(scores) / dt:.0f} pairs/s, {ntok / dt:.0f} tokens/s")


if __name__ == "__main__":
    main()
