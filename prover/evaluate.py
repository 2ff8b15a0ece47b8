"""pass@k evaluation: best-first search on every theorem of a split, resumable.

Results go to `<out>/attempts.jsonl` (one AttemptRecord per line, appended atomically as each
attempt finishes) and `<out>/proofs.jsonl` (the verified proofs). Rerunning the same command
skips the attempts already on disk and never double-counts them; theorems whose environment
failed stay in the denominator. When the run is complete, both files are rewritten in their
canonical form (`search.scheduler.canonical`: the run's attempts in a fixed order) and the
timings, which differ from run to run, move to `<out>/timings.jsonl`: an interrupted and resumed
run leaves the same attempts.jsonl and summary.json, byte for byte, as an uninterrupted one.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from lean_env.types import Theorem
from prover.distributed import DistributedConfig, make_search_env, make_search_generator
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, search
from policy.base import TacticGenerator
from policy.factory import GeneratorConfig, make_generator
from search.passk import PassAtK, summarize
from search.records import AttemptRecord
from search.scheduler import RunConfig, canonical, run_attempts

if TYPE_CHECKING:
    from search.planner.backends import PlannerConfig


@dataclass
class EvalRequest:
    """One `prover eval` run: what to prove, and the env, generator and search configs that the
    library functions take (the same records a campaign YAML's sections are)."""

    benchmark: str = "embedded"
    split: str = "test"
    pass_k: int = 1
    samples: int | None = None
    limit: int | None = None
    concurrency: int = 32
    out: Path = Path("runs/eval")
    distributed: DistributedConfig | None = None   # None: environment and generator in this process
    env: EnvConfig = field(default_factory=EnvConfig)
    generator: GeneratorConfig = field(default_factory=lambda: GeneratorConfig(kind="scripted"))
    search: SearchConfig = field(default_factory=SearchConfig)
    planner: "PlannerConfig | None" = None   # planner-driven search (search/planner/)


def generator_from_yaml(path: Path) -> GeneratorConfig:
    """A `generator:` section from a YAML file: a campaign config, or the section on its own."""
    import yaml
    from pydantic import ValidationError

    if not path.exists():
        raise FileNotFoundError(f"generator config not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = raw.get("generator", raw) if isinstance(raw, dict) else raw
    try:
        return GeneratorConfig.model_validate(section)
    except ValidationError as e:
        problems = [f"  {'.'.join(['generator', *map(str, err['loc'])])}: {err['msg']}" for err in e.errors()]
        raise ValueError(f"{path}: invalid generator config:\n" + "\n".join(problems)) from e


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
) -> tuple[PassAtK, list[AttemptRecord]]:
    """Run (or resume) an evaluation into `out_dir` and return its pass@k summary and records.
    With `planner`, every attempt is a planner-driven search (search/planner/driver.py) at the
    same budget."""
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
    search_fn = search
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


# Settings that do not change what an attempt does: a resumed run may change them.
_RESUME_SAFE = {"limit", "concurrency", "out", "distributed", "env.workers", "changes"}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "changes":
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def settings_changes(saved: dict, now: dict, out: Path) -> list[dict]:
    """The safe changes between the settings saved in an eval directory and this run's (to be
    recorded); raises ValueError naming every other difference, one line each. More attempts
    (a larger --pass-k or --samples, same early-stop mode) only add attempts, so they are safe."""
    old, new = _flat(saved), _flat(now)
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and k != "changes")
    same_mode = (old.get("samples") == "None") == (new.get("samples") == "None")   # early stop or not

    def safe(k: str) -> bool:
        if k in _RESUME_SAFE or k.split(".")[0] in _RESUME_SAFE:
            return True
        return (k in ("pass_k", "samples") and same_mode and old.get(k, "None") != "None"
                and int(new[k]) >= int(old[k]))

    unsafe = [k for k in differ if not safe(k)]
    if unsafe:
        lines = "\n".join(f"  {k}: {old.get(k, '(unset)')} there, {new.get(k, '(unset)')} now" for k in unsafe)
        raise ValueError(f"{out} holds results of other settings ({out / 'request.json'}):\n{lines}\n"
                         f"results of different settings must not share a directory: use a fresh --out "
                         f"directory, or rerun with the settings above")
    return [{k: [old.get(k), new.get(k)]} for k in differ]


def run_eval_cli(req: EvalRequest) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    theorems = load_benchmark(req.benchmark, req.split)
    if req.limit:
        theorems = theorems[: req.limit]
    attempts = req.samples or req.pass_k
    if req.samples is not None and req.samples < req.pass_k:
        raise ValueError("--samples must be >= --pass-k")
    generator = make_search_generator(req.generator, req.distributed)
    env = make_search_env(req.env, req.distributed)
    request = {**{k: str(v) for k, v in asdict(req).items()
                  if k not in ("env", "generator", "search", "planner", "distributed")},
               "env": asdict(req.env), "generator": req.generator.model_dump(mode="json"), "search": asdict(req.search),
               "planner": req.planner.model_dump(mode="json") if req.planner is not None else None,
               "distributed": req.distributed.model_dump(mode="json") if req.distributed else None}
    saved_file = req.out / "request.json"
    if saved_file.exists():   # resuming: the results there must be results of these settings
        saved = json.loads(saved_file.read_text())
        request["changes"] = saved.get("changes", []) + settings_changes(saved, request, req.out)
    req.out.mkdir(parents=True, exist_ok=True)
    saved_file.write_text(json.dumps(request, indent=1))
    proved = set()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("proved {task.fields[proved]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"{req.benchmark}/{req.split}", total=len(theorems) * attempts, proved=0)

        def progress(rec: AttemptRecord) -> None:
            if rec.proved:
                proved.add(rec.theorem_id)
            bar.update(task, advance=1, proved=len(proved))

        async def main():
            try:
                return await evaluate(theorems, env, generator, req.search, req.out, attempts,
                                      stop_on_success=req.samples is None, concurrency=req.concurrency,
                                      progress=progress, planner=req.planner)
            finally:
                await env.close()

        t0 = time.perf_counter()
        summary, _ = asyncio.run(main())
    (req.out / "summary.json").write_text(json.dumps(asdict(summary), indent=1))
    console.print(f"[bold green]{summary.line()}[/]  ({time.perf_counter() - t0:.1f}s)")
    console.print(f"results: {req.out / 'attempts.jsonl'}, proofs: {req.out / 'proofs.jsonl'}")


def run_show_tree(theorem_id: str, benchmark: str, generator_cfg: GeneratorConfig, expansions: int, tactics: int,
                  out: Path, planner: "PlannerConfig | None" = None, attempts: Path | None = None) -> None:
    from search.best_first import search

    if attempts is not None:   # recorded attempts: print them, search nothing
        from search.planner.show import format_trace

        rows = [AttemptRecord.from_dict(r) for r in read_jsonl(attempts) if r.get("theorem_id") == theorem_id]
        if not rows:
            raise ValueError(f"no attempt of {theorem_id!r} in {attempts}")
        print("\n".join(format_trace(r) for r in rows))
        return
    matches = [t for t in load_benchmark(benchmark) if t.id == theorem_id]
    if not matches:
        raise ValueError(f"no theorem {theorem_id!r} in {benchmark}")
    theorem = matches[0]
    generator = make_generator(generator_cfg)
    out.mkdir(parents=True, exist_ok=True)

    async def main():
        env = make_env(EnvConfig(workers=1))
        batcher = GenerationBatcher(generator)
        try:
            if planner is not None:
                from search.planner.backends import make_planner
                from search.planner.driver import PlannerSearch

                return await PlannerSearch(make_planner(planner), planner)(
                    theorem, env, batcher.propose, SearchConfig(tactics, expansions))
            rec, tree = await search(theorem, env, batcher.propose, SearchConfig(tactics, expansions))
            return rec, [("search", tree)] if tree is not None else []
        finally:
            await batcher.close()
            await env.close()

    rec, trees = asyncio.run(main())
    if not trees:
        raise ValueError(f"could not start {theorem_id}: {rec.failure}")
    if planner is None:
        tree, stem = trees[0][1], out / theorem_id
        tree.to_json(stem.with_suffix(".json"))
        tree.to_graphml(stem.with_suffix(".graphml"))
        tree.draw(stem.with_suffix(".png"))
        status = f"proved: {rec.proof}" if rec.proved else f"not proved ({rec.failure})"
        print(f"{theorem_id}: {status}; {rec.expansions} expansions, {len(tree.g)} nodes -> {stem}.{{json,graphml,png}}")
        return
    from search.planner.show import format_trace

    for i, (label, tree) in enumerate(trees):   # one tree per phase
        stem = out / f"{theorem_id}.phase{i}"
        tree.to_json(stem.with_suffix(".json"))
        tree.to_graphml(stem.with_suffix(".graphml"))
        tree.draw(stem.with_suffix(".png"))
        print(f"{label}: {len(tree.g)} nodes -> {stem}.{{json,graphml,png}}")
    print(format_trace(rec))
