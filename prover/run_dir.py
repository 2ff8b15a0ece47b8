"""A campaign's run directory: where everything lives, what is done, and how a run resumes.

    config.yaml              the validated config this run was started with (a resume uses it)
    seed_pairs.jsonl         the human seed proofs replayed once into (state, tactic) pairs
    checkpoints/base         the untrained base model (soft resets restart from it; base_PRESET: scale-up)
    checkpoints/round_NNN    the model after round NNN (round_000: SFT on the seed proofs)
    rounds/NNN/progress.json the steps of round NNN already done, their timings, its plan
    rounds/NNN/search        attempts.jsonl of the round's proving pass over the pool
                             (re-synthesis: search/round_MMM/ per searching checkpoint)
    rounds/NNN/resynthesis.json  re-proved / newly proved / kept theorems, proof lengths before/after
    rounds/NNN/reset/        the soft reset's training stages (stage_I/landing.json: held-out loss)
    rounds/NNN/merge/        model merging: the seed runs, their evaluation (merge.json)
    rounds/NNN/eval_SPLIT    attempts.jsonl of the held-out evaluation
    rounds/NNN/filter.json   what the perplexity filter kept and dropped (kept.jsonl, filter.png)
    store/                   the (state, tactic) pair store (Parquet)
    metrics.jsonl            one row per finished round
    logs/campaign.log

Resumption: a round is finished when its metrics row exists. Each step of a round writes its
outputs first and only then records itself in progress.json (atomically), and every step can be
rerun from its inputs with the same result (searches skip attempts already on disk, training
restarts from the round's input checkpoint with the same seed), so a run killed at any point,
SIGKILL included, resumes at the interrupted step and ends with the same metrics.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from lean_env.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from prover.config import CampaignConfig, dump_config, load_config
from training.store import PairStore


class RoundProgress:
    """The done-steps of one round, persisted in rounds/NNN/progress.json."""

    def __init__(self, path: Path):
        self.path = path
        self.state = json.loads(path.read_text()) if path.exists() else {"done": [], "timings": {}, "plan": {}}
        self._started = time.perf_counter()

    def todo(self, step: str) -> bool:
        """True when `step` still has to run (and starts its clock)."""
        self._started = time.perf_counter()
        return step not in self.state["done"]

    def done(self, step: str) -> None:
        self.state["done"].append(step)
        self.state["timings"][step] = time.perf_counter() - self._started
        self._save()

    def plan(self, key: str, decide: Callable[[], object]):
        """A decision taken once at the start of the round and kept across resumes."""
        if key not in self.state["plan"]:
            self.state["plan"][key] = decide()
            self._save()
        return self.state["plan"][key]

    @property
    def timings(self) -> dict[str, float]:
        return dict(self.state["timings"])

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.path)


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def open(cls, root: str | Path, cfg: CampaignConfig | None = None) -> tuple["RunDir", CampaignConfig]:
        """The run at `root` and its config: a new run saves `cfg`; an existing one keeps its own."""
        run = cls(root)
        path = run.root / "config.yaml"
        if path.exists():
            saved = load_config(path)
            if cfg is not None and saved.model_dump() != cfg.model_dump():
                run.log("config differs from the one this run started with: resuming with the saved config")
            return run, saved
        if cfg is None:
            raise FileNotFoundError(f"{run.root} is not a campaign run directory (no config.yaml)")
        run.root.mkdir(parents=True, exist_ok=True)
        dump_config(cfg, path)
        return run, cfg

    # -- paths ----------------------------------------------------------------------------------
    def checkpoint(self, r: int) -> Path:
        return self.root / "checkpoints" / f"round_{r:03d}"

    @property
    def base(self) -> Path:
        return self.root / "checkpoints" / "base"

    def round_dir(self, r: int) -> Path:
        return self.root / "rounds" / f"{r:03d}"

    def progress(self, r: int) -> RoundProgress:
        return RoundProgress(self.round_dir(r) / "progress.json")

    def store(self) -> PairStore:
        return PairStore(self.root / "store")

    # -- metrics and the position of the run ------------------------------------------------------
    def metrics(self) -> list[dict]:
        return read_jsonl(self.root / "metrics.jsonl")

    def next_round(self) -> int:
        """The first round without a metrics row."""
        return len(self.metrics())

    def finish_round(self, row: dict) -> None:
        """Append the round's metrics row (once: a rerun after a kill does not duplicate it)."""
        if row["round"] not in {m["round"] for m in self.metrics()}:
            append_jsonl(self.root / "metrics.jsonl", [row])

    # -- the seed proofs, replayed once per run ---------------------------------------------------
    def seed_pairs(self, replay: Callable[[], list[dict]]) -> list[dict]:
        """(state, tactic) rows of the seed proofs: `replay()` runs on first use only, then the
        cached file is read (the replay needs an environment and never changes within a run)."""
        path = self.root / "seed_pairs.jsonl"
        if not path.exists():
            write_jsonl_atomic(path, replay())
        return read_jsonl(path)

    def log(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.root / "logs" / "campaign.log", "a") as f:
            f.write(line + "\n")
