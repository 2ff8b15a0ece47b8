"""Create the embedded default model: tokenizer trained on the benchmark's text, a tiny Llama from
scratch, fine-tuned on the human seed proofs. No download, a minute or two on 2 CPU cores."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import torch

from lean_env.base import ProofEnv
from lean_env.benchmarks import DATA_DIR, load_benchmark
from lean_env.jsonl import read_jsonl
from lean_env.types import ProofFinished, TacticState, Theorem
from policy.base import PromptFormat
from training.store import Pair

if TYPE_CHECKING:
    from rich.progress import Progress


def load_proofs(path: str | Path) -> dict[str, list[str]]:
    if not Path(path).exists():
        raise FileNotFoundError(f"proof file not found: {path}")
    return {r["id"]: list(r["tactics"]) for r in read_jsonl(path, torn_tail_ok=False)}


async def replay_pairs(env: ProofEnv, theorems: Sequence[Theorem], proofs: dict[str, list[str]],
                       on_theorem=None) -> list[Pair]:
    """Step each proof through the environment to recover the goal state before every tactic: the
    seed pairs (round -1, no checkpoint). A proof that does not replay is skipped (and would be a
    data bug: the tests check seeds). `on_theorem()` is called after each theorem (a progress bar)."""
    pairs: list[Pair] = []
    for t in theorems:
        if on_theorem is not None:
            on_theorem()
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
                               epochs: float = 20.0, lr: float = 2e-3, prompt: PromptFormat | None = None,
                               progress: "Progress | None" = None) -> Path:
    """The embedded default model: the human seed proofs replayed on the embedded train split,
    then `train_seed_model` on them (a line of `progress` per step)."""
    theorems = load_benchmark("embedded")
    seeds = load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl")
    train = [t for t in theorems if t.split == "train"]
    replayed = _step(progress, "1/4 replay seed proofs", len(train))
    pairs = await replay_pairs(env, train, seeds, on_theorem=replayed)
    return train_seed_model(out_dir, pairs, train, preset, seed, epochs, lr, prompt, progress)


def train_seed_model(out_dir: str | Path, pairs: Sequence[Pair], theorems: Sequence[Theorem], preset: str = "tiny",
                     seed: int = 0, epochs: float = 20.0, lr: float = 2e-3, prompt: PromptFormat | None = None,
                     progress: "Progress | None" = None) -> Path:
    """A model from scratch on seed pairs: train the tokenizer (on `theorems`' statements and the
    pairs' text), create the base model (saved as OUT-base), SFT it."""
    from policy.checkpoint import save_checkpoint
    from policy.tiny import create_model, train_tokenizer
    from training.sft import SFTConfig, sft_examples, train_sft

    prompt = prompt or PromptFormat()
    made = _step(progress, "2/4 tokenizer", 1)
    tokenizer = train_tokenizer(tokenizer_corpus(theorems, pairs, prompt))
    made()
    made = _step(progress, f"3/4 base model ({preset})", 1)
    torch.manual_seed(seed)
    model = create_model(tokenizer, preset, seed)
    base = Path(out_dir).with_name(Path(out_dir).name + "-base")
    save_checkpoint(model, tokenizer, base, {"preset": preset, "seed": seed, "what": "untrained base"})
    made()
    cfg = SFTConfig(lr=lr, epochs=epochs, batch_tokens=4096, warmup_steps=20, seed=seed)
    trained = _step(progress, f"4/4 SFT on {len(pairs)} seed pairs")
    train_sft(model, tokenizer, sft_examples(pairs, prompt), cfg, out_dir,
              on_step=lambda i, total, loss: trained(total=total, completed=i, advance=0, loss=f"{loss:.3f}"))
    return Path(out_dir)


def _step(progress: "Progress | None", description: str, total: float | None = None) -> Callable[..., None]:
    if progress is None:
        return lambda *a, **k: None
    task = progress.add_task(description, total=total, loss="-")
    return lambda advance=1, **fields: progress.update(task, advance=advance, **fields)
