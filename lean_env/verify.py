"""Whole-proof verification: the one authority on whether a proof counts.

A proof is checked as the benchmark statement verbatim + the model's tactics indented under its
`by`, elaborated as ONE command in a fresh environment (the header's, never one holding
exploration `sorry`s), followed by `#print axioms NAME`. It counts only with no error, no sorry,
and axioms within {propext, Classical.choice, Quot.sound}. Every backend verifies through
`verify_proof`; the model supplies tactics only, never the statement.
"""
from __future__ import annotations

import re
import textwrap
import time
from typing import Any, Awaitable, Callable, Sequence

from lean_env.rules import ALLOWED_AXIOMS, TOP_LEVEL_COMMANDS, forbidden_tactic
from lean_env.types import Theorem, Verdict

# (command text, timeout seconds) -> the REPL's reply, elaborated in the fresh header env.
# Raises TimeoutError on expiry (ReplTimeoutError is one); other failures propagate to the backend.
RunCommand = Callable[[str, float], Awaitable[dict[str, Any]]]

_DECL_NAME = re.compile(r"^\s*(?:@\[[^\]]*\]\s*)?(?:(?:noncomputable|private|protected)\s+)*(?:theorem|lemma|def)\s+([^\s(:{\[⦃]+)", re.M)
_SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
_COMMAND_WORD = re.compile(r"^(?:" + "|".join(re.escape(c) for c in TOP_LEVEL_COMMANDS) + r")(?![\w'?!.])")
# `set_option opt val in tac` and `open Ns in tac` are tactic combinators, not commands: the part
# after `in` is still checked line by line, so allowing them opens no escape from the `by` block.
_SCOPED_TACTIC = re.compile(r"^(?:set_option\s+[\w.]+\s+\S+|open(?:\s+[\w.]+)+)\s+in(?:\s|$)")


def declared_name(theorem: Theorem) -> str:
    """The name `#print axioms` must be asked about: the one declared in the statement."""
    m = _DECL_NAME.search(theorem.statement)
    return m.group(1) if m else theorem.name


def _tactic_lines(tactic: str) -> list[str]:
    """A tactic's lines with the common indentation removed and trailing blank lines dropped."""
    return textwrap.dedent(tactic.replace("\t", "  ")).strip("\n").split("\n")


def build_proof_text(theorem: Theorem, tactics: Sequence[str]) -> str:
    """The statement verbatim, then every tactic indented two spaces under its `by` (the lines of
    a multi-line tactic keep their relative indentation)."""
    lines = [theorem.statement.rstrip()]
    for tac in tactics:
        for line in _tactic_lines(tac):
            lines.append("  " + line if line.strip() else "")
    return "\n".join(lines)


def _starts_command(line: str) -> bool:
    text = line.strip()
    while (m := _SCOPED_TACTIC.match(text)) is not None:   # `open X in axiom ...` is still a command
        text = text[m.end():].lstrip()
    return bool(_COMMAND_WORD.match(text)) or text.startswith("@[")   # `@[attr] theorem ...`


def precheck(theorem: Theorem, tactics: Sequence[str]) -> list[str]:
    """Reasons to reject a proof before Lean sees it (empty list: send it)."""
    reasons: list[str] = []
    if not theorem.statement.rstrip().endswith(":= by"):
        reasons.append("statement does not end with ':= by'")
    if not tactics or not any(t.strip() for t in tactics):
        reasons.append("empty proof")
    for tac in tactics:
        bad = forbidden_tactic(tac)
        if bad:
            reasons.append(f"forbidden tactic '{bad}'")
        # A top-level command anywhere (indented or not) would end the `by` block and smuggle in a
        # declaration: Lean ends a tactic block at the first token that is not a tactic.
        for line in _tactic_lines(tac):
            if _starts_command(line):
                reasons.append(f"top-level command in proof: {line.strip()[:60]!r}")
    # Every proof line must sit inside the `by` block (column > 0), whatever the tactics contain.
    body = build_proof_text(theorem, tactics).split("\n")[1:]
    for line in body:
        if line.strip() and not line[0].isspace():
            reasons.append(f"line outside the by-block: {line[:60]!r}")
    return list(dict.fromkeys(reasons))


def parse_axioms(messages: Sequence[Any], name: str) -> tuple[str, ...] | None:
    """The axioms `#print axioms NAME` listed (the list may wrap onto several lines), or None
    when the reply holds no axioms output for NAME."""
    quoted = re.escape(name)
    for m in messages:
        data = m.get("data", "") if isinstance(m, dict) else ""
        if not isinstance(data, str):
            continue
        if re.search(rf"'{quoted}' does not depend on any axioms", data):
            return ()
        hit = re.search(rf"'{quoted}' depends on axioms:\s*\[([^\]]*)\]", data, re.S)
        if hit:
            return tuple(a.strip() for a in hit.group(1).replace("\n", " ").split(",") if a.strip())
    return None


def check_reply(reply: dict[str, Any], name: str) -> Verdict:
    """Judge a REPL reply to `proof text + #print axioms NAME`."""
    reasons: list[str] = []
    if "message" in reply:
        reasons.append(f"REPL error: {str(reply['message'])[:300]}")
    messages = reply.get("messages") or []
    for m in messages:
        if not isinstance(m, dict):
            continue
        data = str(m.get("data", ""))
        if m.get("severity") == "error":
            reasons.append(f"error: {data[:300]}")
        elif _SORRY_WARNING.search(data):
            reasons.append("declaration uses sorry")
    if reply.get("sorries"):
        reasons.append(f"{len(reply['sorries'])} sorry(ies) in the proof")
    axioms = parse_axioms(messages, name)
    if axioms is None:
        reasons.append(f"could not read axioms: no `#print axioms {name}` output in the reply")
        axioms = ()
    bad = [a for a in axioms if a not in ALLOWED_AXIOMS]
    if bad:
        reasons.append(f"uses axioms outside the allowed set: {', '.join(bad)}")
    return Verdict(ok=not reasons, reasons=tuple(dict.fromkeys(reasons)), axioms=tuple(axioms))


async def verify_proof(run_command: RunCommand, theorem: Theorem, tactics: Sequence[str], timeout: float) -> Verdict:
    """Precheck, then elaborate the whole proof plus `#print axioms` as one command in the fresh
    header environment, and judge the reply. A timeout rejects the proof."""
    t0 = time.perf_counter()
    text = build_proof_text(theorem, tactics)
    reasons = precheck(theorem, tactics)
    if reasons:
        return Verdict(False, tuple(reasons), (), time.perf_counter() - t0, text)
    name = declared_name(theorem)
    try:
        reply = await run_command(f"{text}\n\n#print axioms {name}", timeout)
    except TimeoutError:
        return Verdict(False, (f"verification timed out after {timeout:.0f}s",), (), time.perf_counter() - t0, text)
    verdict = check_reply(reply, name)
    return Verdict(verdict.ok, verdict.reasons, verdict.axioms, time.perf_counter() - t0, text)
