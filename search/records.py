"""What one search attempt leaves behind: the record that evaluation, reports and training read.

Records are plain dataclasses, written one JSON object per line with `append_jsonl` (one write per
batch, fsynced; a torn tail left by SIGKILL is cut off by `repair_jsonl` before the next append)
and read back by the training side with `datasets`.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator


@dataclass
class ProofStep:
    """One (goal state, tactic) pair on a found proof path."""

    state: str
    tactic: str
    logprob: float          # mean token log-prob of the tactic under the sampling policy
    depth: int              # 0 for the root state


@dataclass
class ErrorSibling:
    """A tactic sampled at a proof-path state that Lean rejected (negative for DPO)."""

    state: str
    tactic: str
    error: str
    depth: int


@dataclass
class AttemptRecord:
    """One independent search attempt on one theorem (one of the k in pass@k)."""

    theorem_id: str
    benchmark: str
    split: str
    attempt: int
    proved: bool                        # a proof passed whole-proof verification
    proof: list[str] | None             # the tactics of the verified proof, in order
    steps: list[ProofStep] = field(default_factory=list)
    error_siblings: list[ErrorSibling] = field(default_factory=list)
    expansions: int = 0
    tactics_tried: int = 0
    lean_errors: int = 0
    timeouts: int = 0
    env_failures: int = 0
    failure: str = ""                   # why no proof: "budget", "exhausted", "env: ...", "verify: ..."
    time_generate: float = 0.0
    time_env: float = 0.0
    time_bookkeeping: float = 0.0
    wall: float = 0.0
    checkpoint: str = ""
    round: int = -1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AttemptRecord":
        d = dict(d)
        d["steps"] = [ProofStep(**s) for s in d.get("steps", [])]
        d["error_siblings"] = [ErrorSibling(**s) for s in d.get("error_siblings", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def repair_jsonl(path: str | Path) -> int:
    """Cut off an incomplete last line (a write killed half-way). Returns the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with open(path, "r+b") as f:
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return len(data) - keep


def append_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append rows as JSON lines in a single write, then fsync, so a crash leaves either the
    whole batch or a torn tail that `repair_jsonl` removes; never a half-merged record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_jsonl(path)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    if not payload:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield complete rows; an unterminated last line (torn write) is skipped, a corrupt line in
    the middle raises with its line number, because that is damage, not an interrupted append."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for i, line in enumerate(lines[:-1], start=1):  # the last element is "" or a torn tail
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{i}: not valid JSON ({e.msg})") from e


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace a whole JSON Lines file at once (temporary file, fsync, rename): readers see the old
    file or the new one, never a mix, and a killed writer leaves no partial file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
