"""Generation benchmark on CPU: one search-sized batch of tactic requests through `HFGenerator` and
`VLLMGenerator` (fp32 and bf16 each), on the same checkpoint and workload.

Workload: 256 goal states (the states before every tactic of the embedded seed proofs, cycled)
x 8 samples each, default sampling settings, the embedded model `prover init-model` writes.

    python -m prover.cli init-model                   # once: runs/models/embedded-tiny
    VLLM_CPU_KVCACHE_SPACE=1 python bench/bench_generation.py [--model DIR] [--backends hf vllm]
        [--dtypes float32 bfloat16] [--threads 2] [--states 256] [--samples 8]

vLLM needs its CPU build here (bash scripts/setup_vllm_cpu.sh VENV); without it only hf runs.
Wall time is the best of `--repeats` runs after a warm-up; CPU time counts this process and its
children (vLLM's engine runs in a child process), so it is the fairer number on a shared machine.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import time

import psutil
import torch

from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.factory import make_env
from prover.model_init import load_proofs, replay_pairs
from policy.checkpoint import load_checkpoint
from policy.hf import HFGenerator
from policy.tiny import DEFAULT_EMBEDDED_DIR, num_parameters


async def goal_states(count: int) -> list[str]:
    env = make_env("embedded", workers=1)
    try:
        pairs = await replay_pairs(env, load_benchmark("embedded", "train"),
                                   load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl"))
    finally:
        await env.close()
    states = [p.state for p in pairs]
    return (states * (count // len(states) + 1))[:count]


def cpu_seconds() -> float:
    me = psutil.Process()
    times = [me.cpu_times()] + [c.cpu_times() for c in me.children(recursive=True)]
    return sum(t.user + t.system for t in times)


def timed(make, states: list[str], samples: int, repeats: int) -> tuple[float, float, list]:
    """(best wall s, its CPU s, the output): each repeat reseeds, so every repeat samples the same tokens."""
    make().generate(states[:8], samples)   # warm-up
    best, cpu, out = float("inf"), float("inf"), []
    for _ in range(repeats):
        gen = make()
        t0, c0 = time.perf_counter(), cpu_seconds()
        out = gen.generate(states, samples)
        wall, used = time.perf_counter() - t0, cpu_seconds() - c0
        if wall < best:
            best, cpu = wall, used
    return best, cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_EMBEDDED_DIR))
    parser.add_argument("--backends", nargs="+", default=["hf", "vllm"], choices=["hf", "vllm"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"], choices=["float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=2, help="torch threads for hf")
    parser.add_argument("--states", type=int, default=256)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per setting; the best is reported")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    states = asyncio.run(goal_states(args.states))
    model, tok, _ = load_checkpoint(args.model)
    prompt_lengths = [len(HFGenerator(model, tok).encode(s)) for s in states]
    print(f"model {args.model} ({num_parameters(model) / 1e6:.2f}M params); {len(states)} states "
          f"(prompts {min(prompt_lengths)}-{max(prompt_lengths)} tokens) x {args.samples} samples")
    print("| backend | dtype | start-up | wall | CPU | finished samples | tokens | tokens/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for backend in args.backends:
        if backend == "vllm" and importlib.util.find_spec("vllm") is None:
            print("| vllm | - | not installed (bash scripts/setup_vllm_cpu.sh VENV) | | | | | |")
            continue
        for dtype in args.dtypes:
            t0 = time.perf_counter()
            if backend == "hf":
                torch.set_num_threads(args.threads)
                lm, tok, _ = load_checkpoint(args.model, dtype=dtype)
                make, close = (lambda: HFGenerator(lm, tok)), (lambda: None)
            else:
                from policy.vllm_gen import VLLMGenerator

                engine = VLLMGenerator(args.model, dtype=dtype)
                make, close = (lambda: (engine.reseed(0), engine)[1]), engine.close
            startup = time.perf_counter() - t0
            wall, cpu, out = timed(make, states, args.samples, args.repeats)
            close()
            tactics = [c for group in out for c in group]
            tokens = sum(c.num_tokens for c in tactics)
            print(f"| {backend} | {dtype} | {startup:.1f} s | {wall:.2f} s | {cpu:.2f} s | {len(tactics)} | "
                  f"{tokens} | {tokens / wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
