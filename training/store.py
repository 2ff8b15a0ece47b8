"""The pair store: the (state, tactic) pairs of verified proofs (and their erroring siblings), kept across rounds.

Layout under the store root:

    CURRENT                       one line: the name of the live generation directory
    gen_000/pairs_r001_search.parquet    one file per (round, source) write
    gen_000/errors_r001_search.parquet   error siblings of the same write (DPO negatives)
    gen_001/resynthesis.json             the summary of the re-synthesis that wrote this generation

Every file is written to a temporary name and renamed with `os.replace`, so readers see a whole
file or none. Re-synthesis (`replace_all`) writes a complete new generation directory and then
swaps `CURRENT` with `os.replace`: a kill at any point leaves either the old store or the new one,
never a mix. `resynthesize` builds on it and never loses a proof: a theorem the re-synthesis did
not re-prove keeps its newest earlier proof (with the round and checkpoint that found it), and its
summary is written into the new generation before the swap, so a re-synthesis killed after the
swap returns the same summary when run again. One writer at a time (the campaign driver); any
number of readers.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from search.records import AttemptRecord



@dataclass(frozen=True, kw_only=True)
class Pair:
    """One (goal state, tactic) step of a verified proof, from the store to SFT: the store's row
    (its Parquet schema is derived from these fields), a row of rounds/NNN/kept.jsonl and of the
    seed pairs, and what `training.sft.sft_examples` turns into a (prompt, tactic) example.
    A seed proof's pair has round -1 and no checkpoint (a human wrote it)."""

    theorem_id: str = ""
    benchmark: str = ""
    round: int = -1
    checkpoint: str = ""
    state: str
    tactic: str
    logprob: float = 0.0          # mean token log-prob of the tactic when it was sampled
    depth: int = 0                # 0 for the theorem's root state
    proof_length: int = 0         # tactics in the proof this step belongs to
    timestamp: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Pair":
        """A stored row; keys that are not fields (an older file's extras) are ignored."""
        return cls(**{k: d[k] for k in PAIR_COLUMNS if k in d})


_ARROW = {str: pa.string(), int: pa.int64(), float: pa.float64()}
PAIR_SCHEMA = pa.schema([(f.name, _ARROW[{"str": str, "int": int, "float": float}[f.type]]) for f in fields(Pair)])
ERROR_SCHEMA = pa.schema([
    ("theorem_id", pa.string()), ("round", pa.int64()), ("checkpoint", pa.string()), ("state", pa.string()),
    ("chosen", pa.string()), ("rejected", pa.string()), ("error", pa.string()),
])
PAIR_COLUMNS = tuple(PAIR_SCHEMA.names)
RESYNTHESIS_FILE = "resynthesis.json"


def pairs_from_records(records: Iterable[AttemptRecord], round_: int, checkpoint: str) -> tuple[list[Pair], list[dict]]:
    """Proof-path pairs and error siblings of every *verified* proof (proved with a proof); a
    failed attempt contributes nothing, whatever partial steps it carries. Records are taken in
    (theorem, attempt) order, not the order attempts happened to finish in, so the store, and the
    training data built from it, are the same for the same attempts (a resumed search included).
    The checkpoint column is the one each record says searched it (`checkpoint` only when a record
    carries none), so pairs from several checkpoints in one round are told apart."""
    pairs, errors, now = [], [], time.time()
    for r in sorted(records, key=lambda rec: (rec.theorem_id, rec.attempt)):
        if not (r.proved and r.proof):
            continue
        found_by = r.checkpoint or checkpoint
        for s in r.steps:
            pairs.append(Pair(theorem_id=r.theorem_id, benchmark=r.benchmark, round=round_, checkpoint=found_by,
                              state=s.state, tactic=s.tactic, logprob=float(s.logprob), depth=s.depth,
                              proof_length=len(r.proof), timestamp=now))
        # the proof's tactic at a state is the "chosen" answer for the siblings that failed there
        good = {s.state: s.tactic for s in r.steps}
        for e in r.error_siblings:
            if e.state in good and e.tactic != good[e.state]:
                errors.append({"theorem_id": r.theorem_id, "round": round_, "checkpoint": found_by, "state": e.state,
                               "chosen": good[e.state], "rejected": e.tactic, "error": e.error})
    return pairs, errors


def whole_proof_pairs(records: Iterable[AttemptRecord], round_: int, checkpoint: str,
                      example: Callable[[str, list[str]], tuple[str, str]]) -> list[Pair]:
    """One pair per verified whole proof (search/whole_proof.py): `example(theorem id, proof)` gives
    the state, the prompt every attempt of the theorem starts from, and the tactic, the whole proof
    as the model writes it. A repaired proof is stored the same way, the proof that verified as the
    answer to the first prompt: the model learns to write it without the repair turns. Taken in
    (theorem, attempt) order, as `pairs_from_records` takes them."""
    pairs, now = [], time.time()
    for r in sorted(records, key=lambda rec: (rec.theorem_id, rec.attempt)):
        if not (r.proved and r.proof):
            continue
        state, proof = example(r.theorem_id, list(r.proof))
        pairs.append(Pair(theorem_id=r.theorem_id, benchmark=r.benchmark, round=round_,
                          checkpoint=r.checkpoint or checkpoint, state=state, tactic=proof,
                          proof_length=len(r.proof), timestamp=now))
    return pairs


def shortest_proofs(records: Iterable[AttemptRecord]) -> list[AttemptRecord]:
    """One verified proof per theorem: the shortest, ties to the earliest (checkpoint, attempt) in
    the given order. Re-synthesis searches with several checkpoints; each theorem keeps one proof."""
    best: dict[str, AttemptRecord] = {}
    for r in records:
        if r.proved and r.proof and (r.theorem_id not in best or len(r.proof) < len(best[r.theorem_id].proof)):
            best[r.theorem_id] = r
    return [best[t] for t in sorted(best)]


@dataclass
class ResynthesisSummary:
    """What a re-synthesis did to the store, per theorem."""

    reproved: int                 # had a proof, the re-synthesis found one again (the new one replaces it)
    newly_proved: int             # no proof before, one now
    kept: int                     # not re-proved: its newest earlier proof stays
    theorems_before: int
    theorems_after: int
    mean_proof_length_before: float | None   # over theorems, their newest proof
    mean_proof_length_after: float | None
    pairs_before: int
    pairs_after: int


def newest_proof_rows(rows: Iterable[Pair]) -> dict[str, list[Pair]]:
    """Each theorem's rows of its newest proof: the latest round's (then checkpoint's) rows."""
    by_theorem: dict[str, list[Pair]] = {}
    for row in rows:
        by_theorem.setdefault(row.theorem_id, []).append(row)
    out = {}
    for tid, rs in by_theorem.items():
        newest = max((r.round, r.checkpoint) for r in rs)
        out[tid] = [r for r in rs if (r.round, r.checkpoint) == newest]
    return out


def _mean_length(by_theorem: dict[str, list[Pair]]) -> float | None:
    lengths = [rows[0].proof_length for rows in by_theorem.values()]
    return sum(lengths) / len(lengths) if lengths else None


def _table(rows: Sequence[dict], schema: pa.Schema, what: str) -> pa.Table:
    """Rows as a table of exactly `schema`; a missing column or a wrong type is a clear error."""
    for i, row in enumerate(rows):
        missing = [c for c in schema.names if c not in row]
        if missing:
            raise ValueError(f"{what} row {i} lacks {missing}: {str(row)[:200]}")
    try:
        return pa.Table.from_pylist([{c: row[c] for c in schema.names} for row in rows], schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise ValueError(f"{what} rows do not fit the store schema: {e}") from e


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


class PairStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / "CURRENT").exists():
            (self.root / "gen_000").mkdir(exist_ok=True)
            self._point_to("gen_000")

    # -- layout ---------------------------------------------------------------------------------
    @property
    def generation(self) -> Path:
        """The live generation directory."""
        return self.root / (self.root / "CURRENT").read_text().strip()

    def _point_to(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(name + "\n")
        os.replace(tmp, self.root / "CURRENT")

    @staticmethod
    def _write_round(gen: Path, round_: int, source: str, pairs: Sequence[Pair], errors: Sequence[dict]) -> None:
        if not source.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"source must be a simple name (letters, digits, - or _), got {source!r}")
        # build both tables before writing anything, so bad input leaves the store untouched
        pt, et = _table([p.to_dict() for p in pairs], PAIR_SCHEMA, "pair"), _table(errors, ERROR_SCHEMA, "error")
        _write_atomic(et, gen / f"errors_r{round_:03d}_{source}.parquet")
        _write_atomic(pt, gen / f"pairs_r{round_:03d}_{source}.parquet")

    # -- writing --------------------------------------------------------------------------------
    def add(self, round_: int, pairs: Sequence[Pair], errors: Sequence[dict] = (), source: str = "search") -> None:
        """Write one round's pairs from one source; writing the same (round, source) again
        replaces that file, so a retried phase does not duplicate rows."""
        self._write_round(self.generation, round_, source, pairs, errors)

    def replace_all(self, round_: int, pairs: Sequence[Pair], errors: Sequence[dict] = (), source: str = "search",
                    extra: dict[str, tuple[Sequence[Pair], Sequence[dict]]] | None = None,
                    notes: dict[str, dict] | None = None) -> None:
        """The store becomes exactly these rows (and `extra`'s: source -> (pairs, errors), more
        files of the same generation; `notes`: file name -> JSON written beside them). A new
        generation is written in full, then `CURRENT` is swapped; older generations are deleted
        only after the swap."""
        current = self.generation.name
        new = f"gen_{int(current.split('_')[1]) + 1:03d}"
        gen = self.root / new
        if gen.exists():            # debris of an earlier replace_all killed before its swap
            shutil.rmtree(gen)
        gen.mkdir()
        self._write_round(gen, round_, source, pairs, errors)
        for name, (more_pairs, more_errors) in (extra or {}).items():
            self._write_round(gen, round_, name, more_pairs, more_errors)
        for name, note in (notes or {}).items():
            (gen / name).write_text(json.dumps(note, indent=1))
        self._point_to(new)
        for old in self.root.glob("gen_*"):
            if old.name != new and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def plan_resynthesis(self, pairs: Sequence[Pair]) -> tuple[list[Pair], list[dict], ResynthesisSummary]:
        """What `resynthesize` would keep from the store, and its summary, without writing. A
        theorem with new pairs gets exactly those (its old proofs go); every other theorem keeps
        the rows of its newest earlier proof, and that proof's error siblings, under their own
        round and checkpoint. Computed on a store already rebuilt from the same pairs, it keeps
        the same rows (so a re-synthesis killed after its swap redoes the same write)."""
        before = newest_proof_rows(self._pairs())
        reproved = {p.theorem_id for p in pairs}
        kept = [r for tid, rows in sorted(before.items()) if tid not in reproved for r in rows]
        kept_proofs = {(r.theorem_id, r.round, r.checkpoint) for r in kept}
        kept_errors = [e for e in self._read("errors", ERROR_SCHEMA).to_pylist()
                       if (e["theorem_id"], e["round"], e["checkpoint"]) in kept_proofs]
        after = newest_proof_rows([*pairs, *kept])
        summary = ResynthesisSummary(
            reproved=len(reproved & before.keys()), newly_proved=len(reproved - before.keys()),
            kept=len(before.keys() - reproved), theorems_before=len(before), theorems_after=len(after),
            mean_proof_length_before=_mean_length(before), mean_proof_length_after=_mean_length(after),
            pairs_before=sum(map(len, before.values())), pairs_after=len(pairs) + len(kept))
        return kept, kept_errors, summary

    def resynthesize(self, round_: int, pairs: Sequence[Pair], errors: Sequence[dict] = ()) -> ResynthesisSummary:
        """Rebuild the store from a re-synthesis without losing a proof (see `plan_resynthesis`).
        Atomic like `replace_all`: the kept rows are a second file of the same new generation, and
        the summary a note in it. Once per round: when the live generation is this round's
        re-synthesis already (a rerun after a kill past the swap), its saved summary is returned
        and nothing is written."""
        done = self.generation / RESYNTHESIS_FILE
        if done.exists():
            saved = json.loads(done.read_text())
            if saved["round"] == round_:
                return ResynthesisSummary(**saved["summary"])
        kept, kept_errors, summary = self.plan_resynthesis(pairs)
        self.replace_all(round_, pairs, errors, extra={"kept": (kept, kept_errors)},
                         notes={RESYNTHESIS_FILE: {"round": round_, "summary": asdict(summary)}})
        return summary

    # -- reading --------------------------------------------------------------------------------
    def _read(self, prefix: str, schema: pa.Schema) -> pa.Table:
        files = sorted(self.generation.glob(f"{prefix}_r*.parquet"))
        if not files:
            return schema.empty_table()
        return pa.concat_tables([pq.read_table(f, schema=schema) for f in files])

    def _pairs(self) -> list[Pair]:
        return [Pair.from_dict(r) for r in self._read("pairs", PAIR_SCHEMA).to_pylist()]

    def pairs(self, rounds: Iterable[int] | None = None, checkpoint: str | None = None) -> list[Pair]:
        """Pairs deduplicated on (state, tactic), keeping the latest round's row (then the
        newest timestamp), optionally only from some rounds and/or one checkpoint."""
        wanted = set(rounds) if rounds is not None else None
        best: dict[tuple[str, str], Pair] = {}
        for r in self._pairs():
            if wanted is not None and r.round not in wanted:
                continue
            if checkpoint is not None and r.checkpoint != checkpoint:
                continue
            key = (r.state, r.tactic)
            if key not in best or (r.round, r.timestamp) >= (best[key].round, best[key].timestamp):
                best[key] = r
        return list(best.values())

    def errors(self, rounds: Iterable[int] | None = None) -> list[dict]:
        """(state, chosen, rejected, error) rows for DPO, deduplicated on (state, chosen, rejected)."""
        wanted = set(rounds) if rounds is not None else None
        seen: dict[tuple[str, str, str], dict] = {}
        for r in self._read("errors", ERROR_SCHEMA).to_pylist():
            if wanted is None or r["round"] in wanted:
                seen[(r["state"], r["chosen"], r["rejected"])] = r
        return list(seen.values())

    def dataset(self, rounds: Iterable[int] | None = None, checkpoint: str | None = None):
        """The deduplicated pairs as a Hugging Face `datasets.Dataset`."""
        from datasets import Dataset

        rows = [p.to_dict() for p in self.pairs(rounds, checkpoint)]
        return Dataset(pa.Table.from_pylist(rows, schema=PAIR_SCHEMA))

    def rounds(self) -> list[int]:
        return sorted(set(self._read("pairs", PAIR_SCHEMA).column("round").to_pylist()))
