"""Model merging: average the parameters of checkpoints trained from the same base (fp32 sums)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch


def merge_checkpoints(paths: Sequence[str], out_dir: str, weights: Sequence[float] | None = None) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.sft import save_checkpoint

    if len(paths) < 1:
        raise ValueError("need at least one checkpoint to merge")
    for p in paths:
        if not Path(p).is_dir():
            raise FileNotFoundError(f"checkpoint not found: {p}")
    weights = list(weights) if weights is not None else [1.0 / len(paths)] * len(paths)
    if len(weights) != len(paths) or abs(sum(weights) - 1) > 1e-6:
        raise ValueError("weights must be one per checkpoint and sum to 1")
    first = AutoModelForCausalLM.from_pretrained(paths[0])
    ref = first.state_dict()
    acc = {k: v.detach().float() * weights[0] for k, v in ref.items()}
    for p, w in zip(paths[1:], weights[1:]):
        sd = AutoModelForCausalLM.from_pretrained(p).state_dict()
        if sd.keys() != ref.keys():
            raise ValueError(f"{p} has different parameters from {paths[0]}: not the same architecture")
        for k, v in sd.items():
            if v.shape != ref[k].shape:
                raise ValueError(f"{p}: parameter {k} has shape {tuple(v.shape)}, expected {tuple(ref[k].shape)}")
            acc[k] += v.detach().float() * w
    first.load_state_dict({k: acc[k].to(ref[k].dtype) for k in ref})
    return save_checkpoint(first, AutoTokenizer.from_pretrained(paths[0]), out_dir, {"merged": list(paths), "weights": weights})
