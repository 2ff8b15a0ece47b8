"""The conformance suite: Lean's and Mathlib's own test files as the oracle for the embedded kernel.

The items (data/conformance/items.jsonl, made by scripts/extract_lean_tests.py) carry each test
declaration verbatim with the outcome Lean gives it. Running an item here means sending its text
to a fresh embedded session as one command, as a client would, and reading the reply as Lean's
would be read: the kernel *accepts* when no message is an error.

An item *starts* when its statement alone (`statement := by sorry`) draws no error: then the
kernel can state the goal, and whatever it does with the proof is its answer. An item that does
not start is outside the fragment (a type class, `Fin`, a `def` of the file), counted apart,
never as a failure. Items that need the rest of their file (`context`) are not run.

Where the kernel and Lean disagree, data/conformance/known_differences.yaml says why, one entry per
item; `agreement` and the report (`python scripts/conformance_report.py`) compare against it.
"""
from __future__ import annotations

import json
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from lean_env.embedded.session import Session
from lean_env.lexer import code_tokens

DATA = Path(__file__).resolve().parents[2] / "data" / "conformance"
ITEMS = DATA / "items.jsonl"
KNOWN = DATA / "known_differences.yaml"
PROVER_PROOFS = DATA / "prover_proofs.jsonl"   # Lean-accepted proofs a released prover wrote (dev set)
ITEM_SECONDS = 20.0   # per item; a kernel that needs longer has failed (Lean's CI runs them in seconds)


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so the session's error recovery does not swallow it."""


@dataclass(frozen=True)
class Outcome:
    id: str
    file: str
    expected: str      # Lean's outcome: "accept" / "reject"
    kernel: str        # "accept", "reject", "timeout", "does not start", "context"
    error: str = ""    # the kernel's first error (or why it did not start)
    seconds: float = 0.0

    @property
    def starts(self) -> bool:
        return self.kernel in ("accept", "reject", "timeout")

    @property
    def agrees(self) -> bool:
        return self.starts and (self.kernel == "accept") == (self.expected == "accept")

    @property
    def stronger(self) -> bool:
        """The kernel accepts what Lean rejects: a fidelity bug, and a soundness risk."""
        return self.kernel == "accept" and self.expected == "reject"


def load_items(path: Path = ITEMS) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_known(path: Path = KNOWN) -> dict:
    """{"reasons": {key: text}, "differences": {item id: {"reason": key, ...}}}."""
    if not path.exists():
        return {"reasons": {}, "differences": {}}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {"reasons": data.get("reasons") or {}, "differences": data.get("differences") or {}}


def _first_error(reply: dict) -> str | None:
    if "message" in reply:   # the whole request was refused
        return reply["message"]
    for m in reply.get("messages", []):
        if m["severity"] == "error":
            return m["data"]
    return None


def _command(text: str, seconds: float) -> tuple[str | None, float]:
    """Run one command in a fresh session: (its first error or None, seconds), `_Timeout` past the limit."""
    def alarm(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.perf_counter()
    try:
        return _first_error(Session().command(text)), time.perf_counter() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_item(item: dict, seconds: float = ITEM_SECONDS) -> Outcome:
    base = dict(id=item["id"], file=item["file"], expected=item["expected"])
    if item.get("context"):
        return Outcome(kernel="context", error=f"uses `{item['context']}`, declared in its file", **base)
    pre = item["preamble"] + "\n" if item["preamble"] else ""
    try:
        err, _ = _command(pre + item["statement"] + " := by sorry", seconds)
        if err is not None:
            return Outcome(kernel="does not start", error=err, **base)
        err, took = _command(pre + item["text"], seconds)
    except _Timeout:
        return Outcome(kernel="timeout", error=f"no answer in {seconds:g} s", seconds=seconds, **base)
    return Outcome(kernel="accept" if err is None else "reject", error=err or "", seconds=round(took, 3), **base)


def run_items(items: list[dict], seconds: float = ITEM_SECONDS) -> list[Outcome]:
    return [run_item(it, seconds) for it in items]


def statement_of(text: str) -> str:
    """A whole file (`import ..`, `open ..`, `theorem .. := by ..`) cut at its last declaration's
    `:=` (at bracket depth 0): the file with the proof left out."""
    toks = code_tokens(text)
    decl = max(i for i, t in enumerate(toks) if t.text in ("theorem", "lemma", "example"))
    depth = 0
    for t in toks[decl:]:
        depth += t.text in ("(", "[", "{", "⟨") and 1 or t.text in (")", "]", "}", "⟩") and -1 or 0
        if depth == 0 and t.text == ":=":
            return text[:t.start].rstrip()
    return text


def run_proofs(rows: list[dict], seconds: float = ITEM_SECONDS) -> list[Outcome]:
    """The prover dev set as items: every proof was accepted by Lean."""
    items = [dict(id=r["name"], file=r["prover"], expected="accept", preamble="", text=r["text"],
                  statement=statement_of(r["text"])) for r in rows]
    return run_items(items, seconds)


@dataclass(frozen=True)
class FileRow:
    file: str
    items: int
    context: int
    not_started: int
    start: int
    agree: int
    kernel_rejects: int    # Lean accepts, the kernel does not (rejects or times out)
    kernel_accepts: int    # Lean rejects, the kernel accepts

    @property
    def rate(self) -> float:
        return self.agree / self.start if self.start else 0.0


def per_file(outcomes: list[Outcome]) -> list[FileRow]:
    files = list(dict.fromkeys(o.file for o in outcomes))
    rows = []
    for f in files + ["total"]:
        os_ = [o for o in outcomes if f == "total" or o.file == f]
        c = Counter(o.kernel for o in os_)
        started = [o for o in os_ if o.starts]
        rows.append(FileRow(
            file=f, items=len(os_), context=c["context"], not_started=c["does not start"], start=len(started),
            agree=sum(o.agrees for o in started),
            kernel_rejects=sum(o.expected == "accept" and o.kernel != "accept" for o in started),
            kernel_accepts=sum(o.stronger for o in started)))
    return rows


def markdown_table(rows: list[FileRow]) -> str:
    head = ("| file | items | needs its file | does not start | start | agree | % | "
            "kernel rejects, Lean accepts | kernel accepts, Lean rejects |")
    out = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        name = f"**{r.file}**" if r.file == "total" else r.file
        out.append(f"| {name} | {r.items} | {r.context} | {r.not_started} | {r.start} | {r.agree} | "
                   f"{100 * r.rate:.0f} | {r.kernel_rejects} | {r.kernel_accepts} |")
    return "\n".join(out)


def disagreements(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {o.id: o for o in outcomes if o.starts and not o.agrees}
