"""Build a `ProofEnv` from settings: the embedded server, a Lean REPL pool, or LeanDojo.

    env = make_env("embedded", workers=2)
    env = make_env("lean-repl", lean_project="~/mathlib-proj", repl_path="~/repl")
    env = make_env(EnvConfig(kind="dojo", dojo_locations="locations.json", lean_project=..., repl_path=...))
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from lean_env.base import ProofEnv
from lean_env.pool import PoolConfig, ReplPool
from lean_env.repl import embedded_command, lean_repl_command

ENV_KINDS = ("embedded", "lean-repl", "dojo")


@dataclass
class EnvConfig:
    """Everything needed to build an environment (the CLI fills it from flags or a config file)."""

    kind: str = "embedded"
    workers: int = 2
    lean_project: str | None = None      # a Lake project with Mathlib (lean-repl, dojo verifier)
    repl_path: str | None = None         # a built leanprover-community/repl checkout
    tactic_timeout: float = 12.0
    start_timeout: float = 120.0
    verify_timeout: float = 60.0
    memory_limit_gb: float | None = 12.0  # RLIMIT_AS per REPL process (the embedded server adds an RSS watchdog)
    max_requests: int = 5000
    max_rss_gb: float | None = None
    dojo_locations: str | None = None    # JSON file {theorem id: [repo url, commit, file path, full name]}

    def validate(self) -> None:
        if self.kind not in ENV_KINDS:
            raise ValueError(f"unknown environment {self.kind!r}; choose one of {', '.join(ENV_KINDS)}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        for name in ("tactic_timeout", "start_timeout", "verify_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.kind == "lean-repl" and not (self.lean_project and self.repl_path):
            raise ValueError("--env lean-repl needs --lean-project (a Lean+Mathlib project) and "
                             "--repl-path (a built leanprover-community/repl checkout)")

    def pool_config(self) -> PoolConfig:
        return PoolConfig(
            workers=self.workers, tactic_timeout=self.tactic_timeout, start_timeout=self.start_timeout,
            verify_timeout=self.verify_timeout, max_requests=self.max_requests,
            max_rss_bytes=int(self.max_rss_gb * 1024**3) if self.max_rss_gb else None,
        )


def load_dojo_locations(path: str | Path) -> dict[str, tuple[str, str, str, str]]:
    """Read {theorem id: [repo url, commit, file path, full name]} with errors naming the entry."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"LeanDojo locations file not found: {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg})") from e
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object {{theorem id: [repo, commit, path, name]}}")
    out: dict[str, tuple[str, str, str, str]] = {}
    for tid, loc in raw.items():
        if not (isinstance(loc, list) and len(loc) == 4 and all(isinstance(x, str) for x in loc)):
            raise ValueError(f"{path}: entry {tid!r} must be [repo url, commit, file path, full name]")
        out[tid] = (loc[0], loc[1], loc[2], loc[3])
    return out


def make_env(config: EnvConfig | str | None = None, **overrides) -> ProofEnv:
    """A ProofEnv for `config` (or a kind name), with keyword overrides of EnvConfig fields.

    Raises ValueError for unknown kinds/fields or missing paths, LeanNotFoundError when `lake`,
    the REPL binary or a matching toolchain is missing, ImportError when the dojo extra is absent."""
    if isinstance(config, str):
        overrides = {"kind": config, **overrides}
        config = None
    base = config if config is not None else EnvConfig()
    unknown = set(overrides) - {f.name for f in dataclasses.fields(EnvConfig)}
    if unknown:
        raise ValueError(f"unknown environment setting(s) {sorted(unknown)}")
    cfg = dataclasses.replace(base, **overrides)   # never mutate the caller's config
    cfg.validate()
    if cfg.kind == "embedded":
        return ReplPool(embedded_command(cfg.memory_limit_gb), cfg.pool_config())
    if cfg.kind == "lean-repl":
        return ReplPool(lean_repl_command(cfg.lean_project, cfg.repl_path, cfg.memory_limit_gb), cfg.pool_config())
    from lean_env.dojo import DojoEnv

    locations = load_dojo_locations(cfg.dojo_locations) if cfg.dojo_locations else {}
    verifier = None
    if cfg.lean_project and cfg.repl_path:
        verifier = ReplPool(lean_repl_command(cfg.lean_project, cfg.repl_path, cfg.memory_limit_gb),
                            dataclasses.replace(cfg.pool_config(), workers=1))
    return DojoEnv(locations=locations, timeout=cfg.tactic_timeout, verifier=verifier)
