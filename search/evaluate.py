"""pass@k evaluation, a library function: best-first search on every theorem of a list, resumable.

Results go to `<out>/attempts.jsonl` (one AttemptRecord per line, appended atomically as each
attempt finishes) and `<out>/proofs.jsonl` (the verified proofs). Rerunning the same command
skips the attempts already on disk and never double-counts them; theorems whose environment
failed stay in the denominator. When the run is complete, both files are rewritten in their
canonical form (`search.scheduler.canonical`: the run's attempts in a fixed order) and the
timings, which differ from run to run, move to `<out>/timings.jsonl`: an interrupted and resumed
run leaves the same attempts.jsonl and summary.json, byte for byte, as an uninterrupted one.
`prover eval` (prover/eval_cmd.py) and every campaign search call it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lean_env.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from lean_env.types import Theorem
from policy.base import TacticGenerator
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, search
from search.passk import PassAtK, summarize
from search.records import AttemptRecord
from search.scheduler import RunConfig, canonical, run_attempts

if TYPE_CHECKING:
    from search.planner.backends import PlannerConfig


async def evaluate(
    theorems: Sequence[Theorem],
    env,
    generator: TacticGenerator,
    search_cfg: SearchConfig,
    out_dir: Path,
    attempts: int = 1,
    stop_on_success: bool = True,
    concurrency: int = 32,
    tag: dict | None = None,
    progress=None,
    planner: "PlannerConfig | None" = None,
    search_fn=None,
) -> tuple[PassAtK, list[AttemptRecord]]:
    """Run (or resume) an evaluation into `out_dir` and return its pass@k summary and records.
    With `planner`, every attempt is a planner-driven search (search/planner/driver.py) at the
    same budget; with `search_fn` (search/whole_proof.py, search/hybrid.py) every attempt is that."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "attempts.jsonl"
    wanted = {t.id for t in theorems}
    on_disk = [AttemptRecord.from_dict(r) for r in read_jsonl(path)]
    done = [r for r in on_disk if r.theorem_id in wanted]
    others = [r for r in on_disk if r.theorem_id not in wanted]   # a run with another --limit: kept as they are
    skip = {(r.theorem_id, r.attempt) for r in done}
    solved: dict[str, int] = {}
    for r in done:
        if r.proved:
            solved[r.theorem_id] = min(r.attempt, solved.get(r.theorem_id, r.attempt))

    async def on_record(rec: AttemptRecord) -> None:
        if tag:
            for k, v in tag.items():
                setattr(rec, k, v)
        append_jsonl(path, [rec.to_dict()])
        if rec.proved:
            append_jsonl(out_dir / "proofs.jsonl", [{"id": rec.theorem_id, "attempt": rec.attempt, "tactics": rec.proof}])
        if progress is not None:
            progress(rec)

    batcher = GenerationBatcher(generator, max_batch=64)
    search_fn = search_fn or search
    if planner is not None:
        from search.planner.backends import make_planner
        from search.planner.driver import PlannerSearch

        search_fn = PlannerSearch(make_planner(planner), planner)
    try:
        new = await run_attempts(theorems, env, batcher, search_cfg,
                                 RunConfig(attempts, concurrency, stop_on_success, skip, solved), on_record, search_fn)
    finally:
        await batcher.close()
    records = canonical([t.id for t in theorems], done + new, stop_on_success)
    _write_canonical(out_dir, records + others)
    return summarize([t.id for t in theorems], records, attempts, f"{attempts}x{search_cfg.budget}"), records


async def evaluate_and_close(theorems, env, generator, *args, also_close=(), **kwargs):
    """`evaluate`, then close what the run opened, also when it fails or is interrupted: `also_close`
    (a hybrid's draft batcher, say) first, the environment last."""
    try:
        return await evaluate(theorems, env, generator, *args, **kwargs)
    finally:
        for thing in also_close:
            if thing is not None:
                await thing.close()
        await env.close()


_TIMINGS = ("time_generate", "time_env", "time_bookkeeping", "wall")


def _write_canonical(out_dir: Path, records: Sequence[AttemptRecord]) -> None:
    """attempts.jsonl and proofs.jsonl as `records` (a complete run, canonical order) without the
    timings, which go to timings.jsonl (kept from earlier runs for records read back without them)."""
    timings = {(t["theorem_id"], t["attempt"]): t for t in read_jsonl(out_dir / "timings.jsonl")}
    rows = []
    for r in records:
        row = r.to_dict()
        measured = {k: row.pop(k) for k in _TIMINGS}
        if any(measured.values()):
            timings[(r.theorem_id, r.attempt)] = {"theorem_id": r.theorem_id, "attempt": r.attempt, **measured}
        rows.append(row)
    write_jsonl_atomic(out_dir / "timings.jsonl", [timings[k] for k in ((r.theorem_id, r.attempt) for r in records)
                                                   if k in timings])
    write_jsonl_atomic(out_dir / "proofs.jsonl", [{"id": r.theorem_id, "attempt": r.attempt, "tactics": r.proof}
                                                  for r in records if r.proved])
    write_jsonl_atomic(out_dir / "attempts.jsonl", rows)
