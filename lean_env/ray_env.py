"""`RayEnv`: a `ProofEnv` over environment actors pinned to the nodes of a Ray cluster (placement:
lean_env/cluster.py; built by `make_env(cfg, distributed=...)`).

An expansion's tactics go to the actor holding their state in one call (`run_tactics`); when an
attempt ends, `release` frees its states here and its roots on the actors (LeanDojo's Lean
processes).

Node loss. `RayEnv` remembers every state's theorem and tactic path, as `ReplPool` does for its
processes. When an actor's node dies, the actor is dropped, the states it held are rebuilt on a
live actor by replaying their paths, and the request runs again there: the search goes on and no
attempt is lost. Only when no actor is left does a request come back as `EnvFailure`, which the
search counts (a failed attempt that stays in the pass@k denominator). A round's next `RayEnv`
plans again over the nodes alive then.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from lean_env.base import ProofEnv, run_tactics
from lean_env.base import release as release_attempt
from lean_env.cluster import Actor, DistributedConfig, EnvSlot, connect, lost_errors, pinned, start_actors
from lean_env.types import EnvFailure, StartResult, TacticResult, TacticState, Theorem, Verdict

log = logging.getLogger(__name__)


class _EnvActorImpl:
    """The body of an environment actor: one environment (a ReplPool, or LeanDojo), driven by Ray's
    asyncio event loop. Roots are kept per attempt (the driver's attempt id), so `release` frees
    every root the attempt has here, its first one and any rebuilt after another node was lost."""

    def __init__(self, build: Callable[..., ProofEnv], workers: int):
        self.env = build(workers=workers)
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
    """A `ProofEnv` over environment actors pinned to the nodes of `slots`; each actor makes its
    environment with `build(workers=W)` (a picklable function: `make_env`'s local half). Each
    `start` opens an attempt; `release(root)` (the search calls it when the attempt ends) frees
    it here and on the actors."""

    def __init__(self, build: Callable[..., ProofEnv], slots: Sequence[EnvSlot], cfg: DistributedConfig):
        ray = connect(cfg.address)
        self._ray = ray
        actor_cls = ray.remote(_EnvActorImpl)
        handles = [actor_cls.options(num_cpus=slot.workers, scheduling_strategy=pinned(ray, slot.node_id))
                   .remote(build, slot.workers) for slot in slots]
        nodes = start_actors(ray, handles, cfg, "environment")
        self.actors = [Actor(h, node) for h, node in zip(handles, nodes) if node is not None]
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
                except lost_errors(self._ray):
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
        except lost_errors(self._ray) as e:
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

