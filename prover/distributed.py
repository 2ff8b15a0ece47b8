"""Ray distribution (optional extra `[dist]`): environment workers as Ray actors on many nodes.

`RayEnv` is a `ProofEnv` whose proofs run in `EnvActor`s, each holding its own `ReplPool` (so one
actor per node with W REPL workers is the usual layout). A state handle remembers its actor, so
tactics stay where their state lives; new theorems go to the actor with the fewest open requests.
Generation stays with the caller: a local model, or remote inference servers through the
OpenAI-compatible generator.
"""
from __future__ import annotations

import itertools
from typing import Any, Sequence

from lean_env.factory import EnvConfig
from lean_env.optional import require
from lean_env.types import StartResult, TacticResult, TacticState, Theorem, Verdict


def import_ray():
    return require("ray", extra="dist")


def connect(address: str, num_cpus: int | None = None):
    """`local` starts a Ray instance on this machine; anything else joins that cluster."""
    ray = import_ray()
    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    return ray


class _EnvActorImpl:
    """The body of the actor: one ReplPool, driven by Ray's asyncio event loop."""

    def __init__(self, spec: EnvConfig):
        from lean_env.factory import make_env

        self.env = make_env(spec)

    async def start(self, theorem: Theorem) -> StartResult:
        return await self.env.start(theorem)

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        return await self.env.run_tactic(state, tactic)

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        return await self.env.verify(theorem, tactics)

    async def close(self) -> None:
        await self.env.close()


class RayEnv:
    def __init__(self, address: str = "local", actors: int = 2, spec: EnvConfig | None = None, num_cpus: int | None = None):
        ray = connect(address, num_cpus)
        actor_cls = ray.remote(num_cpus=0)(_EnvActorImpl)
        self.actors = [actor_cls.remote(spec or EnvConfig()) for _ in range(actors)]
        self.load = [0] * actors
        self._handles: dict[int, tuple[int, TacticState]] = {}
        self._ids = itertools.count()

    def _wrap(self, actor: int, result: Any) -> Any:
        if isinstance(result, TacticState):
            handle = next(self._ids)
            self._handles[handle] = (actor, result)
            return TacticState(result.goals, handle, result.messages)
        return result

    async def _call(self, actor: int, method: str, *args):
        self.load[actor] += 1
        try:
            return await getattr(self.actors[actor], method).remote(*args)
        finally:
            self.load[actor] -= 1

    async def start(self, theorem: Theorem) -> StartResult:
        actor = min(range(len(self.actors)), key=lambda i: self.load[i])
        return self._wrap(actor, await self._call(actor, "start", theorem))

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        actor, local = self._handles[state.id]
        return self._wrap(actor, await self._call(actor, "run_tactic", local, tactic))

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        actor = min(range(len(self.actors)), key=lambda i: self.load[i])
        return await self._call(actor, "verify", theorem, list(tactics))

    async def close(self) -> None:
        for a in self.actors:
            await a.close.remote()
