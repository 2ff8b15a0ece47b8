"""Ray distribution: placement from node resources (no cluster), then a simulated multi-node
cluster on this machine (`ray.cluster_utils.Cluster`): actors land on every node, and a node
killed mid-search loses no attempt."""
from __future__ import annotations

import time

import pytest

from conftest import run, thm
from lean_env.factory import EnvConfig, make_env
from lean_env.cluster import DistributedConfig, NodeInfo, plan
from search.best_first import SearchConfig
from policy.scripted import ScriptedGenerator

GPU_NODE = NodeInfo("gpu-node", {"CPU": 16.0, "GPU": 2.0, "lean": 1.0})
CPU_NODE = NodeInfo("cpu-node", {"CPU": 8.0, "lean": 1.0})
HEAD = NodeInfo("head", {"CPU": 2.0})


# ---------------------------------------------------------------- placement, from fake node resources


def test_plan_puts_one_env_actor_on_every_node_and_generators_on_gpu_nodes():
    placement = plan([HEAD, GPU_NODE, CPU_NODE], DistributedConfig())
    workers = {slot.node_id: slot.workers for slot in placement.envs}
    # the GPU node's two generators keep a CPU each away from its REPL workers
    assert workers == {"head": 2, "gpu-node": 14, "cpu-node": 8}
    assert [(g.node_id, g.gpus) for g in placement.generators] == [("gpu-node", 1), ("gpu-node", 1)]


def test_plan_honours_the_env_resource_workers_and_generator_gpus():
    cfg = DistributedConfig(env_resource="lean", workers_per_node=10, generator_gpus=2, generator_cpus=4)
    placement = plan([HEAD, GPU_NODE, CPU_NODE], cfg)
    # head lacks `lean`; the CPU node has fewer than 10 CPUs; the GPU node hosts one 2-GPU generator
    assert [(s.node_id, s.workers) for s in placement.envs] == [("gpu-node", 10)]
    assert [(g.node_id, g.gpus, g.cpus) for g in placement.generators] == [("gpu-node", 2, 4.0)]
    assert plan([HEAD, CPU_NODE], DistributedConfig()).generators == ()


def test_plan_without_room_for_an_env_actor_says_why():
    with pytest.raises(ValueError, match=r"resource 'lean'.*nodes: head"):
        plan([HEAD], DistributedConfig(env_resource="lean"))


def test_campaign_yaml_turns_distribution_on(tmp_path):
    from prover.config import ConfigError, load_config

    path = tmp_path / "c.yaml"
    path.write_text("distributed:\n  address: auto\n  env_resource: lean\n")
    assert load_config(path).distributed == DistributedConfig(env_resource="lean")
    path.write_text("{}\n")
    assert load_config(path).distributed is None
    path.write_text("distributed:\n  workers: 3\n")
    with pytest.raises(ConfigError, match="distributed.workers"):
        load_config(path)


def test_missing_ray_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    from lean_env.cluster import import_ray

    with pytest.raises(ImportError, match=r"bfs-prover\[dist\]"):
        import_ray()


# ---------------------------------------------------------------- a simulated cluster


def chain_tactics(state: str):
    """`intro` while the goal is an implication, then `omega`: a chain theorem takes one expansion
    per hypothesis, so states pile up on the actors before the proof closes."""
    goal = state.split("⊢")[-1]
    return [(f"intro h{state.count(chr(10))}", -0.1)] if "→" in goal else [("omega", -0.1)]


THEOREMS = [thm(f"theorem c{i} (x y z : ℕ) : x = {i} → y = {i} → z = {i} → x + y + z = {3 * i} := by")
            for i in range(6)]
THEOREMS += [thm("theorem u0 (x : ℕ) : x = 1 → x = 2 := by"), thm("theorem u1 (x y : ℕ) : x = y → x = y + 1 := by")]
SEARCH = SearchConfig(tactics_per_expansion=2, max_expansions=8)


class KillWhen(ScriptedGenerator):
    """Runs `kill` (blocking, in the batcher's thread) before answering the first generation call
    at which `ready(calls so far)` holds: the search is paused while the node dies, so the kill
    always lands mid-search."""

    def __init__(self, ready, kill):
        super().__init__(chain_tactics)
        self.ready, self.kill, self.killed = ready, kill, False

    def generate(self, states, n):
        if not self.killed and self.ready(len(self.calls)):
            self.killed = True
            self.kill()
        return super().generate(states, n)


def kill_node(cluster, node, actor) -> None:
    """Remove `node` and wait until its actor stops answering: the worker process of a removed
    simulated node may serve a few more calls before it notices, a vanished machine would not."""
    import ray

    cluster.remove_node(node, allow_graceful=False)
    for _ in range(300):
        try:
            ray.get(actor.node_id.remote(), timeout=10)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            return
        time.sleep(0.1)
    raise AssertionError("the actor of a removed node still answers")


def evaluate_with(env, generator, out, attempts=2, before_close=None):
    from search.evaluate import evaluate

    async def go():
        try:
            return await evaluate(THEOREMS, env, generator, SEARCH, out, attempts, stop_on_success=False, concurrency=8)
        finally:
            if before_close is not None:
                before_close()
            await env.close()
    return run(go())


def actor_roots(env) -> list[int]:
    """Attempts each live environment actor still keeps roots for (released ones are gone)."""
    import ray

    return [ray.get(a.handle.__ray_call__.remote(lambda actor: len(actor.roots) + len(actor.rebuilt)))
            for a in env.actors if a.alive]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same evaluation on a local pool, no Ray."""
    return evaluate_with(make_env("embedded", workers=2), ScriptedGenerator(chain_tactics),
                         tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def cluster():
    """A head node (the driver's, no `lean` resource), two `lean` nodes, one with a (fake) GPU, and
    a `doomed` node for the test that loses every environment node."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'bfs-prover[dist]'")
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        c.add_node(wait=False, num_cpus=2, resources={"lean": 1})     # the nodes start side by side
        c.add_node(wait=False, num_cpus=2, num_gpus=1, resources={"lean": 1})
        c.add_node(wait=False, num_cpus=1, resources={"doomed": 1})
        ray.init(address=c.address, log_to_driver=False)
        c.wait_for_nodes()
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


def lean_nodes(cluster, resource="lean", gpu=False):
    """The cluster's alive nodes that carry `resource` (and a GPU, with `gpu`), as `Cluster` nodes."""
    import ray

    ids = {n["NodeID"] for n in ray.nodes()
           if n["Alive"] and n["Resources"].get(resource) and (n["Resources"].get("GPU") or not gpu)}
    return [n for n in cluster.list_all_nodes() if n.node_id in ids]


def test_actors_land_on_every_node_and_a_generator_on_the_gpu_node(cluster, tmp_path):
    from functools import partial

    from lean_env.cluster import cluster_placement
    from policy.factory import GeneratorConfig, local_generator
    from policy.ray_gen import RayGenerator

    dist = DistributedConfig(address=cluster.address, env_resource="lean")
    nodes = {n.node_id for n in lean_nodes(cluster)}
    [gpu_node] = [n.node_id for n in lean_nodes(cluster, gpu=True)]
    env = make_env(EnvConfig(workers=1), distributed=dist)
    assert len(nodes) == 2 and sorted(env.nodes) == sorted(nodes)     # where Ray says each actor runs
    generator = RayGenerator(partial(local_generator, GeneratorConfig(kind="scripted"), None, None),
                             cluster_placement(dist).generators, dist)
    try:
        assert generator.nodes == [gpu_node]
        # the default scripted tactics, answered by the remote generator: omega closes every chain
        kept = []
        summary, records = evaluate_with(env, generator, tmp_path, attempts=1,
                                         before_close=lambda: kept.extend(actor_roots(env)))
    finally:
        generator.close()
    assert {r.theorem_id for r in records if r.proved} == {f"c{i}" for i in range(6)}
    assert summary.theorems == len(THEOREMS) and summary.env_failures == 0
    assert all(a.served > 0 for a in env.actors)                     # both nodes did work
    assert set(env.held_states().values()) == {0} and kept == [0, 0]   # every attempt released, here and there


def test_an_actor_that_cannot_be_placed_is_dropped_and_none_at_all_is_an_error(cluster):
    from functools import partial

    from lean_env.cluster import EnvSlot
    from lean_env.ray_env import RayEnv

    dist = DistributedConfig(address=cluster.address, actor_timeout=60)
    gone = "ab" * 28    # a node id no node has (a node that died after the plan was made)
    real = lean_nodes(cluster)[0].node_id
    build = partial(make_env, EnvConfig(workers=1))
    env = RayEnv(build, [EnvSlot(gone, 1), EnvSlot(real, 1)], dist)
    try:
        assert env.nodes == [real]
    finally:
        run(env.close())
    with pytest.raises(RuntimeError, match="no environment actor started"):
        RayEnv(build, [EnvSlot(gone, 1)], dist)


def _wait_until_dead(ray, handle, seconds: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ray.get(handle.node_id.remote(), timeout=5)
        except Exception:   # RayActorError (or a timeout): the actor is gone
            return
        time.sleep(0.1)
    raise AssertionError("the killed actor still answers")


def test_a_lost_generator_s_states_go_to_the_others(cluster):
    import ray

    from functools import partial

    from lean_env.cluster import GeneratorSlot
    from policy.factory import GeneratorConfig, local_generator
    from policy.ray_gen import RayGenerator

    dist = DistributedConfig(address=cluster.address)
    nodes = [n.node_id for n in lean_nodes(cluster)]
    generator = RayGenerator(partial(local_generator, GeneratorConfig(kind="scripted"), None, None),
                             [GeneratorSlot(n, 0, 0.0) for n in nodes], dist)
    try:
        states = [f"x : ℕ\n⊢ x + {i} = {i} + x" for i in range(16)]
        before = generator.generate(states, 3)
        ray.kill(generator.actors[0].handle)
        _wait_until_dead(ray, generator.actors[0].handle)   # kill is asynchronous: a quick call may still be served
        assert generator.generate(states, 3) == before
        assert generator.lost_nodes == nodes[:1] and generator.nodes == nodes[1:]
    finally:
        generator.close()


def test_a_campaign_s_generators_are_the_ray_generators_eval_gets(cluster, tmp_path):
    # before the tests that kill nodes: it needs the GPU node
    """`CampaignGenerators` with a `distributed:` section builds through the same factory as
    `prover eval --ray`: an hf generator actor on the GPU node, sampling exactly what a local
    generator samples from the same checkpoint and seed, stopped when the use ends."""
    from policy.checkpoint import save_checkpoint
    from policy.factory import CampaignGenerators, GeneratorConfig, make_generator
    from policy.ray_gen import RayGenerator
    from training_fixtures import char_tokenizer, micro_llama

    tokenizer = char_tokenizer()
    checkpoint = save_checkpoint(micro_llama(tokenizer), tokenizer, tmp_path / "round_001")
    cfg = GeneratorConfig(kind="hf", device="cpu", sampling={"max_tokens": 8})   # the simulated GPU has no CUDA
    dist = DistributedConfig(address=cluster.address, env_resource="lean")
    [gpu_node] = [n.node_id for n in lean_nodes(cluster, gpu=True)]
    states = [f"x : ℕ\n⊢ x + {i} = {i} + x" for i in range(5)]
    generators = CampaignGenerators(cfg, dist)
    try:
        with generators.use(checkpoint, seed=3) as generator:
            assert isinstance(generator, RayGenerator) and generator.nodes == [gpu_node]
            remote = generator.generate(states, 4)
            actors = list(generator.actors)
    finally:
        generators.close()
    local = make_generator(cfg, model=str(checkpoint), seed=3).generate(states, 4)
    assert [[c.tactic for c in row] for row in remote] == [[c.tactic for c in row] for row in local]
    assert [[round(c.logprob, 4) for c in row] for row in remote] == [[round(c.logprob, 4) for c in row] for row in local]
    import ray

    with pytest.raises(ray.exceptions.RayActorError):   # the use's actors were stopped with it
        ray.get(actors[0].handle.node_id.remote(), timeout=30)


def test_a_node_killed_mid_search_loses_no_attempt(cluster, reference, tmp_path):
    dist = DistributedConfig(address=cluster.address, env_resource="lean")
    env = make_env(EnvConfig(workers=1), distributed=dist)
    victim = next(n for n in lean_nodes(cluster) if n.node_id == env.nodes[0])
    busy = lambda calls: calls >= 2 and env.held_states()[victim.node_id] >= 2   # the victim holds search states
    kept = []
    summary, records = evaluate_with(env, KillWhen(busy, lambda: kill_node(cluster, victim, env.actors[0].handle)),
                                     tmp_path, before_close=lambda: kept.extend(actor_roots(env)))
    ref_summary, ref_records = reference
    assert env.lost_nodes == [victim.node_id]
    assert env.rebuilt_states > 0             # the victim held states; they were rebuilt elsewhere
    assert kept == [0]                        # the survivor released the rebuilt roots too
    key = lambda r: (r.theorem_id, r.attempt)
    assert sorted(map(key, records)) == sorted(map(key, ref_records))   # every attempt, once
    got = {key(r): (r.proved, r.proof, r.expansions, r.env_failures) for r in records}
    want = {key(r): (r.proved, r.proof, r.expansions, r.env_failures) for r in ref_records}
    assert got == want
    assert (summary.theorems, summary.proved, summary.env_failures) == (len(THEOREMS), 6, 0)
    assert summary == ref_summary


def test_losing_every_env_node_fails_attempts_as_env_failures_in_the_denominator(cluster, reference, tmp_path):
    [doomed] = lean_nodes(cluster, "doomed")
    dist = DistributedConfig(address=cluster.address, env_resource="doomed")
    env = make_env(EnvConfig(workers=1), distributed=dist)
    assert env.nodes == [doomed.node_id]
    kill = KillWhen(lambda calls: calls == 1, lambda: kill_node(cluster, doomed, env.actors[0].handle))
    summary, records = evaluate_with(env, kill, tmp_path, attempts=1)
    assert sorted(r.theorem_id for r in records) == sorted(t.id for t in THEOREMS)   # none dropped
    assert summary.theorems == len(THEOREMS)
    assert (summary.proved, summary.env_failures) == (0, len(THEOREMS)) and reference[0].proved == 6
    # the kill came before any attempt's second expansion: each one met the dead node
    assert all(not r.proved and r.env_failures > 0 for r in records)
