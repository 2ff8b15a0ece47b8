"""`prover verify`: check a file of proofs against a benchmark, from scratch, and print a table."""
from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import iter_jsonl
from lean_env.types import Verdict


def read_proofs(path: Path) -> list[dict]:
    if not path.exists():
        raise FileNotFoundError(f"proof file not found: {path}")
    rows = []
    for i, row in iter_jsonl(path, torn_tail_ok=False):
        if not isinstance(row.get("id"), str) or not isinstance(row.get("tactics"), list):
            raise ValueError(f"{path}:{i}: expected {{\"id\": str, \"tactics\": [str, ...]}}")
        rows.append(row)
    return rows


def run_verify(proofs: Path, benchmark: str, env_kind: str, lean_project, repl_path, workers: int, timeout: float) -> int:
    rows = read_proofs(proofs)
    theorems = {t.id: t for t in load_benchmark(benchmark)}
    env = make_env(EnvConfig(kind=env_kind, workers=workers, verify_timeout=timeout,
                             lean_project=str(lean_project) if lean_project else None,
                             repl_path=str(repl_path) if repl_path else None))

    async def main() -> list[Verdict]:
        try:
            async def one(row: dict) -> Verdict:
                if row["id"] not in theorems:
                    return Verdict(False, (f"no theorem {row['id']!r} in {benchmark}",))
                return await env.verify(theorems[row["id"]], [str(t) for t in row["tactics"]])
            return await asyncio.gather(*(one(r) for r in rows))
        finally:
            await env.close()

    verdicts = asyncio.run(main())
    table = Table(title=f"{proofs} against {benchmark} ({env_kind})")
    for col in ("id", "verdict", "axioms", "reasons"):
        table.add_column(col)
    for row, v in zip(rows, verdicts):
        table.add_row(row["id"], "[green]ok[/]" if v.ok else "[red]rejected[/]", ", ".join(v.axioms), "; ".join(v.reasons)[:120])
    console = Console()
    console.print(table)
    ok = sum(v.ok for v in verdicts)
    console.print(f"{ok}/{len(rows)} proofs verified")
    return 0 if ok == len(rows) else 1
