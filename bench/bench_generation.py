"""Generation benchmark on CPU: one search-sized batch of tactic requests through `HFGenerator`.

Workload: 256 goal states (the states before every tactic of the embedded seed proofs, cycled)
x 8 samples each, default sampling settings, the embedded model `prover init-model` writes.

    python -m prover.cli init-model                   # once: runs/models/embedded-tiny
    python bench/bench_generation.py [--model DIR] [--threads 1 2] [--states 256] [--samples 8]

For scale (reported in issue 9, not re-measured here): vLLM's CPU build on this machine and
workload took about 3 s in bf16 and 4 s in fp32 with 2 threads; the sampler before the rewrite ~17 s.
"""
from __future__ import annotations

import argparse
import asyncio
import time

import torch

from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.factory import make_env
from prover.model_init import load_proofs, replay_pairs
from search.generators.checkpoint import load_checkpoint
from search.generators.hf import HFGenerator
from search.generators.tiny import DEFAULT_EMBEDDED_DIR, num_parameters


async def goal_states(count: int) -> list[str]:
    env = make_env("embedded", workers=1)
    try:
        pairs = await replay_pairs(env, load_benchmark("embedded", "train"),
                                   load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl"))
    finally:
        await env.close()
    states = [p.state for p in pairs]
    return (states * (count // len(states) + 1))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_EMBEDDED_DIR))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--states", type=int, default=256)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per setting; the best is reported")
    args = parser.parse_args()
    model, tok, _ = load_checkpoint(args.model)
    states = asyncio.run(goal_states(args.states))
    prompt_lengths = [len(HFGenerator(model, tok).encode(s)) for s in states]
    print(f"model {args.model} ({num_parameters(model) / 1e6:.2f}M params); {len(states)} states "
          f"(prompts {min(prompt_lengths)}-{max(prompt_lengths)} tokens) x {args.samples} samples")
    for threads in args.threads:
        torch.set_num_threads(threads)
        HFGenerator(model, tok).generate(states[:8], args.samples)   # warm-up
        best, cpu = float("inf"), float("inf")
        for _ in range(args.repeats):
            gen = HFGenerator(model, tok)   # fresh: the same seeds, so every repeat samples the same tokens
            t0, c0 = time.perf_counter(), time.process_time()
            out = gen.generate(states, args.samples)
            best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        tactics = [c for group in out for c in group]
        tokens = sum(c.num_tokens for c in tactics)
        # CPU seconds are the fairer number on a shared machine: waiting for a core does not count
        print(f"  {threads} thread(s): {best:6.2f}s wall, {cpu:6.2f}s CPU  {len(tactics)} finished samples, "
              f"{tokens} tokens ({tokens / best:6.0f} tok/s)")


if __name__ == "__main__":
    main()
