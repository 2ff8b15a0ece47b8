"""Build a `ProofEnv` from settings: the embedded server, a Lean REPL pool, or LeanDojo."""
from __future__ import annotations

from dataclasses import dataclass

from lean_env.base import ProofEnv
from lean_env.pool import PoolConfig, ReplPool
from lean_env.repl import embedded_command, lean_repl_command

ENV_KINDS = ("embedded", "lean-repl", "dojo")


@dataclass
class EnvSpec:
    kind: str = "embedded"
    workers: int = 2
    lean_project: str | None = None
    repl_path: str | None = None
    tactic_timeout: float = 12.0
    verify_timeout: float = 60.0
    memory_limit_gb: float = 12.0
    max_requests: int = 5000
    max_rss_gb: float | None = None


def make_env(spec: EnvSpec | None = None, **overrides) -> ProofEnv:
    spec = spec or EnvSpec()
    for k, v in overrides.items():
        setattr(spec, k, v)
    pool_cfg = PoolConfig(
        workers=spec.workers, tactic_timeout=spec.tactic_timeout, verify_timeout=spec.verify_timeout,
        max_requests=spec.max_requests,
        max_rss_bytes=int(spec.max_rss_gb * 1024**3) if spec.max_rss_gb else None,
    )
    if spec.kind == "embedded":
        return ReplPool(embedded_command(), pool_cfg)
    if spec.kind == "lean-repl":
        if not spec.lean_project or not spec.repl_path:
            raise ValueError("--env lean-repl needs --lean-project (a Lean+Mathlib project) and --repl-path (a built leanprover-community/repl)")
        return ReplPool(lean_repl_command(spec.lean_project, spec.repl_path, spec.memory_limit_gb), pool_cfg)
    if spec.kind == "dojo":
        from lean_env.dojo import DojoEnv

        return DojoEnv(timeout=spec.tactic_timeout)
    raise ValueError(f"unknown environment {spec.kind!r}; choose one of {', '.join(ENV_KINDS)}")
