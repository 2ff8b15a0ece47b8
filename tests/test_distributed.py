"""Evaluation with environment workers as Ray actors, on a local Ray instance."""
from __future__ import annotations

import pytest

from conftest import run, thm


def test_ray_env_runs_a_search_across_actors():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'bfs-prover[dist]'")
    from prover.distributed import RayEnv
    from lean_env.factory import EnvConfig
    from search.batcher import GenerationBatcher
    from search.best_first import SearchConfig
    from search.scheduler import RunConfig, run_attempts
    from search.scripted import ScriptedGenerator

    theorems = [thm(f"theorem r{i} (x : ℕ) (h : x + {i} = {i + 3}) : x = 3 := by") for i in range(4)]
    theorems.append(thm("theorem rno (x : ℕ) (h : x * x = 2) : False := by"))

    async def go():
        env = RayEnv("local", actors=2, spec=EnvConfig(workers=1), num_cpus=2)
        try:
            gen = ScriptedGenerator(["omega", "linarith"])
            return await run_attempts(theorems, env, GenerationBatcher(gen), SearchConfig(2, 4), RunConfig())
        finally:
            await env.close()
    try:
        records = run(go())
    finally:
        ray.shutdown()
    proved = {r.theorem_id for r in records if r.proved}
    assert proved == {f"r{i}" for i in range(4)}
    assert len(records) == 5


def test_missing_ray_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    from prover.distributed import import_ray

    with pytest.raises(ImportError, match=r"bfs-prover\[dist\]"):
        import_ray()
