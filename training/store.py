"""The trajectory store: (state, tactic) pairs from verified proofs, one Parquet file per round,
read back as a `datasets.Dataset`, deduplicated, queryable by round and checkpoint.

Layout: `<root>/CURRENT` names the live generation directory; each round writes
`<gen>/pairs_rNNN.parquet` (and `errors_rNNN.parquet` for DPO negatives) through a temporary
file and `os.replace`. Re-synthesis writes a whole new generation and swaps `CURRENT` atomically,
so a kill mid-way leaves the old store intact.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from search.records import AttemptRecord

PAIR_COLUMNS = ("theorem_id", "benchmark", "round", "checkpoint", "state", "tactic", "logprob", "depth",
                "proof_length", "timestamp")


def pairs_from_records(records: Iterable[AttemptRecord], round_: int, checkpoint: str) -> tuple[list[dict], list[dict]]:
    """Proof-path pairs and error siblings of every *verified* proof."""
    pairs, errors, now = [], [], time.time()
    for r in records:
        if not (r.proved and r.proof):
            continue
        for s in r.steps:
            pairs.append({"theorem_id": r.theorem_id, "benchmark": r.benchmark, "round": round_, "checkpoint": checkpoint,
                          "state": s.state, "tactic": s.tactic, "logprob": float(s.logprob), "depth": s.depth,
                          "proof_length": len(r.proof), "timestamp": now})
        good = {s.state: s.tactic for s in r.steps}
        for e in r.error_siblings:
            if e.state in good:
                errors.append({"theorem_id": r.theorem_id, "round": round_, "checkpoint": checkpoint, "state": e.state,
                               "chosen": good[e.state], "rejected": e.tactic, "error": e.error})
    return pairs, errors


class TrajectoryStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / "CURRENT").exists():
            self._point_to("gen_000")

    @property
    def generation(self) -> Path:
        return self.root / (self.root / "CURRENT").read_text().strip()

    def _point_to(self, name: str) -> None:
        (self.root / name).mkdir(parents=True, exist_ok=True)
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.root / "CURRENT")

    @staticmethod
    def _write(path: Path, rows: Sequence[dict], columns: Sequence[str] | None = None) -> None:
        table = pa.Table.from_pylist(list(rows)) if rows else pa.table({c: [] for c in (columns or ())})
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)

    def add(self, round_: int, pairs: Sequence[dict], errors: Sequence[dict] = ()) -> None:
        """Write this round's pairs (idempotent: rewriting a round replaces its file)."""
        gen = self.generation
        self._write(gen / f"pairs_r{round_:03d}.parquet", pairs, PAIR_COLUMNS)
        self._write(gen / f"errors_r{round_:03d}.parquet", errors, ("state", "chosen", "rejected"))

    def replace_all(self, round_: int, pairs: Sequence[dict], errors: Sequence[dict] = ()) -> None:
        """Re-synthesis: a fresh generation holding only the new trajectories, swapped in atomically."""
        current = self.generation.name
        name = f"gen_{int(current.split('_')[1]) + 1:03d}"
        gen = self.root / name
        gen.mkdir(parents=True, exist_ok=True)
        self._write(gen / f"pairs_r{round_:03d}.parquet", pairs, PAIR_COLUMNS)
        self._write(gen / f"errors_r{round_:03d}.parquet", errors, ("state", "chosen", "rejected"))
        self._point_to(name)

    def _rows(self, prefix: str) -> list[dict]:
        rows: list[dict] = []
        for f in sorted(self.generation.glob(f"{prefix}_r*.parquet")):
            rows.extend(pq.read_table(f).to_pylist())
        return rows

    def pairs(self, rounds: Iterable[int] | None = None, checkpoint: str | None = None) -> list[dict]:
        """Deduplicated on (state, tactic), keeping the latest round's row."""
        wanted = set(rounds) if rounds is not None else None
        best: dict[tuple[str, str], dict] = {}
        for r in self._rows("pairs"):
            if wanted is not None and r["round"] not in wanted:
                continue
            if checkpoint is not None and r["checkpoint"] != checkpoint:
                continue
            key = (r["state"], r["tactic"])
            if key not in best or r["round"] >= best[key]["round"]:
                best[key] = r
        return list(best.values())

    def errors(self) -> list[dict]:
        return self._rows("errors")

    def dataset(self, **query):
        """The deduplicated pairs as a Hugging Face `datasets.Dataset`."""
        from datasets import Dataset

        rows = self.pairs(**query)
        return Dataset.from_list(rows) if rows else Dataset.from_dict({c: [] for c in PAIR_COLUMNS})
