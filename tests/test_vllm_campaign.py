"""`CampaignGenerators`: one vLLM engine for a whole campaign, moved to each round's checkpoint;
cheap kinds made per use. The engine side (reload in place, reseed) is tested on a real engine in
tests/test_vllm.py; here a recording stand-in checks the bookkeeping, so it runs anywhere."""
from __future__ import annotations

import pytest

from policy import factory
from policy.factory import CampaignGenerators, GeneratorConfig


class Recorder:
    """Stands in for a generator: records what it was asked to do."""

    def __init__(self, log: list, model: str, seed: int):
        self.log, self.model = log, model
        log.append(("made", model, seed))

    def load_checkpoint(self, path):
        self.log.append(("loaded", str(path)))
        self.model = str(path)

    def reseed(self, seed: int):
        self.log.append(("reseeded", seed))

    def close(self):
        self.log.append(("closed", self.model))


@pytest.fixture
def log(monkeypatch):
    calls: list = []
    monkeypatch.setattr(factory, "make_generator", lambda cfg, model, seed, distributed=None: Recorder(calls, model, seed))
    return calls


def test_a_vllm_engine_is_made_once_and_moved_to_each_checkpoint(log):
    generators = CampaignGenerators(GeneratorConfig(kind="vllm"))
    with generators.use("ckpt/round_000", seed=0) as first:
        pass
    with generators.use("ckpt/round_001", seed=1) as second:
        assert second is first and second.model == "ckpt/round_001"
    with generators.use("ckpt/round_001", seed=1):   # the same name again: reloaded all the same
        pass
    assert log == [("made", "ckpt/round_000", 0), ("reseeded", 0),
                   ("loaded", "ckpt/round_001"), ("reseeded", 1),
                   ("loaded", "ckpt/round_001"), ("reseeded", 1)]
    generators.close()
    generators.close()   # idempotent
    assert log[-1] == ("closed", "ckpt/round_001") and log.count(("closed", "ckpt/round_001")) == 1


def test_other_kinds_are_made_per_use_and_closed_after_it(log):
    generators = CampaignGenerators(GeneratorConfig(kind="hf"))
    with generators.use("ckpt/round_000", seed=0) as first:
        pass
    with pytest.raises(RuntimeError):
        with generators.use("ckpt/round_001", seed=1):
            raise RuntimeError("search failed")   # closed on the way out all the same
    assert log == [("made", "ckpt/round_000", 0), ("closed", "ckpt/round_000"),
                   ("made", "ckpt/round_001", 1), ("closed", "ckpt/round_001")]
    assert isinstance(first, Recorder)


def test_engine_args_reach_the_engine_and_only_vllm_takes_them(monkeypatch):
    from pydantic import ValidationError

    seen = {}

    class Engine:
        def __init__(self, model, params, **kw):
            seen.update(kw, model=model)

    monkeypatch.setattr("policy.vllm_gen.VLLMGenerator", Engine)
    cfg = GeneratorConfig(**{"kind": "vllm", "engine_args": {"gpu_memory_utilization": 0.3}})
    factory.make_generator(cfg, model="ckpt/round_000")
    assert seen["gpu_memory_utilization"] == 0.3 and seen["model"] == "ckpt/round_000"
    with pytest.raises(ValidationError, match="engine_args"):
        GeneratorConfig(**{"kind": "hf", "engine_args": {"enforce_eager": True}})


def test_the_vllm_campaign_config_is_the_main_job_with_vllm_sampling():
    from dataclasses import replace
    from pathlib import Path

    from prover.config import load_config

    configs = Path(__file__).resolve().parents[1] / "configs"
    hf, vllm = load_config(configs / "embedded.yaml"), load_config(configs / "embedded-vllm.yaml")
    assert vllm.generator.kind == "vllm" and hf.generator.kind == "hf"
    assert vllm.generator.sampling == hf.generator.sampling
    assert replace(vllm, name=hf.name, generator=hf.generator) == hf
