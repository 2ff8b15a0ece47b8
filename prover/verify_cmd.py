"""`prover verify`: check a file of proofs against a benchmark, from scratch, and print a table."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.jsonl import iter_jsonl
from lean_env.recheck import KernelRecheck
from lean_env.repl import LeanNotFoundError
from lean_env.types import Theorem, Verdict
from lean_env.verify import check_statement, split_full_proof


def read_proofs(path: Path) -> list[dict]:
    """Rows `{"id", "tactics": [str, ...]}` or `{"id", "proof": "<whole theorem text>"}`; either
    may carry the `"statement"` it claims to prove, which must then be the benchmark's."""
    if not path.exists():
        raise FileNotFoundError(f"proof file not found: {path}")
    rows = []
    for i, row in iter_jsonl(path, torn_tail_ok=False):
        ok = isinstance(row, dict) and isinstance(row.get("id"), str) and (
            isinstance(row.get("tactics"), list) or isinstance(row.get("proof"), str))
        if not ok or not isinstance(row.get("statement", ""), str):
            raise ValueError(f"{path}:{i}: expected {{\"id\": str, \"tactics\": [str, ...]}} or {{\"id\": str, \"proof\": str}}")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no proofs in the file (expected one JSON object per line)")
    return rows


async def verify_row(env, theorem: Theorem, row: dict, recheck: KernelRecheck | None = None) -> Verdict:
    """One row against its benchmark theorem: a claimed statement or a whole-theorem proof must
    match the benchmark's statement (else statement tampering), then the tactics are verified;
    with `recheck`, an accepted proof must also pass the kernel re-check."""
    reasons = check_statement(theorem, row["statement"]) if "statement" in row else []
    if "proof" in row:
        tactics, more = split_full_proof(theorem, row["proof"])
        reasons += more
    else:
        tactics = [str(t) for t in row["tactics"]]
    if reasons:
        return Verdict(False, tuple(reasons))
    verdict = await env.verify(theorem, tactics)
    if verdict.ok and recheck is not None:
        failed = await recheck(theorem, verdict.checked_text)
        if failed:
            return Verdict(False, tuple(failed), verdict.axioms, verdict.seconds, verdict.checked_text)
    return verdict


def verify_rows(rows: list[dict], theorems: dict[str, Theorem], env, benchmark: str,
                recheck: KernelRecheck | None = None, on_verdict=None) -> list[Verdict]:
    """Every row's verdict, in order; `on_verdict(verdict)` is called as each one arrives."""
    async def main() -> list[Verdict]:
        try:
            async def one(row: dict) -> Verdict:
                if row["id"] not in theorems:
                    return Verdict(False, (f"no theorem {row['id']!r} in {benchmark}",))
                return await verify_row(env, theorems[row["id"]], row, recheck)

            async def reported(row: dict) -> Verdict:
                verdict = await one(row)
                if on_verdict is not None:
                    on_verdict(verdict)
                return verdict
            return await asyncio.gather(*(reported(r) for r in rows))
        finally:
            await env.close()

    return asyncio.run(main())


def run_verify(proofs: Path, benchmark: str, env_kind: str, lean_project, repl_path, workers: int, timeout: float,
               recheck: str | None = None, kimina_url: str | None = None, as_json: bool = False) -> int:
    rows = read_proofs(proofs)
    theorems = {t.id: t for t in load_benchmark(benchmark)}
    if env_kind == "dojo":
        raise ValueError("--env dojo has no verifier of its own (LeanDojo runs tactics, not commands): verify "
                         "with --env lean-repl or --env kimina on the same Lean project")
    if recheck and env_kind == "embedded":
        raise ValueError("--recheck needs real Lean (--env lean-repl --lean-project ...): the embedded "
                         "environment has no kernel to re-check with")
    try:
        rechecker = KernelRecheck.from_setting(lean_project, recheck) if recheck else None
    except LeanNotFoundError as e:
        raise ValueError(str(e)) from e
    env = make_env(EnvConfig(kind=env_kind, workers=workers, verify_timeout=timeout,
                             lean_project=str(lean_project) if lean_project else None,
                             repl_path=str(repl_path) if repl_path else None, kimina_url=kimina_url))
    from prover.progress import progress_bar

    # with --json, stdout carries only the JSON document: the bar goes to stderr
    console = Console(stderr=as_json)
    with progress_bar(console, "ok") as bar:
        task = bar.add_task(f"verifying {proofs.name}", total=len(rows), ok=0)

        def advance(v: Verdict) -> None:
            bar.update(task, advance=1, ok=bar.tasks[task].fields["ok"] + v.ok)

        verdicts = verify_rows(rows, theorems, env, benchmark, rechecker, advance)
    ok = sum(v.ok for v in verdicts)
    if as_json:
        print(json.dumps(verdicts_json(rows, verdicts, benchmark, env_kind, str(proofs)), indent=1))
        return 0 if ok == len(rows) else 1
    table = Table(title=f"{proofs} against {benchmark} ({env_kind})")
    for col in ("id", "verdict", "axioms", "reasons"):
        table.add_column(col)
    for row, v in zip(rows, verdicts):
        reasons = [*v.reasons, *(f"answer: {r}" for r in v.answer_reasons)]
        table.add_row(row["id"], "[green]ok[/]" if v.ok else "[red]rejected[/]", ", ".join(v.axioms), "; ".join(reasons)[:200])
    console.print(table)
    console.print(f"{ok}/{len(rows)} proofs verified")
    return 0 if ok == len(rows) else 1


def verdicts_json(rows: list[dict], verdicts: list[Verdict], benchmark: str, env_kind: str, source: str) -> dict:
    """`prover verify --json`: one record per proof (verdict, reasons, axioms, seconds, and the
    answer and its reasons for a statement with an answer to fill) and a summary."""
    records = []
    for row, v in zip(rows, verdicts):
        rec = {"id": row["id"], "verdict": "ok" if v.ok else "rejected", "ok": v.ok, "reasons": list(v.reasons),
               "axioms": list(v.axioms), "seconds": round(v.seconds, 4)}
        if v.answer is not None or v.answer_reasons:
            rec["answer"], rec["answer_reasons"] = v.answer, list(v.answer_reasons)
        records.append(rec)
    ok = sum(v.ok for v in verdicts)
    summary = {"proofs": len(rows), "verified": ok, "rejected": len(rows) - ok, "benchmark": benchmark,
               "env": env_kind, "source": source}
    return {"proofs": records, "summary": summary}
