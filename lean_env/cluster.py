"""A Ray cluster (optional extra `[dist]`): joining it, and where actors go.

Placement is decided by `plan`, a pure function of the alive nodes' resources (so it is tested
without a cluster), and enforced with node affinity, not left to Ray's default scheduler (which
packs zero-CPU actors onto the driver's node):

- one environment actor per node that may host one (every alive node, or only those carrying the
  custom resource `env_resource`), holding a `ReplPool` of W REPL workers; W is the node's CPUs
  less what its generators reserve (or `workers_per_node`), and the actor reserves W CPUs
  (lean_env/ray_env.py: `RayEnv`);
- one generator actor per `generator_gpus` GPUs of every GPU node, for generators that sample
  from local weights (hf, vllm); without GPU nodes generation stays in the driver
  (policy/ray_gen.py: `RayGenerator`).

`make_env` (lean_env/factory.py) and `make_generator` (policy/factory.py) build on this when
given a `DistributedConfig`: campaigns and `prover eval` get the same actors.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from pydantic import Field

from lean_env.config import config_record

from lean_env.optional import require

log = logging.getLogger(__name__)


@config_record(frozen=True)
class DistributedConfig:
    """The `distributed:` section of a campaign (absent: everything runs in this process)."""

    address: str = "auto"                        # "auto": the cluster `ray start` joined; "local": a new one here; or host:port
    env_resource: Optional[str] = None           # only nodes with this custom resource host environment actors
    workers_per_node: Optional[int] = Field(None, ge=1)   # REPL workers per env actor (default: the node's free CPUs;
                                                          # env.workers sizes the local pool only)
    generator_gpus: int = Field(1, ge=1)         # GPUs each generator actor reserves (>1: for an engine that shards)
    generator_cpus: float = Field(1.0, ge=0)     # CPUs each generator actor reserves, not given to REPL workers
    actor_timeout: float = Field(300.0, gt=0)    # seconds for the actors to come up before a round gives up on them


def import_ray():
    return require("ray", extra="dist")


def connect(address: str):
    """`local` starts a Ray instance on this machine; anything else joins that cluster."""
    ray = import_ray()
    if not ray.is_initialized():
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    return ray


# ---------------------------------------------------------------- placement


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    resources: Mapping[str, float]    # the node's total resources: CPU, GPU, custom ones


@dataclass(frozen=True)
class EnvSlot:
    node_id: str
    workers: int                      # REPL workers of the actor = CPUs it reserves


@dataclass(frozen=True)
class GeneratorSlot:
    node_id: str
    gpus: int
    cpus: float


@dataclass(frozen=True)
class Placement:
    envs: tuple[EnvSlot, ...]
    generators: tuple[GeneratorSlot, ...]


def cluster_nodes(ray) -> list[NodeInfo]:
    return [NodeInfo(n["NodeID"], dict(n["Resources"])) for n in ray.nodes() if n["Alive"]]


def plan(nodes: Sequence[NodeInfo], cfg: DistributedConfig) -> Placement:
    """One environment actor per eligible node, one generator per `generator_gpus` GPUs of a node."""
    envs, generators, skipped = [], [], []
    for node in nodes:
        n_gen = int(node.resources.get("GPU", 0)) // cfg.generator_gpus
        generators += [GeneratorSlot(node.node_id, cfg.generator_gpus, cfg.generator_cpus)] * n_gen
        if cfg.env_resource and node.resources.get(cfg.env_resource, 0) <= 0:
            continue
        free = int(node.resources.get("CPU", 0) - n_gen * cfg.generator_cpus)
        workers = cfg.workers_per_node or free
        if workers < 1 or workers > free:
            skipped.append(f"{node.node_id[:12]} ({free} free CPUs)")
            continue
        envs.append(EnvSlot(node.node_id, workers))
    if skipped:
        log.warning("no environment actor on %s: fewer free CPUs than %s", ", ".join(skipped),
                    f"workers_per_node={cfg.workers_per_node}" if cfg.workers_per_node else "one")
    if not envs:
        wanted = f"the resource {cfg.env_resource!r} and " if cfg.env_resource else ""
        raise ValueError(f"no node of the Ray cluster can host an environment actor (it needs {wanted}"
                         f"{cfg.workers_per_node or 1} free CPUs); nodes: "
                         + "; ".join(f"{n.node_id[:12]} {dict(n.resources)}" for n in nodes))
    return Placement(tuple(envs), tuple(generators))


def cluster_placement(cfg: DistributedConfig) -> Placement:
    return plan(cluster_nodes(connect(cfg.address)), cfg)


def pinned(ray, node_id: str) -> Any:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id, soft=False)


def lost_errors(ray) -> tuple[type[BaseException], ...]:
    """What a call raises when its actor (or the actor's node) is gone, or was never placed."""
    return ray.exceptions.RayActorError, ray.exceptions.ActorUnschedulableError


def start_actors(ray, handles: list, cfg: DistributedConfig, what: str) -> list[str | None]:
    """Each actor's node id once it is up, None for one that died or timed out (it is killed)."""
    refs = [h.node_id.remote() for h in handles]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=cfg.actor_timeout)
    nodes: list[str | None] = []
    for handle, ref in zip(handles, refs):
        try:
            nodes.append(ray.get(ref, timeout=0) if ref in ready else None)
        except lost_errors(ray) as e:
            log.warning("a %s actor failed to start: %s", what, e)
            nodes.append(None)
        if nodes[-1] is None:
            ray.kill(handle)
    if not any(nodes):
        raise RuntimeError(f"no {what} actor started within {cfg.actor_timeout:g}s (see the Ray logs of the nodes)")
    return nodes


@dataclass
class Actor:
    """A started actor, as the driver sees it."""

    handle: Any
    node_id: str
    alive: bool = True
    load: int = 0         # requests in flight
    served: int = 0       # requests answered

