"""Saving and loading Hugging Face model directories (safetensors + tokenizer + training_state.json)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

STATE_FILE = "training_state.json"


def save_checkpoint(model, tokenizer, out_dir: str | Path, meta: dict | None = None) -> Path:
    """Write the model dir into a temporary sibling, then swap it into place by renames, so a kill
    mid-save never leaves a half-written checkpoint under the final name."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    old = out.with_name(out.name + ".old")
    for stale in (tmp, old):
        if stale.exists():
            shutil.rmtree(stale)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if meta is not None:
        (tmp / STATE_FILE).write_text(json.dumps(meta, indent=1, default=str))
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)
    return out


def load_model(model_or_path, tokenizer=None):
    """(model, tokenizer) from a model dir, or the given objects unchanged."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if isinstance(model_or_path, (str, Path)):
        path = Path(model_or_path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"not a Hugging Face model dir (no config.json): {path}")
        model = AutoModelForCausalLM.from_pretrained(path)
        return model, tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(path)
    if tokenizer is None:
        raise ValueError("a model object needs its tokenizer")
    return model_or_path, tokenizer


def read_training_state(path: str | Path) -> dict:
    f = Path(path) / STATE_FILE
    return json.loads(f.read_text()) if f.exists() else {}
