"""Create the embedded default model: tokenizer trained on the benchmark's text, a tiny Llama from
scratch, fine-tuned on the human seed proofs. No download, a minute or two on 2 CPU cores."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from lean_env.base import ProofEnv
from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.jsonl import read_jsonl
from lean_env.types import ProofFinished, TacticState, Theorem
from policy.base import PromptFormat
from training.store import Pair


def load_proofs(path: str | Path) -> dict[str, list[str]]:
    if not Path(path).exists():
        raise FileNotFoundError(f"proof file not found: {path}")
    return {r["id"]: list(r["tactics"]) for r in read_jsonl(path, torn_tail_ok=False)}


async def replay_pairs(env: ProofEnv, theorems: Sequence[Theorem], proofs: dict[str, list[str]]) -> list[Pair]:
    """Step each proof through the environment to recover the goal state before every tactic: the
    seed pairs (round -1, no checkpoint). A proof that does not replay is skipped (and would be a
    data bug: the tests check seeds)."""
    pairs: list[Pair] = []
    for t in theorems:
        if t.id not in proofs:
            continue
        state = await env.start(t)
        out: list[Pair] = []
        for depth, tac in enumerate(proofs[t.id]):
            if not isinstance(state, TacticState):
                break
            out.append(Pair(theorem_id=t.id, benchmark=t.benchmark, state=state.pp, tactic=tac, depth=depth,
                            proof_length=len(proofs[t.id])))
            state = await env.run_tactic(state, tac)
        if isinstance(state, ProofFinished):
            pairs.extend(out)
    return pairs


def tokenizer_corpus(theorems: Sequence[Theorem], pairs: Sequence[Pair], prompt: PromptFormat) -> list[str]:
    return [t.statement for t in theorems] + [prompt.prompt(p.state) for p in pairs] + [p.tactic for p in pairs]


async def build_embedded_model(out_dir: str | Path, env: ProofEnv, preset: str = "tiny", seed: int = 0,
                               epochs: float = 20.0, lr: float = 2e-3, prompt: PromptFormat | None = None) -> Path:
    from policy.checkpoint import save_checkpoint
    from policy.tiny import create_model, train_tokenizer
    from training.sft import SFTConfig, sft_examples, train_sft

    prompt = prompt or PromptFormat()
    theorems = load_benchmark("embedded")
    seeds = load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl")
    train = [t for t in theorems if t.split == "train"]
    pairs = await replay_pairs(env, train, seeds)
    tokenizer = train_tokenizer(tokenizer_corpus(train, pairs, prompt))
    torch.manual_seed(seed)
    model = create_model(tokenizer, preset, seed)
    base = Path(out_dir).with_name(Path(out_dir).name + "-base")
    save_checkpoint(model, tokenizer, base, {"preset": preset, "seed": seed, "what": "untrained base"})
    cfg = SFTConfig(lr=lr, epochs=epochs, batch_tokens=4096, warmup_steps=20, seed=seed)
    train_sft(model, tokenizer, sft_examples(pairs, prompt), cfg, out_dir)
    return Path(out_dir)
