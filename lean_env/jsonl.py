"""JSON Lines, one object per line: the only reader and writers of `.jsonl` files in the project.

Two kinds of file use it. Logs that grow while a job runs (attempts, proofs, metrics, telemetry)
are appended with `append_jsonl`: one write per batch, then fsync, so a process killed mid-write
leaves at worst an unterminated last line, a torn tail. Readers skip a torn tail, and the next
append cuts it off (`repair_jsonl`), so resuming never sees half a record. Inputs written by people
or scripts (benchmarks, proof files) are read with `torn_tail_ok=False`: there a broken last line
is damage and must be reported, not dropped. Whole files that are rewritten (filtered data, probe
sets) go through `write_jsonl_atomic`, so a reader sees the old file or the new one, never a mix.

An unterminated last line that is complete JSON is a row like any other (hand-written files often
lack the final newline); only one that does not parse counts as torn.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

Row = dict[str, Any]


class JsonlError(ValueError):
    """A line that is not a JSON object; the message names the file and the line number."""


def _parse(path: Path, lineno: int, line: bytes) -> Row:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise JsonlError(f"{path}:{lineno}: not valid JSON ({getattr(e, 'msg', e)})") from e
    if not isinstance(row, dict):
        raise JsonlError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
    return row


def _tail_is_torn(tail: bytes) -> bool:
    try:
        json.loads(tail)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True
    return False


def iter_jsonl(path: str | Path, *, torn_tail_ok: bool = True) -> Iterator[tuple[int, Row]]:
    """Yield (line number, row) for every non-blank line. A missing file yields nothing (a log
    not started yet). A bad line in the middle always raises `JsonlError`; a bad unterminated last
    line is skipped when `torn_tail_ok`, and raises otherwise."""
    path = Path(path)
    if not path.exists():
        return
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" when the file ends in a newline
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            yield lineno, _parse(path, lineno, line)
    if tail.strip() and not (torn_tail_ok and _tail_is_torn(tail)):
        yield len(lines) + 1, _parse(path, len(lines) + 1, tail)


def read_jsonl(path: str | Path, *, torn_tail_ok: bool = True) -> list[Row]:
    """All rows of a file, in order (see `iter_jsonl`)."""
    return [row for _, row in iter_jsonl(path, torn_tail_ok=torn_tail_ok)]


def repair_jsonl(path: str | Path) -> int:
    """Make the file end in a newline before an append: cut off a torn tail, or terminate a last
    line that is complete JSON. Returns the number of bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    if not _tail_is_torn(data[keep:]):
        with open(path, "ab") as f:
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
        return 0
    with open(path, "r+b") as f:
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return len(data) - keep


def _encode(rows: Iterable[Row]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def append_jsonl(path: str | Path, rows: Iterable[Row]) -> None:
    """Append rows in a single write, then fsync, so a crash leaves either the whole batch or a torn
    tail that readers skip and the next append removes; never a half-merged record."""
    path = Path(path)
    payload = _encode(rows)
    if not payload:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_jsonl(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(payload)
        while view:  # one write in practice; a short write (signal, full disk) is finished here
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_jsonl_atomic(path: str | Path, rows: Iterable[Row]) -> None:
    """Replace a whole file at once (temporary file, fsync, rename): readers see the old file or
    the new one, and a killed writer leaves no partial file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(_encode(rows))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
