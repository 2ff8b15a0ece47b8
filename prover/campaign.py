"""Expert-iteration campaigns: rounds of search -> store -> filter -> train -> eval, resumable.

Everything lives under one run directory:

    config.yaml            the validated config this run was started with
    state.json             {"round", "phase"} of the last *completed* phase (atomic writes)
    checkpoints/base       the untrained base model (soft resets restart from it)
    checkpoints/round_NNN  the model after round NNN (round_000: SFT on the seed proofs)
    rounds/NNN/search      attempts.jsonl of the round's proving pass over the problem pool
    rounds/NNN/eval_SPLIT  attempts.jsonl of the held-out evaluation
    rounds/NNN/filter.json, filter.png   what the perplexity filter kept and dropped
    store/                 the trajectory store (Parquet)
    metrics.jsonl          one row per round (pass rates, entropy, data, timings, soft-reset flag)

Each phase is idempotent given its inputs and records its completion in state.json only after
its outputs are on disk, so a campaign killed at any point (SIGKILL included) resumes at the
interrupted phase: searches skip the attempts already appended, training restarts from the
round's input checkpoint, nothing is duplicated.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch

from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from prover.config import CampaignConfig, dump_config, load_config
from search.best_first import SearchConfig
from search.generators.base import PromptFormat

PHASES = ("search", "store", "filter", "train", "eval")


class Run:
    """Paths and persistent state of one campaign run directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def ckpt(self, r: int) -> Path:
        return self.root / "checkpoints" / f"round_{r:03d}"

    @property
    def base(self) -> Path:
        return self.root / "checkpoints" / "base"

    def round_dir(self, r: int) -> Path:
        return self.root / "rounds" / f"{r:03d}"

    def state(self) -> dict:
        p = self.root / "state.json"
        return json.loads(p.read_text()) if p.exists() else {"round": -1, "phase": "eval"}

    def save_state(self, round_: int, phase: str, **extra) -> None:
        tmp = self.root / "state.json.tmp"
        tmp.write_text(json.dumps({"round": round_, "phase": phase, **extra}))
        os.replace(tmp, self.root / "state.json")

    def metrics(self) -> list[dict]:
        return list(read_jsonl(self.root / "metrics.jsonl"))

    def log(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.root / "logs" / "campaign.log", "a") as f:
            f.write(line + "\n")


def _load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


async def _search(cfg: CampaignConfig, ckpt: Path, theorems, out_dir: Path, round_: int, attempts: int = 1):
    from prover.evaluate import evaluate
    from search.generators.hf import HFGenerator

    model, tok = _load(ckpt)
    from search.generators.params import SamplingParams

    params = SamplingParams(cfg.generator.temperature, cfg.generator.top_p, cfg.generator.max_new_tokens,
                            seed=cfg.seed + round_)
    gen = HFGenerator(model, tok, params, PromptFormat(cfg.generator.prompt_template))
    env = make_env(EnvConfig(kind=cfg.env.kind, workers=cfg.env.workers, lean_project=cfg.env.lean_project,
                             repl_path=cfg.env.repl_path, tactic_timeout=cfg.env.tactic_timeout,
                             verify_timeout=cfg.env.verify_timeout))
    s = cfg.search
    search_cfg = SearchConfig(s.tactics_per_expansion, s.max_expansions, s.alpha, s.wall_seconds)
    try:
        return await evaluate(theorems, env, gen, search_cfg, out_dir, attempts, concurrency=s.concurrency,
                              tag={"checkpoint": ckpt.name, "round": round_})
    finally:
        await env.close()


def _seed_pairs(cfg: CampaignConfig) -> list[dict]:
    """The human seed proofs as (state, tactic) pairs, replayed once and cached in the run."""
    from prover.model_init import load_proofs, replay_pairs

    async def go():
        env = make_env(EnvConfig(workers=1))
        try:
            train = load_benchmark(cfg.pool_benchmark, cfg.pool_split)
            return await replay_pairs(env, train, load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl"))
        finally:
            await env.close()
    return [{"state": p.state, "tactic": p.tactic} for p in asyncio.run(go())]


def _probe(run: Run, cfg: CampaignConfig) -> tuple[list[str], list[str]]:
    """A fixed entropy probe: the first 64 seed pairs, stored with the run so it never changes."""
    path = run.root / "probe.jsonl"
    if not path.exists():
        write_jsonl_atomic(path, _seed_pairs(cfg)[:64])
    rows = list(read_jsonl(path))
    prompt = PromptFormat(cfg.generator.prompt_template)
    return [prompt.prompt(r["state"]) for r in rows], [r["tactic"] for r in rows]


def _round_zero(run: Run, cfg: CampaignConfig) -> None:
    from prover.model_init import build_embedded_model

    if not run.ckpt(0).exists():
        if cfg.model.init == "path":
            if not cfg.model.path:
                raise ValueError("model.init: path needs model.path")
            from training.sft import save_checkpoint

            m, t = _load(Path(cfg.model.path))
            save_checkpoint(m, t, run.base)
            save_checkpoint(m, t, run.ckpt(0))
        else:
            async def go():
                env = make_env(EnvConfig(workers=1))
                try:
                    await build_embedded_model(run.ckpt(0), env, preset=cfg.model.preset, seed=cfg.seed,
                                               epochs=cfg.model.seed_epochs)
                finally:
                    await env.close()
            asyncio.run(go())
    base_built = run.ckpt(0).with_name(run.ckpt(0).name + "-base")
    if base_built.exists() and not run.base.exists():  # also after a kill between the two saves
        base_built.rename(run.base)
    _evaluate_round(run, cfg, 0, soft_reset=False, extra={})


def _evaluate_round(run: Run, cfg: CampaignConfig, r: int, soft_reset: bool, extra: dict) -> None:
    """Held-out pass@1 for each eval split, the entropy probe, one metrics row."""
    from training.entropy import policy_entropy

    row = {"round": r, "soft_reset": soft_reset, **extra}
    t0 = time.perf_counter()
    for split in cfg.eval.splits:
        thms = load_benchmark(cfg.eval.benchmark, split)[: cfg.eval.limit]
        summary, _ = asyncio.run(_search(cfg, run.ckpt(r), thms, run.round_dir(r) / f"eval_{split}", r, cfg.eval.pass_k))
        row[f"pass_{split}"] = summary.pass_at_k
        row[f"env_failures_{split}"] = summary.env_failures
        row["budget"] = summary.budget
    model, tok = _load(run.ckpt(r))
    row["entropy"] = policy_entropy(model, tok, *_probe(run, cfg))
    row["time_eval"] = time.perf_counter() - t0
    done = {m["round"] for m in run.metrics()}
    if r not in done:
        append_jsonl(run.root / "metrics.jsonl", [row])
    run.save_state(r, "eval")
    run.log("round %d: %s" % (r, ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())))


def _is_resynthesis(cfg: CampaignConfig, r: int, metrics: list[dict]) -> bool:
    rs = cfg.resynthesis
    if rs.every and r % rs.every == 0:
        return True
    if rs.plateau_rounds and len(metrics) > rs.plateau_rounds:
        key = f"pass_{cfg.eval.splits[0]}"
        recent = [m.get(key, 0) for m in metrics[-rs.plateau_rounds:]]
        best_before = max(m.get(key, 0) for m in metrics[: -rs.plateau_rounds])
        return max(recent) <= best_before
    return False


def _run_round(run: Run, cfg: CampaignConfig, r: int) -> None:
    from training.ppl_filter import filter_pairs
    from training.sft import SFTConfig, train_sft
    from training.store import TrajectoryStore, pairs_from_records

    state = run.state()
    done_phase = state["phase"] if state["round"] == r else None
    start = PHASES.index(done_phase) + 1 if done_phase else 0
    rdir = run.round_dir(r)
    rdir.mkdir(parents=True, exist_ok=True)
    resynth = state.get("resynthesis", False) if state["round"] == r else _is_resynthesis(cfg, r, run.metrics())
    prev = run.ckpt(r - 1)
    store = TrajectoryStore(run.root / "store")
    prompt = PromptFormat(cfg.generator.prompt_template)
    timings = state.get("timings", {}) if state["round"] == r else {}

    pool = load_benchmark(cfg.pool_benchmark, cfg.pool_split)[: cfg.pool_limit]
    if cfg.drop_solved and not resynth:
        solved = {p["theorem_id"] for p in store.pairs()}
        pool = [t for t in pool if t.id not in solved]

    for phase in PHASES[start:]:
        t0 = time.perf_counter()
        if cfg.learner == "grpo" and phase in ("search", "store", "filter"):
            continue  # GRPO samples its own rollouts inside the train phase
        if cfg.learner == "grpo" and phase == "train":
            _train_grpo(run, cfg, r, prev, pool)
        elif phase == "search":
            source = _best_checkpoint(run, cfg) if resynth else prev
            run.log(f"round {r}: searching {len(pool)} problems with {source.name}" + (" (re-synthesis)" if resynth else ""))
            asyncio.run(_search(cfg, source, pool, rdir / "search", r))
        elif phase == "store":
            from search.records import AttemptRecord

            records = [AttemptRecord.from_dict(x) for x in read_jsonl(rdir / "search" / "attempts.jsonl")]
            pairs, errors = pairs_from_records(records, r, prev.name)
            (store.replace_all if resynth else store.add)(r, pairs, errors)
            run.log(f"round {r}: {sum(x.proved for x in records)}/{len(records)} proved, {len(pairs)} pairs stored")
        elif phase == "filter":
            model, tok = _load(prev)
            pairs = [{"state": p["state"], "tactic": p["tactic"]} for p in store.pairs()]
            kept, report = filter_pairs(model, tok, pairs, prompt, cfg.filter.low_quantile, cfg.filter.high_quantile,
                                        rdir / "filter.png")
            (rdir / "filter.json").write_text(json.dumps(asdict(report), indent=1))
            write_jsonl_atomic(rdir / "kept.jsonl", kept)
        elif phase == "train":
            kept = list(read_jsonl(rdir / "kept.jsonl"))
            data = [(prompt.prompt(p["state"]), p["tactic"]) for p in kept]
            if cfg.train.include_seed_proofs:
                data += [(prompt.prompt(p["state"]), p["tactic"]) for p in _seed_pairs(cfg)]
            start_from = _fresh_base(run, cfg) if resynth else prev
            model, tok = _load(start_from)
            t = cfg.train
            res = train_sft(model, tok, data, SFTConfig(lr=t.lr, epochs=t.epochs, batch_tokens=t.batch_tokens,
                                                        grad_accum=t.grad_accum, warmup_steps=t.warmup_steps,
                                                        max_len=t.max_len, seed=cfg.seed + r), run.ckpt(r))
            run.log(f"round {r}: trained from {start_from.name} on {len(data)} pairs, loss {res.final_loss:.3f}, "
                    f"{res.tokens_per_s:.0f} tokens/s")
            if t.dpo:
                _dpo(run, cfg, r, store, prompt)
        elif phase == "eval":
            timings[phase] = time.perf_counter() - t0
            extra = {f"time_{k}": v for k, v in timings.items()}
            if cfg.learner == "grpo":
                extra.update(_grpo_summary(rdir / "grpo" / "telemetry.jsonl"))
            else:
                extra["pairs_total"] = json.loads((rdir / "filter.json").read_text())["total"]
                extra["pairs_kept"] = sum(1 for _ in read_jsonl(rdir / "kept.jsonl"))
            _evaluate_round(run, cfg, r, resynth, extra)
            return
        timings[phase] = time.perf_counter() - t0
        run.save_state(r, phase, resynthesis=resynth, timings=timings)


def _train_grpo(run: Run, cfg: CampaignConfig, r: int, prev: Path, pool) -> None:
    """One GRPO round: `grpo.steps` optimiser steps from the previous checkpoint. The GRPO output
    directory is cleared first, so a round killed half-way restarts cleanly from `prev`."""
    import shutil

    from training.grpo.trainer import run_grpo
    from training.sft import save_checkpoint

    out = run.round_dir(r) / "grpo"
    if out.exists():
        shutil.rmtree(out)
    env = make_env(EnvConfig(kind=cfg.env.kind, workers=cfg.env.workers, lean_project=cfg.env.lean_project,
                             repl_path=cfg.env.repl_path, tactic_timeout=cfg.env.tactic_timeout,
                             verify_timeout=cfg.env.verify_timeout))
    gcfg = cfg.grpo.to_grpo_config(cfg.seed + r)
    final = run_grpo(prev, env, pool, gcfg, out, tensorboard=cfg.grpo.tensorboard)
    model, tok = _load(final)
    save_checkpoint(model, tok, run.ckpt(r), {"grpo": gcfg.to_dict(), "from": prev.name})
    summary = _grpo_summary(out / "telemetry.jsonl")
    run.log(f"round {r}: GRPO {gcfg.steps} steps from {prev.name}, " + ", ".join(f"{k} {v:.3f}" for k, v in summary.items()))


def _grpo_summary(path: Path) -> dict:
    rows = list(read_jsonl(path))
    if not rows:
        return {}
    keys = ("reward_mean", "loss", "entropy", "k_next", "frac_clipped", "logp_diff_max", "kept_problems", "tokens")
    out = {f"grpo_{k}": sum(float(r[k]) for r in rows) / len(rows) for k in keys}
    out["grpo_steps_taken"] = float(sum(not r["skipped"] for r in rows))
    return out


def _fresh_base(run: Run, cfg: CampaignConfig) -> Path:
    """Where a soft reset restarts: the initial base, or (scale-up) a larger model created from
    scratch with the same tokenizer."""
    if cfg.resynthesis.base == "initial":
        return run.base
    larger = run.root / "checkpoints" / f"base_{cfg.resynthesis.larger_preset}"
    if not larger.exists():
        from search.generators.tiny import create_model
        from training.sft import save_checkpoint

        _, tok = _load(run.base)
        model = create_model(tok, cfg.resynthesis.larger_preset, seed=cfg.seed)
        save_checkpoint(model, tok, larger, {"preset": cfg.resynthesis.larger_preset, "what": "larger base for scale-up"})
    return larger


def _dpo(run: Run, cfg: CampaignConfig, r: int, store, prompt: PromptFormat) -> None:
    """BFS-Prover v1's DPO pass on this round's checkpoint: proof tactic vs erroring sibling."""
    from training.dpo import DPOConfig, train_dpo, triples_from_store

    triples = triples_from_store(store.errors(), prompt)
    if not triples:
        run.log(f"round {r}: no (proof tactic, erroring sibling) pairs: DPO skipped")
        return
    model, tok = _load(run.ckpt(r))
    res = train_dpo(model, tok, triples, DPOConfig(lr=cfg.train.dpo_lr, beta=cfg.train.dpo_beta, seed=cfg.seed + r),
                    run.ckpt(r))
    run.log(f"round {r}: DPO on {len(triples)} pairs, loss {res.final_loss:.3f}")


def _best_checkpoint(run: Run, cfg: CampaignConfig) -> Path:
    key = f"pass_{cfg.eval.splits[0]}"
    metrics = run.metrics()
    best = max(metrics, key=lambda m: (m.get(key, 0), m["round"]))
    return run.ckpt(best["round"])


def run_campaign(cfg: CampaignConfig, run_dir: Path) -> None:
    torch.set_num_threads(min(torch.get_num_threads(), 4))
    run = Run(run_dir)
    run.root.mkdir(parents=True, exist_ok=True)
    cfg_path = run.root / "config.yaml"
    if cfg_path.exists():
        saved = load_config(cfg_path)
        if saved.model_dump() != cfg.model_dump():
            run.log("config differs from the one this run started with: resuming with the saved config")
            cfg = saved
    else:
        dump_config(cfg, cfg_path)
    t0 = time.perf_counter()
    if run.state()["round"] < 0 or not run.ckpt(0).exists():
        _round_zero(run, cfg)
    while True:
        state = run.state()
        r = state["round"] + (1 if state["phase"] == "eval" else 0)
        if r > cfg.rounds:
            break
        _run_round(run, cfg, r)
    run.log(f"campaign done in {time.perf_counter() - t0:.0f}s; `prover report {run.root}` draws the curves")
    from prover.report import print_report

    print_report(run.root)


def run_one_round(run_dir: Path) -> None:
    run = Run(run_dir)
    cfg_path = run.root / "config.yaml"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a campaign run directory (no config.yaml)")
    cfg = load_config(cfg_path)
    if run.state()["round"] < 0:
        _round_zero(run, cfg)
        return
    state = run.state()
    _run_round(run, cfg, state["round"] + (1 if state["phase"] == "eval" else 0))
