"""A campaign's run directory: where everything lives, what is done, and how a run resumes.

    config.yaml              the validated config this run goes on with (a resume checks it: RunDir.open)
    config_changes.jsonl     safe changes made on resuming (more rounds), with the round they came before
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
import resource
import time
from pathlib import Path
from typing import Callable

from lean_env.config import dump_record
from lean_env.jsonl import append_jsonl, read_jsonl, write_jsonl_atomic
from prover.config import SAFE_TO_CHANGE, CampaignConfig, ConfigError, dump_config, load_config, settings_diff
from training.store import Pair, PairStore


class ConfigMismatch(ConfigError):
    """A resumed run was given settings that differ from the ones it was started with."""


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (the environment's
    server processes count once they are closed, which every search does at its end)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class RoundProgress:
    """The done-steps of one round, persisted in rounds/NNN/progress.json, with each step's wall
    and CPU seconds (a step killed and rerun counts its last run only)."""

    def __init__(self, path: Path):
        self.path = path
        self.state = json.loads(path.read_text()) if path.exists() else {"done": [], "timings": {}, "plan": {}}
        self.state.setdefault("cpu", {})
        self._started, self._cpu = time.perf_counter(), cpu_seconds()

    def todo(self, step: str) -> bool:
        """True when `step` still has to run (and starts its clocks)."""
        self._started, self._cpu = time.perf_counter(), cpu_seconds()
        return step not in self.state["done"]

    def done(self, step: str) -> None:
        self.state["done"].append(step)
        self.state["timings"][step] = time.perf_counter() - self._started
        self.state["cpu"][step] = cpu_seconds() - self._cpu
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

    @property
    def cpu(self) -> dict[str, float]:
        return dict(self.state["cpu"])

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.path)


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def open(cls, root: str | Path, cfg: CampaignConfig | None = None,
             keep_saved: bool = False) -> tuple["RunDir", CampaignConfig]:
        """The run at `root` and the config it goes on with. A new run saves `cfg`. An existing run
        given a different `cfg`: before any work the new config replaces the saved one (a start
        that failed, on a missing model say, must not block the fixed YAML); after it, changes
        in SAFE_TO_CHANGE (more rounds) are taken and recorded in config_changes.jsonl, any other
        change is refused with the diff (ConfigMismatch) unless `keep_saved` says to go on with
        the saved config."""
        run = cls(root)
        path = run.root / "config.yaml"
        if not path.exists():
            if cfg is None:
                raise FileNotFoundError(f"{run.root} is not a campaign run directory (no config.yaml)")
            run.root.mkdir(parents=True, exist_ok=True)
            dump_config(cfg, path)
            return run, cfg
        saved = load_config(path)
        diff = settings_diff(dump_record(saved), dump_record(cfg)) if cfg is not None else []
        if not diff:
            return run, saved
        shown = "\n".join(f"  {key}: {old!r} -> {new!r}" for key, old, new in diff)
        if not run.has_work():
            run.log(f"nothing was done with the saved config yet: the new config replaces it\n{shown}")
            dump_config(cfg, path)
            return run, cfg
        if keep_saved:
            run.log(f"going on with the saved config; the given one differs in\n{shown}")
            return run, saved
        unsafe = [d for d in diff if d[0] not in SAFE_TO_CHANGE]
        if unsafe:
            raise ConfigMismatch(
                f"{run.root} was started with other settings (saved -> given):\n"
                + "\n".join(f"  {key}: {old!r} -> {new!r}" for key, old, new in unsafe)
                + "\nto go on with the saved settings add --keep-saved-config; to use the new ones, "
                  "give a fresh --run-dir")
        append_jsonl(run.root / "config_changes.jsonl",
                     [{"time": time.time(), "before_round": run.next_round(),
                       "changes": {key: [old, new] for key, old, new in diff}}])
        dump_config(cfg, path)
        run.log(f"resuming with changed settings (recorded in config_changes.jsonl)\n{shown}")
        return run, cfg

    def has_work(self) -> bool:
        """Whether anything beyond the config was written: a checkpoint, a round, the store."""
        return any(d.is_dir() and any(d.iterdir()) for d in (self.root / "checkpoints", self.root / "rounds",
                                                             self.root / "store"))

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
    def seed_pairs(self, replay: Callable[[], list[Pair]]) -> list[Pair]:
        """The pairs of the seed proofs: `replay()` runs on first use only, then the cached file is
        read (the replay needs an environment and never changes within a run)."""
        path = self.root / "seed_pairs.jsonl"
        if not path.exists():
            write_jsonl_atomic(path, [p.to_dict() for p in replay()])
        return [Pair.from_dict(row) for row in read_jsonl(path)]

    def log(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.root / "logs" / "campaign.log", "a") as f:
            f.write(line + "\n")
