"""Build a `ProofEnv` from settings: the embedded server, a Lean REPL pool, LeanDojo, or a Kimina
Lean Server (whole-proof verification only).

    env = make_env("embedded", workers=2)
    env = make_env("lean-repl", lean_project="~/mathlib-proj", repl_path="~/repl")
    env = make_env("dojo", dojo_repo="https://github.com/yangky11/miniF2F-lean4", dojo_commit="<sha>",
                   dojo_file="MiniF2F/Test.lean", kimina_url="http://localhost:8000")
    env = make_env("kimina", kimina_url="http://localhost:8000")
    env = make_env(cfg, distributed=DistributedConfig(address="auto"))   # actors over a Ray cluster
"""
from __future__ import annotations

import dataclasses
import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from lean_env.base import ProofEnv
from lean_env.config import config_record
from lean_env.pool import ReplPoolConfig, ReplPool
from lean_env.repl import embedded_command, lean_repl_command

if TYPE_CHECKING:
    from lean_env.cluster import DistributedConfig

ENV_KINDS = ("embedded", "lean-repl", "dojo", "kimina")
DOJO_FIELDS = ("dojo_repo", "dojo_commit", "dojo_file", "dojo_locations")


@config_record
class EnvConfig:
    """Everything needed to build an environment (the CLI fills it from flags or a config file);
    the rules between fields are checked on construction (`__post_init__`)."""

    kind: str = "embedded"
    workers: int = Field(2, ge=1)
    lean_project: str | None = None      # a Lake project with Mathlib (lean-repl, dojo verifier)
    repl_path: str | None = None         # a built leanprover-community/repl checkout
    tactic_timeout: float = Field(12.0, gt=0)
    start_timeout: float = Field(120.0, gt=0)
    verify_timeout: float = Field(60.0, gt=0)
    memory_limit_gb: float | None = Field(12.0, gt=0)  # RLIMIT_AS per REPL process (the embedded server adds an RSS watchdog)
    max_requests: int = Field(5000, ge=1)
    max_rss_gb: float | None = Field(None, gt=0)
    # LeanDojo (kind dojo): the traced repository and commit, and where each theorem lives in it:
    # every theorem in `dojo_file` under its declared name, or per theorem in `dojo_locations`,
    # a JSON file {theorem id: [file path, full name]} (or [repo, commit, file path, full name]).
    dojo_repo: str | None = None
    dojo_commit: str | None = None
    dojo_file: str | None = None
    dojo_locations: str | None = None
    # Kimina Lean Server (kind kimina, or the verifier of kind dojo); the API key is read from
    # $LEAN_SERVER_API_KEY, as Kimina's own client does, never from a config file.
    kimina_url: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENV_KINDS:
            raise ValueError(f"unknown environment {self.kind!r}; choose one of {', '.join(ENV_KINDS)}")
        if self.kind == "lean-repl" and not (self.lean_project and self.repl_path):
            raise ValueError("--env lean-repl needs --lean-project (a Lean+Mathlib project) and "
                             "--repl-path (a built leanprover-community/repl checkout)")
        if self.kind != "dojo":
            unread = [f for f in DOJO_FIELDS if getattr(self, f)]
            if unread:
                raise ValueError(f"{', '.join(unread)}: only read with the dojo environment, not {self.kind}")
        else:
            if bool(self.dojo_repo) != bool(self.dojo_commit):
                raise ValueError("--env dojo needs --dojo-repo and --dojo-commit together (a traced repository)")
            if not (self.dojo_file or self.dojo_locations):
                raise ValueError("--env dojo needs --dojo-file (the .lean file holding the theorems) or "
                                 "--dojo-locations (a JSON file {id: [file, full name]})")
            if self.dojo_file and not self.dojo_repo:
                raise ValueError("--dojo-file needs --dojo-repo and --dojo-commit")
            repl = bool(self.lean_project and self.repl_path)
            if self.kimina_url and (self.lean_project or self.repl_path):
                raise ValueError("--env dojo takes one verifier: --kimina-url, or --lean-project with --repl-path")
            if not (self.kimina_url or repl):
                # LeanDojo cannot check a whole proof; without a verifier nothing found would count
                raise ValueError("--env dojo needs a verifier for the proofs it finds: --kimina-url (a Kimina "
                                 "Lean Server) or --lean-project with --repl-path (a REPL pool)")
        if self.kimina_url is not None and self.kind not in ("kimina", "dojo"):
            raise ValueError(f"kimina_url: only read with the kimina or dojo environment, not {self.kind}")
        if self.kind == "kimina" and not self.kimina_url:
            raise ValueError("--env kimina needs --kimina-url (a running Kimina Lean Server)")
        if self.kind == "kimina" and (self.lean_project or self.repl_path):
            raise ValueError("--env kimina reads no --lean-project or --repl-path: the server has its own")

    def validate_search(self) -> None:
        """What a search (eval, campaign) needs beyond a valid record: Kimina checks whole proofs
        only, so a search on it would fail every theorem at its start."""
        if self.kind == "kimina":
            raise ValueError("--env kimina only verifies whole proofs (prover verify --env kimina); search with "
                             "--env embedded, lean-repl or dojo (dojo takes --kimina-url as its verifier)")

    def pool_config(self) -> ReplPoolConfig:
        return ReplPoolConfig(
            workers=self.workers, tactic_timeout=self.tactic_timeout, start_timeout=self.start_timeout,
            verify_timeout=self.verify_timeout, max_requests=self.max_requests,
            max_rss_bytes=int(self.max_rss_gb * 1024**3) if self.max_rss_gb else None,
        )


def load_dojo_locations(path: str | Path, repo: str | None = None,
                        commit: str | None = None) -> dict[str, tuple[str, str, str, str]]:
    """Read {theorem id: [file path, full name]} (in `repo` at `commit`) or {theorem id: [repo url,
    commit, file path, full name]}, with errors naming the entry."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"LeanDojo locations file not found: {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg})") from e
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object {{theorem id: [file path, full name]}}")
    out: dict[str, tuple[str, str, str, str]] = {}
    for tid, loc in raw.items():
        if not (isinstance(loc, list) and len(loc) in (2, 4) and all(isinstance(x, str) and x for x in loc)):
            raise ValueError(f"{path}: entry {tid!r} must be [file path, full name] or "
                             "[repo url, commit, file path, full name]")
        if len(loc) == 2 and not (repo and commit):
            raise ValueError(f"{path}: entry {tid!r} names no repository: give --dojo-repo and --dojo-commit "
                             "or write it as [repo url, commit, file path, full name]")
        if not loc[-2].endswith(".lean"):
            raise ValueError(f"{path}: entry {tid!r}: the file path must end in .lean, got {loc[-2]!r}")
        out[tid] = (repo, commit, loc[0], loc[1]) if len(loc) == 2 else (loc[0], loc[1], loc[2], loc[3])
    return out


def make_env(config: EnvConfig | str | None = None, *, distributed: "DistributedConfig | None" = None,
             **overrides) -> ProofEnv:
    """A ProofEnv for `config` (or a kind name), with keyword overrides of EnvConfig fields: in
    this process, or with `distributed`, one environment actor per node of a Ray cluster
    (lean_env/ray_env.py), each with `workers` of its node's choosing.

    Raises ValueError for unknown kinds/fields or missing paths, LeanNotFoundError when `lake`,
    the REPL binary or a matching toolchain is missing, ImportError when the dojo extra is absent."""
    cfg = _settings(config, overrides)
    if distributed is not None:
        from lean_env.cluster import cluster_placement
        from lean_env.ray_env import RayEnv

        return RayEnv(partial(make_env, cfg), cluster_placement(distributed).envs, distributed)
    if cfg.kind == "embedded":
        return ReplPool(embedded_command(cfg.memory_limit_gb), cfg.pool_config())
    if cfg.kind == "lean-repl":
        return ReplPool(lean_repl_command(cfg.lean_project, cfg.repl_path, cfg.memory_limit_gb), cfg.pool_config())
    from lean_env.kimina import KiminaEnv

    if cfg.kind == "kimina":
        return KiminaEnv(cfg.kimina_url, verify_timeout=cfg.verify_timeout)
    from lean_env.dojo import DojoEnv

    locations = load_dojo_locations(cfg.dojo_locations, cfg.dojo_repo, cfg.dojo_commit) if cfg.dojo_locations else {}
    verifier: ProofEnv | None = None
    if cfg.kimina_url:
        verifier = KiminaEnv(cfg.kimina_url, verify_timeout=cfg.verify_timeout)
    elif cfg.lean_project and cfg.repl_path:
        verifier = ReplPool(lean_repl_command(cfg.lean_project, cfg.repl_path, cfg.memory_limit_gb),
                            dataclasses.replace(cfg.pool_config(), workers=1))
    return DojoEnv(locations, repo=cfg.dojo_repo, commit=cfg.dojo_commit, file=cfg.dojo_file,
                   tactic_timeout=cfg.tactic_timeout, start_timeout=cfg.start_timeout, verifier=verifier)


def _settings(config: EnvConfig | str | None, overrides: dict) -> EnvConfig:
    """`config` (or a kind name) with `overrides`, validated; the caller's config is never mutated."""
    if isinstance(config, str):
        overrides = {"kind": config, **overrides}
        config = None
    base = config if config is not None else EnvConfig()
    unknown = set(overrides) - {f.name for f in dataclasses.fields(EnvConfig)}
    if unknown:
        raise ValueError(f"unknown environment setting(s) {sorted(unknown)}")
    return dataclasses.replace(base, **overrides)   # validated on construction
