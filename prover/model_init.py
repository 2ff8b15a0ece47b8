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
                               progress: "Progress | None" = None, pairs: Sequence[Pair] | None = None) -> Path:
    """The four steps, each a line of `progress` when given: replay the seed proofs (unless the
    `pairs` to learn are given: a whole-proof model's), train the tokenizer, create the base model,
    SFT it (steps and loss)."""
    from policy.checkpoint import save_checkpoint
    from policy.tiny import create_model, train_tokenizer
    from training.sft import SFTConfig, sft_examples, train_sft

    def step(description: str, total: float | None = None) -> Callable[..., None]:
        if progress is None:
            return lambda *a, **k: None
        task = progress.add_task(description, total=total, loss="-")
        return lambda advance=1, **fields: progress.update(task, advance=advance, **fields)

    prompt = prompt or PromptFormat()
    theorems = load_benchmark("embedded")
    train = [t for t in theorems if t.split == "train"]
    if pairs is None:
        replayed = step("1/4 replay seed proofs", len(train))
        pairs = await replay_pairs(env, train, load_proofs(DATA_DIR / "embedded" / "seed_proofs.jsonl"),
                                   on_theorem=replayed)
    made = step("2/4 tokenizer", 1)
    tokenizer = train_tokenizer(tokenizer_corpus(train, pairs, prompt))
    made()
    made = step(f"3/4 base model ({preset})", 1)
    torch.manual_seed(seed)
    model = create_model(tokenizer, preset, seed)
    base = Path(out_dir).with_name(Path(out_dir).name + "-base")
    save_checkpoint(model, tokenizer, base, {"preset": preset, "seed": seed, "what": "untrained base"})
    made()
    cfg = SFTConfig(lr=lr, epochs=epochs, batch_tokens=4096, warmup_steps=20, seed=seed)
    trained = step(f"4/4 SFT on {len(pairs)} seed pairs")
    train_sft(model, tokenizer, sft_examples(pairs, prompt), cfg, out_dir,
              on_step=lambda i, total, loss: trained(total=total, completed=i, advance=0, loss=f"{loss:.3f}"))
    return Path(out_dir)
