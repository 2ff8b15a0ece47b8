"""The `prover` command line: proving campaigns, scripted rounds, pass@k evaluation, verification,
search-tree inspection, reports, model creation and merging.

Every command imports its machinery lazily so `prover --help` is instant and a missing optional
extra (vllm, lean-dojo, ray) only matters to the command that needs it.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(
    help="Expert-iteration best-first-search prover for Lean 4.\n\n"
    "Runs on real Lean (REPL, LeanDojo) or on the embedded Lean fragment that needs no install.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _fail(message: str | Exception) -> None:
    """A user's mistake: one line (a bad setting: one line per problem), no traceback."""
    from lean_env.config import explain

    typer.secho(f"error: {explain(message) if isinstance(message, Exception) else message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def verify(
    proofs: Path = typer.Argument(..., help="JSON Lines file of {\"id\": ..., \"tactics\": [...]} rows."),
    benchmark: str = typer.Option("embedded", help="Benchmark name (embedded, minif2f, minif2f-goedel, proofnet) or a .jsonl path."),
    env: str = typer.Option("embedded", help="Environment: embedded, lean-repl or kimina."),
    lean_project: Optional[Path] = typer.Option(None, help="Lean project with Mathlib (lean-repl)."),
    repl_path: Optional[Path] = typer.Option(None, help="leanprover-community/repl checkout (lean-repl)."),
    kimina_url: Optional[str] = typer.Option(None, help="Kimina Lean Server URL (env kimina); its API key "
                                             "from $LEAN_SERVER_API_KEY."),
    workers: int = typer.Option(2, min=1),
    timeout: float = typer.Option(60.0, help="Wall-clock seconds per whole-proof check."),
    recheck: Optional[str] = typer.Option(None, help="Kernel re-check command taking TARGET.olean SUBMISSION.olean "
                                          "(e.g. SafeVerify), run in --lean-project on every accepted proof."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document (a record per proof and a summary) "
                                 "on stdout instead of the table; the progress bar goes to stderr."),
) -> None:
    """Check a file of proofs against a benchmark from scratch and print a table of verdicts."""
    from prover.verify_cmd import run_verify

    try:
        code = run_verify(proofs, benchmark, env, lean_project, repl_path, workers, timeout, recheck, kimina_url,
                          as_json)
    except (ValueError, FileNotFoundError) as e:
        _fail(e)
    raise typer.Exit(code)


def _generator_config(kind: str, model: Optional[str], base_url: Optional[str], tokenizer: Optional[Path],
                      temperature: Optional[float], seed: int, config: Optional[Path], preset: Optional[str] = None):
    """The generator flags (or a YAML `generator:` section) as one GeneratorConfig; with a preset,
    its sampling settings unless --temperature is given. With a YAML section, the flags given
    (--model, --base-url, --tokenizer, --temperature) override its values: a campaign's sampling
    settings, another checkpoint."""
    import dataclasses

    from prover.eval_cmd import generator_from_yaml
    from policy.factory import GeneratorConfig
    from policy.params import SamplingParams

    if config is not None:
        if preset is not None:
            raise ValueError("--preset and --generator-config both set the generator: give the preset in the YAML")
        section = generator_from_yaml(config)
        given = {k: v for k, v in (("model", model), ("base_url", base_url),
                                   ("tokenizer", str(tokenizer) if tokenizer else None)) if v is not None}
        if model == "scripted":
            given = {**given, "kind": "scripted", "model": None}
        if temperature is not None:
            given["sampling"] = dataclasses.replace(section.sampling, temperature=temperature)
        return dataclasses.replace(section, **given) if given else section
    if model == "scripted":
        kind, model = "scripted", None
    sampling: dict = {"seed": seed}
    if temperature is not None or preset is None:
        sampling["temperature"] = 1.0 if temperature is None else temperature
    if preset is None:
        sampling = SamplingParams(**sampling)
    return GeneratorConfig(kind=kind, model=model, base_url=base_url, tokenizer=str(tokenizer) if tokenizer else None,
                           preset=preset, sampling=sampling)   # a bad value: ValidationError, one line by _fail


def _draft_config(tactic_model, draft_model: str, draft_preset: str, seed: int):
    """The hybrid's whole-proof model, sampled as the tactic model is (hf, or vllm with the same
    dtype and engine arguments: each model gets its own engine) with its preset's decoding."""
    from policy.factory import LOCAL_WEIGHT_KINDS, GeneratorConfig

    if tactic_model.kind not in LOCAL_WEIGHT_KINDS:
        raise ValueError(f"--draft-model is sampled by --generator hf or vllm, not {tactic_model.kind}")
    return GeneratorConfig(kind=tactic_model.kind, model=draft_model, preset=draft_preset, sampling={"seed": seed},
                           dtype=tactic_model.dtype, engine_args=tactic_model.engine_args)


def _planner_config(planner: Optional[str], model: Optional[str], base_url: Optional[str], replan: bool,
                    searchers: int):
    """`--planner KIND|YAML` and its flags as a PlannerConfig (None without --planner)."""
    if planner is None:
        return None
    from search.planner.backends import planner_from_arg

    if planner.endswith((".yaml", ".yml")):
        return planner_from_arg(planner)
    return planner_from_arg(planner, model=model, base_url=base_url, replan=replan, searchers=searchers)


@app.command("eval")
def evaluate(
    benchmark: str = typer.Option("embedded", help="Benchmark name or a .jsonl path."),
    split: str = typer.Option("test"),
    model: Optional[str] = typer.Option(None, help="HF model dir (hf, vllm; default: the embedded model), the served "
                                                   "model name (openai), or 'scripted' (a fixed tactic list)."),
    generator: str = typer.Option("hf", help="hf, vllm, openai or scripted."),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible completions server (generator=openai)."),
    tokenizer: Optional[Path] = typer.Option(None, help="Local tokenizer dir: send token-id prompts (generator=openai)."),
    generator_config: Optional[Path] = typer.Option(None, help="YAML with a `generator:` section (e.g. a campaign "
                                                               "config); replaces the generator flags."),
    env: str = typer.Option("embedded", help="embedded, lean-repl or dojo."),
    lean_project: Optional[Path] = typer.Option(None, help="Lean project with Mathlib (lean-repl; dojo's verifier)."),
    repl_path: Optional[Path] = typer.Option(None, help="leanprover-community/repl checkout (as --lean-project)."),
    dojo_repo: Optional[str] = typer.Option(None, help="LeanDojo: the traced repository (URL or local path)."),
    dojo_commit: Optional[str] = typer.Option(None, help="LeanDojo: its commit."),
    dojo_file: Optional[str] = typer.Option(None, help="LeanDojo: the .lean file holding the theorems, each "
                                            "found by its declared name."),
    dojo_locations: Optional[Path] = typer.Option(None, help="LeanDojo: JSON {theorem id: \\[file, full name]} "
                                                  "(or \\[repo, commit, file, full name]) instead of --dojo-file."),
    kimina_url: Optional[str] = typer.Option(None, help="Kimina Lean Server URL: dojo's verifier (API key from "
                                             "$LEAN_SERVER_API_KEY)."),
    tactic_timeout: float = typer.Option(12.0, help="Wall-clock seconds per tactic."),
    start_timeout: float = typer.Option(120.0, help="Seconds to start a theorem (REPL header; entering a Dojo)."),
    pass_k: int = typer.Option(1, "--pass-k", min=1, help="Independent attempts per theorem."),
    samples: Optional[int] = typer.Option(None, min=1, help="Run n >= k attempts without early stop, for the unbiased estimator."),
    tactics: int = typer.Option(8, min=1, help="Tactics sampled per expansion."),
    expansions: int = typer.Option(32, min=1, help="Max expansions per attempt."),
    wall: float = typer.Option(120.0, min=0.001, help="Wall-clock seconds per attempt."),
    workers: int = typer.Option(2, min=1, help="Environment worker processes."),
    concurrency: int = typer.Option(32, min=1, help="Attempts in flight at once."),
    temperature: Optional[float] = typer.Option(None, help="Sampling temperature (default 1.0, or the preset's)."),
    preset: Optional[str] = typer.Option(None, help="A released prover's prompt and decoding: bfs-prover-v2, "
                                         "internlm2.5-stepprover, reprover, ... (policy/presets.py)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N theorems."),
    out: Path = typer.Option(Path("runs/eval"), help="Output directory (results resume from here)."),
    seed: int = typer.Option(0),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run environment workers as Ray actors on this cluster ('local' starts one here)."),
    ray_workers_per_node: Optional[int] = typer.Option(None, min=1, help="With --ray: REPL workers of each node's environment actor (default: the node's free CPUs)."),
    planner: Optional[str] = typer.Option(None, help="Planner-driven search: embedded, openai, hf, file, or a YAML "
                                                     "with a `planner:` section (search/planner/)."),
    planner_model: Optional[str] = typer.Option(None, help="Planner model (openai: served name; hf: dir or hub id)."),
    planner_base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible chat server of the planner."),
    replan: bool = typer.Option(False, help="Online replanning when a phase exhausts its budget (keeps the proven prefix)."),
    searchers: int = typer.Option(1, min=1, help="Planner searchers per attempt, sharing one progress store."),
    mode: str = typer.Option("search", help="search (best-first), whole (whole proofs from a whole-proof preset, "
                                            "with --repair-rounds) or hybrid (a --draft-model draft, continued by search)."),
    repair_rounds: int = typer.Option(0, min=0, help="--mode whole: Lean-error repair turns after each proof."),
    draft_model: Optional[str] = typer.Option(None, help="--mode hybrid: the whole-proof model (a model dir), sampled "
                                                         "by the --generator kind (hf or vllm: its own engine)."),
    draft_preset: str = typer.Option("tiny-whole", help="--mode hybrid: the draft model's whole-proof preset."),
) -> None:
    """pass@k evaluation: best-first search on every theorem of a split; resumable."""
    from lean_env.factory import EnvConfig
    from lean_env.cluster import DistributedConfig
    from prover.eval_cmd import EvalRequest, run_eval_cli
    from search.best_first import SearchConfig

    try:
        gen = _generator_config(generator, model, base_url, tokenizer, temperature, seed, generator_config, preset)
        req = EvalRequest(
            benchmark=benchmark, split=split, pass_k=pass_k, samples=samples, limit=limit, concurrency=concurrency,
            out=out, distributed=DistributedConfig(address=ray, workers_per_node=ray_workers_per_node) if ray else None,
            env=EnvConfig(kind=env, workers=workers, lean_project=str(lean_project) if lean_project else None,
                          repl_path=str(repl_path) if repl_path else None, tactic_timeout=tactic_timeout,
                          start_timeout=start_timeout, dojo_repo=dojo_repo, dojo_commit=dojo_commit,
                          dojo_file=dojo_file, dojo_locations=str(dojo_locations) if dojo_locations else None,
                          kimina_url=kimina_url),
            generator=gen,
            search=SearchConfig(tactics_per_expansion=tactics, max_expansions=expansions, wall_seconds=wall),
            planner=_planner_config(planner, planner_model, planner_base_url, replan, searchers),
            mode=mode, repair_rounds=repair_rounds,
            draft=_draft_config(gen, draft_model, draft_preset, seed) if mode == "hybrid" and draft_model else None,
        )
        req.env.validate_search()   # a wrong environment setting is reported before any model loads
        run_eval_cli(req)
    except (ValueError, FileNotFoundError, ImportError) as e:
        _fail(e)


@app.command("show-tree")
def show_tree(
    theorem: str = typer.Argument(..., help="Theorem id."),
    benchmark: str = typer.Option("embedded"),
    model: Optional[str] = typer.Option(None, help="As for `prover eval` (default: the embedded model)."),
    generator: str = typer.Option("hf", help="hf, vllm, openai or scripted."),
    base_url: Optional[str] = typer.Option(None),
    expansions: int = typer.Option(32, min=1),
    tactics: int = typer.Option(8, min=1),
    out: Path = typer.Option(Path("runs/tree"), help="Writes TREE.json, TREE.graphml and TREE.png here."),
    seed: int = typer.Option(0),
    planner: Optional[str] = typer.Option(None, help="Run a planner-driven search (as `prover eval --planner`): one "
                                                     "tree per phase, and the plans and per-step progress."),
    planner_model: Optional[str] = typer.Option(None),
    planner_base_url: Optional[str] = typer.Option(None),
    replan: bool = typer.Option(False),
    attempts: Optional[Path] = typer.Option(None, help="Print the recorded attempts of THEOREM in this attempts.jsonl "
                                                       "(plans, validation, per-step progress) instead of searching."),
) -> None:
    """Run one search on one theorem and export/draw its search tree."""
    from prover.eval_cmd import run_show_tree

    try:
        gen = _generator_config(generator, model, base_url, None, 1.0, seed, None)
        run_show_tree(theorem, benchmark, gen, expansions, tactics, out,
                      _planner_config(planner, planner_model, planner_base_url, replan, 1), attempts)
    except (ValueError, FileNotFoundError) as e:
        _fail(e)


@app.command()
def campaign(
    config: Path = typer.Option(Path("configs/embedded.yaml"), "--config", "-c", help="Campaign YAML."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Defaults to runs/<config name>."),
    keep_saved_config: bool = typer.Option(False, help="Resume with the run's saved config even where the given "
                                           "one differs (without it, a resume with other settings is refused)."),
) -> None:
    """Run expert-iteration rounds end to end; rerun the same command to resume after a kill."""
    from prover.campaign import run_campaign
    from prover.config import ConfigError, load_config

    from policy.vllm_gen import WeightSyncError

    try:
        cfg = load_config(config)
    except ConfigError as e:
        _fail(e)
    from prover.recipes.shared import SoundnessIncident

    try:
        run_campaign(cfg, run_dir or Path("runs") / cfg.name, keep_saved_config)
    except (ConfigError, WeightSyncError) as e:   # WeightSyncError: a kept vLLM engine serves another model
        _fail(e)
    except SoundnessIncident as e:
        _fail(e)


@app.command("round")
def one_round(
    run_dir: Path = typer.Argument(..., help="An existing campaign run directory."),
) -> None:
    """Run exactly one more round of a campaign (search -> store -> filter -> train -> eval)."""
    from policy.vllm_gen import WeightSyncError
    from prover.campaign import run_one_round

    try:
        run_one_round(run_dir)
    except (ValueError, FileNotFoundError, WeightSyncError) as e:
        _fail(e)


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A campaign run directory.")) -> None:
    """Print the table of rounds and write the learning-curve plots."""
    from prover.report import print_report

    try:
        print_report(run_dir)
    except (ValueError, FileNotFoundError) as e:
        _fail(e)


@app.command("init-model")
def init_model(
    out: Path = typer.Option(Path("runs/models/embedded-tiny"), "--out", "-o", help="Where to write the HF model dir."),
    preset: str = typer.Option("tiny", help="Model size preset: micro, tiny (~0.7M) or small (~3.4M)."),
    epochs: float = typer.Option(20.0, help="Epochs of SFT on the seed proofs."),
    seed: int = typer.Option(0),
) -> None:
    """Create the embedded default model from scratch: tokenizer, tiny Llama, SFT on the seed proofs."""
    import asyncio

    import torch

    from lean_env.factory import make_env
    from prover.model_init import build_embedded_model

    torch.set_num_threads(min(torch.get_num_threads(), 4))

    from prover.campaign import quiet_hub
    from prover.progress import progress_bar

    quiet_hub()

    async def main(bar):
        env = make_env(workers=1)
        try:
            return await build_embedded_model(out, env, preset=preset, seed=seed, epochs=epochs, progress=bar)
        finally:
            await env.close()

    with progress_bar(None, "loss") as bar:
        path = asyncio.run(main(bar))
    typer.echo(f"embedded model written to {path} (untrained base: {path}-base)")


@app.command()
def distill(
    checkpoints: List[Path] = typer.Argument(..., help="Late checkpoints to sample successful trajectories from."),
    base: Path = typer.Option(..., help="The clean checkpoint to fine-tune (soft reset for RL)."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the distilled checkpoint."),
    benchmark: str = typer.Option("embedded"),
    split: str = typer.Option("train"),
    samples: int = typer.Option(4, min=1, help="Attempts per theorem from each checkpoint."),
    include_failed: bool = typer.Option(False, help="Also train on accepted steps of failed attempts."),
    epochs: float = typer.Option(3.0),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N theorems."),
    seed: int = typer.Option(0),
) -> None:
    """Self-distillation (soft reset for RL): SFT a clean checkpoint on successful trajectories
    sampled from late checkpoints; resume GRPO from the result."""
    from lean_env.benchmarks import load_benchmark
    from lean_env.factory import make_env
    from training.grpo.config import GRPOConfig
    from training.grpo.distill import collect_successful, self_distill
    from training.sft import SFTConfig

    theorems = load_benchmark(benchmark, split)[:limit]
    env = make_env(workers=2)
    trajectories = collect_successful([str(c) for c in checkpoints], env, theorems, samples, GRPOConfig(seed=seed), seed)
    typer.echo(f"{sum(t.verified for t in trajectories)} verified trajectories from {len(checkpoints)} checkpoint(s)")
    try:
        res = self_distill(str(base), trajectories, out, SFTConfig(epochs=epochs, seed=seed), successful_only=not include_failed)
    except ValueError as e:
        _fail(e)
    typer.echo(f"distilled checkpoint written to {out} (loss {res.final_loss:.3f}, {res.steps} steps)")


@app.command()
def merge(
    checkpoints: List[Path] = typer.Argument(..., help="HF checkpoint dirs from the same base."),
    out: Path = typer.Option(..., "--out", "-o"),
) -> None:
    """Average the parameters of several checkpoints (fp32 accumulation)."""
    from training.merge import merge_checkpoints

    try:
        merge_checkpoints([str(c) for c in checkpoints], str(out))
    except (ValueError, FileNotFoundError) as e:
        _fail(e)
    typer.echo(f"merged {len(checkpoints)} checkpoints into {out}")


if __name__ == "__main__":
    app()
