"""Model merging: a (weighted) average of the parameters of checkpoints fine-tuned from the same
base. Sums are accumulated in fp32 and the result is stored in the first checkpoint's dtype, with
its tokenizer. Checkpoints must have the same architecture, parameter names and shapes."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from policy.checkpoint import load_checkpoint, save_checkpoint


def normalised_weights(n: int, weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0 / n] * n
    weights = [float(w) for w in weights]
    if len(weights) != n:
        raise ValueError(f"{len(weights)} weights for {n} checkpoints")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {weights}")
    return [w / sum(weights) for w in weights]


def check_compatible(name: str, ref: dict[str, torch.Tensor], other: dict[str, torch.Tensor], ref_name: str) -> None:
    missing, extra = ref.keys() - other.keys(), other.keys() - ref.keys()
    if missing or extra:
        raise ValueError(f"{name} is not the same architecture as {ref_name}: "
                         f"missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
    for k, v in other.items():
        if v.shape != ref[k].shape:
            raise ValueError(f"{name}: parameter {k} has shape {tuple(v.shape)}, {ref_name} has {tuple(ref[k].shape)}")


def merge_checkpoints(paths: Sequence[str | Path], out_dir: str | Path, weights: Sequence[float] | None = None) -> Path:
    """Write the averaged model to `out_dir` and return it. `weights` default to equal and are
    normalised to sum to 1."""
    if not paths:
        raise ValueError("need at least one checkpoint to merge")
    for p in paths:
        if not (Path(p) / "config.json").exists():
            raise FileNotFoundError(f"not a Hugging Face model dir (no config.json): {p}")
    weights = normalised_weights(len(paths), weights)
    base, tokenizer, _ = load_checkpoint(paths[0])
    ref = base.state_dict()
    acc = {k: v.detach().float() * weights[0] for k, v in ref.items()}
    for p, w in zip(paths[1:], weights[1:]):
        other, _, _ = load_checkpoint(p)
        if other.config.model_type != base.config.model_type:
            raise ValueError(f"{p} is a {other.config.model_type} model, {paths[0]} a {base.config.model_type}")
        sd = other.state_dict()
        check_compatible(str(p), ref, sd, str(paths[0]))
        for k, v in sd.items():
            acc[k] += v.detach().float() * w
        del other, sd
    base.load_state_dict({k: acc[k].to(ref[k].dtype) for k in ref})
    return save_checkpoint(base, tokenizer, out_dir,
                           {"kind": "merge", "merged": [str(p) for p in paths], "weights": weights})
