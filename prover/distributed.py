"""Ray distribution (optional extra `[dist]`): a campaign's search and `prover eval` over a cluster.

Placement is decided by `plan`, a pure function of the alive nodes' resources (so it is tested
without a cluster), and enforced with node affinity, not left to Ray's default scheduler (which
packs zero-CPU actors onto the driver's node):

- one environment actor per node that may host one (every alive node, or only those carrying the
  custom resource `env_resource`), holding a `ReplPool` of W REPL workers; W is the node's CPUs
  less what its generators reserve (or `workers_per_node`), and the actor reserves W CPUs;
- one generator actor per `generator_gpus` GPUs of every GPU node, for generators that sample
  from local weights (hf, vllm); without GPU nodes generation stays in the driver.

An expansion's tactics go to the actor holding their state in one call (`run_tactics`); when an
attempt ends, `release` frees its states here and its roots on the actors (LeanDojo's Lean
processes).

Node loss. `RayEnv` remembers every state's theorem and tactic path, as `ReplPool` does for its
processes. When an actor's node dies, the actor is dropped, the states it held are rebuilt on a
live actor by replaying their paths, and the request runs again there: the search goes on and no
attempt is lost. Only when no actor is left does a request come back as `EnvFailure`, which the
search counts (a failed attempt that stays in the pass@k denominator). A round's next `RayEnv`
plans again over the nodes alive then. `RayGenerator` routes each goal state to a generator by a
stable hash, so a state's repeated visits meet the same per-state seed counter, and reroutes the
states of a lost generator to the others.

Model paths (hf, vllm checkpoints) must be readable on every GPU node (a shared filesystem).
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from lean_env.factory import EnvConfig, make_env
from lean_env.optional import require
from lean_env.base import ProofEnv, run_tactics
from lean_env.base import release as release_attempt
from lean_env.types import EnvFailure, StartResult, TacticResult, TacticState, Theorem, Verdict

log = logging.getLogger(__name__)

LOCAL_WEIGHT_KINDS = ("hf", "vllm")    # generators worth placing next to GPUs (openai servers are remote already)


class DistributedConfig(BaseModel):
    """The `distributed:` section of a campaign (absent: everything runs in this process)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


def _pinned(ray, node_id: str) -> Any:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id, soft=False)


def _lost_errors(ray) -> tuple[type[BaseException], ...]:
    """What a call raises when its actor (or the actor's node) is gone, or was never placed."""
    return ray.exceptions.RayActorError, ray.exceptions.ActorUnschedulableError


def _start_actors(ray, handles: list, cfg: DistributedConfig, what: str) -> list[str | None]:
    """Each actor's node id once it is up, None for one that died or timed out (it is killed)."""
    refs = [h.node_id.remote() for h in handles]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=cfg.actor_timeout)
    nodes: list[str | None] = []
    for handle, ref in zip(handles, refs):
        try:
            nodes.append(ray.get(ref, timeout=0) if ref in ready else None)
        except _lost_errors(ray) as e:
            log.warning("a %s actor failed to start: %s", what, e)
            nodes.append(None)
        if nodes[-1] is None:
            ray.kill(handle)
    if not any(nodes):
        raise RuntimeError(f"no {what} actor started within {cfg.actor_timeout:g}s (see the Ray logs of the nodes)")
    return nodes


# ---------------------------------------------------------------- environment actors


class _EnvActorImpl:
    """The body of an environment actor: one environment (a ReplPool, or LeanDojo), driven by Ray's
    asyncio event loop. Roots are kept per attempt (the driver's attempt id), so `release` frees
    every root the attempt has here, its first one and any rebuilt after another node was lost."""

    def __init__(self, spec: EnvConfig):
        self.env = make_env(spec)
        self.roots: dict[int, list[TacticState]] = {}
        self.rebuilt: dict[tuple[int, tuple[str, ...]], TacticState] = {}   # (attempt, path): prefix reuse

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    async def start(self, attempt: int, theorem: Theorem) -> StartResult:
        root = await self.env.start(theorem)
        if isinstance(root, TacticState):
            self.roots.setdefault(attempt, []).append(root)
        return root

    async def run_tactics(self, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
        return await run_tactics(self.env, state, tactics)

    async def rebuild(self, attempt: int, theorem: Theorem, path: tuple[str, ...]) -> StartResult | TacticResult:
        """The state `path` leads to from `theorem`'s start, rebuilt here (a lost node's state)."""
        done = len(path)
        while done > 0 and (attempt, path[:done]) not in self.rebuilt:
            done -= 1
        state = self.rebuilt[(attempt, path[:done])] if done else await self.start(attempt, theorem)
        for i in range(done, len(path)):
            if not isinstance(state, TacticState):
                return state
            [state] = await run_tactics(self.env, state, [path[i]])
            if isinstance(state, TacticState):
                self.rebuilt[(attempt, path[: i + 1])] = state
        return state

    async def release(self, attempt: int) -> None:
        for root in self.roots.pop(attempt, ()):
            await release_attempt(self.env, root)
        for key in [k for k in self.rebuilt if k[0] == attempt]:
            del self.rebuilt[key]

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        return await self.env.verify(theorem, tactics)

    async def close(self) -> None:
        await self.env.close()


@dataclass
class _Actor:
    handle: Any
    node_id: str
    alive: bool = True
    load: int = 0         # requests in flight
    served: int = 0       # requests answered


@dataclass
class _State:
    """A state handed to the search: where it lives now, and how to rebuild it anywhere."""

    attempt: int
    theorem: Theorem
    path: tuple[str, ...]
    goals: tuple[str, ...]
    actor: int
    local: TacticState            # the actor's own handle
    moving: Optional[asyncio.Event] = None


@dataclass
class _Attempt:
    states: list[int] = field(default_factory=list)   # handles issued, forgotten on release
    actors: set[int] = field(default_factory=set)     # actors that hold a root of it


class _ActorLost(Exception):
    pass


class RayEnv:
    """A `ProofEnv` over environment actors pinned to the nodes of `slots`. Each `start` opens an
    attempt; `release(root)` (the search calls it when the attempt ends) frees it here and on the
    actors."""

    def __init__(self, spec: EnvConfig, slots: Sequence[EnvSlot], cfg: DistributedConfig):
        ray = connect(cfg.address)
        self._ray = ray
        actor_cls = ray.remote(_EnvActorImpl)
        handles = [actor_cls.options(num_cpus=slot.workers, scheduling_strategy=_pinned(ray, slot.node_id))
                   .remote(dataclasses.replace(spec, workers=slot.workers)) for slot in slots]
        nodes = _start_actors(ray, handles, cfg, "environment")
        self.actors = [_Actor(h, node) for h, node in zip(handles, nodes) if node is not None]
        self._states: dict[int, _State] = {}
        self._attempts: dict[int, _Attempt] = {}
        self._ids = itertools.count()
        self.lost_nodes: list[str] = []
        self.rebuilt_states = 0

    @property
    def nodes(self) -> list[str]:
        """The nodes of the live actors (where Ray reports each actor runs)."""
        return [a.node_id for a in self.actors if a.alive]

    def held_states(self) -> dict[str, int]:
        """How many of the states handed out (and not released) live on each live node."""
        held = dict.fromkeys(self.nodes, 0)
        for rec in self._states.values():
            if self.actors[rec.actor].alive:
                held[self.actors[rec.actor].node_id] += 1
        return held

    # ------------------------------------------------------------ ProofEnv
    async def start(self, theorem: Theorem) -> StartResult:
        attempt = next(self._ids)
        self._attempts[attempt] = _Attempt()
        while (i := self._least_loaded()) is not None:
            try:
                root = await self._call(i, "start", attempt, theorem)
            except _ActorLost:
                continue
            self._attempts[attempt].actors.add(i)
            return self._register(attempt, i, theorem, (), root)
        return self._no_actor()

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        [result] = await self.run_tactics(state, [tactic])
        return result

    async def run_tactics(self, state: TacticState, tactics: Sequence[str]) -> list[TacticResult]:
        """All of one expansion's tactics in one call to the actor that holds `state`."""
        rec = self._states.get(state.id) if isinstance(state, TacticState) else None
        if rec is None:
            failure = EnvFailure(f"unknown state handle {getattr(state, 'id', state)!r} (released, or not from this RayEnv)")
            return [failure] * len(tactics)
        while True:
            if not self.actors[rec.actor].alive:
                failure = await self._move(rec)
                if failure is not None:
                    return [failure] * len(tactics)
                continue
            i = rec.actor
            try:
                results = await self._call(i, "run_tactics", rec.local, list(tactics))
            except _ActorLost:
                continue
            return [self._register(rec.attempt, i, rec.theorem, rec.path + (t,), r) for t, r in zip(tactics, results)]

    async def release(self, root: TacticState) -> None:
        rec = self._states.get(root.id)
        attempt = self._attempts.pop(rec.attempt, None) if rec is not None else None
        if attempt is None:
            return
        for handle in attempt.states:
            del self._states[handle]
        for i in attempt.actors:
            if self.actors[i].alive:
                try:
                    await self._call(i, "release", rec.attempt)
                except _ActorLost:
                    pass

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        while (i := self._least_loaded()) is not None:
            try:
                return await self._call(i, "verify", theorem, list(tactics))
            except _ActorLost:
                continue
        return Verdict(False, (f"environment failure: {self._no_actor().message}",))

    async def close(self) -> None:
        for a in self.actors:
            if a.alive:
                try:
                    await a.handle.close.remote()
                except _lost_errors(self._ray):
                    pass
            self._ray.kill(a.handle)   # frees its CPUs for the next round's actors

    # ------------------------------------------------------------ routing and node loss
    def _least_loaded(self) -> int | None:
        alive = [i for i, a in enumerate(self.actors) if a.alive]
        return min(alive, key=lambda i: self.actors[i].load) if alive else None

    async def _call(self, i: int, method: str, *args):
        actor = self.actors[i]
        actor.load += 1
        try:
            result = await getattr(actor.handle, method).remote(*args)
        except _lost_errors(self._ray) as e:
            if actor.alive:
                actor.alive = False
                self.lost_nodes.append(actor.node_id)
                log.warning("environment actor on node %s lost (%s); its states move to the other nodes",
                            actor.node_id[:12], type(e).__name__)
            raise _ActorLost from e
        finally:
            actor.load -= 1
        actor.served += 1
        return result

    def _register(self, attempt: int, actor: int, theorem: Theorem, path: tuple[str, ...], result: Any) -> Any:
        if not isinstance(result, TacticState):
            return result
        handle = next(self._ids)
        owner = self._attempts.get(attempt)
        if owner is not None:   # else the attempt was released while this call ran: nobody asks for it
            owner.states.append(handle)
            self._states[handle] = _State(attempt, theorem, path, result.goals, actor, result)
        return TacticState(result.goals, handle, result.messages)

    async def _move(self, rec: _State) -> EnvFailure | None:
        """Rebuild `rec` on a live actor, once however many expansions wait for it (they look
        again when it is done)."""
        if rec.moving is not None:
            await rec.moving.wait()
            return None
        rec.moving = asyncio.Event()
        try:
            return await self._rebuild(rec)
        finally:
            rec.moving.set()
            rec.moving = None

    async def _rebuild(self, rec: _State) -> EnvFailure | None:
        while (i := self._least_loaded()) is not None:
            try:
                state = await self._call(i, "rebuild", rec.attempt, rec.theorem, rec.path)
            except _ActorLost:
                continue
            if rec.attempt in self._attempts:
                self._attempts[rec.attempt].actors.add(i)   # it holds a root of the attempt now
            if not isinstance(state, TacticState) or state.goals != rec.goals:
                got = state.pp[:100] if isinstance(state, TacticState) else type(state).__name__
                return EnvFailure(f"replay of a lost node's state diverged on another node (got {got})")
            rec.actor, rec.local = i, state
            self.rebuilt_states += 1
            return None
        return self._no_actor()

    def _no_actor(self) -> EnvFailure:
        return EnvFailure(f"no environment actor is alive (nodes lost: {len(self.lost_nodes)})")


# ---------------------------------------------------------------- generator actors


class _GeneratorActorImpl:
    """The body of a generator actor: one generator on the GPUs Ray gave this actor."""

    def __init__(self, cfg, model: str | None, seed: int | None, on_gpu: bool):
        from policy.factory import make_generator

        if on_gpu and cfg.kind == "hf" and cfg.device is None:
            cfg = cfg.model_copy(update={"device": "cuda"})   # Ray sets CUDA_VISIBLE_DEVICES to this actor's GPUs
        self.generator = make_generator(cfg, model=model, seed=seed)

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def generate(self, states: Sequence[str], n: int, keys: Sequence[str] | None = None):
        return self.generator.generate(states, n, keys)

    def load_weights(self, named_tensors: list) -> None:
        self.generator.load_weights(named_tensors)

    def load_checkpoint(self, path: str) -> None:
        self.generator.load_checkpoint(path)


def _route(state: str, buckets: int) -> int:
    """A stable choice of generator for a goal state (Python's `hash` differs between processes)."""
    return int.from_bytes(hashlib.blake2b(state.encode(), digest_size=8).digest(), "big") % buckets


class RayGenerator:
    """A `TacticGenerator` over generator actors pinned to the nodes of `slots`."""

    def __init__(self, cfg, slots: Sequence[GeneratorSlot], dist: DistributedConfig, *,
                 model: str | None = None, seed: int | None = None):
        ray = connect(dist.address)
        self._ray = ray
        actor_cls = ray.remote(_GeneratorActorImpl)
        handles = [actor_cls.options(num_gpus=slot.gpus, num_cpus=slot.cpus,
                                     scheduling_strategy=_pinned(ray, slot.node_id))
                   .remote(cfg, model, seed, slot.gpus > 0) for slot in slots]
        nodes = _start_actors(ray, handles, dist, "generator")
        self.actors = [_Actor(h, node) for h, node in zip(handles, nodes) if node is not None]
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
                except _lost_errors(self._ray):
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

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a.handle)

    def _broadcast(self, method: str, *args) -> None:
        live = [a for a in self.actors if a.alive]
        refs = [getattr(a.handle, method).remote(*args) for a in live]
        for actor, ref in zip(live, refs):
            try:
                self._ray.get(ref)
            except _lost_errors(self._ray):
                self._lose(actor)

    def _lose(self, actor: _Actor) -> None:
        if actor.alive:
            actor.alive = False
            self.lost_nodes.append(actor.node_id)
            log.warning("generator actor on node %s lost; its states go to the other generators", actor.node_id[:12])


# ---------------------------------------------------------------- what campaigns and `prover eval` call


def make_search_env(env: EnvConfig, dist: DistributedConfig | None) -> ProofEnv:
    """The environment a round's search uses: local (`make_env`), or actors over the cluster."""
    if dist is None:
        return make_env(env)
    env.validate()
    return RayEnv(env, cluster_placement(dist).envs, dist)


def make_search_generator(cfg, dist: DistributedConfig | None, *, model: str | None = None,
                          seed: int | None = None):
    """The generator a round's search uses: one actor per GPU share of the cluster for local-weight
    kinds when the cluster has GPUs, else `make_generator` in this process."""
    from policy.factory import make_generator

    if dist is not None and cfg.kind in LOCAL_WEIGHT_KINDS:
        slots = cluster_placement(dist).generators
        if slots:
            return RayGenerator(cfg, slots, dist, model=model, seed=seed)
    return make_generator(cfg, model=model, seed=seed)
