"""`RayGenerator`: a `TacticGenerator` over generator actors pinned to the GPU nodes of a Ray
cluster (placement: lean_env/cluster.py; built by `make_generator(cfg, distributed=...)`).

Each goal state is routed to a generator by a stable hash, so a state's repeated visits meet the
same per-state seed counter; the states of a lost generator are rerouted to the others. Model
paths (hf, vllm checkpoints) must be readable on every GPU node (a shared filesystem).
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Callable, Iterable, Sequence

from lean_env.cluster import Actor, DistributedConfig, GeneratorSlot, connect, lost_errors, pinned, start_actors

log = logging.getLogger(__name__)


class _GeneratorActorImpl:
    """The body of a generator actor: one generator on the GPUs Ray gave this actor."""

    def __init__(self, build: Callable[[bool], Any], on_gpu: bool):
        self.generator = build(on_gpu)

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None):
        return self.generator.generate(states, n, keys)

    def load_weights(self, named_tensors: list) -> None:
        self.generator.load_weights(named_tensors)

    def load_checkpoint(self, path: str) -> None:
        self.generator.load_checkpoint(path)

    def reseed(self, seed: int) -> None:
        self.generator.reseed(seed)


def _route(state: str, buckets: int) -> int:
    """A stable choice of generator for a goal state (Python's `hash` differs between processes)."""
    return int.from_bytes(hashlib.blake2b(state.encode(), digest_size=8).digest(), "big") % buckets


class RayGenerator:
    """A `TacticGenerator` over generator actors pinned to the nodes of `slots`. Each actor makes
    its generator with `build(on_gpu)` (a picklable function: `make_generator`'s local half)."""

    def __init__(self, build: Callable[[bool], Any], slots: Sequence[GeneratorSlot], dist: DistributedConfig):
        ray = connect(dist.address)
        self._ray = ray
        actor_cls = ray.remote(_GeneratorActorImpl)
        handles = [actor_cls.options(num_gpus=slot.gpus, num_cpus=slot.cpus,
                                     scheduling_strategy=pinned(ray, slot.node_id))
                   .remote(build, slot.gpus > 0) for slot in slots]
        nodes = start_actors(ray, handles, dist, "generator")
        self.actors = [Actor(h, node) for h, node in zip(handles, nodes) if node is not None]
        self.lost_nodes: list[str] = []

    @property
    def nodes(self) -> list[str]:
        return [a.node_id for a in self.actors if a.alive]

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None):
        keys = list(states) if keys is None else keys   # the samples depend on the keys, not on the actor
        out: list = [None] * len(states)
        pending = list(range(len(states)))
        while pending:
            alive = [a for a in self.actors if a.alive]
            if not alive:
                raise RuntimeError(f"every generator actor is lost (nodes: {', '.join(self.lost_nodes)})")
            groups: dict[int, list[int]] = {}
            for i in pending:
                groups.setdefault(_route(states[i], len(alive)), []).append(i)
            refs = {g: alive[g].handle.generate.remote([states[i] for i in idx], n, [keys[i] for i in idx])
                    for g, idx in groups.items()}
            pending = []
            for g, ref in refs.items():
                try:
                    results = self._ray.get(ref)
                except lost_errors(self._ray):
                    self._lose(alive[g])
                    pending += groups[g]
                    continue
                for i, result in zip(groups[g], results):
                    out[i] = result
        return out

    def load_weights(self, named_tensors: Iterable) -> None:
        """New weights into every generator, in place (the tensors travel once, via the object store)."""
        ref = self._ray.put([(name, t.detach().cpu()) for name, t in named_tensors])
        self._broadcast("load_weights", ref)

    def load_checkpoint(self, path) -> None:
        self._broadcast("load_checkpoint", str(path))

    def reseed(self, seed: int) -> None:
        self._broadcast("reseed", seed)

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a.handle)

    def _broadcast(self, method: str, *args) -> None:
        live = [a for a in self.actors if a.alive]
        refs = [getattr(a.handle, method).remote(*args) for a in live]
        for actor, ref in zip(live, refs):
            try:
                self._ray.get(ref)
            except lost_errors(self._ray):
                self._lose(actor)

    def _lose(self, actor: Actor) -> None:
        if actor.alive:
            actor.alive = False
            self.lost_nodes.append(actor.node_id)
            log.warning("generator actor on node %s lost; its states go to the other generators", actor.node_id[:12])

