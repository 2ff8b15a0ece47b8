"""The progress store: one plan and its proven prefix per theorem, shared by every searcher on it.

BFS-Prover-V2 keeps this in a Ray actor; `LocalProgressStore` is the in-process form (searchers
of one event loop), `RayProgressStore` the same table in a named Ray actor (searchers on many
machines). Both are compare-and-set: every change names the `version` it was computed from and is
refused if another searcher changed the entry since. So an update for step i is taken only if i
is still the current progress, and the searcher's re-validation of "prefix + new proof" (done in
its own environment before submitting, `driver.py`) was a check of exactly the stored prefix.
The store holds data only: it never runs Lean, so it can live anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from search.planner.plan import PlanStep


@dataclass(frozen=True)
class Progress:
    """A theorem's entry: its plan (empty: none yet) and the proofs of `plan[:step]`."""

    plan: tuple[PlanStep, ...] = ()
    proofs: tuple[tuple[str, ...], ...] = ()
    version: int = 0

    @property
    def step(self) -> int:
        """The index of the first unproven step (len(plan): only the main goal is left)."""
        return len(self.proofs)


class ProgressStore(Protocol):
    async def get(self, theorem_id: str) -> Progress: ...

    async def set_plan(self, theorem_id: str, plan: Sequence[PlanStep], version: int) -> Progress | None:
        """Install a plan that keeps the proven prefix verbatim; None if stale or it does not."""
        ...

    async def submit(self, theorem_id: str, step: int, proof: Sequence[str], version: int) -> Progress | None:
        """Record the proof of `step`; None unless `step` is the current progress at `version`."""
        ...

    async def wipe(self, theorem_id: str, version: int) -> Progress | None:
        """Forget the plan and its proofs (the whole proof failed verification); None if stale."""
        ...


class ProgressTable:
    """The store's logic, synchronous and self-contained (what the Ray actor runs)."""

    def __init__(self) -> None:
        self.entries: dict[str, Progress] = {}

    def get(self, theorem_id: str) -> Progress:
        return self.entries.get(theorem_id, Progress())

    def set_plan(self, theorem_id: str, plan: Sequence[PlanStep], version: int) -> Progress | None:
        cur = self.get(theorem_id)
        plan = tuple(plan)
        if cur.version != version or plan[: cur.step] != cur.plan[: cur.step] or len(plan) < cur.step:
            return None
        return self._put(theorem_id, Progress(plan, cur.proofs, cur.version + 1))

    def submit(self, theorem_id: str, step: int, proof: Sequence[str], version: int) -> Progress | None:
        cur = self.get(theorem_id)
        if cur.version != version or step != cur.step or step >= len(cur.plan):
            return None
        return self._put(theorem_id, Progress(cur.plan, cur.proofs + (tuple(proof),), cur.version + 1))

    def wipe(self, theorem_id: str, version: int) -> Progress | None:
        cur = self.get(theorem_id)
        if cur.version != version:
            return None
        return self._put(theorem_id, Progress((), (), cur.version + 1))

    def _put(self, theorem_id: str, progress: Progress) -> Progress:
        self.entries[theorem_id] = progress
        return progress


class LocalProgressStore:
    """The table in this process. Its methods do not await inside, so each is atomic for the
    asyncio tasks of one event loop."""

    def __init__(self) -> None:
        self.table = ProgressTable()

    async def get(self, theorem_id: str) -> Progress:
        return self.table.get(theorem_id)

    async def set_plan(self, theorem_id: str, plan: Sequence[PlanStep], version: int) -> Progress | None:
        return self.table.set_plan(theorem_id, plan, version)

    async def submit(self, theorem_id: str, step: int, proof: Sequence[str], version: int) -> Progress | None:
        return self.table.submit(theorem_id, step, proof, version)

    async def wipe(self, theorem_id: str, version: int) -> Progress | None:
        return self.table.wipe(theorem_id, version)


class RayProgressStore:
    """The table in a named Ray actor: every process that asks for the same `name`
    (in the same Ray namespace) shares it. A Ray actor runs one method at a time, so the
    compare-and-set stays atomic across machines."""

    def __init__(self, name: str = "planner-progress", address: str = "local"):
        from lean_env.cluster import connect

        ray = connect(address)   # 'local' starts Ray here; an address joins that cluster
        actor = ray.remote(num_cpus=0)(ProgressTable)
        self.actor = actor.options(name=name, get_if_exists=True).remote()

    async def get(self, theorem_id: str) -> Progress:
        return await self.actor.get.remote(theorem_id)

    async def set_plan(self, theorem_id: str, plan: Sequence[PlanStep], version: int) -> Progress | None:
        return await self.actor.set_plan.remote(theorem_id, tuple(plan), version)

    async def submit(self, theorem_id: str, step: int, proof: Sequence[str], version: int) -> Progress | None:
        return await self.actor.submit.remote(theorem_id, step, tuple(proof), version)

    async def wipe(self, theorem_id: str, version: int) -> Progress | None:
        return await self.actor.wipe.remote(theorem_id, version)


__all__ = ["Progress", "ProgressStore", "ProgressTable", "LocalProgressStore", "RayProgressStore"]
