"""The rollout engine of a GRPO run and how the trainer's weights reach it.

Three set-ups, from `GRPOConfig.rollout` (a `GeneratorConfig`, the record a campaign's
`generator:` section is) and `policy_lag`:

- kind hf, dtype float32 (or unset), policy_lag 0: the sampler runs on the trainer's own module,
  so it always sees the current weights and there is nothing to sync (train/inference mismatch
  is then only what differs between a KV-cached sampling pass and a full training forward).
- kind hf with dtype bfloat16 and/or policy_lag > 0: a separate copy of the policy (in bf16 if
  asked), kept up to date through the generator contract `load_weights`, before each rollout
  batch. With bf16 the sampler's log-probs differ from the fp32 trainer's: a real per-token
  mismatch epsilon_t, the one the MAI safeguards and truncated IS exist for.
- kind vllm: the generator `make_generator` builds on the checkpoint the run starts from, synced
  the same way (its `load_weights` is the engines side of the contract). vLLM returns the sampled
  tokens' processed log-probs but not the top-p kept set, so that kind needs top_p = 1.

Policy lag s (asynchronous RL): the weights after each optimiser step are kept (CPU copies, s + 1
of them), and a rollout batch starting after T steps samples from the weights of step max(T - s, 0).
"""
from __future__ import annotations

import copy
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import torch

from policy.sampling import Sample
from training.grpo.config import GRPOConfig
from training.grpo.rollout import Policy, RolloutSampler, policy_sampler

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


class VLLMRollouts:
    """`RolloutSampler` over a `VLLMGenerator`: token-id prompts, one request per row with its own
    seed, processed log-probs of the sampled tokens, no kept sets (vLLM does not return them)."""

    def __init__(self, generator):
        self.generator = generator
        self.tokenizer, self.prompt, self.params = generator.tokenizer, generator.prompt, generator.params
        self.max_prompt_tokens = generator.max_prompt_tokens

    def sample_ids(self, prompts: Sequence[list[int]], row_seeds: Sequence[int]) -> list[Sample]:
        v, p = self.generator.vllm, self.params
        # no stop strings: like the HF sampler we stop at EOS and cut the text afterwards
        params = [v.SamplingParams(n=1, temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens, logprobs=0,
                                   seed=int(s) % (1 << 31)) for s in row_seeds]
        outputs = self.generator.llm.generate([{"prompt_token_ids": list(ids)} for ids in prompts], params,
                                              use_tqdm=False)
        samples = []
        for out in outputs:
            c = out.outputs[0]
            ids = list(c.token_ids)
            lps = [float(pos[tok].logprob) for tok, pos in zip(ids, c.logprobs or [])]
            samples.append(Sample(ids, lps, c.finish_reason == "stop", [None] * len(ids)))
        return samples

    def load_weights(self, named_tensors, reference=None) -> None:
        """In place into the engine; with the `reference` model they came from, the engine's
        log-probs are checked against it (`VLLMGenerator.check_weights`, WeightSyncError)."""
        self.generator.load_weights(named_tensors, reference=reference)


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class RolloutEngine:
    """The sampler rollouts use (`sampler`) and its weight sync (`sync` before each rollout
    batch, `record` after each optimiser step)."""

    def __init__(self, policy: Policy, cfg: GRPOConfig, model_dir: str | Path | None = None):
        from policy.hf import HFGenerator

        r = cfg.rollout
        dtype = r.dtype or "float32"
        self.lag = cfg.policy_lag
        self.shared = r.kind == "hf" and dtype == "float32" and self.lag == 0
        if self.shared:
            self.sampler: RolloutSampler = policy_sampler(policy, cfg)
        elif r.kind == "vllm":
            from policy.factory import make_generator

            if model_dir is None:
                raise ValueError("rollout kind vllm starts from a checkpoint directory (grpo_from_checkpoint)")
            self.sampler = VLLMRollouts(make_generator(replace(r, dtype=dtype), model=str(model_dir)))
        else:
            twin = copy.deepcopy(policy.model).to(DTYPES[dtype]).eval()
            twin.requires_grad_(False)
            base = policy_sampler(policy, cfg)
            self.sampler = HFGenerator(twin, policy.tokenizer, r.sampling, policy.fmt,
                                       max_prompt_tokens=base.max_prompt_tokens, batch_size=r.batch_size)
        self.history: deque[tuple[int, dict[str, torch.Tensor]]] = deque(maxlen=self.lag + 1)
        if self.lag:
            self.history.append((0, _snapshot(policy.model)))

    def record(self, model: torch.nn.Module, steps_done: int) -> None:
        """Called after each optimiser step: keeps the weights a lagged sampler may need."""
        if self.lag:
            self.history.append((steps_done, _snapshot(model)))

    def sync(self, model: torch.nn.Module, steps_done: int) -> int:
        """Load the weights the next rollout batch samples from; returns their step index."""
        if self.shared:
            return steps_done
        if not self.lag:
            if isinstance(self.sampler, VLLMRollouts):   # a separate engine: checked against the trainer
                self.sampler.load_weights(model.state_dict().items(), reference=model)
            else:
                self.sampler.load_weights(model.state_dict().items())
            return steps_done
        target = max(steps_done - self.lag, 0)
        for step, weights in self.history:
            if step == target:
                self.sampler.load_weights(weights.items())
                return step
        raise RuntimeError(f"no weights kept for step {target} (kept {[s for s, _ in self.history]})")
