"""Expert-iteration SFT: next-token loss on the tactic tokens only (the goal state is context).

Examples are (prompt, tactic) pairs tokenised with the shared convention
(`search/generators/tokens.py`). Batches are length-bucketed (similar lengths together, padded to
the longest in the bucket, at most `batch_tokens` tokens), with gradient accumulation, AdamW,
linear warmup then cosine decay, gradient clipping, bf16 autocast on GPU and fp32 on CPU. The
loop runs under `accelerate.Accelerator`, so the same code runs on one CPU, one GPU, or many GPUs
(`accelerate launch`). The result is a Hugging Face model directory (safetensors + tokenizer).
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from search.generators.tokens import encode_prompt, encode_tactic

IGNORE = -100


@dataclass
class SFTConfig:
    lr: float = 1e-3
    epochs: float = 3.0
    batch_tokens: int = 4096
    grad_accum: int = 1
    warmup_steps: int = 10
    weight_decay: float = 0.01
    max_len: int = 512
    clip: float = 1.0
    seed: int = 0


@dataclass
class SFTResult:
    steps: int
    tokens: int
    seconds: float
    final_loss: float
    losses: list[float] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / max(self.seconds, 1e-9)


def tokenize_examples(tokenizer, examples: Sequence[tuple[str, str]], max_len: int) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) with the prompt masked; over-long prompts keep their end."""
    out = []
    for prompt, tactic in examples:
        p, t = encode_prompt(tokenizer, prompt), encode_tactic(tokenizer, tactic)
        if len(t) >= max_len:
            continue
        if len(p) + len(t) > max_len:
            p = p[:1] + p[-(max_len - len(t) - 1):]
        out.append((p + t, [IGNORE] * len(p) + t))
    return out


def bucket_batches(seqs: list[tuple[list[int], list[int]]], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length so padding is small; batch order shuffled."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i][0]), rng.random()))
    batches, cur, longest = [], [], 0
    for i in order:
        L = len(seqs[i][0])
        if cur and max(longest, L) * (len(cur) + 1) > batch_tokens:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, L)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(seqs, idx: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(seqs[i][0]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, i in enumerate(idx):
        x, y = seqs[i]
        ids[r, : len(x)] = torch.tensor(x)
        labels[r, : len(y)] = torch.tensor(y)
        mask[r, : len(x)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def tactic_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Sum of token NLLs over tactic tokens, and how many there were (normalise outside, so
    gradient accumulation weighs every token equally)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    labels = batch["labels"][:, 1:]
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), ignore_index=IGNORE, reduction="sum"
    )
    return loss, int((labels != IGNORE).sum())


def train_sft(model, tokenizer, examples: Sequence[tuple[str, str]], cfg: SFTConfig, out_dir: str | Path | None = None) -> SFTResult:
    from accelerate import Accelerator

    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    seqs = tokenize_examples(tokenizer, examples, cfg.max_len)
    if not seqs:
        raise ValueError("no training examples (all empty or longer than max_len)")
    accelerator = Accelerator(gradient_accumulation_steps=cfg.grad_accum,
                              mixed_precision="bf16" if torch.cuda.is_available() else "no", cpu=not torch.cuda.is_available())
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    per_epoch = len(bucket_batches(seqs, cfg.batch_tokens, random.Random(0)))
    total = max(1, math.ceil(per_epoch * cfg.epochs / cfg.grad_accum))

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / max(cfg.warmup_steps, 1)
        progress = (step - cfg.warmup_steps) / max(total - cfg.warmup_steps, 1)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model, opt, sched = accelerator.prepare(model, opt, sched)
    t0, tokens, step, losses = time.perf_counter(), 0, 0, []
    micro_batches: list[list[int]] = []
    while len(micro_batches) < total * cfg.grad_accum:
        micro_batches += bucket_batches(seqs, cfg.batch_tokens, rng)
    micro_batches = micro_batches[: total * cfg.grad_accum]
    window_loss, window_tokens = 0.0, 0
    for i, idx in enumerate(micro_batches):
        batch = {k: v.to(accelerator.device) for k, v in collate(seqs, idx, tokenizer.pad_token_id).items()}
        with accelerator.accumulate(model), accelerator.autocast():
            loss_sum, n_tok = tactic_loss(model, batch)
            accelerator.backward(loss_sum / max(n_tok, 1) / cfg.grad_accum)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            sched.step()
            opt.zero_grad()
        tokens += int(batch["attention_mask"].sum())
        window_loss += float(loss_sum.detach())
        window_tokens += n_tok
        if (i + 1) % cfg.grad_accum == 0:
            step += 1
            losses.append(window_loss / max(window_tokens, 1))
            window_loss, window_tokens = 0.0, 0
    seconds = time.perf_counter() - t0
    model = accelerator.unwrap_model(model)
    model.eval()
    result = SFTResult(step, tokens, seconds, losses[-1] if losses else float("nan"), losses)
    if out_dir is not None:
        save_checkpoint(model, tokenizer, out_dir, {"sft": asdict(cfg), "result": asdict(result)})
    return result


def save_checkpoint(model, tokenizer, out_dir: str | Path, meta: dict | None = None) -> Path:
    """Write an HF model dir atomically: into a temporary sibling, then renamed into place, so a
    kill mid-save never leaves a half-written checkpoint under the final name."""
    import shutil

    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if meta is not None:
        (tmp / "training_state.json").write_text(json.dumps(meta, indent=1))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out
