"""Load benchmark statements as `Theorem`s, by benchmark name and split.

Every benchmark is a JSON Lines file with the schema of `data/benchmarks/README.md`:
`{"name", "id", "split", "header", "formal_statement", "informal_statement"?, "source"}`, plus
`"answer"` for statements with an answer to fill (`abbrev X_solution : T := sorry`, see
`Theorem.answer`) and `"toolchain"` (the Lean version the statements target, checked by the real
backends: lean_env/toolchain.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from lean_env.jsonl import JsonlError, iter_jsonl
from lean_env.types import Theorem

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# benchmark name -> file (relative to data/); the embedded benchmark keeps one file per split.
BENCHMARKS: dict[str, str] = {
    "minif2f": "benchmarks/minif2f.jsonl",
    "minif2f-goedel": "benchmarks/minif2f_test_goedel_v2.jsonl",
    "proofnet": "benchmarks/proofnet.jsonl",
    "putnambench": "benchmarks/putnambench.jsonl",
    "fate-m": "benchmarks/fate_m.jsonl",
    "fate-h": "benchmarks/fate_h.jsonl",
    "combibench": "benchmarks/combibench.jsonl",
    "embedded": "embedded/theorems.jsonl",
    "embedded-havechain": "embedded/havechain.jsonl",   # the planner's have-chain theorems (valid / test)
}

_REQUIRED = ("name", "split", "header", "formal_statement")


class BenchmarkError(ValueError):
    """A benchmark file is missing or a row is malformed; the message names file and line."""


def load_file(path: str | Path, benchmark: str = "") -> list[Theorem]:
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"benchmark file not found: {path}")
    theorems: list[Theorem] = []
    seen: set[str] = set()
    try:
        rows = list(iter_jsonl(path, torn_tail_ok=False))
    except JsonlError as e:
        raise BenchmarkError(str(e)) from e
    for lineno, row in rows:
        missing = [k for k in _REQUIRED if not isinstance(row.get(k), str)]
        if missing:
            raise BenchmarkError(f"{path}:{lineno}: missing or non-string field(s) {missing}")
        statement = row["formal_statement"].rstrip()
        # ProofNet statements end in `:=`; the search and the verifier expect `:= by`.
        if statement.endswith(":="):
            statement += " by"
        if not statement.endswith(":= by"):
            raise BenchmarkError(f"{path}:{lineno}: formal_statement must end with ':=' or ':= by'")
        answer = row.get("answer") or ""
        if not isinstance(answer, str) or (answer and not answer.rstrip().endswith("sorry")):
            raise BenchmarkError(f"{path}:{lineno}: answer must be a declaration ending in ':= sorry'")
        thm = Theorem(
            answer=answer,
            toolchain=row.get("toolchain") or "",
            name=row["name"],
            header=row["header"],
            statement=statement,
            split=row["split"],
            source=row.get("source", ""),
            id=row.get("id") or row["name"],
            benchmark=benchmark,
        )
        if thm.id in seen:
            raise BenchmarkError(f"{path}:{lineno}: duplicate id {thm.id!r}")
        seen.add(thm.id)
        theorems.append(thm)
    return theorems


def load_benchmark(name: str, split: str | None = None) -> list[Theorem]:
    """All theorems of a named benchmark (see BENCHMARKS) or of a .jsonl path, optionally one split."""
    if name in BENCHMARKS:
        theorems = load_file(DATA_DIR / BENCHMARKS[name], benchmark=name)
    elif name.endswith(".jsonl"):
        theorems = load_file(name, benchmark=Path(name).stem)
    else:
        raise BenchmarkError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARKS)} or a .jsonl path")
    if split is not None:
        splits = sorted({t.split for t in theorems})
        theorems = [t for t in theorems if t.split == split]
        if not theorems:
            raise BenchmarkError(f"benchmark {name!r} has no split {split!r}; it has {splits}")
    return theorems


def iter_benchmark(name: str, split: str | None = None) -> Iterator[Theorem]:
    yield from load_benchmark(name, split)
