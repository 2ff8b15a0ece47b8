"""The one place a model is saved or loaded. A checkpoint is an ordinary Hugging Face directory
(config.json, model.safetensors, tokenizer files) plus a small metadata JSON (`checkpoint.json`:
what produced it, with which settings), so vLLM, `transformers` and our own code all read it.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

META_FILE = "checkpoint.json"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def save_checkpoint(model, tokenizer, out_dir: str | Path, meta: dict | None = None) -> Path:
    """Write the directory into a temporary sibling, then swap it into place by renames, so a kill
    mid-save never leaves a half-written checkpoint under the final name."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp, old = out.with_name(out.name + ".tmp"), out.with_name(out.name + ".old")
    for stale in (tmp, old):
        if stale.exists():
            shutil.rmtree(stale)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / META_FILE).write_text(json.dumps(meta or {}, indent=1, default=str))
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)
    return out


def _source(path: str | Path) -> str:
    """A local checkpoint directory, or an `owner/name` hub id handed to the Hugging Face cache."""
    local = Path(path)
    looks_like_hub_id = not local.exists() and str(path).count("/") == 1 and not str(path).startswith((".", "/", "~"))
    if not looks_like_hub_id and not (local / "config.json").exists():
        raise FileNotFoundError(f"no model at {local} (expected {local / 'config.json'}); "
                                f"create the embedded one with `prover init-model --out {local}`")
    return str(path)


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


def load_checkpoint(path: str | Path, device: str = "cpu", dtype: str | torch.dtype | None = None):
    """(model in eval mode, tokenizer, meta). `dtype` None keeps the checkpoint's own dtype; meta is
    {} for a directory we did not write."""
    from transformers import AutoModelForCausalLM

    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r} (choose one of {', '.join(DTYPES)})")
        dtype = DTYPES[dtype]
    source = _source(path)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or "auto").to(device).eval()
    meta_file = Path(path) / META_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    return model, load_tokenizer(source), meta
