"""`prover eval` and `prover show-tree`: the request record, the progress bar and the files of one
evaluation run around the library's `evaluate` (search/evaluate.py)."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lean_env.benchmarks import load_benchmark
from lean_env.config import dump_record, load_record
from lean_env.cluster import DistributedConfig
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import read_jsonl
from policy.factory import GeneratorConfig, make_generator
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig
from search.evaluate import evaluate_and_close
from search.records import AttemptRecord
from search.tree_export import export_tree

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
    # search (best-first), whole (whole proofs + `repair_rounds` Lean-error repairs; `generator` is the
    # whole-proof model) or hybrid (a `draft` whole-proof model's draft, cut and continued by search)
    mode: str = "search"
    repair_rounds: int = 0
    draft: GeneratorConfig | None = None


def generator_from_yaml(path: Path) -> GeneratorConfig:
    """A `generator:` section from a YAML file: a campaign config, or the section on its own."""
    import yaml

    if not path.exists():
        raise FileNotFoundError(f"generator config not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = raw.get("generator", raw) if isinstance(raw, dict) else raw
    return load_record(GeneratorConfig, section, where="generator", source=str(path))


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

    console = Console()
    theorems = load_benchmark(req.benchmark, req.split)
    if req.limit:
        theorems = theorems[: req.limit]
    from lean_env.toolchain import check_toolchain

    check_toolchain(theorems, req.env, req.benchmark)   # a REPL/LeanDojo project on another Lean is refused
    attempts = req.samples or req.pass_k
    if req.samples is not None and req.samples < req.pass_k:
        raise ValueError("--samples must be >= --pass-k")
    request = {**{k: str(v) for k, v in asdict(req).items()
                  if k not in ("env", "generator", "search", "planner", "distributed", "draft")},
               "draft": req.draft.record() if req.draft is not None else None,
               "env": asdict(req.env), "generator": req.generator.record(), "search": asdict(req.search),
               "planner": dump_record(req.planner) if req.planner is not None else None,
               "distributed": dump_record(req.distributed) if req.distributed else None}
    request = json.loads(json.dumps(request))   # as it reads back from request.json (tuples are lists there)
    saved_file = req.out / "request.json"
    if saved_file.exists():   # resuming: the results there must be results of these settings (checked before any work)
        saved = json.loads(saved_file.read_text())
        request["changes"] = saved.get("changes", []) + settings_changes(saved, request, req.out)
    from search.hybrid import mode_search

    search_fn, generator, draft_batcher = mode_search(req.mode, req.generator, req.repair_rounds, req.draft,
                                                      req.distributed)
    env = make_env(req.env, distributed=req.distributed)
    req.out.mkdir(parents=True, exist_ok=True)
    saved_file.write_text(json.dumps(request, indent=1))
    from prover.progress import TheoremTally, progress_bar

    # the bar counts theorems decided (an early stop decides one), starting from what a resume finds done
    tally = TheoremTally([t.id for t in theorems], attempts, stop_on_success=req.samples is None).extend(
        AttemptRecord.from_dict(r) for r in read_jsonl(req.out / "attempts.jsonl"))
    with progress_bar(console, "proved", "attempts") as bar:
        task = bar.add_task(f"{req.benchmark}/{req.split} theorems", total=len(theorems), completed=tally.decided(),
                            proved=len(tally.proved), attempts=tally.attempts_done())

        def progress(rec: AttemptRecord) -> None:
            tally.add(rec)
            bar.update(task, completed=tally.decided(), proved=len(tally.proved), attempts=tally.attempts_done())

        t0 = time.perf_counter()
        summary, records = asyncio.run(evaluate_and_close(
            theorems, env, generator, req.search, req.out, attempts, stop_on_success=req.samples is None,
            concurrency=req.concurrency, progress=progress, planner=req.planner, search_fn=search_fn,
            also_close=(draft_batcher,)))
    # the settings that produced the numbers (a preset's facts included) and the samples that gave no tactic
    dropped = dict(getattr(generator, "dropped", {}) or {})
    from search.whole_proof import mode_summary

    (req.out / "summary.json").write_text(json.dumps({**asdict(summary), "generator": req.generator.record(),
                                                      "dropped_samples": dropped,
                                                      **mode_summary(req.mode, records, req.repair_rounds)}, indent=1))
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
        export_tree(tree, stem)
        status = f"proved: {rec.proof}" if rec.proved else f"not proved ({rec.failure})"
        print(f"{theorem_id}: {status}; {rec.expansions} expansions, {len(tree.g)} nodes -> {stem}.{{json,graphml,png}}")
        return
    from search.planner.show import format_trace

    for i, (label, tree) in enumerate(trees):   # one tree per phase
        stem = out / f"{theorem_id}.phase{i}"
        export_tree(tree, stem)   # (with_suffix would have cut ".phase0": every phase to one file)
        print(f"{label}: {len(tree.g)} nodes -> {stem}.{{json,graphml,png}}")
    print(format_trace(rec))
